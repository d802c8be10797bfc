import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditOutcome, AuditRecord, AuditStore } from '../../src/governance/audit.js';
import { MemoryAuditStore } from '../../src/governance/memory-audit-store.js';
import { RedisAuditStore } from '../../src/governance/redis-audit-store.js';
import { redactArgs } from '../../src/governance/redact.js';
import { freePort, REDIS_URL, testConnection, useRedisAdmin, waitFor, warnIfNoRedis } from '../helpers/redis.js';

function record(n: number, tool = 'tool_a', outcome: AuditOutcome = 'ok'): AuditRecord {
  return {
    id: `rec-${n}`,
    ts: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    tool,
    system: 'github',
    level: 'LOW',
    principal: 'key:abc',
    transport: 'mcp',
    outcome,
    duration_ms: n,
    quota: { used: n, limit: 1000, reset_s: 3600 },
    args: { n },
  };
}

const ids = (records: AuditRecord[]) => records.map((r) => r.id);

/** The same audit behaviour for the ring buffer and the Redis stream. `open(cap)` gives an empty store. */
function auditContract(name: string, open: (cap: number, refusedCap?: number) => Promise<AuditStore>) {
  describe(`audit store contract: ${name}`, () => {
    it('lists newest first with a default page and the limit honoured', async () => {
      const store = await open(100);
      for (let n = 1; n <= 5; n += 1) store.append(record(n));
      await store.flush();
      expect(ids((await store.list({})).records)).toEqual(['rec-5', 'rec-4', 'rec-3', 'rec-2', 'rec-1']);
      const page = await store.list({ limit: 2 });
      expect(ids(page.records)).toEqual(['rec-5', 'rec-4']);
      expect(page.records[0]).toEqual(record(5));
      await store.close();
    });

    it('filters by tool and outcome', async () => {
      const store = await open(100);
      store.append(record(1, 'tool_a', 'ok'));
      store.append(record(2, 'tool_b', 'denied_quota'));
      store.append(record(3, 'tool_a', 'denied_quota'));
      store.append(record(4, 'tool_b', 'ok'));
      await store.flush();
      expect(ids((await store.list({ tool: 'tool_a' })).records)).toEqual(['rec-3', 'rec-1']);
      expect(ids((await store.list({ outcome: 'denied_quota' })).records)).toEqual(['rec-3', 'rec-2']);
      expect(ids((await store.list({ tool: 'tool_b', outcome: 'ok' })).records)).toEqual(['rec-4']);
      expect((await store.list({ tool: 'nope' })).records).toEqual([]);
      await store.close();
    });

    it('pages with an opaque cursor until next_cursor is null', async () => {
      const store = await open(100);
      for (let n = 1; n <= 25; n += 1) store.append(record(n, n % 2 ? 'odd' : 'even'));
      await store.flush();
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list({ limit: 10, cursor });
        seen.push(...ids(page.records));
        cursor = page.next_cursor ?? undefined;
        pages += 1;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `rec-${25 - i}`));
      // Filters combine with the cursor.
      const first = await store.list({ limit: 5, tool: 'odd' });
      expect(ids(first.records)).toEqual(['rec-25', 'rec-23', 'rec-21', 'rec-19', 'rec-17']);
      const second = await store.list({ limit: 5, tool: 'odd', cursor: first.next_cursor! });
      expect(ids(second.records)).toEqual(['rec-15', 'rec-13', 'rec-11', 'rec-9', 'rec-7']);
      await expect(store.list({ cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'invalid_arguments' });
      await store.close();
    });

    it('keeps at least the newest `cap` records and drops the old ones', async () => {
      const store = await open(5);
      for (let n = 1; n <= 400; n += 1) store.append(record(n));
      await store.flush();
      const { records } = await store.list({ limit: 1000 });
      expect(ids(records.slice(0, 5))).toEqual(['rec-400', 'rec-399', 'rec-398', 'rec-397', 'rec-396']);
      // Redis trims whole stream nodes (MAXLEN ~), so it may keep up to one node (100 entries) more.
      expect(records.length).toBeLessThanOrEqual(5 + 100);
      await store.close();
    });

    it('keeps executed-call records whatever the number of refused calls, and lists both kinds newest first', async () => {
      const store = await open(50, 20);
      store.append(record(1, 'real_call', 'ok'));
      store.append(record(2, 'real_call', 'error'));
      store.append({ ...record(3, 'real_call', 'ok'), dry_run: true });
      // The review's flood: 10,001 unknown-tool calls (no quota used) after a real call.
      for (let n = 4; n < 4 + 10_001; n += 1) store.append(record(n, 'no_such_tool', 'invalid'));
      store.append(record(20_000, 'real_call', 'denied_quota'));
      store.append(record(20_001, 'real_call', 'ok'));
      await store.flush();
      // The executed records survive; refusals (and the dry run) were capped among themselves.
      expect(ids((await store.list({ tool: 'real_call', outcome: 'ok' })).records)).toEqual(['rec-20001', 'rec-1']);
      expect(ids((await store.list({ outcome: 'error' })).records)).toEqual(['rec-2']);
      const all = (await store.list({ limit: 1000 })).records;
      expect(all.filter((r) => r.outcome === 'invalid').length).toBeLessThanOrEqual(20 + 100);
      expect(all.find((r) => r.id === 'rec-4')).toBeUndefined();
      // One newest-first order across both kinds, and paging crosses both.
      expect(ids(all.slice(0, 4))).toEqual(['rec-20001', 'rec-20000', 'rec-10004', 'rec-10003']);
      expect(ids(all.slice(-2))).toEqual(['rec-2', 'rec-1']);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list({ limit: 7, cursor });
        seen.push(...ids(page.records));
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(ids(all));
      await store.close();
    }, 30_000);

    it('stores redacted arguments as given, JSON-safe', async () => {
      const store = await open(100);
      const args = JSON.parse('{"query":"weather","api_key":"AIzaSyA-1234567890abcdefghijklmnopqrstu","__proto__":{"polluted":true}}');
      store.append({ ...record(1), args: redactArgs(args) });
      await store.flush();
      const [stored] = (await store.list({})).records;
      expect(stored.args).toEqual(JSON.parse('{"query":"weather","api_key":"[REDACTED]","__proto__":{"polluted":true}}'));
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      await store.close();
    });
  });
}

auditContract('memory', async (cap, refusedCap) => new MemoryAuditStore(cap, refusedCap));

describe('memory audit store', () => {
  it('keeps exactly `cap` records', async () => {
    const store = new MemoryAuditStore(3);
    for (let n = 1; n <= 10; n += 1) store.append(record(n));
    const page = await store.list({ limit: 1000 });
    expect(ids(page.records)).toEqual(['rec-10', 'rec-9', 'rec-8']);
    expect(page.next_cursor).toBeNull();
  });
});

warnIfNoRedis('the Redis audit store tests');
describe.skipIf(!REDIS_URL)('redis audit store', () => {
  const prefix = `omni:test:audit:${randomUUID()}:`;
  const admin = useRedisAdmin(prefix);

  const openStore = async (cap: number, key = `${prefix}${randomUUID()}`, refusedCap?: number, batching: { batchSize?: number; lingerMs?: number } = {}) => {
    const connection = testConnection();
    const store = new RedisAuditStore(connection, { cap, key, refusedCap, ...batching });
    await connection.waitUntilReady(5_000);
    return store;
  };

  auditContract('redis', (cap, refusedCap) => openStore(cap, undefined, refusedCap));

  it('appends without waiting for Redis and writes the queue in one flush', async () => {
    const key = `${prefix}flush`;
    const store = await openStore(1_000, key);
    for (let n = 1; n <= 450; n += 1) store.append(record(n));
    // Nothing has been written yet: append only queued. (Reading XLEN here would race the background write, which
    // may go out in the same tick as that read now that commands are auto-pipelined.)
    expect(store.pending).toBe(450);
    await store.flush();
    expect(store.pending).toBe(0);
    expect(await admin.client.xlen(key)).toBe(450);
    const [[, fields]] = (await admin.client.xrange(key, '-', '+', 'COUNT', 1)) as [string, string[]][];
    expect(fields[0]).toBe('r');
    expect(JSON.parse(fields[1])).toEqual(record(1));
    await store.close();
  });

  it('holds a few records for the linger time so they share one write, and sends a full batch at once', async () => {
    const key = `${prefix}linger`;
    const store = await openStore(1_000, key, undefined, { batchSize: 5, lingerMs: 60_000 });
    for (let n = 1; n <= 3; n += 1) store.append(record(n));
    await new Promise((r) => setTimeout(r, 200));
    expect(store.pending).toBe(3);
    expect(await admin.client.xlen(key)).toBe(0);
    // The fifth record fills the batch: it leaves without waiting for the linger time or a flush() call.
    store.append(record(4));
    store.append(record(5));
    while ((await admin.client.xlen(key)) < 5) await new Promise((r) => setTimeout(r, 20));
    expect(store.pending).toBe(0);
    // A record on its own still waits for its linger time; list() writes what this replica queued before reading.
    store.append(record(6));
    expect(ids((await store.list({ limit: 2 })).records)).toEqual(['rec-6', 'rec-5']);
    await store.close();
  });

  it('writes in the background, flushes on close, and every replica reads the same log', async () => {
    const key = `${prefix}shared`;
    const replicaA = await openStore(1_000, key);
    const replicaB = await openStore(1_000, key);
    replicaA.append(record(1));
    // No flush() call: the scheduled background write lands by itself.
    while ((await admin.client.xlen(key)) < 1) await new Promise((r) => setTimeout(r, 20));
    expect(replicaA.pending).toBe(0);
    replicaA.append(record(2));
    await replicaA.close();
    expect(ids((await replicaB.list({})).records)).toEqual(['rec-2', 'rec-1']);
    await replicaB.close();
  });

  it('spills what the queue cannot hold while Redis is away, and replays it in order, each record once', async () => {
    const key = `${prefix}spill`;
    const dir = mkdtempSync(path.join(tmpdir(), 'omni-hub-spill-'));
    try {
      // A store whose Redis never answers: past its queue of 2 the records go to the spill, and close() spills the rest.
      const away = new RedisAuditStore(testConnection(`redis://127.0.0.1:${await freePort()}`), { cap: 100, key, maxQueue: 2, spill: { dir, maxBytes: 1_000_000 } });
      for (let n = 1; n <= 5; n += 1) away.append(record(n));
      expect(away.status()).toMatchObject({ pending: 2, spilled: 3, dropped: 0 });
      away.append(record(6));
      await away.close();
      expect(away.status()).toMatchObject({ spilled: 6, dropped: 0 });
      // The same file twice (as if two processes replayed it): its records still land once.
      const [file] = readdirSync(dir);
      copyFileSync(path.join(dir, file!), path.join(dir, `copy-${file}`));

      const back = new RedisAuditStore(testConnection(), { cap: 100, key, spill: { dir, maxBytes: 1_000_000 } });
      back.append(record(7));
      await waitFor(() => back.status().spill_bytes === 0 && back.pending === 0, 10_000, 'spill replayed');
      expect(ids((await back.list({})).records)).toEqual(['rec-7', 'rec-6', 'rec-5', 'rec-4', 'rec-3', 'rec-2', 'rec-1']);
      // The adopted files are removed once replayed; only this store's own (empty) file is left.
      expect(readdirSync(dir)).toHaveLength(1);
      await back.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says it is saturated once neither the queue nor the spill can take a record', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'omni-hub-spill-'));
    try {
      const store = new RedisAuditStore(testConnection(`redis://127.0.0.1:${await freePort()}`), { cap: 100, key: `${prefix}full`, maxQueue: 1, spill: { dir, maxBytes: 10 } });
      store.append(record(1));
      expect(store.saturated).toBe(false);
      store.append(record(2));
      expect(store.status()).toMatchObject({ pending: 0, spilled: 0, dropped: 2, saturated: true });
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
