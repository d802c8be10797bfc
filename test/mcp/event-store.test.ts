import type { EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisConnection } from '../../src/redis/connection.js';
import type { McpEventStore } from '../../src/mcp/event-store.js';
import { MemoryEventStore } from '../../src/mcp/memory-event-store.js';
import { RedisEventStore } from '../../src/mcp/redis-event-store.js';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.warn('REDIS_URL is unset: the MCP event store contract runs on the memory store only');

const note = (n: number): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: n } });

async function replay(store: EventStore, after: string): Promise<{ streamId: string; sent: [string, JSONRPCMessage][] }> {
  const sent: [string, JSONRPCMessage][] = [];
  const streamId = await store.replayEventsAfter(after, {
    send: async (id, message) => {
      sent.push([id, message]);
    },
  });
  return { streamId, sent };
}

interface Bounds {
  streamMaxBytes?: number;
  totalMaxBytes?: number;
}

interface Backend {
  name: string;
  /** A store holding at most `perStream` events per stream (and the given byte bounds). */
  make(perStream: number, bounds?: Bounds): McpEventStore;
  /** Bytes the store holds, by its own accounting. */
  bytes(store: McpEventStore): Promise<number>;
}

const connections: RedisConnection[] = [];
const PREFIX = `omni:test:mcp-events:${randomUUID()}:`;
const backends: Backend[] = [
  { name: 'memory', make: (perStream, bounds) => new MemoryEventStore({ perStream, ...bounds }), bytes: async (s) => (s as MemoryEventStore).bytes() },
];
if (REDIS_URL) {
  backends.push({
    name: 'redis',
    make: (maxLen, bounds) => {
      const connection = new RedisConnection({ url: REDIS_URL, commandTimeoutMs: 2_000 });
      connections.push(connection);
      return new RedisEventStore(connection, { prefix: `${PREFIX}${randomUUID()}:`, maxLen, ...bounds });
    },
    bytes: (s) => (s as RedisEventStore).bytes(),
  });
}
afterAll(async () => {
  await Promise.allSettled(connections.map((c) => c.release()));
  if (!REDIS_URL) return;
  // Each store released its connection on close(): clean up on a fresh one.
  const cleanup = new RedisConnection({ url: REDIS_URL, commandTimeoutMs: 2_000 }).acquire();
  if (await cleanup.waitUntilReady(5_000)) {
    const keys = await cleanup.client.keys(`${PREFIX}*`);
    if (keys.length > 0) await cleanup.client.del(...keys);
  }
  await cleanup.release();
});

describe.each(backends)('McpEventStore contract ($name)', ({ name, make, bytes }) => {
  const ready = async (store: McpEventStore) => {
    if (name === 'redis') expect(await connections.at(-1)!.waitUntilReady(5_000)).toBe(true);
    return store;
  };

  it('replays exactly the later events of that stream, in order, with the ids they were stored under', async () => {
    const store = await ready(make(1_000));
    const s = store.forSession('session-a');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await s.storeEvent('_GET_stream', note(i)));
    await s.storeEvent('other-stream', note(99));
    expect(new Set(ids).size).toBe(5);
    for (const id of ids) expect(id.startsWith('_GET_stream_')).toBe(true);

    expect(await s.getStreamIdForEventId!(ids[1]!)).toBe('_GET_stream');
    const { streamId, sent } = await replay(s, ids[1]!);
    expect(streamId).toBe('_GET_stream');
    expect(sent).toEqual([2, 3, 4].map((i) => [ids[i], note(i)]));
    expect((await replay(s, ids[4]!)).sent).toEqual([]);
    await store.close();
  });

  it('keeps sessions apart even when the SDK gives their streams the same id', async () => {
    const store = await ready(make(1_000));
    const a = store.forSession('session-a');
    const b = store.forSession('session-b');
    const first = await a.storeEvent('_GET_stream', note(1));
    await a.storeEvent('_GET_stream', note(2));
    await b.storeEvent('_GET_stream', note(3));
    expect((await replay(a, first)).sent.map(([, m]) => m)).toEqual([note(2)]);
    // Session b presenting a's cursor is only a position in b's own stream: it never sees a's events.
    for (const [, m] of (await replay(b, first)).sent) expect(m).toEqual(note(3));
    const all = await replay(b, name === 'redis' ? '_GET_stream_0-0' : '_GET_stream_000000000000');
    expect(all.sent.map(([, m]) => m)).toEqual([note(3)]);
    await store.close();
  });

  it('rejects malformed ids and does not know streams that were never written', async () => {
    const store = await ready(make(1_000));
    const s = store.forSession('session-c');
    await s.storeEvent('known', note(1));
    for (const bad of ['', 'no-separator', 'known_', 'known_not-a-position']) {
      expect(await s.getStreamIdForEventId!(bad)).toBeUndefined();
      await expect(replay(s, bad)).rejects.toThrow(/Malformed event id/);
    }
    const foreign = name === 'redis' ? 'never-written_1-0' : 'never-written_000000000001';
    expect(await s.getStreamIdForEventId!(foreign)).toBeUndefined();
    expect((await replay(s, foreign)).sent).toEqual([]);
    await store.close();
  });

  it('bounds each stream to its newest events', async () => {
    const store = await ready(make(10));
    const s = store.forSession('session-d');
    const first = await s.storeEvent('busy', note(0));
    for (let i = 1; i < 300; i++) await s.storeEvent('busy', note(i));
    const { sent } = await replay(s, first);
    // Redis trims with MAXLEN ~ (whole macro nodes): at least the cap, far fewer than written, always the newest.
    if (name === 'memory') expect(sent).toHaveLength(10);
    else expect(sent.length).toBeGreaterThanOrEqual(10);
    expect(sent.length).toBeLessThan(299);
    expect(sent.at(-1)![1]).toEqual(note(299));
    const numbers = sent.map(([, m]) => (m as unknown as { params: { data: number } }).params.data);
    expect(numbers).toEqual([...numbers].sort((x, y) => x - y));
    await store.close();
  });

  it('bounds each stream in bytes, oldest dropped first, and keeps no event larger than the bound', async () => {
    const streamMaxBytes = 20_000;
    const store = await ready(make(1_000, { streamMaxBytes, totalMaxBytes: 1_000_000 }));
    const s = store.forSession('session-bytes');
    const big = (n: number): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: `${n}:${'x'.repeat(3_000)}` } });
    const first = await s.storeEvent('results', big(0));
    for (let i = 1; i < 50; i++) await s.storeEvent('results', big(i));
    const { sent } = await replay(s, first);
    const held = sent.reduce((n, [, m]) => n + Buffer.byteLength(JSON.stringify(m)), 0);
    expect(held).toBeLessThanOrEqual(streamMaxBytes);
    expect(await bytes(store)).toBeLessThanOrEqual(streamMaxBytes);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.at(-1)![1]).toEqual(big(49));

    // One result larger than the whole bound (the 3.9 MB fetch of the review) is sent live but not kept.
    const huge: JSONRPCMessage = { jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'y'.repeat(100_000) }] } };
    const hugeId = await s.storeEvent('results', huge);
    expect(hugeId.startsWith('results_')).toBe(true);
    expect(await bytes(store)).toBeLessThanOrEqual(streamMaxBytes);
    expect(JSON.stringify((await replay(s, first)).sent)).not.toContain('y'.repeat(1_000));
    await store.close();
  });

  it('bounds all streams together in bytes: the least recently written streams lose their oldest events first', async () => {
    const totalMaxBytes = 30_000;
    const store = await ready(make(1_000, { streamMaxBytes: 20_000, totalMaxBytes }));
    const payload = (n: number): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: `${n}:${'z'.repeat(2_000)}` } });
    const firsts: string[] = [];
    // Twenty sessions of five events each: ten times the total bound written.
    for (let session = 0; session < 20; session++) {
      const s = store.forSession(`flood-${session}`);
      firsts.push(await s.storeEvent('_GET_stream', payload(session * 100)));
      for (let i = 1; i < 5; i++) await s.storeEvent('_GET_stream', payload(session * 100 + i));
      expect(await bytes(store)).toBeLessThanOrEqual(totalMaxBytes);
    }
    // The newest session is whole; the oldest is gone.
    const newest = await replay(store.forSession('flood-19'), firsts[19]!);
    expect(newest.sent).toHaveLength(4);
    expect((await replay(store.forSession('flood-0'), firsts[0]!)).sent).toEqual([]);
    await store.close();
  });
});

describe('MemoryEventStore bounds', () => {
  it('caps the total by dropping the least recently written streams first', async () => {
    const store = new MemoryEventStore({ perStream: 100, total: 10 });
    const s = store.forSession('s');
    const oldFirst = await s.storeEvent('old', note(0));
    for (let i = 1; i < 6; i++) await s.storeEvent('old', note(i));
    const fresh = await s.storeEvent('fresh', note(100));
    for (let i = 101; i < 108; i++) await s.storeEvent('fresh', note(i));
    expect(store.size()).toBe(10);
    expect((await replay(s, oldFirst)).sent.map(([, m]) => m)).toEqual([note(4), note(5)]);
    expect((await replay(s, fresh)).sent).toHaveLength(7);
  });

  it('drops streams idle longer than the limit and everything of an ended session', async () => {
    let now = 1_000_000;
    const store = new MemoryEventStore({ idleMs: 60_000, now: () => now });
    const a = store.forSession('a');
    const b = store.forSession('b');
    const idA = await a.storeEvent('x', note(1));
    await a.storeEvent('x', note(2));
    const idB = await b.storeEvent('x', note(3));
    await b.storeEvent('x', note(4));
    store.endSession('b');
    expect(await b.getStreamIdForEventId!(idB)).toBeUndefined();
    expect(store.size()).toBe(2);
    now += 61_000;
    expect(await a.getStreamIdForEventId!(idA)).toBeUndefined();
    expect((await replay(a, idA)).sent).toEqual([]);
    expect(store.size()).toBe(0);
  });
});

describe.skipIf(!REDIS_URL)('RedisEventStore with Redis down', () => {
  it('keeps the live stream going: storing returns an id without throwing, and warns once', async () => {
    const warnings: string[] = [];
    const log = { info() {}, error() {}, warn: (_: object, msg: string) => void warnings.push(msg) };
    // Nothing listens on port 1: the connection never becomes ready.
    const connection = new RedisConnection({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 200 });
    const store = new RedisEventStore(connection, { prefix: 'omni:test:down:', log });
    const s = store.forSession('s');
    const ids = [await s.storeEvent('stream', note(1)), await s.storeEvent('stream', note(2))];
    for (const id of ids) expect(id).toMatch(/^stream_\d+-0$/);
    expect(warnings.filter((w) => w.includes('MCP event store'))).toHaveLength(1);
    await store.close();
  });
});
