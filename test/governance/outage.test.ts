import { spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../helpers/config.js';
import type { AuditRecord } from '../../src/governance/audit.js';
import { Governor } from '../../src/governance/governor.js';
import { RedisAuditStore } from '../../src/governance/redis-audit-store.js';
import { RedisConnection } from '../../src/redis/connection.js';
import { RedisQuotaStore } from '../../src/governance/redis-quota-store.js';
import { freePort, startRedisServer, stopRedisServer, waitFor } from '../helpers/redis.js';

const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;
if (!hasRedisServer) console.warn('redis-server is not installed: the Redis outage tests are skipped');

const low = { name: 'low_tool', level: 'LOW' as const, system: 'docker' as const };
const high = { name: 'high_tool', level: 'HIGH' as const, system: 'docker' as const };
const critical = { name: 'critical_tool', level: 'CRITICAL' as const, system: 'docker' as const };

function record(n: number): AuditRecord {
  return {
    id: `outage-${n}`,
    ts: new Date().toISOString(),
    tool: 'low_tool',
    system: 'docker',
    level: 'LOW',
    principal: 'key:test',
    transport: 'rest',
    outcome: 'ok',
    duration_ms: 1,
    args: { n },
  };
}

/**
 * A private redis-server that the test kills and restarts on the same port: the stores must fail fast, report
 * unhealthy within 5 s, reconnect by themselves within 10 s of Redis returning, and the governor must apply
 * QUOTA_STORE_FAILURE meanwhile.
 */
describe.skipIf(!hasRedisServer)('redis outage and recovery', () => {
  let port: number;
  let server: ChildProcess;
  let connection: RedisConnection;
  let quota: RedisQuotaStore;
  let audit: RedisAuditStore;
  const governor = (policy: string) => new Governor(testConfig({ QUOTA_STORE_FAILURE: policy }), quota);

  beforeAll(async () => {
    port = await freePort();
    server = await startRedisServer(port);
    // Production settings (250 ms command bound, no offline queue), not the relaxed test ones.
    connection = new RedisConnection({ url: `redis://127.0.0.1:${port}` });
    quota = new RedisQuotaStore(connection);
    audit = new RedisAuditStore(connection, { cap: 100, maxQueue: 5 });
    expect(await connection.waitUntilReady(10_000)).toBe(true);
  });

  afterAll(async () => {
    await audit?.close();
    await quota?.close();
    if (server) {
      server.kill('SIGCONT');
      await stopRedisServer(server);
    }
  });

  it('fails fast while Redis is gone, applies the failure policy, and recovers without a restart', async () => {
    expect(await quota.take('k', 10)).toMatchObject({ allowed: true, used: 1 });
    expect(quota.isHealthy()).toBe(true);

    await stopRedisServer(server);
    await expect(quota.take('k', 10)).rejects.toMatchObject({ code: 'governance_unavailable' });
    await expect(quota.peek('k', 10)).rejects.toMatchObject({ code: 'governance_unavailable' });
    await waitFor(() => !quota.isHealthy(), 5_000, 'unhealthy after Redis stopped');

    // open: everything allowed and flagged.
    for (const tool of [low, critical]) {
      const a = await governor('open').admit(tool, 'key:a');
      expect(a).toMatchObject({ allowed: true, degraded: true });
      expect(a.warning).toMatch(/QUOTA_STORE_FAILURE=open/);
    }
    // closed: everything refused with governance_unavailable.
    for (const tool of [low, critical]) {
      const a = await governor('closed').admit(tool, 'key:a');
      expect(a.allowed).toBe(false);
      expect(a.error?.code).toBe('governance_unavailable');
      expect(a.error?.httpStatus).toBe(503);
    }
    // closed-for-high: LOW/MEDIUM through (flagged), HIGH/CRITICAL refused.
    const cfh = governor('closed-for-high');
    expect(await cfh.admit(low, 'key:a')).toMatchObject({ allowed: true, degraded: true });
    expect(await cfh.admit({ ...low, level: 'MEDIUM' }, 'key:a')).toMatchObject({ allowed: true, degraded: true });
    for (const tool of [high, critical]) {
      const a = await cfh.admit(tool, 'key:a');
      expect(a.allowed).toBe(false);
      expect(a.error?.toJSON()).toMatchObject({ code: 'governance_unavailable', cause: 'quota_store_unavailable', policy: 'closed-for-high', level: tool.level });
    }
    // Usage answers with nulls instead of throwing.
    expect(await cfh.usage([low])).toEqual([
      { name: 'low_tool', system: 'docker', level: 'LOW', limit: 1000, used: null, remaining: null, reset_s: null, enabled: true },
    ]);

    // Audit records queue up (bounded: the oldest beyond 5 are dropped and counted).
    for (let n = 1; n <= 8; n += 1) audit.append(record(n));
    await expect(audit.flush()).rejects.toMatchObject({ code: 'governance_unavailable' });
    expect(audit.pending).toBe(5);
    expect(audit.dropped).toBe(3);
    await expect(audit.list({})).rejects.toMatchObject({ code: 'governance_unavailable' });

    server = await startRedisServer(port);
    await waitFor(() => quota.isHealthy(), 10_000, 'healthy after Redis returned');
    // The same store objects work again; the new server starts empty.
    expect(await quota.take('k', 10)).toMatchObject({ allowed: true, used: 1 });
    expect(await cfh.admit(critical, 'key:a')).toMatchObject({ allowed: true, quota: { used: 1, limit: 10 } });
    // The queued audit records were written on reconnection, oldest dropped.
    await waitFor(() => audit.pending === 0, 10_000, 'audit queue flushed after recovery');
    const { records } = await audit.list({ limit: 10 });
    expect(records.map((r) => r.id)).toEqual(['outage-8', 'outage-7', 'outage-6', 'outage-5', 'outage-4']);
  });

  it('notices a Redis that stops answering without closing the connection', async () => {
    expect(quota.isHealthy()).toBe(true);
    server.kill('SIGSTOP');
    try {
      // The 250 ms command bound turns a hang into a prompt refusal.
      await expect(quota.take('hung', 10)).rejects.toMatchObject({ code: 'governance_unavailable' });
      await waitFor(() => !quota.isHealthy(), 5_000, 'unhealthy while Redis is frozen');
      expect(await governor('closed-for-high').admit(high, 'key:a')).toMatchObject({ allowed: false, degraded: true });
    } finally {
      server.kill('SIGCONT');
    }
    await waitFor(() => quota.isHealthy(), 10_000, 'healthy after Redis resumed');
    expect(await quota.take('hung', 10)).toMatchObject({ allowed: true });
  });
});
