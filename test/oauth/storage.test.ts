import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/app.js';
import { testConfig } from '../helpers/config.js';
import { createDeps } from '../../src/deps-factory.js';
import { FileOAuthStore, RedisOAuthStore, type OAuthStore } from '../../src/oauth/store.js';
import { TEST_KEY } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { REDIS_URL, testConnection, useRedisAdmin, warnIfNoRedis } from '../helpers/redis.js';
import { obtainTokens, postForm } from './helpers.js';

/** A listening hub on a given environment; several may share DATA_DIR (one after the other) or Redis (at once). */
async function startHub(env: Record<string, string>, port = 0) {
  const config = testConfig(env);
  const deps = await createDeps(config, pino({ level: 'silent' }));
  const app = await buildApp(config, deps, { systems: [fixtureSystem] });
  await app.listen({ host: '127.0.0.1', port });
  const addr = app.server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port: bound,
    base: `http://127.0.0.1:${bound}`,
    async close() {
      await app.close();
      await deps.close();
    },
  };
}

const echo = (base: string, token: string) =>
  fetch(`${base}/v1/tools/fixture_echo`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"message":"x"}' });

/** What both stores promise the token service. */
function storeContract(name: string, open: () => Promise<OAuthStore>) {
  describe(`${name} store contract`, () => {
    let store: OAuthStore;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(() => store.close());

    it('get/set/del and sets', async () => {
      await store.set('k1', 'v1');
      expect(await store.get('k1')).toBe('v1');
      await store.del(['k1']);
      expect(await store.get('k1')).toBeNull();
      await store.setAdd('s', 'a');
      await store.setAdd('s', 'b');
      await store.setRemove('s', 'a');
      expect(await store.setMembers('s')).toEqual(['b']);
    });

    it('take is single-use even under concurrent callers', async () => {
      await store.set('once', 'secret', 60);
      const results = await Promise.all(Array.from({ length: 10 }, () => store.take('once')));
      expect(results.filter((r) => r === 'secret')).toHaveLength(1);
      expect(await store.get('once')).toBeNull();
    });
  });
}

describe('file storage (no REDIS_URL)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'omni-hub-oauth-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => vi.useRealTimers());

  storeContract('file', async () => new FileOAuthStore(path.join(dir, 'contract')));

  it('expires entries by their time to live, also across a reload', async () => {
    const d = path.join(dir, 'ttl');
    const store = new FileOAuthStore(d);
    await store.set('short', 'x', 60);
    await store.set('long', 'y');
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 61_000);
    expect(await store.get('short')).toBeNull();
    await store.close();
    const reloaded = new FileOAuthStore(d);
    expect(await reloaded.get('short')).toBeNull();
    expect(await reloaded.get('long')).toBe('y');
    expect(statSync(path.join(d, 'oauth', 'state.log')).mode & 0o077).toBe(0);
  });

  it('clients and tokens survive a restart of the hub', async () => {
    const env = { DATA_DIR: path.join(dir, 'hub'), MCP_API_KEY: TEST_KEY };
    const first = await startHub(env);
    const t = await obtainTokens(first.base, TEST_KEY, 'tools:low');
    expect((await echo(first.base, t.access)).status).toBe(200);
    await first.close();

    // Same address again: the token is bound to the hub's origin, port included.
    const second = await startHub(env, first.port);
    try {
      const base = second.base;
      expect((await echo(base, t.access)).status).toBe(200);
      const rotated = await postForm(`${base}/token`, { grant_type: 'refresh_token', refresh_token: t.refresh, client_id: t.client.client_id });
      expect(rotated.status).toBe(200);
      const again = await obtainTokens(base, TEST_KEY, 'tools:low', t.client);
      expect((await echo(base, again.access)).status).toBe(200);
    } finally {
      await second.close();
    }
  });
});

describe.skipIf(!REDIS_URL)('Redis storage (REDIS_URL)', () => {
  warnIfNoRedis('the OAuth Redis storage tests');
  useRedisAdmin('omni-hub:oauth:');
  storeContract('redis', async () => {
    const connection = testConnection().acquire();
    await connection.waitUntilReady(5_000);
    return new RedisOAuthStore(connection, `omni-hub:oauth:contract-${process.pid}:`);
  });

  it('two instances share clients, codes and tokens; reuse detected on one revokes on the other', async () => {
    // No grace window: the second use of the refresh token right after its rotation is a reuse here.
    const env = { REDIS_URL: REDIS_URL!, MCP_API_KEY: TEST_KEY, PUBLIC_URL: 'http://127.0.0.1:1', OAUTH_REFRESH_GRACE_S: '0' };
    const [a, b] = [await startHub({ ...env, DATA_DIR: mkdtempSync(path.join(tmpdir(), 'oh-a-')) }), await startHub({ ...env, DATA_DIR: mkdtempSync(path.join(tmpdir(), 'oh-b-')) })];
    try {
      // PUBLIC_URL makes both instances one issuer and one resource, as behind a load balancer.
      const t = await obtainTokens(a.base, TEST_KEY, 'tools:low', undefined, { resource: 'http://127.0.0.1:1/mcp' });
      expect((await echo(b.base, t.access)).status).toBe(200);
      const rotated = await postForm(`${b.base}/token`, { grant_type: 'refresh_token', refresh_token: t.refresh, client_id: t.client.client_id });
      expect(rotated.status).toBe(200);
      const reuse = await postForm(`${a.base}/token`, { grant_type: 'refresh_token', refresh_token: t.refresh, client_id: t.client.client_id });
      expect(reuse.body.error).toBe('invalid_grant');
      expect((await echo(b.base, rotated.body.access_token as string)).status).toBe(401);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('store outage', () => {
  it('answers 503 temporarily_unavailable (never a 500) while Redis does not answer', async () => {
    // Nothing listens on port 1: every store command fails fast.
    const hub = await startHub({ REDIS_URL: 'redis://127.0.0.1:1', MCP_API_KEY: TEST_KEY, DATA_DIR: mkdtempSync(path.join(tmpdir(), 'oh-down-')), QUOTA_STORE_FAILURE: 'open' });
    try {
      const reg = await fetch(`${hub.base}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['https://a.example/cb'] }) });
      expect(reg.status).toBe(503);
      expect(await reg.json()).toMatchObject({ error: 'temporarily_unavailable' });
      const token = await postForm(`${hub.base}/token`, { grant_type: 'authorization_code', code: 'x', client_id: 'c_x', redirect_uri: 'https://a.example/cb', code_verifier: 'v'.repeat(43) });
      expect(token).toMatchObject({ status: 503, body: { error: 'temporarily_unavailable' } });
      const use = await echo(hub.base, 'oha_whatever');
      expect(use.status).toBe(503);
      // Hub keys do not need the OAuth store.
      expect((await echo(hub.base, TEST_KEY)).status).toBe(200);
    } finally {
      await hub.close();
    }
  });
});
