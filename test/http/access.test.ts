import { randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { FastifyInstance, RouteOptions } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { testConfig } from '../helpers/config.js';
import { createDeps } from '../../src/deps-factory.js';
import { AUTH, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';

/**
 * Who may call a route is the route's own declaration (src/http/access.ts). These tests take the list of routes from
 * Fastify itself (an onRoute hook added through Fastify's `fastify.initialization` diagnostics channel, so it sees
 * every route the real app registers, plugins' included), then check each one: declared, and answering an
 * unauthenticated request as declared.
 */

interface SeenRoute {
  method: string;
  url: string;
  access: unknown;
  resource: unknown;
}

/** Collects every route of every Fastify instance created while `run` is in progress. */
async function routesOf<T>(run: () => Promise<T>): Promise<{ result: T; routes: SeenRoute[] }> {
  const routes: SeenRoute[] = [];
  const onInit = (message: unknown) => {
    const { fastify } = message as { fastify: FastifyInstance };
    fastify.addHook('onRoute', (route: RouteOptions) => {
      for (const method of [route.method].flat()) routes.push({ method, url: route.url, access: route.config?.access, resource: route.config?.resource });
    });
  };
  subscribe('fastify.initialization', onInit);
  try {
    return { result: await run(), routes };
  } finally {
    unsubscribe('fastify.initialization', onInit);
  }
}

/**
 * Every route open without a key, as a reviewed list: opening one more route is a security decision, so it shows up
 * here. The machine OAuth endpoints have their CORS preflight (OPTIONS) beside them.
 */
const OPEN_ROUTES = [
  'GET /healthz',
  'GET /readyz',
  'GET /openapi.json',
  'GET /console',
  'GET /console/',
  'GET /console/assets/*',
  'GET /approvals/:id',
  'POST /approvals/:id',
  'GET /approvals/callback',
  'GET /connect/client.json',
  'GET /connect/callback',
  'GET /connect/:upstream',
  'GET /authorize',
  'POST /authorize',
  'GET /authorize/callback',
  'POST /register',
  'POST /token',
  'POST /revoke',
  'GET /.well-known/oauth-protected-resource',
  'GET /.well-known/oauth-protected-resource/mcp',
  'GET /.well-known/oauth-protected-resource/sse',
  'GET /.well-known/oauth-authorization-server',
  'GET /.well-known/*',
];
const PREFLIGHTS = ['/register', '/token', '/revoke', '/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource/sse', '/.well-known/oauth-authorization-server'];

/** A different client address per request: the failed-key limiter would answer 429 after 30 misses from one. */
let clients = 0;
const nextClient = () => `10.0.${(++clients >> 8) & 255}.${clients & 255}`;

/** A concrete URL for a route pattern: each `:param` and wildcard becomes a plain segment. */
const concrete = (url: string) => url.replace(/:[^/]+/g, 'x1').replace(/\*/g, 'x1');

describe('declared access', () => {
  let hub: TestHub;
  let routes: SeenRoute[];

  beforeAll(async () => {
    // With an `auth: "user"` upstream the upstream connect routes are registered too; the upstream need not answer.
    const env = {
      PUBLIC_URL: 'http://localhost:80',
      VAULT_KEY: randomBytes(32).toString('base64'),
      UPSTREAMS: JSON.stringify([{ name: 'gh', url: 'http://127.0.0.1:9/mcp', auth: 'user' }]),
    };
    ({ result: hub, routes } = await routesOf(() => testHub(env, { systems: [fixtureSystem] })));
  }, 60_000);
  afterAll(() => hub.close());

  it('sees every route family, and every route declares who may call it', () => {
    const urls = new Set(routes.map((r) => r.url));
    for (const url of ['/healthz', '/mcp', '/sse', '/messages', '/v1/tools/:name', '/v1/audit', '/console', '/approvals/:id', '/connect/:upstream', '/token', '/.well-known/oauth-authorization-server', '*']) {
      expect(urls, url).toContain(url);
    }
    const undeclared = routes.filter((r) => r.access !== 'open' && r.access !== 'key' && r.access !== 'tool');
    expect(undeclared).toEqual([]);
  });

  it('opens exactly the reviewed routes (GET ones with their HEAD twins); every other route needs a key or a token', () => {
    const open = new Set(routes.filter((r) => r.access === 'open').map((r) => `${r.method} ${r.url}`));
    const expected = [...OPEN_ROUTES, ...OPEN_ROUTES.filter((r) => r.startsWith('GET ')).map((r) => r.replace('GET', 'HEAD')), ...PREFLIGHTS.map((u) => `OPTIONS ${u}`)];
    expect([...open].sort()).toEqual([...new Set(expected)].sort());
  });

  it('answers each protected route 401 without a key (challenge naming its resource), and no open route 401', async () => {
    const failures: string[] = [];
    for (const route of routes) {
      const res = await hub.app.inject({ method: route.method as 'GET', url: concrete(route.url), remoteAddress: nextClient() });
      const where = `${route.method} ${route.url} (${String(route.access)}): ${res.statusCode}`;
      if (route.access === 'open') {
        if (res.statusCode === 401 || res.statusCode === 403) failures.push(where);
        continue;
      }
      const resource = route.resource === '/sse' ? '/sse' : '/mcp';
      if (res.statusCode !== 401 || !res.headers['www-authenticate']?.toString().includes(`oauth-protected-resource${resource}"`)) failures.push(where);
    }
    expect(failures).toEqual([]);
  }, 60_000);

  it('lets a hub key through every protected route (an unknown path is then 404)', async () => {
    const failures: string[] = [];
    for (const route of routes.filter((r) => r.access !== 'open' && r.method !== 'GET' && r.method !== 'HEAD')) {
      // Only the guards are asked here: no body, so a route refuses the request itself, never with 401 or 403.
      const res = await hub.app.inject({ method: route.method as 'POST', url: concrete(route.url), headers: AUTH, remoteAddress: nextClient() });
      if (res.statusCode === 401 || res.statusCode === 403) failures.push(`${route.method} ${route.url}: ${res.statusCode}`);
    }
    expect(failures).toEqual([]);
    const unknown = await hub.app.inject({ method: 'GET', url: '/v1/no-such-route', headers: AUTH, remoteAddress: nextClient() });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { code: 'not_found' } });
  }, 60_000);

  it('answers CORS preflights of the cross-origin routes only', async () => {
    const preflight = { origin: 'https://inspector.example', 'access-control-request-method': 'POST' };
    const token = await hub.app.inject({ method: 'OPTIONS', url: '/token', headers: preflight });
    expect(token.statusCode).toBe(204);
    expect(token.headers).toMatchObject({ 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, POST, OPTIONS', 'access-control-max-age': '600' });
    const refused = await hub.app.inject({ method: 'POST', url: '/token', headers: { origin: 'https://inspector.example' } });
    expect(refused.statusCode).toBe(400);
    expect(refused.headers['access-control-allow-origin']).toBe('*');
    for (const url of ['/mcp', '/v1/tools', '/authorize', '/console']) {
      const res = await hub.app.inject({ method: 'OPTIONS', url, headers: preflight });
      expect(res.headers['access-control-allow-origin'], url).toBeUndefined();
      const get = await hub.app.inject({ method: 'GET', url, headers: { ...AUTH, origin: 'http://localhost' } });
      expect(get.headers['access-control-allow-origin'], url).toBeUndefined();
    }
  });
});

describe('a route without a declaration', () => {
  it('fails at registration, naming the route', async () => {
    const config = testConfig({ DATA_DIR: `/tmp/omni-route-access-${randomBytes(4).toString('hex')}` });
    const deps = await createDeps(config, pino({ level: 'silent' }));
    const app = await buildApp(config, deps, { systems: [fixtureSystem] });
    try {
      expect(() => app.get('/v1/forgotten', async () => ({ leaked: true }))).toThrow(/GET \/v1\/forgotten declares no access/);
      expect(() => app.get('/v1/misspelled', { config: { access: 'public' as 'open' } }, async () => ({}))).toThrow(/declares no access/);
    } finally {
      await app.close();
      await deps.close();
    }
  });
});
