// Quota store latency: take() p50/p99 for the in-memory store and for Redis (one Lua round trip) on loopback.
// Usage: npm run build && node bench/quota.mjs [--calls 20000] [--concurrency 16] [--dist <compiled dir, default ../dist>]
// REDIS_URL defaults to redis://127.0.0.1:6379; the Redis part is skipped (and says so) when it is unreachable.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';

const { values } = parseArgs({
  options: { calls: { type: 'string', default: '20000' }, dist: { type: 'string', default: path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist') }, concurrency: { type: 'string', default: '16' } },
});
const calls = Number(values.calls);
const concurrency = Number(values.concurrency);
const load = (file) => import(pathToFileURL(path.resolve(values.dist, 'governance', file)).href);
const { MemoryQuotaStore } = await load('memory-quota-store.js');
const { RedisQuotaStore } = await load('redis-quota-store.js');
const { RedisConnection } = await import(pathToFileURL(path.resolve(values.dist, 'redis', 'connection.js')).href);

function summary(samplesNs) {
  const sorted = BigUint64Array.from(samplesNs).sort();
  const at = (q) => Number(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]) / 1e3;
  const total = samplesNs.reduce((a, b) => a + b, 0n);
  return { calls: sorted.length, p50_us: at(0.5), p99_us: at(0.99), max_us: at(1), mean_us: Number(total / BigInt(sorted.length)) / 1e3 };
}

/** Sequential: one take() at a time, each timed. Two phases: under the limit (records) and over it (refuses). */
async function sequential(store, limit) {
  const key = `bench:${randomUUID()}`;
  for (let i = 0; i < 500; i += 1) await store.take(`warmup:${key}`, 1e9);
  const samples = [];
  for (let i = 0; i < calls; i += 1) {
    const t = process.hrtime.bigint();
    await store.take(key, limit);
    samples.push(process.hrtime.bigint() - t);
  }
  return summary(samples);
}

/** `concurrency` callers in parallel: throughput in calls per second. */
async function parallel(store) {
  const key = `bench:${randomUUID()}`;
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls) {
        next += 1;
        await store.take(key, 1e9);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { calls, concurrency, calls_per_s: Math.round(calls / seconds) };
}

async function measure(store) {
  return {
    under_limit: await sequential(store, 1e9),
    at_limit_1000: await sequential(store, 1000),
    parallel: await parallel(store),
  };
}

const result = { node: process.version, calls, memory: await measure(new MemoryQuotaStore()) };
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const connection = new RedisConnection({ url: redisUrl });
const prefix = `omni:bench:${randomUUID()}:`;
if (await connection.waitUntilReady(3_000)) {
  const store = new RedisQuotaStore(connection, { keyPrefix: prefix });
  result.redis = { url: redisUrl.replace(/\/\/[^@]*@/, '//***@'), ...(await measure(store)) };
  let cursor = '0';
  do {
    const [nextCursor, keys] = await connection.client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = nextCursor;
    if (keys.length) await connection.client.del(...keys);
  } while (cursor !== '0');
  await store.close();
} else {
  result.redis = { skipped: `redis not reachable at ${redisUrl}` };
  await connection.acquire().release();
}
console.log(JSON.stringify(result, null, 2));
