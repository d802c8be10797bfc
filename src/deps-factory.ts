import type { FastifyBaseLogger } from 'fastify';
import { openIntelligenceStore } from './adapters/intelligence/open-store.js';
import type { IntelligenceStore } from './adapters/intelligence/store.js';
import type { Config } from './config.js';
import type { HubDeps } from './deps.js';
import { MemoryApprovalStore, type ApprovalStore } from './governance/approvals.js';
import { createGovernanceStores } from './governance/index.js';
import type { McpEventStore } from './mcp/event-store.js';
import { MemoryEventStore } from './mcp/memory-event-store.js';
import { MemoryFailedAuthLimiter, RedisFailedAuthLimiter, type FailedAuthLimiter } from './http/failed-auth.js';
import { MemoryOperationStore, type OperationStore } from './tools/operations.js';

const eventBounds = (config: Config) => ({ streamMaxBytes: config.eventStore.streamMaxBytes, totalMaxBytes: config.eventStore.totalMaxBytes });
import { MemorySessionStore, type McpSessionStore } from './mcp/session-store.js';

/** Builds the long-lived services from the config: Redis or memory governance, PostgreSQL or embedded SQLite (lazily). */
export async function createDeps(config: Config, log: FastifyBaseLogger): Promise<HubDeps> {
  const { quota, audit, connection } = await createGovernanceStores(config, log);
  // The Redis store reuses the governance connection; its module (and ioredis) loads only when Redis is configured.
  const events: McpEventStore = connection
    ? new (await import('./mcp/redis-event-store.js')).RedisEventStore(connection, { log, ...eventBounds(config) })
    : new MemoryEventStore(eventBounds(config));
  const operations: OperationStore = connection
    ? new (await import('./tools/redis-operation-store.js')).RedisOperationStore(connection)
    : new MemoryOperationStore();
  const approvals: ApprovalStore = connection
    ? new (await import('./governance/redis-approval-store.js')).RedisApprovalStore(connection)
    : new MemoryApprovalStore();
  const failedAuth: FailedAuthLimiter = connection
    ? new RedisFailedAuthLimiter(connection)
    : new MemoryFailedAuthLimiter();
  // Stateless hubs keep no sessions: no second Redis connection (the store's subscriber) for them.
  const sessions: McpSessionStore = connection && config.sessionMode === 'stateful'
    ? new (await import('./mcp/redis-session-store.js')).RedisSessionStore(connection, { idleMs: config.sessions.idleMs, cacheMs: config.sessions.cacheMs, cacheEntries: config.sessions.maxPerProcess, log })
    : new MemorySessionStore(config.sessions.idleMs);
  // Only upstreams change the tool list: without them no instance has anything to announce.
  const mcpEvents = connection && config.upstreams.length > 0 ? new (await import('./mcp/redis-event-bus.js')).RedisServerEventBus(connection, { log }) : undefined;
  let store: Promise<IntelligenceStore> | null = null;
  const intelligence = () => {
    store ??= openIntelligenceStore(config).catch((err: unknown) => {
      store = null; // let the next call retry (e.g. the database came up)
      throw err;
    });
    return store;
  };
  return {
    quota,
    audit,
    events,
    operations,
    approvals,
    failedAuth,
    sessions,
    ...(mcpEvents ? { mcpEvents } : {}),
    intelligence,
    async close() {
      await audit.flush().catch((err: unknown) => log.error({ err }, 'audit flush failed at shutdown'));
      await Promise.allSettled([audit.close(), quota.close(), events.close(), operations.close(), approvals.close(), failedAuth.close(), sessions.close(), mcpEvents?.close(), store?.then((s) => s.close())]);
    },
  };
}
