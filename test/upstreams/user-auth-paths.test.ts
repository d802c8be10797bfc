import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testHub, type TestHub } from '../helpers/app.js';
import { CHROMIUM, hasChromium, launchChromium, type HeadlessChromium } from '../helpers/chromium.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { freePort } from '../helpers/spawn-hub.js';
import { signInThroughLink, startUserAuthUpstream, type UserAuthUpstream, type UserAuthUpstreamOptions } from '../fakes/user-auth-upstream.js';
import { hasOpenssl, selfSignedCert } from '../helpers/self-signed.js';
import { eventually, upstream } from './helpers.js';

/**
 * `auth: "user"` against the other kinds of upstreams the hub meets, each a real authorization server (oidc-provider)
 * in front of an SDK v2 MCP server, the browser part in Chromium: a stateful server that binds each MCP session to the
 * user who opened it; an authorization server that takes the hub's Client ID Metadata Document; one that only
 * registers dynamically (and an authorization response naming the wrong issuer); one that knows only a client
 * registered by hand with a secret (as Google's). The vault is the file store here (no REDIS_URL): the Redis one is
 * covered by user-auth.test.ts.
 */
if (!hasChromium) console.warn(`upstream user-auth paths skipped: ${CHROMIUM} is not installed`);

const ALICE_KEY = `alice-key-${randomBytes(8).toString('hex')}`;
const BOB_KEY = `bob-key-${randomBytes(8).toString('hex')}`;

interface Setup {
  up: UserAuthUpstream;
  hub: TestHub;
  /** PUBLIC_URL of the hub. */
  base: string;
  browser: HeadlessChromium;
  close(): Promise<void>;
}

/** An upstream, a hub serving it as `name` with `auth: "user"` (listening on its own port), and a browser. */
async function setup(name: string, upOptions: UserAuthUpstreamOptions | ((base: string) => UserAuthUpstreamOptions), extra: { userOauth?: Record<string, string>; publicUrl?: (port: number) => Promise<{ base: string; close(): Promise<void> }>; timings?: Record<string, number> } = {}): Promise<Setup> {
  const port = await freePort();
  const front = extra.publicUrl ? await extra.publicUrl(port) : { base: `http://127.0.0.1:${port}`, close: async () => undefined };
  const up = await startUserAuthUpstream(typeof upOptions === 'function' ? upOptions(front.base) : upOptions);
  const hub = await testHub(
    {
      PUBLIC_URL: front.base,
      MCP_API_KEY: `${ALICE_KEY},${BOB_KEY}`,
      VAULT_KEY: randomBytes(32).toString('base64'),
      UPSTREAMS: JSON.stringify([{ name, url: up.mcpUrl, auth: 'user', user_oauth: { scope: 'openid mcp', ...extra.userOauth } }]),
    },
    { systems: [fixtureSystem], ...(extra.timings ? { upstreamTimings: extra.timings } : {}) },
  );
  await hub.app.listen({ port, host: '127.0.0.1' });
  const browser = await launchChromium(`user-auth-${name}`, { ignoreHTTPSErrors: true });
  return {
    up,
    hub,
    base: front.base,
    browser,
    async close() {
      await browser.close();
      await hub.close();
      await front.close();
      await up.close();
    },
  };
}

const call = (s: Setup, tool: string, key: string) =>
  s.hub.app.inject({ method: 'POST', url: `/v1/tools/${tool}`, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, payload: '{}' });

async function connectLink(s: Setup, upstreamName: string, key: string): Promise<string> {
  const res = await s.hub.app.inject({ method: 'POST', url: `/v1/user-connections/${upstreamName}`, headers: { authorization: `Bearer ${key}` } });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ connect_url: string }>().connect_url;
}

describe.skipIf(!hasChromium)('auth "user" with a stateful upstream (sessions bound to the user who opened them)', () => {
  let s: Setup;
  beforeAll(async () => {
    // At most one caller session open at a time: the second principal's call closes the first's (least recently used).
    s = await setup('st', { stateful: true }, { timings: { userSessionsMax: 1 } });
  }, 120_000);
  afterAll(async () => s?.close());

  it('each principal calls on a session of their own, opened with their own token; sessions are bounded and end at the upstream', async () => {
    expect(await signInThroughLink(s.browser.page, await connectLink(s, 'st', ALICE_KEY), 'alice')).toMatch(/Connected to st/);
    await eventually(() => upstream(s.hub.app, 'st').tools.some((t) => t.name === 'st_whoami'));
    expect(await signInThroughLink(s.browser.page, await connectLink(s, 'st', BOB_KEY), 'bob')).toMatch(/Connected to st/);

    // The listing connection is alice's (the operator's) session: bob's call must not run on it.
    const bob = await call(s, 'st_whoami', BOB_KEY);
    expect(bob.statusCode, bob.body).toBe(200);
    expect(bob.body).toContain('user:bob');
    const alice = await call(s, 'st_whoami', ALICE_KEY);
    expect(alice.body).toContain('user:alice');
    // Concurrent calls of both stay apart.
    const mixed = await Promise.all([call(s, 'st_whoami', BOB_KEY), call(s, 'st_whoami', ALICE_KEY), call(s, 'st_whoami', BOB_KEY)]);
    expect(mixed.map((r) => /user:(\w+)/.exec(r.body)?.[1])).toEqual(['bob', 'alice', 'bob']);

    // Sessions the upstream saw opened: the listing one and the callers', each by its own account.
    const openedBy = [...s.up.sessions.values()];
    expect(openedBy.filter((a) => a === 'bob').length).toBeGreaterThanOrEqual(1);
    // With room for one caller session, switching callers ended the previous one at the upstream (DELETE).
    await eventually(() => s.up.endedSessions.length >= 1);
    expect(upstream(s.hub.app, 'st').connection.userSessionCount).toBeLessThanOrEqual(1);
    for (const id of s.up.endedSessions) expect(s.up.sessions.has(id)).toBe(true);

    // The upstream restarts and forgets its sessions: the next call, refused with 404, runs once more on a new session.
    s.up.forgetSessions();
    const afterRestart = await call(s, 'st_whoami', ALICE_KEY);
    expect(afterRestart.statusCode, afterRestart.body).toBe(200);
    expect(afterRestart.body).toContain('user:alice');

    // Revoking bob's login ends his session too; his next call asks him to connect.
    const bobSession = await call(s, 'st_whoami', BOB_KEY);
    expect(bobSession.body).toContain('user:bob');
    const current = [...s.up.sessions].filter(([, account]) => account === 'bob').at(-1)![0];
    expect(s.up.endedSessions).not.toContain(current);
    const revoked = await s.hub.app.inject({ method: 'DELETE', url: '/v1/user-connections/st', headers: { authorization: `Bearer ${BOB_KEY}` } });
    expect(revoked.json()).toMatchObject({ existed: true, revoked_at_upstream: true });
    await eventually(() => s.up.endedSessions.includes(current));
    expect((await call(s, 'st_whoami', BOB_KEY)).json<{ error: { code: string } }>().error.code).toBe('upstream_auth_required');
  }, 120_000);
});

/** A TLS front for the hub (as a load balancer would be): `https://127.0.0.1:<port>` with a certificate made by openssl. */
function tlsFront(): { ca: string; front: (hubPort: number) => Promise<{ base: string; close(): Promise<void> }> } {
  const { key, cert } = selfSignedCert(['127.0.0.1']);
  return {
    ca: cert,
    async front(hubPort) {
      const server: Server = createHttpsServer({ key, cert }, (req, res) => {
        const proxied = httpRequest({ host: '127.0.0.1', port: hubPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        proxied.on('error', () => res.writeHead(502).end());
        req.pipe(proxied);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return {
        base: `https://127.0.0.1:${(server.address() as { port: number }).port}`,
        close: async () => {
          server.closeAllConnections();
          await new Promise((r) => server.close(r));
        },
      };
    },
  };
}

describe.skipIf(!hasChromium || !hasOpenssl)('auth "user" at an authorization server that takes Client ID Metadata Documents', () => {
  let s: Setup;
  beforeAll(async () => {
    const tls = tlsFront();
    // No dynamic registration: the hub's own document (served at PUBLIC_URL, https) is its only way in.
    s = await setup('cimd', { clientDocuments: { ca: tls.ca }, registration: false }, { publicUrl: tls.front });
  }, 120_000);
  afterAll(async () => {
    await s?.close();
  });

  it('connects with the client id https://<PUBLIC_URL>/connect/client.json, which the authorization server fetched from the hub', async () => {
    const link = await connectLink(s, 'cimd', ALICE_KEY);
    expect(link.startsWith(`${s.base}/connect/cimd?ticket=`)).toBe(true);
    expect(await signInThroughLink(s.browser.page, link, 'dana')).toMatch(/Connected to cimd/);
    expect(s.up.registrations()).toBe(0);
    expect(s.up.tokenClients).toEqual([{ client_id: `${s.base}/connect/client.json`, auth: 'none' }]);
    await eventually(() => upstream(s.hub.app, 'cimd').tools.some((t) => t.name === 'cimd_whoami'));
    expect((await call(s, 'cimd_whoami', ALICE_KEY)).body).toContain('user:dana');
  }, 60_000);
});

describe.skipIf(!hasChromium)('auth "user" at an authorization server that registers clients dynamically', () => {
  let s: Setup;
  beforeAll(async () => {
    // The server would take metadata documents too, but PUBLIC_URL is plain http: the hub falls back to registering.
    s = await setup('dcr', { clientDocuments: { ca: '' }, registration: true });
  }, 120_000);
  afterAll(async () => s?.close());

  it('refuses an authorization response naming another issuer (RFC 9207) before exchanging its code', async () => {
    const page = s.browser.page;
    // The authorization server's redirect back to the hub is rewritten on its way: same code and state, `iss` of
    // another server (a mix-up attack). Playwright does not route redirect hops, so the form posts of the sign-in pages
    // are answered here: their redirect (to the server's /auth/<uid>) is followed with the browser's cookies, and
    // where that leads back to the hub the browser is sent there with the wrong `iss`.
    const resume = `${s.up.issuer}/interaction/**`;
    await page.route(resume, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      const answer = await route.fetch({ maxRedirects: 0 });
      const next = answer.headers().location;
      if (!next) return route.fulfill({ response: answer });
      const hop = await page.context().request.get(new URL(next, s.up.issuer).href, { maxRedirects: 0 });
      const target = new URL(hop.headers().location!, s.up.issuer);
      if (target.href.startsWith(`${s.base}/connect/callback`)) target.searchParams.set('iss', 'http://127.0.0.1:9/');
      return route.fulfill({ status: 303, headers: { location: target.href } });
    });
    try {
      const text = await signInThroughLink(page, await connectLink(s, 'dcr', ALICE_KEY), 'erin');
      expect(text).toMatch(/Not connected/);
      expect(text).toMatch(/iss/);
    } finally {
      await page.unroute(resume);
    }
    expect(s.up.tokenClients).toEqual([]);
    const listed = await s.hub.app.inject({ method: 'GET', url: '/v1/user-connections', headers: { authorization: `Bearer ${ALICE_KEY}` } });
    expect(listed.json<{ upstreams: { grants: unknown[] }[] }>().upstreams[0]!.grants).toEqual([]);
    const audit = await s.hub.app.inject({ method: 'GET', url: '/v1/audit?tool=dcr.connect', headers: { authorization: `Bearer ${ALICE_KEY}` } });
    expect(audit.body).toContain('connect_failed');
  }, 60_000);

  it('registers once (RFC 7591) and connects with the registered client', async () => {
    expect(await signInThroughLink(s.browser.page, await connectLink(s, 'dcr', ALICE_KEY), 'erin')).toMatch(/Connected to dcr/);
    expect(s.up.registrations()).toBe(1);
    const [used] = s.up.tokenClients;
    expect(used!.client_id).not.toContain('/connect/client.json');
    expect(await signInThroughLink(s.browser.page, await connectLink(s, 'dcr', BOB_KEY), 'frank')).toMatch(/Connected to dcr/);
    expect(s.up.registrations()).toBe(1);
    expect(new Set(s.up.tokenClients.map((c) => c.client_id)).size).toBe(1);
    await eventually(() => upstream(s.hub.app, 'dcr').tools.some((t) => t.name === 'dcr_whoami'));
    expect((await call(s, 'dcr_whoami', BOB_KEY)).body).toContain('user:frank');
  }, 60_000);
});

describe.skipIf(!hasChromium)('auth "user" with a client registered by hand (client_id and client_secret, as for Google)', () => {
  const CLIENT_ID = 'omni-hub-by-hand';
  const CLIENT_SECRET = `secret-${randomBytes(16).toString('hex')}`;
  let s: Setup;
  beforeAll(async () => {
    s = await setup(
      'goog',
      (base) => ({
        registration: false,
        clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [`${base}/connect/callback`], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_post' }],
      }),
      { userOauth: { client_id: CLIENT_ID, client_secret: CLIENT_SECRET } },
    );
  }, 120_000);
  afterAll(async () => s?.close());

  it('connects with the configured client and its secret, keeps the secret sealed, and revokes at the upstream on disconnect', async () => {
    expect(await signInThroughLink(s.browser.page, await connectLink(s, 'goog', ALICE_KEY), 'gina')).toMatch(/Connected to goog/);
    expect(s.up.registrations()).toBe(0);
    expect(s.up.tokenClients).toEqual([{ client_id: CLIENT_ID, auth: 'client_secret_post' }]);
    await eventually(() => upstream(s.hub.app, 'goog').tools.some((t) => t.name === 'goog_whoami'));
    expect((await call(s, 'goog_whoami', ALICE_KEY)).body).toContain('user:gina');

    // At rest (DATA_DIR/vault): neither the client secret nor a token in clear.
    const vaultDir = path.join(s.hub.config.dataDir, 'vault');
    const atRest = readdirSync(vaultDir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => readFileSync(path.join(e.parentPath, e.name), 'utf8'))
      .join('\n');
    expect(atRest).toContain(CLIENT_ID);
    expect(atRest).not.toContain(CLIENT_SECRET);

    const own = await s.hub.app.inject({ method: 'DELETE', url: '/v1/user-connections/goog', headers: { authorization: `Bearer ${ALICE_KEY}` } });
    expect(own.json()).toMatchObject({ existed: true, revoked_at_upstream: true });
    expect(s.up.revokedAccounts).toContain('gina');
    expect((await call(s, 'goog_whoami', ALICE_KEY)).json<{ error: { code: string } }>().error.code).toBe('upstream_auth_required');
  }, 60_000);
});
