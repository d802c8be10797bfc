import { describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { testConfig } from '../helpers/config.js';
import { createGovernanceStores } from '../../src/governance/index.js';
import { Governor } from '../../src/governance/governor.js';
import { MemoryQuotaStore } from '../../src/governance/memory-quota-store.js';
import { HOUR_MS, type QuotaDecision, type QuotaStore } from '../../src/governance/quota-store.js';
import { REDIS_URL, warnIfNoRedis } from '../helpers/redis.js';

const deploy = { name: 'google_cloud_run_deploy', level: 'CRITICAL' as const, system: 'cloud_run' as const };
const list = { name: 'google_cloud_run_list', level: 'MEDIUM' as const, system: 'cloud_run' as const };
const geocode = { name: 'google_maps_geocode', level: 'LOW' as const, system: 'maps' as const };

/** A memory store on a hand-driven clock: exact reset/retry figures without sleeping. */
function clockedStore(start = 1_700_000_000_000) {
  const clock = { now: start };
  return { clock, store: new MemoryQuotaStore(() => clock.now) };
}

describe('Governor.rule', () => {
  it('uses the level defaults, GOVERNANCE_LIMITS and GOVERNANCE_OVERRIDES', () => {
    const config = testConfig({
      GOVERNANCE_LIMITS: '{"HIGH": 7, "LOW": 2000}',
      GOVERNANCE_OVERRIDES: JSON.stringify({
        google_cloud_run_list: { level: 'HIGH' },
        google_maps_geocode: { limit: 5 },
        google_cloud_run_deploy: { enabled: false },
      }),
    });
    const governor = new Governor(config, new MemoryQuotaStore());
    // A level override alone moves the tool to that level's (configured) limit.
    expect(governor.rule(list)).toEqual({ level: 'HIGH', limit: 7, enabled: true, approval: 'model' });
    expect(governor.rule(geocode)).toEqual({ level: 'LOW', limit: 5, enabled: true, approval: 'model' });
    expect(governor.rule(deploy)).toEqual({ level: 'CRITICAL', limit: 10, enabled: false, approval: 'person' });
    expect(governor.rule({ name: 'other', level: 'LOW' })).toEqual({ level: 'LOW', limit: 2000, enabled: true, approval: 'model' });
    expect(governor.rule({ name: 'toString', level: 'MEDIUM' })).toEqual({ level: 'MEDIUM', limit: 100, enabled: true, approval: 'model' });
  });
});

describe('Governor.admit', () => {
  it('enforces the limit and refuses with a quota_exceeded error that says when to retry', async () => {
    const { clock, store } = clockedStore();
    const governor = new Governor(testConfig(), store);
    for (let i = 1; i <= 10; i += 1) {
      const a = await governor.admit(deploy, 'key:a');
      expect(a).toMatchObject({ allowed: true, quota: { used: i, limit: 10, remaining: 10 - i } });
      clock.now += 60_000;
    }
    // The first call was made 10 minutes ago: it leaves the rolling hour in 50 minutes.
    const refused = await governor.admit(deploy, 'key:b');
    expect(refused.allowed).toBe(false);
    expect(refused.error?.code).toBe('quota_exceeded');
    expect(refused.error?.httpStatus).toBe(429);
    expect(refused.error?.toJSON()).toEqual({
      code: 'quota_exceeded',
      message: 'google_cloud_run_deploy is over its hourly quota: 10 calls per rolling hour (CRITICAL); retry in 3000 s',
      limit: 10,
      window_s: 3600,
      retry_after_s: 3000,
      used: 10,
      reset_s: 3000,
      level: 'CRITICAL',
    });
    // One slot frees as soon as the first call is an hour old, not at a clock-hour boundary.
    clock.now += 3_000_000;
    expect(await governor.admit(deploy, 'key:a')).toMatchObject({ allowed: true, quota: { used: 10, remaining: 0 } });
    expect((await governor.admit(deploy, 'key:a')).error?.details.retry_after_s).toBe(60);
  });

  it('counts per tool for the whole hub in global scope, per API key in key scope', async () => {
    const overrides = JSON.stringify({ google_maps_geocode: { limit: 2 } });
    const global = new Governor(testConfig({ GOVERNANCE_OVERRIDES: overrides }), new MemoryQuotaStore());
    expect((await global.admit(geocode, 'key:a')).allowed).toBe(true);
    expect((await global.admit(geocode, 'key:b')).allowed).toBe(true);
    expect((await global.admit(geocode, 'key:c')).allowed).toBe(false);
    // Another tool has its own budget.
    expect((await global.admit(list, 'key:c')).allowed).toBe(true);

    const perKey = new Governor(testConfig({ GOVERNANCE_OVERRIDES: overrides, GOVERNANCE_SCOPE: 'key' }), new MemoryQuotaStore());
    for (const principal of ['key:a', 'key:a', 'key:b', 'key:b']) expect((await perKey.admit(geocode, principal)).allowed).toBe(true);
    expect((await perKey.admit(geocode, 'key:a')).allowed).toBe(false);
    expect((await perKey.admit(geocode, 'key:c')).allowed).toBe(true);
  });

  it('in warn mode allows over-quota calls, records them and flags them', async () => {
    const store = new MemoryQuotaStore();
    const governor = new Governor(testConfig({ GOVERNANCE_MODE: 'warn', GOVERNANCE_OVERRIDES: '{"google_maps_geocode":{"limit":2}}' }), store);
    expect(await governor.admit(geocode, 'key:a')).toEqual({ allowed: true, quota: expect.objectContaining({ used: 1, limit: 2, remaining: 1 }) });
    await governor.admit(geocode, 'key:a');
    const over = await governor.admit(geocode, 'key:a');
    expect(over.allowed).toBe(true);
    expect(over.error).toBeUndefined();
    expect(over.quota).toMatchObject({ allowed: true, used: 3, limit: 2, remaining: 0, retry_after_s: 0 });
    expect(over.warning).toMatch(/over its quota: 3 calls in the last hour, limit 2 .*GOVERNANCE_MODE=warn/);
    const usage = await governor.usage([geocode]);
    expect(usage[0]).toMatchObject({ used: 3, limit: 2, remaining: 0 });
  });

  it('refuses a disabled tool without touching the store', async () => {
    const store = new MemoryQuotaStore();
    const governor = new Governor(testConfig({ GOVERNANCE_OVERRIDES: '{"google_cloud_run_deploy":{"enabled":false}}' }), store);
    const a = await governor.admit(deploy, 'key:a');
    expect(a.allowed).toBe(false);
    expect(a.error?.code).toBe('tool_disabled');
    expect((await store.peek('google_cloud_run_deploy', 10)).used).toBe(0);
  });

  it('never waits on a store that does not answer', async () => {
    const hanging: QuotaStore = {
      kind: 'redis',
      take: () => new Promise<QuotaDecision>(() => {}),
      peek: () => new Promise<QuotaDecision>(() => {}),
      isHealthy: () => false,
      close: async () => {},
    };
    const governor = new Governor(testConfig({ QUOTA_STORE_FAILURE: 'closed-for-high' }), hanging, { storeDeadlineMs: 100 });
    expect(await governor.admit(geocode, 'key:a')).toMatchObject({ allowed: true, degraded: true });
    const refused = await governor.admit(deploy, 'key:a');
    expect(refused.error?.code).toBe('governance_unavailable');
    expect((await governor.usage([geocode]))[0].used).toBeNull();
  });
});

describe('Governor.usage', () => {
  it('reports limit, used, remaining and reset per tool without recording', async () => {
    const { clock, store } = clockedStore();
    const governor = new Governor(testConfig({ GOVERNANCE_OVERRIDES: '{"google_cloud_run_list":{"enabled":false}}' }), store);
    await governor.admit(deploy, 'key:a');
    clock.now += 600_000;
    await governor.admit(deploy, 'key:a');
    const usage = await governor.usage([deploy, list]);
    expect(usage).toEqual([
      { name: 'google_cloud_run_deploy', system: 'cloud_run', level: 'CRITICAL', limit: 10, used: 2, remaining: 8, reset_s: 3000, enabled: true },
      { name: 'google_cloud_run_list', system: 'cloud_run', level: 'MEDIUM', limit: 100, used: 0, remaining: 100, reset_s: 0, enabled: false },
    ]);
    expect((await governor.usage([deploy]))[0].used).toBe(2);
  });

  it('in key scope reports the given principal, and nulls without one', async () => {
    const governor = new Governor(testConfig({ GOVERNANCE_SCOPE: 'key' }), new MemoryQuotaStore());
    await governor.admit(list, 'key:a');
    expect((await governor.usage([list], 'key:a'))[0].used).toBe(1);
    expect((await governor.usage([list], 'key:b'))[0].used).toBe(0);
    expect((await governor.usage([list]))[0]).toMatchObject({ used: null, remaining: null, reset_s: null, limit: 100 });
  });
});

warnIfNoRedis('createGovernanceStores with Redis');
describe('createGovernanceStores', () => {
  const log = pino({ level: 'silent' });

  it('uses in-process stores without REDIS_URL', async () => {
    const { quota, audit } = await createGovernanceStores(testConfig({ AUDIT_CAP: '3' }), log);
    expect([quota.kind, audit.kind]).toEqual(['memory', 'memory']);
    expect(quota.isHealthy()).toBe(true);
    await Promise.all([quota.close(), audit.close()]);
  });

  it.skipIf(!REDIS_URL)('uses Redis for both when REDIS_URL is set', async () => {
    const { quota, audit } = await createGovernanceStores(testConfig({ REDIS_URL: REDIS_URL! }), log);
    expect([quota.kind, audit.kind]).toEqual(['redis', 'redis']);
    expect(quota.isHealthy()).toBe(true);
    await audit.close();
    // The connection is shared: closing the audit store leaves the quota store working.
    expect(quota.isHealthy()).toBe(true);
    await quota.close();
    expect(quota.isHealthy()).toBe(false);
  });

  it('starts with an unreachable Redis and reports it unhealthy', async () => {
    const { quota, audit } = await createGovernanceStores(testConfig({ REDIS_URL: 'redis://127.0.0.1:1' }), log, { startupWaitMs: 100 });
    expect(quota.isHealthy()).toBe(false);
    await expect(quota.take('x', 1)).rejects.toMatchObject({ code: 'governance_unavailable' });
    await Promise.all([quota.close(), audit.close()]);
  });
});

describe('MemoryQuotaStore housekeeping', () => {
  it('forgets keys whose calls have all left the window', async () => {
    vi.useFakeTimers();
    try {
      const { clock, store } = clockedStore();
      await store.take('a', 5, 1_000);
      await store.take('b', 5, HOUR_MS);
      expect(store.keyCount).toBe(2);
      clock.now += 2_000;
      vi.advanceTimersByTime(60_000);
      expect(store.keyCount).toBe(1);
      expect((await store.peek('b', 5)).used).toBe(1);
      await store.close();
    } finally {
      vi.useRealTimers();
    }
  });
});
