import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LEVELS, type Config, type Level } from '../config.js';
import { keyMatcher } from '../http/auth.js';
import { sendHubError } from '../http/errors.js';
import { HubError } from '../tools/errors.js';
import { consentPage, errorPage } from './consent.js';
import { redirectUriProblem, type ClientRecord } from './clients.js';
import {
  acceptedResources,
  authorizationServerMetadata,
  baseUrl,
  protectedResourceMetadata,
  resourceUrl,
} from './discovery.js';
import { OAuthError } from './errors.js';
import type { UpstreamChecks } from './oidc.js';
import { levelRank, maxLevel, parseScope, scopesUpTo } from './scopes.js';
import { randomId, safeEqual, type OAuthServer } from './server.js';

/**
 * The authorization server's HTTP surface: discovery documents, registration, the authorization endpoint with its
 * consent page, token and revocation. Encapsulated so its form-body parser and RFC-shaped errors stay on these routes.
 */

type Form = Record<string, string | string[]>;

/** A consent in progress, between the authorization request and the operator's answer. */
interface ConsentTx {
  client_id: string;
  client_name: string;
  redirect_uri: string;
  state?: string;
  code_challenge: string;
  requested: Level;
  checked: Level;
  resource: string;
  csrf: string;
  /** Set when the operator chose the identity provider: the level they picked and the sign-in's checks. */
  granted?: Level;
  upstream?: UpstreamChecks;
}

const CONSENT_TTL_S = 600;
const CSRF_COOKIE = 'omni_oauth_csrf';
const FORM_LIMIT = 64 * 1024;
const REGISTRATION_LIMIT = 16 * 1024;
const CHALLENGE = /^[A-Za-z0-9\-_]{43}$/;
const MAX_STATE = 1_000;

/** One value of a form or query parameter; a repeated parameter is invalid (RFC 6749 §3.1). */
function field(form: unknown, name: string): string | undefined {
  if (!form || typeof form !== 'object') return undefined;
  const v = (form as Form)[name];
  if (Array.isArray(v)) throw new OAuthError('invalid_request', `parameter ${name} is repeated`);
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new OAuthError('invalid_request', `parameter ${name} must be a string`);
  return v;
}

function parseForm(text: string): Form {
  const out: Form = {};
  for (const [k, v] of new URLSearchParams(text)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

function cookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

const HTML_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function html(reply: FastifyReply, status: number, body: string, formAction?: string): FastifyReply {
  // form-action also governs where the form's redirect may lead, so the client's redirect origin is allowed too.
  const csp = `default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'${formAction ? ` ${formAction}` : ''}`;
  return reply.code(status).headers(HTML_HEADERS).header('content-security-policy', csp).send(body);
}

function redirectTo(reply: FastifyReply, uri: string, params: Record<string, string | undefined>): FastifyReply {
  const u = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return reply.code(303).header('cache-control', 'no-store').header('location', u.toString()).send();
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type, mcp-protocol-version',
  'access-control-max-age': '600',
};

interface OAuthRoutesOptions {
  config: Config;
  oauth: OAuthServer;
}

/** The public authorization server routes plus the operator's client list (hub key only, see OAuthServer.checkToken). */
export async function oauthRoutes(app: FastifyInstance, opts: OAuthRoutesOptions): Promise<void> {
  await app.register(authorizationServer, opts);
  await app.register(clientAdminRoutes, opts);
}

/** The console's "OAuth clients" view: every client, its principal, granted levels and last use; revoke one. */
async function clientAdminRoutes(app: FastifyInstance, opts: OAuthRoutesOptions): Promise<void> {
  const { clients, tokens } = opts.oauth;
  app.get('/v1/oauth/clients', async () => {
    const list = await clients.list();
    const rows = await Promise.all(
      list.map(async (c) => {
        const grants = await tokens.grants(c.client_id);
        const top = grants.map((g) => maxLevel(g.scopes)).reduce<Level | null>((a, l) => (l && (!a || levelRank(l) > levelRank(a)) ? l : a), null);
        const subjects = [...new Set(grants.map((g) => g.subject).filter((s): s is string => !!s))];
        const last = await tokens.lastUsed(c.client_id);
        return {
          client_id: c.client_id,
          client_name: c.client_name ?? null,
          source: c.source,
          redirect_hosts: [...new Set(c.redirect_uris.map((u) => new URL(u).host))],
          principals: subjects.length ? subjects.map((s) => `oauth:${c.client_id}:${s}`) : [`oauth:${c.client_id}`],
          granted: top ? scopesUpTo(top) : [],
          active_grants: grants.length,
          registered_at: c.client_id_issued_at ? new Date(c.client_id_issued_at * 1000).toISOString() : null,
          last_used: last ? new Date(last).toISOString() : null,
        };
      }),
    );
    rows.sort((a, b) => (b.last_used ?? '').localeCompare(a.last_used ?? '') || a.client_id.localeCompare(b.client_id));
    return { clients: rows };
  });

  app.delete<{ Params: { id: string } }>('/v1/oauth/clients/:id', async (request, reply) => {
    const id = request.params.id;
    const known = (await clients.list()).some((c) => c.client_id === id);
    if (!known) return sendHubError(reply, new HubError('not_found', 'no OAuth client with that id'));
    const revoked = await tokens.revokeClient(id);
    await clients.remove(id);
    return { client_id: id, revoked_grants: revoked, removed: true };
  });
}

async function authorizationServer(app: FastifyInstance, opts: OAuthRoutesOptions): Promise<void> {
  const { config, oauth } = opts;
  const { clients, tokens, store } = oauth;
  const keys = keyMatcher(config.apiKeys);

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_LIMIT }, (_request, body, done) => {
    done(null, parseForm(body as string));
  });

  app.setErrorHandler((error: FastifyError | OAuthError, request, reply) => {
    if (error instanceof OAuthError) {
      if (error.status >= 500) request.log.error({ err: error }, 'oauth failure');
      return reply.code(error.status).header('cache-control', 'no-store').send(error.toJSON());
    }
    // Errors without an HTTP status come from below the routes (the store not answering): 503, try again.
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 503;
    if (status >= 500) request.log.error({ err: error }, 'oauth route failed');
    const description =
      status >= 500
        ? 'the authorization server could not reach its store; try again'
        : error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 'request body too large'
          : error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? 'unsupported Content-Type (use application/x-www-form-urlencoded or application/json)'
            : error.message;
    if (status >= 500) reply.header('retry-after', '1');
    return reply.code(status).header('cache-control', 'no-store').send({ error: status >= 500 ? 'temporarily_unavailable' : 'invalid_request', error_description: description });
  });

  // Discovery and the machine endpoints are called cross-origin (browser-based MCP clients); the consent page is not.
  for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-authorization-server', '/.well-known/openid-configuration', '/token', '/register', '/revoke']) {
    app.options(path, async (_request, reply) => reply.code(204).headers(CORS).send());
  }
  const cors = async (_request: FastifyRequest, reply: FastifyReply) => {
    reply.headers(CORS);
  };

  const prm = async (request: FastifyRequest) => protectedResourceMetadata(baseUrl(request, config));
  app.get('/.well-known/oauth-protected-resource', { onRequest: cors }, prm);
  app.get('/.well-known/oauth-protected-resource/mcp', { onRequest: cors }, prm);
  const asm = async (request: FastifyRequest) => authorizationServerMetadata(baseUrl(request, config));
  app.get('/.well-known/oauth-authorization-server', { onRequest: cors }, asm);
  app.get('/.well-known/openid-configuration', { onRequest: cors }, asm);

  app.post(
    '/register',
    { onRequest: cors, bodyLimit: REGISTRATION_LIMIT, config: { rateLimit: { max: 30, timeWindow: 60_000 } } },
    async (request, reply) => {
      if (!request.body || typeof request.body !== 'object' || Array.isArray(request.body)) {
        throw new OAuthError('invalid_client_metadata', 'the registration body must be a JSON object');
      }
      return reply.code(201).header('cache-control', 'no-store').send(await clients.register(request.body));
    },
  );

  /** Resolves client and redirect URI; failures here are shown as a page, never redirected (no open redirect). */
  async function trustedClient(clientId: string | undefined, redirect: string | undefined): Promise<{ client: ClientRecord; redirect: string } | OAuthError> {
    if (!clientId) return new OAuthError('invalid_request', 'client_id is required');
    let client: ClientRecord | null;
    try {
      client = await clients.find(clientId);
    } catch (err) {
      if (err instanceof OAuthError) return err;
      throw err;
    }
    if (!client) return new OAuthError('invalid_client', 'unknown client_id; register the client first');
    if (redirect === undefined) {
      if (client.redirect_uris.length !== 1) return new OAuthError('invalid_request', 'redirect_uri is required');
      return { client, redirect: client.redirect_uris[0]! };
    }
    if (!client.redirect_uris.includes(redirect)) return new OAuthError('invalid_request', 'redirect_uri is not registered for this client (exact match required)');
    if (redirectUriProblem(redirect)) return new OAuthError('invalid_request', redirectUriProblem(redirect)!);
    return { client, redirect };
  }

  app.get('/authorize', async (request, reply) => {
    const q = request.query as Form;
    const base = baseUrl(request, config);
    let clientId: string | undefined;
    let redirectParam: string | undefined;
    try {
      clientId = field(q, 'client_id');
      redirectParam = field(q, 'redirect_uri');
    } catch (err) {
      return html(reply, 400, errorPage('invalid_request', (err as OAuthError).description));
    }
    const trusted = await trustedClient(clientId, redirectParam);
    if (trusted instanceof OAuthError) return html(reply, 400, errorPage(trusted.error, trusted.description));
    const { client, redirect } = trusted;
    let state: string | undefined;
    try {
      state = field(q, 'state');
      if (state && state.length > MAX_STATE) throw new OAuthError('invalid_request', `state longer than ${MAX_STATE} characters`);
      if (field(q, 'response_type') !== 'code') throw new OAuthError('unsupported_response_type', 'response_type must be "code"');
      const challenge = field(q, 'code_challenge');
      if (!challenge) throw new OAuthError('invalid_request', 'code_challenge is required (PKCE S256)');
      if (field(q, 'code_challenge_method') !== 'S256') throw new OAuthError('invalid_request', 'code_challenge_method must be S256 (plain is not accepted)');
      if (!CHALLENGE.test(challenge)) throw new OAuthError('invalid_request', 'code_challenge must be 43 base64url characters (S256)');
      const scope = parseScope(field(q, 'scope') ?? client.scope);
      if (scope.unknown.length) throw new OAuthError('invalid_scope', `unknown scope ${JSON.stringify(scope.unknown[0]!.slice(0, 50))}; scopes are tools:low, tools:medium, tools:high, tools:critical`);
      const resource = field(q, 'resource') ?? resourceUrl(base);
      if (!acceptedResources(base).includes(resource)) throw new OAuthError('invalid_target', `resource must be ${resourceUrl(base)}`);
      const asked = maxLevel(scope.known);
      const tx: ConsentTx = {
        client_id: client.client_id,
        client_name: client.client_name ?? client.client_id,
        redirect_uri: redirect,
        ...(state !== undefined ? { state } : {}),
        code_challenge: challenge,
        // No scope asked: every level is offered and the lowest is preselected; the operator decides.
        requested: asked ?? 'CRITICAL',
        checked: asked ?? 'LOW',
        resource,
        csrf: randomId(),
      };
      const id = randomId();
      await store.set(`tx:${id}`, JSON.stringify(tx), CONSENT_TTL_S);
      const secure = base.startsWith('https:') ? '; Secure' : '';
      reply.header('set-cookie', `${CSRF_COOKIE}=${tx.csrf}; Path=/authorize; HttpOnly; SameSite=Strict; Max-Age=${CONSENT_TTL_S}${secure}`);
      return html(reply, 200, renderConsent(id, tx), await formTargets(tx));
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      return redirectTo(reply, redirect, { error: err.error, error_description: err.description, state, iss: base });
    }
  });

  /** Where the consent form may lead: the client's redirect origin, and the identity provider when configured. */
  async function formTargets(tx: ConsentTx): Promise<string> {
    return [new URL(tx.redirect_uri).origin, ...(oauth.upstream ? await oauth.upstream.origins() : [])].join(' ');
  }

  function renderConsent(id: string, tx: ConsentTx, error?: string): string {
    return consentPage({
      tx: id,
      csrf: tx.csrf,
      clientName: tx.client_name,
      clientId: tx.client_id,
      redirectHost: new URL(tx.redirect_uri).host,
      requested: tx.requested,
      checked: tx.checked,
      ...(oauth.upstream ? { upstream: oauth.upstream.label } : {}),
      ...(error ? { error } : {}),
    });
  }

  app.post('/authorize', { config: { rateLimit: { max: 30, timeWindow: 60_000 } } }, async (request, reply) => {
    const base = baseUrl(request, config);
    let id: string | undefined;
    let csrf: string | undefined;
    let action: string | undefined;
    let key: string | undefined;
    let level: string | undefined;
    try {
      id = field(request.body, 'tx');
      csrf = field(request.body, 'csrf');
      action = field(request.body, 'action');
      key = field(request.body, 'key');
      level = field(request.body, 'level');
    } catch (err) {
      return html(reply, 400, errorPage('invalid_request', (err as OAuthError).description));
    }
    const text = id && id.length <= 64 ? await store.get(`tx:${id}`) : null;
    if (!id || !text) return html(reply, 400, errorPage('invalid_request', 'this authorization request expired or was already answered; start again from the application'));
    const tx = JSON.parse(text) as ConsentTx;
    const cookieCsrf = cookie(request, CSRF_COOKIE);
    if (!csrf || !cookieCsrf || !safeEqual(csrf, tx.csrf) || !safeEqual(cookieCsrf, tx.csrf)) {
      return html(reply, 403, errorPage('invalid_request', 'the form is not the one this hub served (CSRF check failed); start again from the application'));
    }
    const formAction = await formTargets(tx);
    if (action === 'deny') {
      if (!(await store.take(`tx:${id}`))) return html(reply, 400, errorPage('invalid_request', 'this authorization request was already answered'));
      return redirectTo(reply, tx.redirect_uri, { error: 'access_denied', error_description: 'the operator denied the request', state: tx.state, iss: base });
    }
    if (action !== 'approve' && !(action === 'oidc' && oauth.upstream)) return html(reply, 400, renderConsent(id, tx, 'Choose Approve or Deny.'), formAction);
    const granted = LEVELS.find((l) => `tools:${l.toLowerCase()}` === level);
    if (!granted || levelRank(granted) > levelRank(tx.requested)) {
      return html(reply, 400, renderConsent(id, tx, 'Choose one of the offered levels.'), formAction);
    }
    if (action === 'oidc' && oauth.upstream) {
      // The operator signs in with the identity provider; the answer comes back to /authorize/callback.
      let started;
      try {
        started = await oauth.upstream.start(`${base}/authorize/callback`);
      } catch (err) {
        if (!(err instanceof OAuthError)) throw err;
        return html(reply, 503, renderConsent(id, tx, err.description), formAction);
      }
      await store.set(`tx:${id}`, JSON.stringify({ ...tx, granted, upstream: started.checks }), CONSENT_TTL_S);
      await store.set(`upstream:${started.checks.state}`, id, CONSENT_TTL_S);
      return reply.code(303).header('cache-control', 'no-store').header('location', started.url).send();
    }
    if (!key || !keys.match(key)) {
      request.log.warn({ client_id: tx.client_id }, 'oauth consent: wrong hub key');
      return html(reply, 401, renderConsent(id, tx, 'That is not a valid hub key for this hub.'), formAction);
    }
    if (!(await store.take(`tx:${id}`))) return html(reply, 400, errorPage('invalid_request', 'this authorization request was already answered'));
    const code = await tokens.issueCode({ client_id: tx.client_id, scopes: scopesUpTo(granted), resource: tx.resource }, tx.redirect_uri, tx.code_challenge);
    reply.header('set-cookie', `${CSRF_COOKIE}=; Path=/authorize; HttpOnly; SameSite=Strict; Max-Age=0`);
    return redirectTo(reply, tx.redirect_uri, { code, state: tx.state, iss: base });
  });

  app.get('/authorize/callback', async (request, reply) => {
    const base = baseUrl(request, config);
    const q = request.query as Form;
    let state: string | undefined;
    try {
      state = field(q, 'state');
    } catch (err) {
      return html(reply, 400, errorPage('invalid_request', (err as OAuthError).description));
    }
    const id = state && oauth.upstream ? await store.take(`upstream:${state}`) : null;
    const text = id ? await store.take(`tx:${id}`) : null;
    if (!text || !oauth.upstream) return html(reply, 400, errorPage('invalid_request', 'this sign-in expired or was already used; start again from the application'));
    const tx = JSON.parse(text) as ConsentTx;
    if (!tx.upstream || !tx.granted) return html(reply, 400, errorPage('invalid_request', 'this sign-in was not started from the consent page'));
    if (typeof q.error === 'string') {
      return redirectTo(reply, tx.redirect_uri, { error: 'access_denied', error_description: `sign-in at ${oauth.upstream.label} ended: ${q.error.slice(0, 100)}`, state: tx.state, iss: base });
    }
    let email: string;
    try {
      email = await oauth.upstream.finish(new URL(request.url, base), tx.upstream);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      request.log.warn({ client_id: tx.client_id, reason: err.description }, 'oauth consent: upstream sign-in refused');
      return html(reply, 403, errorPage(err.error, err.description));
    }
    const code = await tokens.issueCode({ client_id: tx.client_id, subject: email, scopes: scopesUpTo(tx.granted), resource: tx.resource }, tx.redirect_uri, tx.code_challenge);
    return redirectTo(reply, tx.redirect_uri, { code, state: tx.state, iss: base });
  });

  /** Client authentication (RFC 6749 §2.3): HTTP Basic, or client_id/client_secret in the body, or none (public). */
  async function authenticateClient(request: FastifyRequest, reply: FastifyReply): Promise<ClientRecord> {
    const body = request.body;
    let id = field(body, 'client_id');
    let secret = field(body, 'client_secret');
    let method: 'none' | 'client_secret_post' | 'client_secret_basic' = secret !== undefined ? 'client_secret_post' : 'none';
    const header = request.headers.authorization;
    if (typeof header === 'string' && /^basic /i.test(header)) {
      const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0 || secret !== undefined) throw new OAuthError('invalid_request', 'malformed client authentication');
      let basicId: string;
      try {
        basicId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
        secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
      } catch {
        throw new OAuthError('invalid_request', 'malformed client authentication');
      }
      if (id !== undefined && id !== basicId) throw new OAuthError('invalid_request', 'client_id differs from the authenticated client');
      id = basicId;
      method = 'client_secret_basic';
      reply.header('www-authenticate', 'Basic realm="omni-hub"');
    }
    if (!id) throw new OAuthError('invalid_client', 'client_id is required');
    const client = await clients.find(id).catch((err: unknown) => {
      if (err instanceof OAuthError) throw new OAuthError('invalid_client', err.description);
      throw err;
    });
    if (!client) throw new OAuthError('invalid_client', 'unknown client');
    clients.authenticate(client, secret, method);
    return client;
  }

  const formRequired = (request: FastifyRequest) => {
    if (!request.body || typeof request.body !== 'object' || Array.isArray(request.body)) {
      throw new OAuthError('invalid_request', 'send the parameters as an application/x-www-form-urlencoded body');
    }
  };

  app.post('/token', { onRequest: cors }, async (request, reply) => {
    formRequired(request);
    const client = await authenticateClient(request, reply);
    const grant = field(request.body, 'grant_type');
    if (!grant) throw new OAuthError('invalid_request', 'grant_type is required');
    if (grant !== 'authorization_code' && grant !== 'refresh_token') throw new OAuthError('unsupported_grant_type', `grant_type ${JSON.stringify(grant.slice(0, 50))} is not supported`);
    if (!client.grant_types.includes(grant)) throw new OAuthError('unauthorized_client', `this client is not registered for ${grant}`);
    const b = request.body;
    const resource = field(b, 'resource');
    const answer =
      grant === 'authorization_code'
        ? await tokens.exchangeCode(client.client_id, { code: field(b, 'code'), redirect_uri: field(b, 'redirect_uri'), code_verifier: field(b, 'code_verifier'), resource })
        : await tokens.refresh(client.client_id, { refresh_token: field(b, 'refresh_token'), scope: field(b, 'scope'), resource }, (held) => {
            const asked = parseScope(field(b, 'scope'));
            const top = maxLevel(asked.known);
            const heldTop = maxLevel(held);
            if (asked.unknown.length || !top || !heldTop || levelRank(top) > levelRank(heldTop)) {
              throw new OAuthError('invalid_scope', 'a refresh may only keep or narrow the granted levels');
            }
            return scopesUpTo(top);
          });
    return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(answer);
  });

  app.post('/revoke', { onRequest: cors }, async (request, reply) => {
    formRequired(request);
    const client = await authenticateClient(request, reply);
    const token = field(request.body, 'token');
    if (!token) throw new OAuthError('invalid_request', 'token is required');
    await tokens.revoke(token, client.client_id);
    return reply.code(200).header('cache-control', 'no-store').send({});
  });
}
