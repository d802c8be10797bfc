import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { obtainTokens, postForm } from './helpers.js';

describe('OAuth principals and GOVERNANCE_SCOPE=key', () => {
  let hub: TestHub;
  let base: string;
  beforeAll(async () => {
    hub = await testHub({ GOVERNANCE_SCOPE: 'key', GOVERNANCE_OVERRIDES: '{"fixture_echo": {"limit": 1}}' }, { systems: [fixtureSystem] });
    base = await hub.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => hub.close());

  it('each OAuth client has its own budget, apart from the hub key', async () => {
    const a = await obtainTokens(base, TEST_KEY, 'tools:low');
    const b = await obtainTokens(base, TEST_KEY, 'tools:low');
    const call = (token: string) =>
      fetch(`${base}/v1/tools/fixture_echo`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"message":"x"}' });
    expect((await call(a.access)).status).toBe(200);
    expect((await call(a.access)).status).toBe(429);
    expect((await call(b.access)).status).toBe(200);
    expect((await call(TEST_KEY)).status).toBe(200);
    // A refreshed token is the same principal: the budget carries over.
    const rotated = await postForm(`${base}/token`, { grant_type: 'refresh_token', refresh_token: a.refresh, client_id: a.client.client_id });
    expect((await call(rotated.body.access_token as string)).status).toBe(429);
    await hub.deps.audit.flush();
    const { records } = await hub.deps.audit.list({ limit: 10, tool: 'fixture_echo' });
    const principals = [...new Set(records.map((r) => r.principal))].sort();
    expect(principals).toHaveLength(3);
    expect(principals).toEqual(expect.arrayContaining([`oauth:${a.client.client_id}`, `oauth:${b.client.client_id}`]));
    expect(principals.filter((p) => p.startsWith('key:'))).toHaveLength(1);
  });
});
