import { randomBytes, timingSafeEqual } from 'node:crypto';
import cookie from '@fastify/cookie';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { HubDeps } from '../deps.js';
import { APPROVAL_ID, type ApprovalDecision, type ApprovalRecord } from '../governance/approvals.js';
import type { AuditRecord } from '../governance/audit.js';
import { baseUrl } from '../oauth/discovery.js';
import { OAuthError } from '../oauth/errors.js';
import type { OperatorProof, PendingSignIn } from '../oauth/operator.js';
import { approvalEndRecord, approvalPath } from '../tools/approval.js';
import { toHubError } from '../tools/errors.js';
import type { ToolRegistry } from '../tools/registry.js';
import { answeredPage, approvalPage } from './approval-page.js';
import { sendHubError } from './errors.js';

/**
 * The approval page (`GET/POST /approvals/<id>`, open: the operator proves who they are on the form, with a hub key
 * or the OpenID Connect sign-in, through the same OperatorProof as the OAuth consent page), its sign-in callback, the
 * pending list for the console (`GET /v1/approvals`, bearer) and the sweep that audits approvals that expired.
 */

export interface ApprovalRoutesOptions {
  config: Config;
  deps: HubDeps;
  registry: ToolRegistry;
  /** How the operator proves who they are: a hub key, or the OpenID Connect sign-in (OAUTH_OIDC_*) when configured. */
  operator: OperatorProof;
}

const CSRF_COOKIE = 'omni_approval_csrf';
const CALLBACK_PATH = '/approvals/callback';
const FORM_LIMIT = 16 * 1024;
const SIGN_IN_TTL_MS = 10 * 60_000;
const SWEEP_MS = 30_000;

const HTML_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function html(reply: FastifyReply, status: number, body: string, formAction = ''): FastifyReply {
  const csp = `default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'${formAction ? ` ${formAction}` : ''}`;
  return reply.code(status).headers(HTML_HEADERS).header('content-security-policy', csp).send(body);
}

/** What a started sign-in keeps until the provider sends the browser back: the approval, the answer, the sign-in. */
interface PendingAnswer {
  id: string;
  state: 'approved' | 'denied';
  signIn: PendingSignIn;
}

function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** One form field; a repeated field counts as absent. */
function formField(body: unknown, name: string): string | undefined {
  if (!(body instanceof URLSearchParams)) return undefined;
  const all = body.getAll(name);
  return all.length === 1 ? all[0] : undefined;
}

/** The record an approval that ended without a call leaves in the audit log, also written as the audit log line. */
function auditEnd(deps: HubDeps, log: FastifyBaseLogger, registry: ToolRegistry, record: ApprovalRecord, code: 'approval_denied' | 'approval_expired'): AuditRecord {
  const audit = approvalEndRecord(record, registry.get(record.tool)?.def.system ?? null, code);
  deps.audit.append(audit);
  log.info({ audit }, 'approval ended');
  return audit;
}

/** Audits and removes the approvals that expired unused (answered or not); any instance may run it. */
export async function sweepExpiredApprovals(deps: HubDeps, log: FastifyBaseLogger, registry: ToolRegistry, now = Date.now()): Promise<number> {
  const expired = await deps.approvals.takeExpired(now);
  for (const record of expired) auditEnd(deps, log, registry, record, 'approval_expired');
  return expired.length;
}

export async function approvalRoutes(app: FastifyInstance, opts: ApprovalRoutesOptions): Promise<void> {
  const { config, deps, registry, operator } = opts;
  const { identityProvider } = operator;
  const store = deps.approvals;
  await app.register(cookie);

  const sweep = () =>
    sweepExpiredApprovals(deps, app.log, registry).catch((err: unknown) => app.log.warn({ err: toHubError(err).message }, 'approval sweep failed'));
  const timer = setInterval(() => void sweep(), Math.min(SWEEP_MS, config.governance.approvalTtlMs / 4));
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_LIMIT }, (_request, body, done) => {
    done(null, new URLSearchParams(body as string));
  });

  app.get('/v1/approvals', { config: { access: 'key' } }, async (request, reply) => {
    try {
      await sweep();
      const base = config.publicUrl ?? baseUrl(request, config);
      const list = await store.pending();
      return {
        approvals: list.map((r) => ({
          id: r.id,
          tool: r.tool,
          level: r.level,
          principal: r.principal,
          transport: r.transport,
          action: r.action,
          args: r.args,
          created_at: new Date(r.created_at).toISOString(),
          expires_at: new Date(r.expires_at).toISOString(),
          url: `${base}${approvalPath(r.id)}`,
        })),
      };
    } catch (err) {
      return sendHubError(reply, toHubError(err));
    }
  });

  /** Where the form may lead: this hub, and the identity provider when configured. */
  const formTargets = async () => (identityProvider ? (await identityProvider.origins()).join(' ') : '');

  /** The approval if it can still be answered; otherwise the page that says why not has been sent. */
  async function answerable(reply: FastifyReply, id: string): Promise<ApprovalRecord | null> {
    const record = APPROVAL_ID.test(id) ? await store.get(id) : null;
    const now = Date.now();
    if (!record) {
      void html(reply, 404, answeredPage('No such approval', 'This approval does not exist, was already used, or expired. The assistant must ask again.'));
      return null;
    }
    if (record.expires_at <= now) {
      void html(reply, 410, answeredPage('This approval expired', 'It can no longer be answered. The assistant must ask again.', record, now));
      return null;
    }
    if (record.state !== 'pending') {
      const by = record.decision ? ` by ${record.decision.by}` : '';
      void html(reply, 409, answeredPage(`Already ${record.state}`, `This approval was already ${record.state}${by}.`, record, now));
      return null;
    }
    return record;
  }

  function showForm(request: FastifyRequest, reply: FastifyReply, record: ApprovalRecord, status: number, targets: string, error?: string): FastifyReply {
    const csrf = randomBytes(24).toString('base64url');
    reply.setCookie(CSRF_COOKIE, csrf, {
      path: approvalPath(record.id),
      httpOnly: true,
      sameSite: 'strict',
      secure: baseUrl(request, config).startsWith('https:'),
      maxAge: Math.ceil(config.governance.approvalTtlMs / 1000),
    });
    const view = { record, csrf, keyRequired: config.auth === 'bearer', now: Date.now(), ...(identityProvider ? { identityProvider: identityProvider.label } : {}), ...(error ? { error } : {}) };
    return html(reply, status, approvalPage(view), targets);
  }

  /** Records the answer and shows the outcome; a denial is audited at once (an approval is, with the call it runs). */
  async function decide(reply: FastifyReply, record: ApprovalRecord, decision: ApprovalDecision): Promise<FastifyReply> {
    const answered = await store.decide(record.id, decision);
    if (!answered) return html(reply, 409, answeredPage('Not answered', 'This approval was answered meanwhile or has just expired.', record));
    app.log.info({ approval: { id: answered.id, tool: answered.tool, principal: answered.principal, state: answered.state, by: decision.by, via: decision.via } }, 'approval answered');
    if (answered.state === 'denied') {
      auditEnd(deps, app.log, registry, answered, 'approval_denied');
      return html(reply, 200, answeredPage('Denied', `You denied this call. ${answered.tool} will not run on this approval.`, answered));
    }
    return html(
      reply,
      200,
      answeredPage('Approved', `You approved this call. The assistant may now run it once, with exactly these arguments, until ${new Date(answered.expires_at).toISOString()}. Tell it to go ahead.`, answered),
    );
  }

  app.get<{ Params: { id: string } }>('/approvals/:id', { config: { access: 'open' } }, async (request, reply) => {
    const record = await answerable(reply, request.params.id);
    if (!record) return reply;
    return showForm(request, reply, record, 200, await formTargets());
  });

  app.post<{ Params: { id: string } }>('/approvals/:id', { config: { access: 'open', rateLimit: { max: 30, timeWindow: 60_000 } } }, async (request, reply) => {
    const record = await answerable(reply, request.params.id);
    if (!record) return reply;
    const targets = await formTargets();
    const body = request.body;
    if (!sameToken(formField(body, 'csrf'), request.cookies[CSRF_COOKIE])) {
      return showForm(request, reply, record, 403, targets, 'The form is not the one this hub served (CSRF check failed); answer again from this page.');
    }
    const choice = formField(body, 'decision');
    if (choice === 'oidc-approve' || choice === 'oidc-deny') {
      if (!identityProvider) return showForm(request, reply, record, 400, targets, 'No identity provider is configured; sign in with a hub key.');
      let started;
      try {
        // The return counts only in this browser: a provider URL passed to someone else's browser answers nothing.
        started = await operator.startSignIn(reply, `${baseUrl(request, config)}${CALLBACK_PATH}`, CALLBACK_PATH, SIGN_IN_TTL_MS / 1000);
      } catch (err) {
        if (!(err instanceof OAuthError)) throw err;
        return showForm(request, reply, record, 503, targets, err.description);
      }
      const pending: PendingAnswer = { id: record.id, state: choice === 'oidc-approve' ? 'approved' : 'denied', signIn: started.pending };
      await store.stash(started.pending.checks.state, JSON.stringify(pending), SIGN_IN_TTL_MS);
      return reply.code(303).header('cache-control', 'no-store').header('location', started.url).send();
    }
    if (choice !== 'approve' && choice !== 'deny') return showForm(request, reply, record, 400, targets, 'Choose Approve or Deny.');
    let by = 'anonymous';
    if (config.auth !== 'none') {
      const verdict = await operator.checkKey(request, formField(body, 'key'));
      if (!verdict.ok && verdict.retryAfterS > 0) {
        return showForm(request, reply, record, 429, targets, `Too many wrong keys from this address; try again in ${verdict.retryAfterS} s.`);
      }
      if (!verdict.ok) {
        request.log.warn({ approval: record.id }, 'approval page: wrong hub key');
        return showForm(request, reply, record, 401, targets, 'That is not a valid hub key for this hub.');
      }
      by = verdict.keyId;
    }
    return decide(reply, record, { state: choice === 'approve' ? 'approved' : 'denied', by, via: 'page', at: Date.now() });
  });

  app.get<{ Querystring: Record<string, string | string[] | undefined> }>(CALLBACK_PATH, { config: { access: 'open' } }, async (request, reply) => {
    const state = typeof request.query.state === 'string' ? request.query.state : undefined;
    const text = state && identityProvider ? await store.unstash(state) : null;
    if (!text || !identityProvider) return html(reply, 400, answeredPage('Sign-in expired', 'This sign-in expired or was already used; open the approval link again.'));
    const pending = JSON.parse(text) as PendingAnswer;
    // Another browser learns nothing about the approval, not even whether it can still be answered.
    if (!operator.sameBrowser(request, pending.signIn)) {
      return html(reply, 403, answeredPage('Sign-in refused', 'The sign-in finished in a browser that did not start it; nothing was answered.'));
    }
    const record = await answerable(reply, pending.id);
    if (!record) return reply;
    if (typeof request.query.error === 'string') {
      return html(reply, 403, answeredPage('Sign-in ended', `The sign-in at ${identityProvider.label} ended (${request.query.error.slice(0, 100)}); nothing was answered.`, record));
    }
    let email: string;
    try {
      email = await operator.finishSignIn(request, reply, new URL(request.url, baseUrl(request, config)), pending.signIn, CALLBACK_PATH);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      request.log.warn({ approval: record.id, reason: err.description }, 'approval page: sign-in refused');
      return html(reply, 403, answeredPage('Sign-in refused', err.description, record));
    }
    return decide(reply, record, { state: pending.state, by: email, via: 'page', at: Date.now() });
  });
}
