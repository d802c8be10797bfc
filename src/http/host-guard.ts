import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';

/**
 * DNS-rebinding protection: the Host header must name an allowed host and a browser Origin, when sent, must be an
 * allowed origin, a loopback origin, or an origin on one of the allowed hosts (the console calling its own hub).
 * A rebinding page always carries its own (attacker) host name in both headers, so either check refuses it.
 */
const LOOPBACK_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

function hostname(hostHeader: string): string {
  const h = hostHeader.toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  return h.split(':', 1)[0]!;
}

function originHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

/** True when the Host header names one of the allowed hosts (ALLOWED_HOSTS, loopback names, PUBLIC_URL's host). */
export function isAllowedHost(config: Config, hostHeader: string | undefined): boolean {
  return !!hostHeader && config.allowedHosts.includes(hostname(hostHeader));
}

/** The refusal message for a request whose Host or Origin is not allowed, or null when both are. */
export function hostRefusal(config: Config): (request: FastifyRequest) => string | null {
  const hosts = new Set(config.allowedHosts);
  const origins = new Set(config.allowedOrigins);
  return function refusal(request: FastifyRequest): string | null {
    const host = request.headers.host;
    if (!host || !hosts.has(hostname(host))) return `host ${JSON.stringify(host ?? '')} is not allowed; add it to ALLOWED_HOSTS`;
    const origin = request.headers.origin;
    if (origin === undefined) return null;
    const o = origin.toLowerCase();
    const oHost = originHost(o);
    if (origins.has(o) || LOOPBACK_ORIGIN.test(o) || (oHost !== null && hosts.has(hostname(oHost)))) return null;
    return `origin ${JSON.stringify(origin)} is not allowed; add it to ALLOWED_ORIGINS`;
  };
}

/**
 * The guard as an onRequest hook, given to every route that is not declared open (src/http/access.ts), whatever
 * MCP_AUTH says, and to paths no route serves. Open routes (health, readiness, OpenAPI, console page and assets, the
 * OAuth endpoints, ...) serve nothing a rebinding page could use and stay reachable under any Host.
 * Callback style: an allowed request (every request of a working client) passes without allocating a promise.
 */
export function hostGuardHook(config: Config) {
  const refusal = hostRefusal(config);
  return function guardAuthenticatedRoutes(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
    const message = refusal(request);
    if (message === null) return done();
    void reply.code(403).send({ error: { code: 'forbidden_host', message } });
  };
}
