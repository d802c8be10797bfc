import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyId } from '../../src/http/auth.js';
import { AUTH, TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';

describe('bearer auth', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await testHub({ MCP_API_KEY: `${TEST_KEY},second-key-abcdefghijkl` }, { systems: [fixtureSystem] });
  });
  afterAll(() => hub.close());

  it('answers 401 JSON with WWW-Authenticate when the key is missing or wrong', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-key-0000000000000' }, { authorization: 'Basic abc' }]) {
      const res = await hub.app.inject({ method: 'GET', url: '/v1/tools', headers });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="omni-hub", scope="tools:low", resource_metadata="http://localhost:80/.well-known/oauth-protected-resource/mcp"');
      expect(res.json()).toMatchObject({ error: { code: 'unauthorized' } });
      expect(res.body).not.toContain(TEST_KEY);
    }
  });

  it('accepts every rotated key and records which one as the principal', async () => {
    for (const key of [TEST_KEY, 'second-key-abcdefghijkl']) {
      const res = await hub.app.inject({ method: 'POST', url: '/v1/tools/fixture_echo', headers: { authorization: `Bearer ${key}` }, payload: { message: 'hi' } });
      expect(res.statusCode).toBe(200);
    }
    await hub.deps.audit.flush();
    const { records } = await hub.deps.audit.list({ limit: 2, tool: 'fixture_echo' });
    expect(records.map((r) => r.principal).sort()).toEqual([keyId(TEST_KEY), keyId('second-key-abcdefghijkl')].sort());
    expect(JSON.stringify(records)).not.toContain(TEST_KEY);
  });

  it('keeps /healthz, /readyz and /openapi.json open', async () => {
    for (const url of ['/healthz', '/readyz', '/openapi.json']) {
      const res = await hub.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
    }
    expect((await hub.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    expect((await hub.app.inject({ method: 'GET', url: '/metrics', headers: AUTH })).statusCode).toBe(200);
  });
});

describe('brute force', () => {
  it('limits failed attempts per IP with 429 and Retry-After, while a good key still works from elsewhere', async () => {
    const hub = await testHub({}, { systems: [fixtureSystem] });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 40; i++) {
        const res = await hub.app.inject({ method: 'GET', url: '/v1/tools', headers: { authorization: `Bearer guess-${i}-xxxxxxxxxxxx` } });
        codes.push(res.statusCode);
      }
      expect(codes.slice(0, 30).every((c) => c === 401)).toBe(true);
      expect(codes.slice(30).every((c) => c === 429)).toBe(true);
      const blocked = await hub.app.inject({ method: 'GET', url: '/v1/tools', headers: { authorization: 'Bearer guess-x-xxxxxxxxxxxx' } });
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      const other = await hub.app.inject({ method: 'GET', url: '/v1/tools', headers: AUTH, remoteAddress: '10.9.9.9' });
      expect(other.statusCode).toBe(200);
    } finally {
      await hub.close();
    }
  });
});

describe('MCP_AUTH=none', () => {
  it('serves without a key on loopback', async () => {
    const hub = await testHub({ MCP_AUTH: 'none', HOST: '127.0.0.1', MCP_API_KEY: '' }, { systems: [fixtureSystem] });
    try {
      const res = await hub.app.inject({ method: 'GET', url: '/v1/tools' });
      expect(res.statusCode).toBe(200);
    } finally {
      await hub.close();
    }
  });
});
