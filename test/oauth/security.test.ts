import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FileOAuthStore } from '../../src/oauth/store.js';
import { AUTH, TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { REDIS_URL, useRedisAdmin, warnIfNoRedis } from '../helpers/redis.js';
import { authorizeUrl, obtainTokens, pkce, postForm, readConsentForm, register } from './helpers.js';

/**
 * Regressions of the security review of the authorization server: each test here failed before its fix. (The OIDC
 * sign-in bound to its browser and `email_verified` are in identity-provider.test.ts, which has the identity provider.)
 */

const echo = (base: string, token: string) =>
  fetch(`${base}/v1/tools/fixture_echo`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"message":"x"}' });

/** A consent page as a browser holds it: its form fields and the CSRF cookie. */
async function openConsent(base: string, client: { client_id: string; redirect_uri: string }, extra: Record<string, string> = {}) {
  const res = await fetch(authorizeUrl(base, client, pkce().challenge, extra));
  const html = await res.text();
  return { status: res.status, html, cookie: (res.headers.get('set-cookie') ?? '').split(';', 1)[0]!, form: res.status === 200 ? readConsentForm(html) : null };
}

async function answerConsent(base: string, c: Awaited<ReturnType<typeof openConsent>>, key: string) {
  const res = await fetch(`${base}/authorize`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: c.cookie },
    body: new URLSearchParams({ ...c.form!.hidden, action: 'approve', level: 'tools:low', key }),
  });
  return { status: res.status, location: res.headers.get('location'), body: await res.text() };
}

describe('authorization server under attack', () => {
  let hub: TestHub;
  let base: string;
  beforeAll(async () => {
    hub = await testHub({ OAUTH_UNUSED_CLIENT_TTL_S: '300' }, { systems: [fixtureSystem] });
    base = await hub.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => hub.close());
  afterEach(() => vi.useRealTimers());

  it('every access token of a grant dies with it, however many refreshes ago it was issued', async () => {
    const t = await obtainTokens(base, TEST_KEY, 'tools:low');
    let refresh = t.refresh;
    const early: string[] = [t.access];
    for (let i = 0; i < 11; i++) {
      const r = await postForm(`${base}/token`, { grant_type: 'refresh_token', refresh_token: refresh, client_id: t.client.client_id });
      refresh = r.body.refresh_token as string;
      early.push(r.body.access_token as string);
    }
    expect((await echo(base, early[0]!)).status).toBe(200);
    // Reuse of the first refresh token (long superseded) revokes the grant: the first access token dies too.
    expect((await postForm(`${base}/token`, { grant_type: 'refresh_token', refresh_token: t.refresh, client_id: t.client.client_id })).body.error).toBe('invalid_grant');
    for (const access of [early[0]!, early[1]!, early.at(-1)!]) expect((await echo(base, access)).status).toBe(401);

    // The console's Revoke too.
    const u = await obtainTokens(base, TEST_KEY, 'tools:low');
    let r2 = u.refresh;
    for (let i = 0; i < 11; i++) r2 = (await postForm(`${base}/token`, { grant_type: 'refresh_token', refresh_token: r2, client_id: u.client.client_id })).body.refresh_token as string;
    expect((await echo(base, u.access)).status).toBe(200);
    expect((await hub.app.inject({ method: 'DELETE', url: `/v1/oauth/clients/${u.client.client_id}`, headers: AUTH })).statusCode).toBe(200);
    expect((await echo(base, u.access)).status).toBe(401);
  });

  it('errors before a validated request are a page for a self-registered client, never a redirect to it', async () => {
    const c = await register(base, { redirect_uris: ['https://evil.example/landing'] });
    const res = await fetch(authorizeUrl(base, c, pkce().challenge, { response_type: 'token' }), { redirect: 'manual' });
    expect({ status: res.status, location: res.headers.get('location') }).toEqual({ status: 400, location: null });
    expect(await res.text()).toContain('unsupported_response_type');
  });

  it('a consent ends after three wrong keys; the right key then gets nothing', async () => {
    const c = await register(base);
    const consent = await openConsent(base, c);
    for (let i = 0; i < 2; i++) expect((await answerConsent(base, consent, `wrong-${i}`)).status).toBe(401);
    const third = await answerConsent(base, consent, 'wrong-2');
    expect(third.body).toContain('3 wrong keys');
    const right = await answerConsent(base, consent, TEST_KEY);
    expect({ status: right.status, location: right.location }).toEqual({ status: 400, location: null });
  });

  it('the consent page names the client by its redirect host, not only by the name it chose; so does the console', async () => {
    const c = await register(base, { client_name: 'ChatGPT', redirect_uris: ['https://evil.example/cb'] });
    const consent = await openConsent(base, c);
    expect(consent.html).toContain('<h1>Authorize evil.example to use Omni Hub</h1>');
    await obtainTokens(base, TEST_KEY, 'tools:low', c);
    const list = (await hub.app.inject({ method: 'GET', url: '/v1/oauth/clients', headers: AUTH })).json() as { clients: { client_id: string; identity: string }[] };
    expect(list.clients.find((x) => x.client_id === c.client_id)?.identity).toBe('evil.example');
  });

  it('a registration no operator approved expires (OAUTH_UNUSED_CLIENT_TTL_S); an approved one stays', async () => {
    const unused = await register(base);
    const used = await register(base);
    await obtainTokens(base, TEST_KEY, 'tools:low', used);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 301_000);
    expect((await openConsent(base, unused)).html).toContain('unknown client_id');
    expect((await openConsent(base, used)).status).toBe(200);
    const list = (await hub.app.inject({ method: 'GET', url: '/v1/oauth/clients', headers: AUTH })).json() as { clients: { client_id: string }[] };
    expect(list.clients.map((x) => x.client_id)).not.toContain(unused.client_id);
  });
});

describe('the consent key field counts in the failed-key limiter', () => {
  it('an address blocked for wrong API keys cannot try keys on the consent page either', async () => {
    const hub = await testHub({}, { systems: [fixtureSystem] });
    try {
      const base = await hub.app.listen({ port: 0, host: '127.0.0.1' });
      const c = await register(base);
      const consent = await openConsent(base, c);
      for (let i = 0; i < 30; i++) await fetch(`${base}/v1/tools`, { headers: { authorization: 'Bearer wrong-key' } });
      const res = await answerConsent(base, consent, TEST_KEY);
      expect({ status: res.status, location: res.location }).toEqual({ status: 429, location: null });
    } finally {
      await hub.close();
    }
  });

  it('wrong consent keys count towards the API block', async () => {
    const hub = await testHub({}, { systems: [fixtureSystem] });
    try {
      const base = await hub.app.listen({ port: 0, host: '127.0.0.1' });
      const c = await register(base);
      // Ten consents of three wrong keys each: thirty failures from this address.
      for (let i = 0; i < 10; i++) {
        const consent = await openConsent(base, c);
        for (let k = 0; k < 3; k++) await answerConsent(base, consent, `wrong-${i}-${k}`);
      }
      expect((await fetch(`${base}/v1/tools`, { headers: AUTH })).status).toBe(429);
    } finally {
      await hub.close();
    }
  });
});

describe.skipIf(!REDIS_URL)('the consent key limiter across instances (REDIS_URL)', () => {
  warnIfNoRedis('the cross-instance consent key limiter test');
  // A documentation address of its own (through TRUST_PROXY), so the block touches no other test sharing this Redis.
  const ip = `198.51.100.${1 + (process.pid % 250)}`;
  useRedisAdmin(`omni:authfail:${ip}`);

  it('failures on one instance block the consent page of another', async () => {
    const env = { REDIS_URL: REDIS_URL!, TRUST_PROXY: '1' };
    const a = await testHub(env, { systems: [fixtureSystem] });
    const b = await testHub(env, { systems: [fixtureSystem] });
    try {
      const baseA = await a.app.listen({ port: 0, host: '127.0.0.1' });
      const baseB = await b.app.listen({ port: 0, host: '127.0.0.1' });
      const from = { 'x-forwarded-for': ip };
      const c = await register(baseB);
      const page = await fetch(authorizeUrl(baseB, c, pkce().challenge), { headers: from });
      const consent = { status: page.status, html: '', cookie: (page.headers.get('set-cookie') ?? '').split(';', 1)[0]!, form: readConsentForm(await page.text()) };
      for (let i = 0; i < 30; i++) await fetch(`${baseA}/v1/tools`, { headers: { authorization: 'Bearer wrong-key', ...from } });
      const res = await fetch(`${baseB}/authorize`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: consent.cookie, ...from },
        body: new URLSearchParams({ ...consent.form.hidden, action: 'approve', level: 'tools:low', key: TEST_KEY }),
      });
      expect({ status: res.status, location: res.headers.get('location') }).toEqual({ status: 429, location: null });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('file store (no REDIS_URL) under a flood of authorization requests', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'omni-oauth-flood-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => vi.useRealTimers());

  it('unauthenticated GET /authorize writes nothing to disk', async () => {
    const hub = await testHub({}, { systems: [fixtureSystem] });
    try {
      const base = await hub.app.listen({ port: 0, host: '127.0.0.1' });
      const c = await register(base);
      for (let i = 0; i < 300; i++) {
        const page = await fetch(authorizeUrl(base, c, pkce().challenge));
        expect(page.status).toBe(200);
        await page.text();
      }
      const stateDir = path.join(hub.config.dataDir, 'oauth');
      const written = readdirSync(stateDir).map((f) => readFileSync(path.join(stateDir, f), 'utf8')).join('');
      expect(written).not.toContain('"tx:');
      expect(written.length).toBeLessThan(10_000);
    } finally {
      await hub.close();
    }
  });

  it('consent transactions are bounded in memory, the oldest going first', async () => {
    const store = new FileOAuthStore(path.join(dir, 'bounded'));
    for (let i = 0; i < 6_000; i++) await store.set(`tx:${i}`, 'x', 600);
    expect(await store.get('tx:0')).toBeNull();
    expect(await store.get('tx:5999')).toBe('x');
    expect(store.size).toBeLessThanOrEqual(5_000);
    await store.close();
  });

  it('expired entries are removed by a timer, not only when read', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    const store = new FileOAuthStore(path.join(dir, 'timer'));
    await store.set('tx:a', 'x', 60);
    await store.set('rt:b', 'y', 3_600);
    expect(store.size).toBe(2);
    vi.advanceTimersByTime(61_000);
    expect(store.size).toBe(1);
    await store.close();
  });

  it('a change appends to a log instead of rewriting the whole file; the log folds into the snapshot', async () => {
    const d = path.join(dir, 'append');
    const store = new FileOAuthStore(d);
    for (let i = 0; i < 50; i++) await store.set(`client:${i}`, `v${i}`);
    await store.close();
    const log = path.join(d, 'oauth', 'state.log');
    expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(50);
    expect(existsSync(path.join(d, 'oauth', 'state.json'))).toBe(false);
    const again = new FileOAuthStore(d);
    for (let i = 0; i < 1_100; i++) await again.set('client:0', `round-${i}`);
    await again.close();
    expect(existsSync(path.join(d, 'oauth', 'state.json'))).toBe(true);
    expect(readFileSync(log, 'utf8').split('\n').length).toBeLessThan(200);
    const reloaded = new FileOAuthStore(d);
    expect(await reloaded.get('client:0')).toBe('round-1099');
    expect(await reloaded.get('client:49')).toBe('v49');
    await reloaded.close();
  });
});
