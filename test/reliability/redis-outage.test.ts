import { spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/governance/audit.js';
import { AUTH, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { freePort } from '../helpers/spawn-hub.js';
import { startRedisServer, stopRedisServer } from '../helpers/redis.js';

/**
 * Redis killed and restarted under a steady stream of calls, with QUOTA_STORE_FAILURE=closed-for-high: LOW calls keep
 * answering (flagged degraded), a CRITICAL call is refused with governance_unavailable, nothing hangs, /readyz follows
 * the store, quota is enforced again after Redis returns (same port, no hub restart) and the audit records written
 * during the outage reach Redis once it is back (or are counted as dropped).
 * Runs its own redis-server (no persistence) on a free port, so it needs the redis-server binary.
 */
const hasRedisServer = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasRedisServer) console.warn('redis-outage: redis-server binary not found; skipping the Redis kill/restart test');

/** "Did not hang": the Redis command timeout is 250 ms and the governor's own deadline is short; 5 s is slack. */
const CALL_BOUND_MS = 5_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!hasRedisServer)('Redis killed and restarted under load', () => {
  let port: number;
  let redis: ChildProcess;
  let hub: TestHub;

  beforeAll(async () => {
    port = await freePort();
    redis = await startRedisServer(port);
    hub = await testHub(
      {
        REDIS_URL: `redis://127.0.0.1:${port}`,
        QUOTA_STORE_FAILURE: 'closed-for-high',
        RATE_LIMIT_PER_MINUTE: '1000000',
        GOVERNANCE_OVERRIDES: JSON.stringify({ fixture_echo: { limit: 1_000_000 }, fixture_fail: { limit: 2 } }),
      },
      { systems: [fixtureSystem] },
    );
  });
  afterAll(async () => {
    await hub?.close();
    if (redis) await stopRedisServer(redis);
  });

  const inject = (url: string, payload?: unknown) =>
    hub.app.inject({ method: payload === undefined ? 'GET' : 'POST', url, headers: { ...AUTH, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) }, payload: payload === undefined ? undefined : JSON.stringify(payload) });

  const readyStatus = async () => (await hub.app.inject({ method: 'GET', url: '/readyz' })).statusCode;

  async function waitFor(pred: () => Promise<boolean>, boundMs: number, what: string): Promise<number> {
    const t = Date.now();
    while (!(await pred())) {
      if (Date.now() - t > boundMs) throw new Error(`${what} not reached within ${boundMs} ms`);
      await sleep(50);
    }
    return Date.now() - t;
  }

  it('honours the failure policy during the outage and recovers without a restart', async () => {
    // A steady stream of LOW calls for the whole test, each timed.
    const stream: { status: number; ms: number; degraded: boolean }[] = [];
    let streaming = true;
    const streamer = (async () => {
      for (let i = 0; streaming; i++) {
        const t = performance.now();
        const res = await inject('/v1/tools/fixture_echo', { message: `m${i}` });
        stream.push({ status: res.statusCode, ms: performance.now() - t, degraded: res.json()._governance?.degraded === true });
        await sleep(10);
      }
    })();

    expect(await readyStatus()).toBe(200);
    await sleep(200);

    await stopRedisServer(redis);
    const toUnready = await waitFor(async () => (await readyStatus()) === 503, 10_000, '/readyz 503');
    const readyz = await hub.app.inject({ method: 'GET', url: '/readyz' });
    expect(readyz.json().reasons.join(' ')).toMatch(/quota store/);

    // LOW: allowed and flagged degraded.
    const low = await inject('/v1/tools/fixture_echo', { message: 'during outage' });
    expect(low.statusCode).toBe(200);
    expect(low.json()._governance).toMatchObject({ degraded: true });
    // CRITICAL (confirmed): refused because the store cannot count it.
    const critical = await inject('/v1/tools/fixture_delete', { thing: 'x', confirm: true });
    expect(critical.statusCode).toBe(503);
    expect(critical.json().error.code).toBe('governance_unavailable');
    await sleep(500); // let the stream run through the outage

    redis = await startRedisServer(port);
    const toReady = await waitFor(async () => (await readyStatus()) === 200, 15_000, '/readyz 200');
    await sleep(300);
    streaming = false;
    await streamer;

    // Nothing hung, the LOW stream never failed, and part of it ran degraded.
    expect(stream.length).toBeGreaterThan(5);
    expect(stream.every((c) => c.status === 200)).toBe(true);
    expect(Math.max(...stream.map((c) => c.ms))).toBeLessThan(CALL_BOUND_MS);
    const degradedCalls = stream.filter((c) => c.degraded).length + 1; // + the explicit LOW call above
    expect(degradedCalls).toBeGreaterThan(1);

    // Quota enforced again (Redis came back empty: fixture_fail's limit of 2 counts from zero).
    expect((await inject('/v1/tools/fixture_fail', {})).statusCode).toBe(502);
    expect((await inject('/v1/tools/fixture_fail', {})).statusCode).toBe(502);
    const over = await inject('/v1/tools/fixture_fail', {});
    expect(over.statusCode).toBe(429);
    expect(over.json().error.code).toBe('quota_exceeded');
    const low2 = await inject('/v1/tools/fixture_echo', { message: 'after' });
    expect(low2.statusCode).toBe(200);
    expect(low2.json()._governance).toBeUndefined();

    // Audit: the records of the outage were queued and written once Redis returned (or counted as dropped).
    await hub.deps.audit.flush();
    const page = await inject('/v1/audit?limit=1000');
    expect(page.statusCode).toBe(200);
    const records = page.json().records as AuditRecord[];
    const degradedAudited = records.filter((r) => r.governance?.degraded && r.outcome === 'ok').length;
    const refused = records.filter((r) => r.outcome === 'denied_store_unavailable');
    const dropped = (hub.deps.audit as { dropped?: number }).dropped ?? 0;
    console.info(
      `redis outage: /readyz 503 after ${toUnready} ms, 200 after ${toReady} ms of restart; ${stream.length} streamed calls, ` +
        `${degradedCalls} degraded, ${degradedAudited} degraded records in Redis after recovery, ${dropped} dropped`,
    );
    expect(degradedAudited + dropped).toBe(degradedCalls);
    expect(refused).toHaveLength(1);
  });
});
