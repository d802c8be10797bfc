import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, preHandlerHookHandler, RouteOptions } from 'fastify';
import type { ResourcePath } from '../oauth/discovery.js';

/**
 * Who may call a route is declared on the route itself, in its `config`, and nowhere else:
 *
 *   app.get('/v1/report', { config: { access: 'key' } }, handler)
 *
 * - `open`: anyone, without a key and under any Host (health, discovery, the OAuth endpoints, the browser pages that
 *   prove who is there themselves: console, approval page, upstream connect);
 * - `key`: a hub API key (operator routes); an OAuth access token is refused with 403 `insufficient_scope`;
 * - `tool`: a hub key or an OAuth access token bound to this hub, within the token's levels (MCP and REST tool routes).
 *
 * The one `onRoute` hook below reads the declaration when the route is registered and gives the route its guards then,
 * so a request pays for nothing but the guards its route needs. A route without a declaration fails at registration,
 * so a forgotten one cannot ship; a path no route serves is `key` (see `enforceDeclaredAccess`).
 */
export type Access = 'open' | 'key' | 'tool';

const ACCESS: ReadonlySet<unknown> = new Set<Access>(['open', 'key', 'tool']);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route (required: registration fails without it). */
    access?: Access;
    /** `mcp`: errors are JSON-RPC error objects and the tool calls are read from MCP messages; REST JSON otherwise. */
    protocol?: 'mcp' | 'rest';
    /** The protected resource a 401/403 challenge names (RFC 9728): the legacy SSE transport's own, else `/mcp`. */
    resource?: ResourcePath;
    /** Pages of any origin may call the route from a browser, without credentials (CORS); its preflight comes with it. */
    crossOrigin?: boolean;
  }
}

/** What a token check and a refusal need to know of the route asked. */
export interface GuardedRoute {
  /** An OAuth access token may reach it (`access: 'tool'`). */
  tools: boolean;
  protocol: 'mcp' | 'rest';
  resource: ResourcePath;
}

/** The guards a protected route gets, built once per route from its declaration. */
export interface AccessGuards {
  /** The DNS-rebinding guard (Host and Origin), before authentication. */
  hostGuard: onRequestHookHandler;
  authenticate(route: GuardedRoute): onRequestHookHandler;
  /** Level scopes of OAuth tokens on a POST tool route, before anything runs. */
  scopeGuard(route: GuardedRoute): preHandlerHookHandler;
}

/** The cross-origin policy of `crossOrigin` routes: any origin, no credentials, the headers an MCP client sends. */
const CORS_PREFLIGHT: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type, mcp-protocol-version',
  'access-control-max-age': '600',
};

function allowAnyOrigin(_request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  reply.header('access-control-allow-origin', '*');
  done();
}

/** A preflight names the method it asks for; an OPTIONS request without it and an Origin is no preflight (400). */
async function preflight(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (!request.headers.origin || !request.headers['access-control-request-method']) {
    return reply.code(400).header('access-control-allow-origin', '*').type('text/plain').send('Invalid Preflight Request');
  }
  return reply.code(204).headers(CORS_PREFLIGHT).header('content-length', '0').send();
}

const hooks = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

const describe = (route: RouteOptions) => `${Array.isArray(route.method) ? route.method.join(',') : route.method} ${route.url}`;

/** The route's declaration, checked; throws (failing registration) when it is missing or not one of the known values. */
function declarationOf(route: RouteOptions): { access: Access; guarded: GuardedRoute; crossOrigin: boolean } {
  const c = route.config ?? {};
  if (!ACCESS.has(c.access)) {
    throw new Error(`route ${describe(route)} declares no access: give it config: { access: 'open' | 'key' | 'tool' } (src/http/access.ts)`);
  }
  if (c.protocol !== undefined && c.protocol !== 'mcp' && c.protocol !== 'rest') throw new Error(`route ${describe(route)}: unknown protocol ${String(c.protocol)}`);
  if (c.resource !== undefined && c.resource !== '/mcp' && c.resource !== '/sse') throw new Error(`route ${describe(route)}: unknown resource ${String(c.resource)}`);
  const access = c.access as Access;
  return { access, guarded: { tools: access === 'tool', protocol: c.protocol ?? 'rest', resource: c.resource ?? '/mcp' }, crossOrigin: c.crossOrigin === true };
}

/**
 * Installs the declared-access hook on `app`; call it before any route is registered. Each route then gets, in front of
 * its own hooks: the CORS header (`crossOrigin`), and unless it is `open`, the host guard and authentication; a POST
 * `tool` route also the scope guard ahead of its own preHandlers. A path no route serves is declared too (`key`, then
 * 404), so an unauthenticated probe learns nothing and a foreign Host is refused there as everywhere.
 */
export function enforceDeclaredAccess(app: FastifyInstance, guards: AccessGuards): void {
  const preflights = new Set<string>();
  app.addHook('onRoute', function declared(this: FastifyInstance, route) {
    const { access, guarded, crossOrigin } = declarationOf(route);
    const onRequest: onRequestHookHandler[] = crossOrigin ? [allowAnyOrigin] : [];
    if (access !== 'open') onRequest.push(guards.hostGuard, guards.authenticate(guarded));
    if (onRequest.length) route.onRequest = [...onRequest, ...hooks(route.onRequest)];
    if (access === 'tool' && hooks(route.method).includes('POST')) route.preHandler = [guards.scopeGuard(guarded), ...hooks(route.preHandler)];
    // One preflight route per path (a GET route's HEAD twin passes here too); registered where the route is, unprefixed.
    if (crossOrigin && !preflights.has(route.url)) {
      preflights.add(route.url);
      this.options(route.routePath ?? route.url, { config: { access: 'open' } }, preflight);
    }
  });
  app.all('*', { config: { access: 'key' } }, (_request, reply) => reply.callNotFound());
}
