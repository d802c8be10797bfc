import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisAuditStore } from '../../src/governance/redis-audit-store.js';
import { SELF_BATCHED_SCRIPTS, type RedisConnection } from '../../src/redis/connection.js';
import { RedisQuotaStore } from '../../src/governance/redis-quota-store.js';
import { REDIS_URL, deleteKeys, testConnection, warnIfNoRedis } from '../helpers/redis.js';

warnIfNoRedis('the self-batched script tests');

/**
 * The quota and audit stores batch their own script calls, so ioredis sends those calls at once rather than through an
 * auto-pipeline of one (issue 18). ioredis counts what waits in its auto-pipelines (`autoPipelineQueueSize`), so a
 * call that joins one shows there the moment it is made.
 */
describe.skipIf(!REDIS_URL)('scripts the stores batch themselves skip ioredis auto-pipelining', () => {
  const prefix = `self-batched:${randomUUID()}:`;
  let connection: RedisConnection;
  let quota: RedisQuotaStore;
  let audit: RedisAuditStore;

  beforeAll(async () => {
    connection = testConnection();
    quota = new RedisQuotaStore(connection, { keyPrefix: prefix });
    audit = new RedisAuditStore(connection, { key: `${prefix}audit`, cap: 10 });
    await connection.waitUntilReady(5_000);
  });
  afterAll(async () => {
    await deleteKeys(connection.acquire(), `${prefix}*`);
    await audit.close();
    await quota.close();
    await connection.release();
  });

  it('sends the quota and audit scripts directly, while other commands are still auto-pipelined', async () => {
    const client = connection.client as RedisConnection['client'] & Record<string, (...args: (string | number)[]) => Promise<unknown>>;
    const queued = (send: () => Promise<unknown>) => {
      const before = client.autoPipelineQueueSize;
      const reply = send();
      const joined = client.autoPipelineQueueSize - before;
      return { joined, reply };
    };
    const plain = queued(() => client.get(`${prefix}plain`));
    expect(plain.joined).toBe(1);
    const take = queued(() => client[SELF_BATCHED_SCRIPTS.quota]!(1, `${prefix}q`, 5, 60_000, '1', 'nonce'));
    expect(take.joined).toBe(0);
    const append = queued(() =>
      client[SELF_BATCHED_SCRIPTS.audit]!(`${prefix}audit`, `${prefix}audit:refused`, `${prefix}audit:last-id`, `${prefix}audit:writers`, 10, 10, 'e', 'writer', 1, JSON.stringify({ id: 'x' })),
    );
    expect(append.joined).toBe(0);
    await plain.reply;
    expect(await take.reply).toEqual([1, 1, expect.any(Number), 0]);
    await append.reply;
    expect(await client.xlen(`${prefix}audit`)).toBe(1);
  });
});
