import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLog } from '../../src/log.js';
import { RedisOAuthStore } from '../../src/oauth/store.js';
import { VaultCipher } from '../../src/upstreams/vault-cipher.js';
import { CredentialVault } from '../../src/upstreams/vault.js';
import { testHub, type TestHub } from '../helpers/app.js';
import { CHROMIUM, hasChromium, launchChromium, type HeadlessChromium } from '../helpers/chromium.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { freePort } from '../helpers/spawn-hub.js';
import { signInThroughLink, startUserAuthUpstream, type UserAuthUpstream } from '../fakes/user-auth-upstream.js';
import { deleteKeys, REDIS_URL, testConnection } from '../helpers/redis.js';
import { obtainTokens } from '../oauth/helpers.js';
import { eventually, upstream } from './helpers.js';

/**
 * `auth: "user"` end to end: a real authorization server (oidc-provider) in front of an MCP server that accepts only
 * its tokens; two hub principals (two keys) connect two different accounts in headless Chromium, the upstream sees
 * each caller as their own account, a refresh happens once across two hubs sharing Redis, and a disconnect revokes at
 * the authorization server.
 */
if (!hasChromium) console.warn(`upstream user-auth browser test skipped: ${CHROMIUM} is not installed`);

const ALICE_KEY = `alice-key-${randomBytes(8).toString('hex')}`;
const BOB_KEY = `bob-key-${randomBytes(8).toString('hex')}`;
const VAULT_KEY = randomBytes(32).toString('base64');
const VAULT_PREFIX = 'omni-hub:vault:';

describe.skipIf(!hasChromium)('upstream with auth "user"', () => {
  let up: UserAuthUpstream;
  let hub: TestHub;
  let base: string;
  let browser: HeadlessChromium | undefined;
  let page: Page;

  const env = () => ({
    PUBLIC_URL: base,
    MCP_API_KEY: `${ALICE_KEY},${BOB_KEY}`,
    VAULT_KEY,
    UPSTREAMS: JSON.stringify([{ name: 'gh', url: up.mcpUrl, auth: 'user', user_oauth: { scope: 'openid mcp' } }]),
    ...(REDIS_URL ? { REDIS_URL } : {}),
  });

  const call = (h: TestHub, key: string) =>
    h.app.inject({ method: 'POST', url: '/v1/tools/gh_whoami', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, payload: '{}' });

  const connectInBrowser = (url: string, login: string) => signInThroughLink(page, url, login);

  beforeAll(async () => {
    up = await startUserAuthUpstream();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    if (REDIS_URL) {
      const c = testConnection().acquire();
      await c.waitUntilReady(5_000);
      await deleteKeys(c, `${VAULT_PREFIX}*`);
      await c.release();
    }
    hub = await testHub(env(), { systems: [fixtureSystem] });
    await hub.app.listen({ port, host: '127.0.0.1' });
    browser = await launchChromium('upstream-user-auth');
    page = browser.page;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await hub?.close();
    await up?.close();
    if (REDIS_URL) {
      const c = testConnection().acquire();
      await c.waitUntilReady(5_000);
      await deleteKeys(c, `${VAULT_PREFIX}*`);
      await c.release();
    }
  });

  it('refuses unknown links, foreign browsers and replays, and serves its client metadata document', async () => {
    const bogus = await hub.app.inject({ method: 'GET', url: '/connect/gh?ticket=not-a-ticket' });
    expect(bogus.statusCode).toBe(400);
    expect(bogus.body).toContain('unknown, used already or expired');
    expect((await hub.app.inject({ method: 'GET', url: '/connect/callback?state=nope&code=x' })).statusCode).toBe(400);
    const unknown = await hub.app.inject({ method: 'POST', url: '/v1/user-connections/nope', headers: { authorization: `Bearer ${ALICE_KEY}` } });
    expect(unknown.statusCode).toBe(404);
    const doc = await hub.app.inject({ method: 'GET', url: '/connect/client.json' });
    expect(doc.json()).toMatchObject({ client_id: `${base}/connect/client.json`, redirect_uris: [`${base}/connect/callback`] });

    // A flow started in one browser and answered in another (no cookie) is refused, and cannot be retried.
    const link = (await hub.app.inject({ method: 'POST', url: '/v1/user-connections/gh', headers: { authorization: `Bearer ${ALICE_KEY}` } })).json<{ connect_url: string }>();
    const started = await hub.app.inject({ method: 'GET', url: new URL(link.connect_url).pathname + new URL(link.connect_url).search });
    expect(started.statusCode).toBe(302);
    const location = new URL(started.headers.location as string);
    expect(location.origin).toBe(up.issuer);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('resource')).toBe(up.mcpUrl);
    expect(String(started.headers['set-cookie'])).toMatch(/HttpOnly/i);
    const state = location.searchParams.get('state')!;
    const foreign = await hub.app.inject({ method: 'GET', url: `/connect/callback?state=${state}&code=x&iss=${encodeURIComponent(up.issuer)}` });
    expect(foreign.statusCode).toBe(400);
    expect(foreign.body).toContain('another browser');
    const replay = await hub.app.inject({ method: 'GET', url: `/connect/callback?state=${state}&code=x` });
    expect(replay.body).toContain('unknown, finished already or expired');

    // In the right browser, an answer naming another issuer (RFC 9207: a mix-up) is refused before any code exchange.
    const again = (await hub.app.inject({ method: 'POST', url: '/v1/user-connections/gh', headers: { authorization: `Bearer ${ALICE_KEY}` } })).json<{ connect_url: string }>();
    const second = await hub.app.inject({ method: 'GET', url: new URL(again.connect_url).pathname + new URL(again.connect_url).search });
    const cookie = String(second.headers['set-cookie']).split(';')[0]!;
    const secondState = new URL(second.headers.location as string).searchParams.get('state')!;
    const mixup = await hub.app.inject({ method: 'GET', url: `/connect/callback?state=${secondState}&code=x&iss=${encodeURIComponent('http://127.0.0.1:9/')}`, headers: { cookie } });
    expect(mixup.statusCode).toBe(502);
    expect(mixup.body).toMatch(/connecting to &#34;gh&#34; failed: .*iss/);
  });

  it('lists nothing until an operator connects; then two principals are two different users upstream', async () => {
    expect(upstream(hub.app, 'gh').connection.status).toMatchObject({ state: 'needs', reason: expect.stringContaining('no tool list yet') });
    const empty = await hub.app.inject({ method: 'GET', url: '/v1/user-connections', headers: { authorization: `Bearer ${ALICE_KEY}` } });
    expect(empty.json<{ upstreams: unknown[] }>().upstreams[0]).toMatchObject({ upstream: 'gh', operator_connected: false, tool_list: null });

    // The operator (alice's key) connects from the console's route.
    const start = await hub.app.inject({ method: 'POST', url: '/v1/user-connections/gh', headers: { authorization: `Bearer ${ALICE_KEY}` } });
    expect(start.statusCode).toBe(200);
    const aliceUrl = start.json<{ connect_url: string }>().connect_url;
    expect(aliceUrl.startsWith(`${base}/connect/gh?ticket=`)).toBe(true);
    expect(await connectInBrowser(aliceUrl, 'alice')).toMatch(/Connected to gh/);
    // The link was single-use.
    await page.goto(aliceUrl);
    expect(await page.locator('body').innerText()).toMatch(/unknown, used already or expired/);

    // Alice's login lets the shared connection list the upstream's tools.
    await eventually(() => upstream(hub.app, 'gh').connection.status.state === 'connected');
    await eventually(() => upstream(hub.app, 'gh').tools.some((t) => t.name === 'gh_whoami'));
    const alice = await call(hub, ALICE_KEY);
    expect(alice.statusCode, alice.body).toBe(200);
    expect(alice.body).toContain('user:alice');

    // Bob has not connected: a clear refusal with a link that works in a browser.
    const refused = await call(hub, BOB_KEY);
    expect(refused.statusCode).toBe(401);
    const error = refused.json<{ error: { code: string; connect_url: string; details?: { connect_url?: string } } }>().error;
    expect(error.code).toBe('upstream_auth_required');
    const bobUrl = error.connect_url ?? error.details?.connect_url;
    expect(bobUrl.startsWith(`${base}/connect/gh?ticket=`)).toBe(true);
    expect(await connectInBrowser(bobUrl, 'bob')).toMatch(/Connected to gh/);

    const bob = await call(hub, BOB_KEY);
    expect(bob.statusCode, bob.body).toBe(200);
    expect(bob.body).toContain('user:bob');
    expect((await call(hub, ALICE_KEY)).body).toContain('user:alice');

    // The console's view: who is connected, since when, with which scopes, and nothing secret.
    const listed = await hub.app.inject({ method: 'GET', url: '/v1/user-connections', headers: { authorization: `Bearer ${ALICE_KEY}` } });
    const grants = listed.json<{ upstreams: { upstream: string; grants: { principal: string; scope?: string; connected_at: number }[] }[] }>().upstreams[0]!.grants;
    expect(grants.map((g) => g.principal).sort()).toHaveLength(2);
    expect(grants.every((g) => typeof g.connected_at === 'number' && g.scope?.includes('mcp'))).toBe(true);
    expect(listed.body).not.toMatch(/access_token|refresh_token|sealed/);
    // The tool list: listed with the operator's login, the same for everyone.
    expect(listed.json<{ upstreams: unknown[] }>().upstreams[0]).toMatchObject({ operator_connected: true, tool_list: { tools: 1, listed_at: expect.any(Number) } });

    // Audit: one connect record per principal, without tokens.
    const audit = await hub.app.inject({ method: 'GET', url: '/v1/audit?tool=gh.connect', headers: { authorization: `Bearer ${ALICE_KEY}` } });
    expect(audit.body).toContain('gh.connect');
  }, 120_000);

  it.skipIf(!REDIS_URL)('holds no token in clear in Redis, and refreshes an expiring grant once across two hubs', async () => {
    const connection = testConnection().acquire();
    await connection.waitUntilReady(5_000);
    const vault = new CredentialVault(new RedisOAuthStore(connection, VAULT_PREFIX), new VaultCipher([Buffer.from(VAULT_KEY, 'base64')]), silentLog);
    const principals = (await vault.list('gh')).map((g) => g.principal);
    const grants = await Promise.all(principals.map((p) => vault.get('gh', p)));
    const keys = await connection.client.keys(`${VAULT_PREFIX}*`);
    const atRest = (await Promise.all(keys.map(async (k) => ((await connection.client.type(k)) === 'string' ? await connection.client.get(k) : '')))).join('\n');
    for (const g of grants) {
      expect(atRest).not.toContain(g!.tokens.access_token);
      expect(atRest).not.toContain(g!.tokens.refresh_token);
    }

    const second = await testHub(env(), { systems: [fixtureSystem] });
    try {
      await eventually(() => upstream(second.app, 'gh').connection.status.state === 'connected');
      // Alice's access token is about to expire; two instances serve her next calls at the same moment.
      const alice = (await Promise.all(principals.map((p) => vault.get('gh', p)))).find((g) => g?.subject === 'alice');
      expect(alice).toBeDefined();
      await vault.put({ ...alice!, expires_at: Date.now() - 1 });
      const before = up.refreshes();
      const [a, b] = await Promise.all([call(hub, ALICE_KEY), call(second, ALICE_KEY)]);
      expect(a.body).toContain('user:alice');
      expect(b.body).toContain('user:alice');
      expect(up.refreshes() - before).toBe(1);
    } finally {
      await second.close();
      await vault.close();
    }
  }, 60_000);

  it('an operator sees both logins in the console and revokes one: revoked at the authorization server, the next call asks to connect again', async () => {
    await page.context().clearCookies();
    await page.goto(`${base}/console#logins`);
    await page.getByLabel(/API key/).fill(ALICE_KEY);
    await page.getByLabel(/API key/).press('Enter');
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Connections per user' }).click();
    const rows = page.locator('#logins-list tbody tr[data-principal]');
    await expect.poll(() => rows.count()).toBe(2);
    const text = await page.locator('#logins-list').innerText();
    expect(text).toMatch(/Tool list: 1 tool, listed with an operator login/);
    expect(text).toContain('upstream user alice');
    expect(text).toContain('upstream user bob');
    const bobRow = rows.filter({ hasText: 'upstream user bob' });
    const bobPrincipal = await bobRow.getAttribute('data-principal');
    page.once('dialog', (d) => void d.accept());
    await bobRow.getByRole('button', { name: /^Revoke the login of/ }).click();
    await expect.poll(() => rows.count()).toBe(1);
    expect(await page.locator('#logins-status').innerText()).toContain(`Revoked ${bobPrincipal} at gh (and at the upstream)`);
    expect(up.revokedAccounts).toContain('bob');

    const next = await call(hub, BOB_KEY);
    expect(next.statusCode).toBe(401);
    expect(next.json<{ error: { code: string } }>().error.code).toBe('upstream_auth_required');
    // Over MCP the same answer is a tool result with isError, carrying the link.
    const client = new Client({ name: 'bob', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { authorization: `Bearer ${BOB_KEY}` } } }));
    try {
      const result = await client.callTool({ name: 'gh_whoami', arguments: {} });
      expect(result.isError).toBe(true);
      const text = JSON.stringify(result.content);
      expect(text).toContain('upstream_auth_required');
      expect(text).toContain(`${base}/connect/gh?ticket=`);
    } finally {
      await client.close();
    }
    // Alice is untouched, and may end her own login through the REST route.
    expect((await call(hub, ALICE_KEY)).body).toContain('user:alice');
    const own = await hub.app.inject({ method: 'DELETE', url: '/v1/user-connections/gh', headers: { authorization: `Bearer ${ALICE_KEY}` } });
    expect(own.json()).toMatchObject({ revoked_at_upstream: true, existed: true });
    expect(up.revokedAccounts).toContain('alice');
    expect((await call(hub, ALICE_KEY)).statusCode).toBe(401);
  }, 60_000);

  it.skipIf(!REDIS_URL)('another instance without any operator login serves the cached tool list, and asks callers to connect', async () => {
    const third = await testHub(env(), { systems: [fixtureSystem] });
    try {
      expect(upstream(third.app, 'gh').connection.status).toMatchObject({ state: 'needs', reason: expect.stringContaining('serving the 1 tools an operator') });
      expect(upstream(third.app, 'gh').tools.map((t) => t.name)).toContain('gh_whoami');
      const res = await call(third, BOB_KEY);
      expect(res.statusCode).toBe(401);
      expect(res.json<{ error: { code: string } }>().error.code).toBe('upstream_auth_required');
    } finally {
      await third.close();
    }
  }, 60_000);

  it('an OAuth client (a ChatGPT connector) gets the link in its error, connects in a browser, and its next call is its own user', async () => {
    const { access } = await obtainTokens(base, ALICE_KEY, 'tools:low');
    // Before connecting it sees the same tool list as everyone.
    const tools = await hub.app.inject({ method: 'GET', url: '/v1/tools', headers: { authorization: `Bearer ${access}` } });
    expect(tools.body).toContain('gh_whoami');
    const refused = await call(hub, access);
    expect(refused.statusCode).toBe(401);
    const error = refused.json<{ error: { code: string; connect_url: string } }>().error;
    expect(error.code).toBe('upstream_auth_required');
    expect(await connectInBrowser(error.connect_url, 'carol')).toMatch(/Connected to gh/);
    const next = await call(hub, access);
    expect(next.statusCode, next.body).toBe(200);
    expect(next.body).toContain('user:carol');
    // OAuth tokens reach the tools only: the console's routes stay with hub keys, where the operator sees this login.
    expect((await hub.app.inject({ method: 'GET', url: '/v1/user-connections', headers: { authorization: `Bearer ${access}` } })).statusCode).toBe(403);
    const listed = await hub.app.inject({ method: 'GET', url: '/v1/user-connections', headers: { authorization: `Bearer ${ALICE_KEY}` } });
    const grants = listed.json<{ upstreams: { grants: { principal: string; subject?: string }[] }[] }>().upstreams[0]!.grants;
    expect(grants.find((g) => g.subject === 'carol')?.principal).toMatch(/^oauth:/);
  }, 60_000);
});
