import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { baseUrl, bearerChallenge, type ResourcePath } from '../oauth/discovery.js';
import type { GuardedRoute } from './access.js';
import { MemoryFailedAuthLimiter, type FailedAuthLimiter } from './failed-auth.js';

/**
 * Bearer auth as a timing-safe onRequest hook, given to each route that is not open (src/http/access.ts). We do not use @fastify/bearer-auth because the pipeline needs to know
 * WHICH key matched (its id is the audit principal and the `GOVERNANCE_SCOPE=key` budget) and because failed
 * attempts feed a per-IP brute-force limiter; both need the comparison result, which that plugin does not expose.
 */

declare module 'fastify' {
  interface FastifyRequest {
    /** Key id of the caller ("key:1a2b3c4d"), "anonymous" with MCP_AUTH=none. */
    principal: string;
  }
}

// One-shot hashing: a third of createHash's cost, and it runs on every authenticated request.
const digest = (s: string): Buffer => hash('sha256', s, 'buffer');

/** Public, stable id of a key: never the key, and not enough of its hash to help guessing. */
export function keyId(key: string): string {
  return `key:${digest(`omni-hub:${key}`).toString('hex').slice(0, 8)}`;
}

export interface KeyMatcher {
  /** The matching key's id, or null. Compares against every key in constant time per key. */
  match(presented: string): string | null;
}

export function keyMatcher(keys: string[]): KeyMatcher {
  const entries = keys.map((k) => ({ hash: digest(k), id: keyId(k) }));
  return {
    match(presented) {
      const h = digest(presented);
      let found: string | null = null;
      // No early exit: every key is compared whatever the outcome.
      for (const e of entries) if (timingSafeEqual(h, e.hash) && found === null) found = e.id;
      return found;
    },
  };
}

/**
 * The challenge names the protected resource metadata (RFC 9728) of the endpoint asked (the route's `resource`: `/sse`
 * has its own) so an MCP client can discover how to get a token, and the scope to ask for (OAUTH_DEFAULT_SCOPE): a
 * client following the MCP scope selection asks for it instead of every level the metadata lists.
 */
export function unauthorized(reply: FastifyReply, message: string, resource: ResourcePath, error?: 'invalid_token'): FastifyReply {
  const config = reply.server.hub.config;
  const params = { ...(error ? { error, error_description: message } : {}), scope: config.oauth.defaultScope };
  const challenge = bearerChallenge(baseUrl(reply.request, config), params, resource);
  return reply
    .code(401)
    .header('www-authenticate', challenge)
    .send({ error: { code: 'unauthorized', message } });
}

/**
 * What the auth hook asks about a bearer value that is not a hub key (the OAuth server answers it): declared here, by
 * the hook that asks, so the OAuth server depends on the hook and not the other way round.
 */
export type TokenVerdict = 'accepted' | 'refused' | 'not_ours';
export type TokenCheck = (request: FastifyRequest, reply: FastifyReply, token: string, route: GuardedRoute) => Promise<TokenVerdict>;

const BEARER = /^Bearer[ ]+(\S+)\s*$/i;

/**
 * `limiter` counts failed keys per client address (shared through Redis when set; see failed-auth.ts); `tokens` checks
 * a bearer value that is no hub key as an OAuth access token (src/oauth). The result makes one hook per route, which
 * knows whether a token may reach that route and which resource its challenges name.
 */
export function authHook(config: Config, limiter: FailedAuthLimiter = new MemoryFailedAuthLimiter(), tokens?: TokenCheck) {
  const matcher = keyMatcher(config.apiKeys);

  /** Every case but an unblocked address presenting a hub key: a blocked address, OAuth tokens, refusals. */
  async function settle(request: FastifyRequest, reply: FastifyReply, route: GuardedRoute, blocked: number | Promise<number>, token: string | null, id: string | null): Promise<void> {
    const retry = await blocked;
    if (retry > 0) {
      await reply
        .code(429)
        .header('retry-after', String(retry))
        .send({ error: { code: 'rate_limited', message: 'too many failed authentication attempts from this address', retry_after_s: retry } });
      return;
    }
    const verdict = !id && token !== null && tokens ? await tokens(request, reply, token, route) : 'not_ours';
    if (verdict === 'accepted') return;
    if (verdict === 'refused') return limiter.fail(request.ip);
    if (!id) {
      await limiter.fail(request.ip);
      await unauthorized(reply, request.headers.authorization ? 'invalid API key' : 'missing Authorization: Bearer <MCP_API_KEY> header', route.resource);
      return;
    }
    request.principal = id;
  }

  // Callback style: an unblocked address with a hub key (every call of a working client) passes without a promise.
  return (route: GuardedRoute) =>
    function authenticate(request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void): void {
      if (config.auth === 'none') {
        request.principal = 'anonymous';
        return done();
      }
      const blocked = limiter.blocked(request.ip);
      const header = request.headers.authorization;
      const token = typeof header === 'string' ? (BEARER.exec(header)?.[1] ?? null) : null;
      // Compared whether or not the address is blocked (in constant time per key); a blocked address still gets 429.
      const id = token === null ? null : matcher.match(token);
      if (blocked === 0 && id !== null) {
        request.principal = id;
        return done();
      }
      settle(request, reply, route, blocked, token, id).then(() => done(), done);
    };
}
