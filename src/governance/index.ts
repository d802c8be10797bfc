import type { Config } from '../config.js';
import type { AuditStore } from './audit.js';
import type { StoreLog } from '../log.js';
import { MemoryAuditStore } from './memory-audit-store.js';
import { MemoryQuotaStore } from './memory-quota-store.js';
import type { QuotaStore } from './quota-store.js';
import type { RedisConnection } from '../redis/connection.js';

export { Governor, type Admission, type GovernorOptions, type Rule, type ToolUsage } from './governor.js';
export { redactArgs } from './redact.js';

/**
 * Redis (one shared connection for quotas and the audit stream) when REDIS_URL is set, otherwise in-process stores.
 * A Redis that is down at start does not stop the hub: after `startupWaitMs` (default 3 s) it serves anyway, readiness
 * reports the store, calls follow QUOTA_STORE_FAILURE, and the connection keeps retrying in the background.
 */
export async function createGovernanceStores(
  config: Config,
  log: StoreLog,
  options: { startupWaitMs?: number } = {},
): Promise<{ quota: QuotaStore; audit: AuditStore; connection?: RedisConnection }> {
  if (!config.redisUrl) {
    return { quota: new MemoryQuotaStore(), audit: new MemoryAuditStore(config.auditCap, config.auditRefusedCap) };
  }
  // Loaded only when Redis is configured: ioredis costs cold-start time and memory the embedded default does not need.
  const [{ RedisConnection }, { RedisQuotaStore }, { RedisAuditStore }] = await Promise.all([
    import('../redis/connection.js'),
    import('./redis-quota-store.js'),
    import('./redis-audit-store.js'),
  ]);
  const connection = new RedisConnection({ url: config.redisUrl, log });
  const quota = new RedisQuotaStore(connection);
  const { queueMax, spillDir, spillMaxBytes } = config.audit;
  const audit = new RedisAuditStore(connection, {
    cap: config.auditCap,
    refusedCap: config.auditRefusedCap,
    maxQueue: queueMax,
    spill: spillMaxBytes > 0 ? { dir: spillDir, maxBytes: spillMaxBytes } : undefined,
    log,
  });
  if (!(await connection.waitUntilReady(options.startupWaitMs ?? 3_000))) {
    log.warn({ store: 'redis' }, 'redis is not reachable yet: starting anyway; QUOTA_STORE_FAILURE applies until it answers');
  }
  // Returned so other long-lived stores (the MCP event store) share this one socket; each acquire()s its own reference.
  return { quota, audit, connection };
}
