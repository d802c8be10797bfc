import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryQuotaStore } from '../../src/governance/memory-quota-store.js';
import { HOUR_MS, type QuotaDecision, type QuotaStore } from '../../src/governance/quota-store.js';
import { RedisQuotaStore } from '../../src/governance/redis-quota-store.js';
import { REDIS_URL, sleep, testConnection, useRedisAdmin, warnIfNoRedis } from '../helpers/redis.js';

/** One contract, two stores: every behaviour below must hold for the embedded and the Redis implementation. */
function quotaContract(name: string, open: () => Promise<QuotaStore>) {
  describe(`quota store contract: ${name}`, () => {
    let store: QuotaStore;
    const key = () => `contract:${randomUUID()}`;

    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store.close();
    });

    it('admits exactly `limit` calls in the window and refuses the next', async () => {
      const k = key();
      const decisions = [];
      for (let i = 0; i < 6; i += 1) decisions.push(await store.take(k, 5));
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, true, false]);
      expect(decisions.map((d) => d.used)).toEqual([1, 2, 3, 4, 5, 5]);
      expect(decisions.map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0, 0]);
      const refused = decisions[5];
      expect(refused.limit).toBe(5);
      // The oldest call leaves a one-hour window in (3599, 3600] seconds.
      expect(refused.reset_s).toBeGreaterThanOrEqual(3599);
      expect(refused.reset_s).toBeLessThanOrEqual(3600);
      expect(refused.retry_after_s).toBeGreaterThanOrEqual(3599);
      expect(refused.retry_after_s).toBeLessThanOrEqual(3600);
      expect(decisions[0].retry_after_s).toBe(0);
    });

    it('admits exactly the limit under concurrent calls', async () => {
      const k = key();
      const decisions = await Promise.all(Array.from({ length: 120 }, () => store.take(k, 40)));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(40);
      expect((await store.peek(k, 40)).used).toBe(40);
    });

    it('keeps keys, limits, windows and peeks apart when they are asked in the same turn', async () => {
      const [a, b, c] = [key(), key(), key()];
      // All started together: the Redis store sends these as one script call.
      const results = await Promise.all([
        ...Array.from({ length: 7 }, () => store.take(a, 5)),
        ...Array.from({ length: 3 }, () => store.take(b, 10, 60_000)),
        store.peek(c, 3),
        store.take(c, 1),
        store.take(c, 1),
      ]);
      const [takesA, takesB, [peekC, firstC, secondC]] = [results.slice(0, 7), results.slice(7, 10), results.slice(10)];
      expect(takesA.filter((d) => d.allowed)).toHaveLength(5);
      expect(takesA.map((d) => d.used).sort()).toEqual([1, 2, 3, 4, 5, 5, 5]);
      expect(takesB.map((d) => d.allowed)).toEqual([true, true, true]);
      expect(takesB.map((d) => d.remaining).sort()).toEqual([7, 8, 9]);
      expect(peekC).toMatchObject({ used: 0, allowed: true });
      expect([firstC!.allowed, secondC!.allowed].sort()).toEqual([false, true]);
      expect((await store.peek(a, 5)).used).toBe(5);
      expect((await store.peek(b, 10, 60_000)).used).toBe(3);
    });

    it('answers a batch of mixed checks as it answers the same checks one by one', async () => {
      const check = fc.record({ key: fc.nat(1), take: fc.boolean(), limit: fc.nat(4), windowMs: fc.constantFrom(60_000, HOUR_MS) });
      await fc.assert(
        fc.asyncProperty(fc.array(check, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(3), { minLength: 2, maxLength: 2 }), async (checks, seeds) => {
          const ask = (keys: string[], c: (typeof checks)[number]) => (c.take ? store.take : store.peek).call(store, keys[c.key]!, c.limit, c.windowMs);
          const seeded = async () => {
            const keys = [key(), key()];
            for (const [i, n] of seeds.entries()) for (let j = 0; j < n; j++) await store.take(keys[i]!, 10);
            return keys;
          };
          // Started in one turn: the Redis store sends them as one script call.
          const together = await seeded().then((keys) => Promise.all(checks.map((c) => ask(keys, c))));
          const alone = [];
          const keys = await seeded();
          for (const c of checks) alone.push(await ask(keys, c));
          const counts = (d: QuotaDecision) => ({ allowed: d.allowed, used: d.used, limit: d.limit, remaining: d.remaining });
          expect(together.map(counts)).toEqual(alone.map(counts));
          // Seconds left may differ by the one the two runs straddle.
          for (const [i, d] of together.entries()) {
            expect(Math.abs(d.reset_s - alone[i]!.reset_s)).toBeLessThanOrEqual(1);
            expect(Math.abs(d.retry_after_s - alone[i]!.retry_after_s)).toBeLessThanOrEqual(1);
          }
        }),
        { numRuns: 40 },
      );
    });

    it('prunes by each check’s own window when one batch asks for one key with different windows', async () => {
      const k = key();
      await store.take(k, 10);
      await sleep(1_100);
      // The 1 s take prunes the older call, which the hour-long takes around it had counted.
      const [first, short, last] = await Promise.all([store.take(k, 10), store.take(k, 10, 1_000), store.take(k, 10)]);
      expect([first!.used, short!.used, last!.used]).toEqual([2, 2, 3]);
    });

    it('slides: each call frees its slot one window after it was made (no fixed-window double burst)', async () => {
      const k = key();
      // Wide gaps (500 ms) so a loaded machine's scheduling delays do not change which calls are in the window.
      const windowMs = 1_000;
      // Each call was recorded between its before/after readings; the sleeps below are computed from the safe side.
      expect((await store.take(k, 2, windowMs)).allowed).toBe(true);
      const aAfter = Date.now();
      await sleep(500);
      expect((await store.take(k, 2, windowMs)).allowed).toBe(true);
      const bAfter = Date.now();
      expect((await store.take(k, 2, windowMs)).allowed).toBe(false);
      // Call a has left the window, call b (about 550 ms old) has not: exactly one slot is free where a fixed
      // window would have freed two.
      await sleep(aAfter + windowMs + 50 - Date.now());
      const third = await store.take(k, 2, windowMs);
      expect(third).toMatchObject({ allowed: true, used: 2, remaining: 0 });
      expect((await store.take(k, 2, windowMs)).allowed).toBe(false);
      // Once b has left too, a slot frees again.
      await sleep(bAfter + windowMs + 50 - Date.now());
      expect((await store.take(k, 2, windowMs)).allowed).toBe(true);
    });

    it('reports reset_s from the oldest call and retry_after_s from the call that must leave', async () => {
      const k = key();
      const windowMs = 3_000;
      await store.take(k, 2, windowMs);
      await sleep(1_100);
      await store.take(k, 2, windowMs);
      const refused = await store.take(k, 2, windowMs);
      expect(refused.allowed).toBe(false);
      // The first call (about 1.1 s old) leaves in under 2 s: both figures are 1 or 2 seconds, not the full 3.
      expect(refused.retry_after_s).toBeGreaterThanOrEqual(1);
      expect(refused.retry_after_s).toBeLessThanOrEqual(2);
      expect(refused.reset_s).toBe(refused.retry_after_s);
      const empty = await store.peek(key(), 2, windowMs);
      expect(empty).toEqual({ allowed: true, used: 0, limit: 2, remaining: 2, reset_s: 0, retry_after_s: 0 });
    });

    it('peek reports without recording', async () => {
      const k = key();
      for (let i = 0; i < 3; i += 1) expect((await store.peek(k, 2)).used).toBe(0);
      await store.take(k, 2);
      expect(await store.peek(k, 2)).toMatchObject({ allowed: true, used: 1, remaining: 1, retry_after_s: 0 });
      await store.take(k, 2);
      const full = await store.peek(k, 2);
      expect(full).toMatchObject({ allowed: false, used: 2, remaining: 0 });
      expect(full.retry_after_s).toBeGreaterThan(3_590);
      expect((await store.peek(k, 2)).used).toBe(2);
    });

    it('keeps separate keys independent', async () => {
      const k1 = key();
      const k2 = key();
      await store.take(k1, 1);
      expect((await store.take(k1, 1)).allowed).toBe(false);
      expect(await store.take(k2, 1)).toMatchObject({ allowed: true, used: 1 });
      expect((await store.peek(k1, 1)).used).toBe(1);
    });

    it('never admits with a limit of 0', async () => {
      const refused = await store.take(key(), 0);
      expect(refused).toMatchObject({ allowed: false, used: 0, remaining: 0, reset_s: 0, retry_after_s: 3600 });
    });

    it('reports healthy', () => {
      expect(store.isHealthy()).toBe(true);
    });
  });
}

quotaContract('memory', async () => new MemoryQuotaStore());

warnIfNoRedis('the Redis quota store contract');
describe.skipIf(!REDIS_URL)('redis', () => {
  const prefix = `omni:test:quota-contract:${randomUUID()}:`;
  const admin = useRedisAdmin(prefix);

  quotaContract('redis', async () => {
    const connection = testConnection();
    const store = new RedisQuotaStore(connection, { keyPrefix: prefix });
    expect(await connection.waitUntilReady(5_000)).toBe(true);
    return store;
  });

  it('stores one sorted set per key that expires with the window', async () => {
    const connection = testConnection();
    const store = new RedisQuotaStore(connection, { keyPrefix: prefix });
    await connection.waitUntilReady(5_000);
    await store.take('ttl', 5, 10_000);
    await store.take('ttl', 5, 10_000);
    expect(await admin.client.type(`${prefix}ttl`)).toBe('zset');
    expect(await admin.client.zcard(`${prefix}ttl`)).toBe(2);
    const ttl = await admin.client.pttl(`${prefix}ttl`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(10_001);
    // Scores are the Redis server's clock in microseconds.
    const [, score] = await admin.client.zrange(`${prefix}ttl`, 0, 0, 'WITHSCORES');
    const [seconds, micros] = await admin.client.time();
    const serverNowUs = Number(seconds) * 1e6 + Number(micros);
    expect(serverNowUs - Number(score)).toBeGreaterThanOrEqual(0);
    expect(serverNowUs - Number(score)).toBeLessThan(10_000_000);
    // peek does not prune or write.
    await store.peek('absent', 5);
    expect(await admin.client.exists(`${prefix}absent`)).toBe(0);
    await store.close();
  });
});
