import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { RedisConnection } from '../../src/redis/connection.js';
import { RedisSessionStore } from '../../src/mcp/redis-session-store.js';
import { MemorySessionStore, type McpSessionStore, type SessionRecord } from '../../src/mcp/session-store.js';
import { deleteKeys, REDIS_URL, sleep, testConnection, waitFor, warnIfNoRedis } from '../helpers/redis.js';

const PREFIX = `omni:test:mcp-sessions:${randomUUID()}:`;
const connections: RedisConnection[] = [];

interface Backend {
  name: string;
  make(idleMs: number): Promise<McpSessionStore>;
}
const backends: Backend[] = [{ name: 'memory', make: async (idleMs) => new MemorySessionStore(idleMs) }];
warnIfNoRedis('the Redis session store contract');
if (REDIS_URL) {
  backends.push({
    name: 'redis',
    make: async (idleMs) => {
      const connection = testConnection();
      connections.push(connection);
      expect(await connection.waitUntilReady(5_000)).toBe(true);
      // No local cache here: every get() reads Redis, so the LRU order and expiry are Redis's own.
      return new RedisSessionStore(connection, { idleMs, prefix: `${PREFIX}${randomUUID()}:`, cacheMs: 0 });
    },
  });
}
afterAll(async () => {
  if (!REDIS_URL) return;
  const cleanup = testConnection().acquire();
  if (await cleanup.waitUntilReady(5_000)) await deleteKeys(cleanup, `${PREFIX}*`);
  await cleanup.release();
});

const record = (principal: string, extra: Partial<SessionRecord> = {}): SessionRecord => ({
  id: randomUUID(),
  kind: 'streamable',
  principal,
  instance: 'test',
  createdAt: Date.now(),
  protocolVersion: '2025-11-25',
  clientCapabilities: { roots: { listChanged: true } },
  clientInfo: { name: 'c', version: '1' },
  ...extra,
});

describe.each(backends)('McpSessionStore contract ($name)', ({ make }) => {
  it('keeps a record with what initialize negotiated, updates its log level, and ends it with delete()', async () => {
    const store = await make(60_000);
    const ended: string[] = [];
    store.onEnded((id) => ended.push(id));
    const r = record('p1');
    await store.create(r, 10);
    expect(await store.get(r.id)).toEqual(r);
    expect(await store.get('unknown')).toBeUndefined();
    await store.update(r.id, { logLevel: 'error' });
    expect(await store.get(r.id)).toEqual({ ...r, logLevel: 'error' });
    await store.delete(r.id);
    expect(await store.get(r.id)).toBeUndefined();
    expect(ended).toContain(r.id);
    await store.close();
  });

  it("ends a principal's least recently used sessions at its cap, never another principal's", async () => {
    const store = await make(60_000);
    const ended = new Set<string>();
    store.onEnded((id) => ended.add(id));
    const [a, b, c, d] = [record('p1'), record('p1'), record('p1'), record('p1')];
    const other = record('p2');
    await store.create(other, 2);
    await store.create(a!, 2);
    await sleep(5);
    await store.create(b!, 2);
    await sleep(5);
    await store.get(a!.id); // a is now more recently used than b
    await sleep(5);
    await store.create(c!, 2);
    expect(await store.get(b!.id)).toBeUndefined();
    expect(await store.get(a!.id)).toBeDefined();
    await sleep(5);
    expect(await store.get(c!.id)).toBeDefined(); // c now more recently used than a
    await sleep(5);
    await store.create(d!, 2);
    expect(await store.get(a!.id)).toBeUndefined();
    expect(await store.get(other.id)).toBeDefined();
    await waitFor(() => ended.has(a!.id) && ended.has(b!.id), 2_000, 'eviction announced');
    expect(ended.has(other.id)).toBe(false);
    await store.close();
  });

  it('expires a record not used for the idle time, and keeps one in use', async () => {
    const store = await make(400);
    const idle = record('p1');
    const busy = record('p1');
    await store.create(idle, 10);
    await store.create(busy, 10);
    for (let i = 0; i < 6; i++) {
      await sleep(100);
      expect(await store.get(busy.id)).toBeDefined();
    }
    expect(await store.get(idle.id)).toBeUndefined();
    await store.close();
  });
});
