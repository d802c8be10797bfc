import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../../src/tools/errors.js';
import { MemoryOperationStore, OPERATION_MAX_BYTES, OPERATION_MAX_MS, operationOutcome, type OperationRecord, type OperationStore } from '../../src/tools/operations.js';
import { RedisOperationStore } from '../../src/tools/redis-operation-store.js';
import { freePort, REDIS_URL, sleep, testConnection, useRedisAdmin, warnIfNoRedis } from '../helpers/redis.js';

warnIfNoRedis('the Redis operation store contract');

const record = (id: string, extra: Partial<OperationRecord> = {}): OperationRecord => ({
  id,
  tool: 'docker_build',
  principal: 'key:aaaa0000',
  status: 'running',
  started_at: Date.now(),
  ...extra,
});

/** One contract for both stores: what runOperation writes, operationOutcome reads back. */
describe.each([
  { name: 'memory', redis: false },
  { name: 'redis', redis: true },
])('operation store contract ($name)', ({ redis }) => {
  if (redis) useRedisAdmin('omni:op:');
  let store: OperationStore;
  beforeAll(async () => {
    if (!redis) store = new MemoryOperationStore();
    else if (REDIS_URL) {
      const connection = testConnection();
      await connection.waitUntilReady(5_000);
      store = new RedisOperationStore(connection);
    }
  });
  afterAll(async () => store?.close());
  const run = redis && !REDIS_URL ? it.skip : it;

  run('reads back what was saved; overwrite replaces; unknown is null', async () => {
    const id = `docker_build-${crypto.randomUUID()}`;
    await store.save(record(id, { last_lines: ['Step 1/2'] }), 60_000);
    expect(await store.get(id)).toMatchObject({ id, status: 'running', last_lines: ['Step 1/2'] });
    await store.save(record(id, { status: 'succeeded', finished_at: Date.now(), result: { status: 'built', image_id: 'sha256:1' } }), 60_000);
    expect(await store.get(id)).toMatchObject({ status: 'succeeded', result: { status: 'built' } });
    expect(await store.get(`docker_build-${crypto.randomUUID()}`)).toBeNull();
  });

  run('forgets a record after its TTL', async () => {
    const id = `docker_build-${crypto.randomUUID()}`;
    await store.save(record(id), 50);
    await sleep(150);
    expect(await store.get(id)).toBeNull();
  });

  run('bounds a record: an oversized result keeps its status and says it was truncated', async () => {
    const id = `docker_build-${crypto.randomUUID()}`;
    const huge = { status: 'built', last_lines: Array.from({ length: 200 }, () => 'x'.repeat(500)), blob: 'y'.repeat(OPERATION_MAX_BYTES) };
    await store.save(record(id, { status: 'succeeded', result: huge }), 60_000);
    const back = (await store.get(id))!;
    expect(Buffer.byteLength(JSON.stringify(back))).toBeLessThanOrEqual(OPERATION_MAX_BYTES);
    expect(back.result).toMatchObject({ status: 'built', truncated: true });
  });

  run('operationOutcome: result, running marker, stored failure as its HubError', async () => {
    const id = `docker_build-${crypto.randomUUID()}`;
    await store.save(record(id, { last_lines: ['pulling'] }), 60_000);
    expect(await operationOutcome(store, 'docker_build', id, 'key:aaaa0000')).toMatchObject({ status: 'running', operation: id, last_lines: ['pulling'] });
    await store.save(record(id, { status: 'failed', error: { code: 'upstream_error', message: 'step 2 failed', details: { last_lines: ['boom'] } } }), 60_000);
    const err = await operationOutcome(store, 'docker_build', id, 'key:aaaa0000').catch((e: unknown) => e as HubError);
    expect(err).toBeInstanceOf(HubError);
    expect(err).toMatchObject({ code: 'upstream_error', message: 'step 2 failed', details: { last_lines: ['boom'], operation: id } });
  });
});

describe('an operation whose instance stopped', () => {
  it('answers timeout once its bound has passed instead of "running" forever', async () => {
    const store = new MemoryOperationStore();
    const id = `docker_build-${crypto.randomUUID()}`;
    await store.save(record(id, { started_at: Date.now() - OPERATION_MAX_MS - 5 * 60_000 }), 60_000);
    const err = await operationOutcome(store, 'docker_build', id, 'key:aaaa0000').catch((e: unknown) => e as HubError);
    expect(err).toMatchObject({ code: 'timeout', message: expect.stringMatching(/did not finish: the instance running it stopped/) });
  });
});

describe('operation store while Redis is unreachable', () => {
  it('a follow-up answers governance_unavailable (503), not a crash or a false not_found', async () => {
    const store = new RedisOperationStore(testConnection(`redis://127.0.0.1:${await freePort()}`, { connectTimeoutMs: 200 }));
    try {
      const err = await operationOutcome(store, 'docker_build', 'docker_build-00000000-0000-0000-0000-000000000000', 'key:x').catch((e: unknown) => e as HubError);
      expect(err).toMatchObject({ code: 'governance_unavailable', httpStatus: 503 });
    } finally {
      await store.close();
    }
  });
});
