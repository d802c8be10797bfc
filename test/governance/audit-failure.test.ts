import { afterEach, describe, expect, it } from 'vitest';
import { AUTH, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { freePort } from '../helpers/redis.js';

/**
 * AUDIT_FAILURE with Redis unreachable, a queue of one record and a spill too small for any: once a record could be
 * kept nowhere, `refuse` answers calls above LOW with audit_unavailable (503) while LOW calls go on (their records
 * dropped and counted); `drop` runs every call and counts the lost records.
 */
describe('AUDIT_FAILURE when neither the queue nor the spill can take a record', () => {
  let hub: TestHub | undefined;
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });

  async function saturatedHub(failure: 'refuse' | 'drop'): Promise<TestHub> {
    hub = await testHub(
      {
        REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
        QUOTA_STORE_FAILURE: 'open',
        AUDIT_QUEUE_MAX: '1',
        AUDIT_SPILL_MAX_BYTES: '10',
        AUDIT_FAILURE: failure,
      },
      { systems: [fixtureSystem] },
    );
    return hub;
  }

  const call = (h: TestHub, tool: string, args: unknown) =>
    h.app.inject({ method: 'POST', url: `/v1/tools/${tool}`, headers: { ...AUTH, 'content-type': 'application/json' }, payload: JSON.stringify(args) });

  const metric = async (h: TestHub, name: string) => {
    const text = (await h.app.inject({ method: 'GET', url: '/metrics', headers: AUTH })).body;
    return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1]);
  };

  it('refuse: a MEDIUM call answers audit_unavailable, LOW calls continue', async () => {
    const h = await saturatedHub('refuse');
    // The first record waits in the queue; the second overflows it and fits nowhere.
    for (const message of ['one', 'two']) expect((await call(h, 'fixture_echo', { message })).statusCode).toBe(200);
    expect(h.deps.audit.saturated).toBe(true);

    const medium = await call(h, 'fixture_fail', {});
    expect(medium.statusCode).toBe(503);
    expect(medium.json().error).toMatchObject({ code: 'audit_unavailable', level: 'MEDIUM' });
    const low = await call(h, 'fixture_echo', { message: 'three' });
    expect(low.statusCode).toBe(200);
    expect(low.json().echo).toBe('THREE');

    // Two overflowed records, the refusal's and the last LOW call's: none could be kept, all counted.
    expect(await metric(h, 'omni_hub_audit_dropped_total')).toBe(4);
    expect(await metric(h, 'omni_hub_audit_queue_depth')).toBe(0);
  });

  it('drop: every call runs and the lost records are counted', async () => {
    const h = await saturatedHub('drop');
    for (const message of ['one', 'two']) expect((await call(h, 'fixture_echo', { message })).statusCode).toBe(200);
    expect(h.deps.audit.saturated).toBe(true);
    const medium = await call(h, 'fixture_fail', {});
    expect(medium.statusCode).toBe(502);
    expect(medium.json().error.code).toBe('upstream_error');
    // The two that overflowed are lost; the failed call's record waits in the queue.
    expect(await metric(h, 'omni_hub_audit_dropped_total')).toBe(2);
    expect(await metric(h, 'omni_hub_audit_queue_depth')).toBe(1);
  });
});
