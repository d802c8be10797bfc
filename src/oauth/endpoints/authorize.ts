import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Level, LEVELS } from '../../governance/levels.js';
import { clientIdentity, redirectUriProblem, redirectUriRegistered, type ClientRecord } from '../clients.js';
import { consentPage, errorPage } from '../consent.js';
import { CONSENT_TTL_S, CSRF_COOKIE, MAX_KEY_FAILURES, loadTx, saveTx, type ConsentTx } from '../consent-tx.js';
import { baseUrl, isHubResource, resourceUrl } from '../discovery.js';
import { OAuthError } from '../errors.js';
import { field, html, redirectTo, type Form } from '../http.js';
import { levelRank, maxLevel, parseScope, scopesUpTo } from '../scopes.js';
import { randomId, safeEqual } from '../server.js';
import type { OAuthEndpointOptions } from './options.js';

/**
 * The authorization endpoint (RFC 6749 §3.1) and its consent page: `GET /authorize` validates the request and shows
 * the page, `POST /authorize` takes the operator's answer (hub key, identity provider, or deny).
 *
 * Errors are sent back to the client's redirect URI only for a client an operator has approved before; for any other
 * client they are shown as a page, so a self-registered client cannot use this hub as an open redirector.
 */

const CHALLENGE = /^[A-Za-z0-9\-_]{43}$/;
const MAX_STATE = 1_000;

export async function authorizeEndpoint(app: FastifyInstance, opts: OAuthEndpointOptions): Promise<void> {
  const { config, oauth, operator } = opts;
  const { clients, tokens, store } = oauth;

  /** Resolves client and redirect URI; failures here are shown as a page (or, see above, sent to a known client). */
  async function trustedClient(clientId: string | undefined, redirect: string | undefined): Promise<{ client: ClientRecord; redirect: string } | { error: OAuthError; redirect?: string }> {
    if (!clientId) return { error: new OAuthError('invalid_request', 'client_id is required') };
    let client: ClientRecord | null;
    try {
      client = await clients.find(clientId);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      // A metadata document that cannot be used now, of a client approved before at this redirect URI: tell the client.
      const approved = redirect ? await clients.approvedRedirects(clientId) : [];
      return { error: err, ...(redirect && redirectUriRegistered({ redirect_uris: approved }, redirect) ? { redirect } : {}) };
    }
    if (!client) return { error: new OAuthError('invalid_client', 'unknown client_id; register the client first') };
    if (redirect === undefined) {
      if (client.redirect_uris.length !== 1) return { error: new OAuthError('invalid_request', 'redirect_uri is required') };
      return { client, redirect: client.redirect_uris[0]! };
    }
    if (!redirectUriRegistered(client, redirect)) return { error: new OAuthError('invalid_request', 'redirect_uri is not registered for this client (exact match; the port of a loopback URI may differ)') };
    const problem = redirectUriProblem(redirect, client.application_type);
    if (problem) return { error: new OAuthError('invalid_request', problem) };
    return { client, redirect };
  }

  /** Where the consent form may lead: the client's redirect origin, and the identity provider when configured. */
  async function formTargets(tx: ConsentTx): Promise<string[]> {
    const u = new URL(tx.redirect_uri);
    return [u.origin === 'null' ? u.protocol : u.origin, ...(operator.identityProvider ? await operator.identityProvider.origins() : [])];
  }

  function renderConsent(id: string, tx: ConsentTx, error?: string): string {
    const u = new URL(tx.redirect_uri);
    return consentPage({
      tx: id,
      csrf: tx.csrf,
      clientName: tx.client_name,
      clientId: tx.client_id,
      identity: tx.identity,
      redirectHost: u.host || u.protocol,
      requested: tx.requested,
      checked: tx.checked,
      ...(operator.identityProvider ? { identityProvider: operator.identityProvider.label } : {}),
      ...(error ? { error } : {}),
    });
  }

  /** Stores a new consent transaction and answers its page with the CSRF cookie. */
  async function showConsent(request: FastifyRequest, reply: FastifyReply, tx: Omit<ConsentTx, 'csrf' | 'key_failures'>, message?: string): Promise<FastifyReply> {
    const full: ConsentTx = { ...tx, csrf: randomId(), key_failures: 0 };
    const id = randomId();
    await saveTx(store, id, full);
    const secure = baseUrl(request, config).startsWith('https:');
    reply.setCookie(CSRF_COOKIE, full.csrf, { path: '/authorize', httpOnly: true, sameSite: 'strict', secure, maxAge: CONSENT_TTL_S });
    return html(reply, 200, renderConsent(id, full, message), await formTargets(full));
  }

  app.get('/authorize', { config: { access: 'open' } }, async (request, reply) => {
    const q = request.query as Form;
    const base = baseUrl(request, config);
    let clientId: string | undefined;
    let redirectParam: string | undefined;
    let state: string | undefined;
    try {
      clientId = field(q, 'client_id');
      redirectParam = field(q, 'redirect_uri');
      state = field(q, 'state');
    } catch (err) {
      return html(reply, 400, errorPage('invalid_request', (err as OAuthError).description));
    }
    const trusted = await trustedClient(clientId, redirectParam);
    if ('error' in trusted) {
      if (trusted.redirect && (!state || state.length <= MAX_STATE)) return redirectTo(reply, trusted.redirect, { error: trusted.error.error, error_description: trusted.error.description, state, iss: base });
      return html(reply, 400, errorPage(trusted.error.error, trusted.error.description));
    }
    const { client, redirect } = trusted;
    try {
      if (state && state.length > MAX_STATE) throw new OAuthError('invalid_request', `state longer than ${MAX_STATE} characters`);
      if (field(q, 'response_type') !== 'code') throw new OAuthError('unsupported_response_type', 'response_type must be "code"');
      const challenge = field(q, 'code_challenge');
      if (!challenge) throw new OAuthError('invalid_request', 'code_challenge is required (PKCE S256)');
      if (field(q, 'code_challenge_method') !== 'S256') throw new OAuthError('invalid_request', 'code_challenge_method must be S256 (plain is not accepted)');
      if (!CHALLENGE.test(challenge)) throw new OAuthError('invalid_request', 'code_challenge must be 43 base64url characters (S256)');
      const scope = parseScope(field(q, 'scope') ?? client.scope);
      if (scope.unknown.length) throw new OAuthError('invalid_scope', `unknown scope ${JSON.stringify(scope.unknown[0]!.slice(0, 50))}; scopes are tools:low, tools:medium, tools:high, tools:critical (and offline_access)`);
      const resource = field(q, 'resource') ?? resourceUrl(base);
      if (!isHubResource(base, resource)) throw new OAuthError('invalid_target', `resource must be ${resourceUrl(base)}`);
      return await showConsent(request, reply, {
        client_id: client.client_id,
        client_name: client.client_name ?? client.client_id,
        identity: clientIdentity(client),
        redirect_uri: redirect,
        redirect_sent: redirectParam !== undefined,
        ...(state !== undefined ? { state } : {}),
        code_challenge: challenge,
        // No level asked (offline_access alone, or nothing): every level is offered. The lowest is preselected either
        // way, so approving without a choice grants the least.
        requested: maxLevel(scope.known) ?? 'CRITICAL',
        checked: 'LOW',
        resource,
      });
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      if (!client.approved_at) return html(reply, 400, errorPage(err.error, err.description));
      return redirectTo(reply, redirect, { error: err.error, error_description: err.description, state, iss: base });
    }
  });

  app.post('/authorize', { config: { access: 'open', rateLimit: { max: 30, timeWindow: 60_000 } } }, async (request, reply) => {
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
    const tx = await loadTx(store, id);
    if (!id || !tx) return html(reply, 400, errorPage('invalid_request', 'this authorization request expired or was already answered; start again from the application'));
    const cookieCsrf = request.cookies[CSRF_COOKIE];
    if (!csrf || !cookieCsrf || !safeEqual(csrf, tx.csrf) || !safeEqual(cookieCsrf, tx.csrf)) {
      return html(reply, 403, errorPage('invalid_request', 'the form is not the one this hub served (CSRF check failed); start again from the application'));
    }
    const formAction = await formTargets(tx);
    if (action === 'deny') {
      if (!(await store.take(`tx:${id}`))) return html(reply, 400, errorPage('invalid_request', 'this authorization request was already answered'));
      return redirectTo(reply, tx.redirect_uri, { error: 'access_denied', error_description: 'the operator denied the request', state: tx.state, iss: base });
    }
    if (action !== 'approve' && !(action === 'oidc' && operator.identityProvider)) return html(reply, 400, renderConsent(id, tx, 'Choose Approve or Deny.'), formAction);
    const granted = LEVELS.find((l) => `tools:${l.toLowerCase()}` === level);
    if (!granted || levelRank(granted) > levelRank(tx.requested)) {
      return html(reply, 400, renderConsent(id, tx, 'Choose one of the offered levels.'), formAction);
    }
    if (action === 'oidc') {
      // The operator signs in with the identity provider; the answer comes back to /authorize/callback in this browser.
      let started;
      try {
        started = await operator.startSignIn(reply, `${base}/authorize/callback`, '/authorize', CONSENT_TTL_S);
      } catch (err) {
        if (!(err instanceof OAuthError)) throw err;
        return html(reply, 503, renderConsent(id, tx, err.description), formAction);
      }
      await saveTx(store, id, { ...tx, granted, signin: started.pending });
      await store.set(`identity-provider:${started.pending.checks.state}`, id, CONSENT_TTL_S);
      return reply.code(303).header('cache-control', 'no-store').header('location', started.url).send();
    }
    const verdict = await operator.checkKey(request, key);
    if (!verdict.ok && verdict.retryAfterS > 0) {
      reply.header('retry-after', String(verdict.retryAfterS));
      return html(reply, 429, renderConsent(id, tx, `Too many wrong keys from this address; try again in ${verdict.retryAfterS} s.`), formAction);
    }
    if (!verdict.ok) {
      request.log.warn({ client_id: tx.client_id }, 'oauth consent: wrong hub key');
      const failures = tx.key_failures + 1;
      if (failures >= MAX_KEY_FAILURES) {
        await store.del([`tx:${id}`]);
        return html(reply, 401, errorPage('access_denied', `${failures} wrong keys: this authorization request has ended; start again from the application`));
      }
      await saveTx(store, id, { ...tx, key_failures: failures });
      return html(reply, 401, renderConsent(id, tx, 'That is not a valid hub key for this hub.'), formAction);
    }
    if (!(await store.take(`tx:${id}`))) return html(reply, 400, errorPage('invalid_request', 'this authorization request was already answered'));
    return issueCode(reply, base, tx, granted);
  });

  app.get('/authorize/callback', { config: { access: 'open' } }, async (request, reply) => {
    const base = baseUrl(request, config);
    const q = request.query as Form;
    let state: string | undefined;
    try {
      state = field(q, 'state');
    } catch (err) {
      return html(reply, 400, errorPage('invalid_request', (err as OAuthError).description));
    }
    const id = state && operator.identityProvider ? await store.take(`identity-provider:${state}`) : null;
    const text = id ? await store.take(`tx:${id}`) : null;
    if (!text || !operator.identityProvider) return html(reply, 400, errorPage('invalid_request', 'this sign-in expired or was already used; start again from the application'));
    const tx = JSON.parse(text) as ConsentTx;
    if (!tx.signin || !tx.granted) return html(reply, 400, errorPage('invalid_request', 'this sign-in was not started from the consent page'));
    if (!operator.sameBrowser(request, tx.signin)) {
      // Someone else's consent (a link sent to the operator): show it, as a new consent, to decide on here.
      request.log.warn({ client_id: tx.client_id }, 'oauth consent: sign-in returned to a browser that did not start it');
      const { csrf: _csrf, key_failures: _failures, granted: _granted, signin: _signin, ...authRequest } = tx;
      return showConsent(request, reply, { ...authRequest, checked: 'LOW' }, 'This sign-in was not started in this browser. Review the request below before you approve it.');
    }
    if (typeof q.error === 'string') {
      return redirectTo(reply, tx.redirect_uri, { error: 'access_denied', error_description: `sign-in at ${operator.identityProvider.label} ended: ${q.error.slice(0, 100)}`, state: tx.state, iss: base });
    }
    let email: string;
    try {
      email = await operator.finishSignIn(request, reply, new URL(request.url, base), tx.signin, '/authorize');
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      request.log.warn({ client_id: tx.client_id, reason: err.description }, 'oauth consent: identity provider sign-in refused');
      return html(reply, 403, errorPage(err.error, err.description));
    }
    return issueCode(reply, base, tx, tx.granted, email);
  });

  /** The operator approved: the client is marked approved, and the code goes to its redirect URI. */
  async function issueCode(reply: FastifyReply, base: string, tx: ConsentTx, granted: Level, subject?: string): Promise<FastifyReply> {
    const client = await clients.find(tx.client_id).catch(() => null);
    if (client) await clients.markApproved(client, tx.redirect_uri);
    const code = await tokens.issueCode(
      { client_id: tx.client_id, ...(subject ? { subject } : {}), scopes: scopesUpTo(granted), resource: tx.resource },
      tx.redirect_uri,
      tx.redirect_sent,
      tx.code_challenge,
    );
    reply.clearCookie(CSRF_COOKIE, { path: '/authorize' });
    return redirectTo(reply, tx.redirect_uri, { code, state: tx.state, iss: base });
  }
}
