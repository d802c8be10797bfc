import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Config } from '../config.js';
import { baseUrl } from '../oauth/discovery.js';
import { HubError } from '../tools/errors.js';
import { CLIENT_METADATA_PATH, clientMetadata } from '../upstreams/user-auth.js';
import { CONNECT_TTL_S, isOperator, type UserConnections } from '../upstreams/user-connections.js';
import { sendHubError } from './errors.js';

const COOKIE_PREFIX = 'omni_connect_';
/** The cookie of one flow is named after the start of its state, so two flows in one browser do not overwrite each other. */
const cookieName = (state: string) => `${COOKIE_PREFIX}${state.slice(0, 16).replace(/[^A-Za-z0-9_-]/g, '')}`;

const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(reply: FastifyReply, status: number, title: string, text: string): FastifyReply {
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body style="font-family:sans-serif;max-width:36rem;margin:3rem auto"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>`;
  return reply.code(status).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(body);
}

/**
 * Connecting a principal's own login at an `auth: "user"` upstream. Browser routes (open: a single-use connect link
 * proves the principal, a cookie set when it is opened proves the browser): `GET /connect/<upstream>?ticket=` starts
 * the authorization-code flow, `GET /connect/callback` finishes it, `GET /connect/client.json` is the hub's Client ID
 * Metadata Document. Authenticated REST routes for the console and clients: `GET /v1/user-connections`,
 * `POST /v1/user-connections/<upstream>` (a connect link for the caller), `DELETE /v1/user-connections/<upstream>`
 * (`?principal=`: an operator revoking someone else's).
 */
export async function connectRoutes(app: FastifyInstance, opts: { config: Config; connections: UserConnections }): Promise<void> {
  const { config, connections } = opts;
  await app.register(cookie);
  const secure = (config.publicUrl ?? '').startsWith('https://');

  app.get(CLIENT_METADATA_PATH, { config: { access: 'open' } }, async (_request, reply) => {
    // A stable https address is what makes the document an identity; without PUBLIC_URL there is none to serve.
    if (!config.publicUrl) return sendHubError(reply, new HubError('not_found', 'the client metadata document needs PUBLIC_URL'));
    return reply.header('cache-control', 'public, max-age=3600').send(clientMetadata(config.publicUrl));
  });

  app.get<{ Querystring: Record<string, string | undefined> }>('/connect/callback', { config: { access: 'open' } }, async (request, reply) => {
    const current = new URL(request.url, `${connections.base(baseUrl(request, config))}/`);
    const state = current.searchParams.get('state') ?? '';
    try {
      const grant = await connections.complete(current, (s) => request.cookies[cookieName(s)]);
      reply.clearCookie(cookieName(state), { path: '/connect/callback' });
      return page(reply, 200, `Connected to ${grant.upstream}`, `Your login at ${grant.upstream} is connected to the hub. You can close this window and call the tool again.`);
    } catch (err) {
      if (!(err instanceof HubError)) throw err;
      return page(reply, err.httpStatus, 'Not connected', err.message);
    }
  });

  app.get<{ Params: { upstream: string }; Querystring: { ticket?: string } }>('/connect/:upstream', { config: { access: 'open' } }, async (request, reply) => {
    const { upstream } = request.params;
    try {
      const { url, browser, state } = await connections.begin(upstream, request.query.ticket ?? '', baseUrl(request, config));
      reply.setCookie(cookieName(state), browser, { path: '/connect/callback', httpOnly: true, secure, sameSite: 'lax', maxAge: CONNECT_TTL_S });
      return reply.headers({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).redirect(url, 302);
    } catch (err) {
      if (!(err instanceof HubError)) {
        request.log.warn({ upstream, reason: err instanceof Error ? err.message.slice(0, 200) : 'failed' }, 'upstream connect could not start');
        return page(reply, 502, 'Not connected', `The authorization server of "${upstream.slice(0, 40)}" could not be reached or refused the hub.`);
      }
      return page(reply, err.httpStatus, 'Not connected', err.message);
    }
  });

  app.get('/v1/user-connections', { config: { access: 'key' } }, async (request) => ({ principal: request.principal, upstreams: await connections.list(request.principal) }));

  app.post<{ Params: { upstream: string } }>('/v1/user-connections/:upstream', { config: { access: 'key' } }, async (request, reply) => {
    try {
      return { connect_url: await connections.connectUrl(request.params.upstream, request.principal, baseUrl(request, config)), expires_in: CONNECT_TTL_S };
    } catch (err) {
      if (err instanceof HubError) return sendHubError(reply, err);
      throw err;
    }
  });

  app.delete<{ Params: { upstream: string }; Querystring: { principal?: string } }>('/v1/user-connections/:upstream', { config: { access: 'key' } }, async (request, reply) => {
    const whose = request.query.principal ?? request.principal;
    if (whose !== request.principal && !isOperator(request.principal)) {
      return sendHubError(reply, new HubError('insufficient_scope', "only an operator (a hub key) revokes another principal's login"));
    }
    try {
      connections.flow(request.params.upstream);
      return await connections.disconnect(request.params.upstream, whose, request.principal);
    } catch (err) {
      if (err instanceof HubError) return sendHubError(reply, err);
      throw err;
    }
  });
}
