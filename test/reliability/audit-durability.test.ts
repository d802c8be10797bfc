import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/governance/audit.js';
import { TEST_KEY } from '../helpers/app.js';
import { freePort, startHubProcess, type HubProcess } from '../helpers/spawn-hub.js';
import { startRedisServer, stopRedisServer, waitFor } from '../helpers/redis.js';

/**
 * Redis killed (SIGKILL; append-only file fsynced on every write) under a steady load of calls and started again from
 * its data: afterwards the audit streams hold exactly one record per answered call, whether the hub rode the outage
 * out (its queue spilled to DATA_DIR/audit-spill and was replayed) or was stopped by SIGTERM during it and started
 * again (the queue went to the spill at shutdown and the new process replayed it). Each call has its own query text,
 * so the records are matched to the answered calls one by one. Needs the redis-server binary and a built hub.
 */
const hasRedisServer = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasRedisServer) console.warn('audit-durability: redis-server binary not found; skipping');

const CONCURRENCY = 4;

/** Calls `search` with a unique query from several loops until stopped; collects the queries of answered calls. */
function load(url: string) {
  const answered: string[] = [];
  const failed: string[] = [];
  let running = true;
  let n = 0;
  const loops = Array.from({ length: CONCURRENCY }, async () => {
    while (running) {
      const query = `call-${n++}`;
      try {
        const res = await fetch(`${url}/v1/tools/search`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ query }),
        });
        await res.arrayBuffer();
        if (res.status === 200) answered.push(query);
        else failed.push(`${query}: ${res.status}`);
      } catch (err) {
        failed.push(`${query}: ${String(err)}`);
      }
    }
  });
  return {
    answered,
    failed,
    /** Resolves once at least `more` further calls were answered. */
    async after(more: number) {
      const target = answered.length + more;
      await waitFor(() => answered.length >= target, 30_000, `${more} more answered calls`);
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function streamQueries(port: number): Promise<string[]> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  try {
    const queries: string[] = [];
    for (const key of ['omni:audit', 'omni:audit:refused']) {
      const entries = (await client.xrange(key, '-', '+')) as [string, string[]][];
      for (const [, fields] of entries) {
        const record = JSON.parse(fields[1]!) as AuditRecord;
        if (record.tool === 'search') queries.push((record.args as { query: string }).query);
      }
    }
    return queries;
  } finally {
    client.disconnect();
  }
}

/** Polls the streams until they hold as many search records as `expected` (or the bound passes), then returns them. */
async function settledQueries(port: number, expected: number): Promise<string[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const queries = await streamQueries(port);
    if (queries.length >= expected || Date.now() > deadline) return queries;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!hasRedisServer)('the audit trail across a Redis outage', () => {
  let redis: ChildProcess | undefined;
  let hub: HubProcess | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    await hub?.stop('SIGKILL');
    if (redis) await stopRedisServer(redis);
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function setUp() {
    const redisPort = await freePort();
    const aofDir = mkdtempSync(path.join(tmpdir(), 'omni-hub-aof-'));
    const dataDir = mkdtempSync(path.join(tmpdir(), 'omni-hub-data-'));
    dirs.push(aofDir, dataDir);
    redis = await startRedisServer(redisPort, { aofDir });
    const env = {
      MCP_API_KEY: TEST_KEY,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      DATA_DIR: dataDir,
      // A small queue, so the outage reaches the spill file within the test.
      AUDIT_QUEUE_MAX: '20',
      QUOTA_STORE_FAILURE: 'open',
      RATE_LIMIT_PER_MINUTE: '1000000',
      GOVERNANCE_OVERRIDES: JSON.stringify({ search: { limit: 1_000_000 } }),
      LOG_LEVEL: 'warn',
    };
    hub = await startHubProcess(env);
    return { redisPort, aofDir, env };
  }

  function expectOneRecordPerAnsweredCall(answered: string[], queries: string[]) {
    const counts = new Map<string, number>();
    for (const q of queries) counts.set(q, (counts.get(q) ?? 0) + 1);
    const duplicated = [...counts].filter(([, c]) => c > 1).map(([q]) => q);
    const missing = answered.filter((q) => !counts.has(q));
    expect({ duplicated, missing }).toEqual({ duplicated: [], missing: [] });
    expect(queries.length).toBe(answered.length);
  }

  it('writes exactly one record per answered call when the hub rides the outage out', async () => {
    const { redisPort, aofDir } = await setUp();
    const calls = load(hub!.url);
    await calls.after(100);
    await stopRedisServer(redis!);
    // Well past the queue bound, so records went to the spill file.
    await calls.after(300);
    redis = await startRedisServer(redisPort, { aofDir });
    await calls.after(200);
    await calls.stop();

    expect(calls.failed).toEqual([]);
    const metrics = await (await fetch(`${hub!.url}/metrics`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).text();
    expect(Number(/^omni_hub_audit_spilled_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(Number(/^omni_hub_audit_dropped_total (\d+)/m.exec(metrics)?.[1])).toBe(0);
    expectOneRecordPerAnsweredCall(calls.answered, await settledQueries(redisPort, calls.answered.length));
  });

  it('writes exactly one record per answered call when the hub is stopped by SIGTERM during the outage', async () => {
    const { redisPort, aofDir, env } = await setUp();
    const calls = load(hub!.url);
    await calls.after(100);
    await stopRedisServer(redis!);
    // Fewer than the queue holds: these records are in memory only when SIGTERM comes.
    await calls.after(10);
    const stopping = hub!.stop('SIGTERM');
    await calls.stop();
    expect(await stopping).toBe(0);
    // Calls refused by the closing hub (connection refused, or 503 while closing) were never answered: only 200s count.
    const spillDir = path.join(env.DATA_DIR, 'audit-spill');
    const spilled = readdirSync(spillDir).reduce((bytes, name) => bytes + statSync(path.join(spillDir, name)).size, 0);
    expect(spilled).toBeGreaterThan(0);

    redis = await startRedisServer(redisPort, { aofDir });
    hub = await startHubProcess(env);
    expectOneRecordPerAnsweredCall(calls.answered, await settledQueries(redisPort, calls.answered.length));
  });
});
