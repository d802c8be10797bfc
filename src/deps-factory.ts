import type { FastifyBaseLogger } from 'fastify';
import { openIntelligenceStore } from './adapters/intelligence/open-store.js';
import type { IntelligenceStore } from './adapters/intelligence/store.js';
import type { Config } from './config.js';
import type { HubDeps } from './deps.js';
import { createGovernanceStores } from './governance/index.js';
import type { McpEventStore } from './mcp/event-store.js';
import { MemoryEventStore } from './mcp/memory-event-store.js';

/** Builds the long-lived services from the config: Redis or memory governance, PostgreSQL or embedded SQLite (lazily). */
export async function createDeps(config: Config, log: FastifyBaseLogger): Promise<HubDeps> {
  const { quota, audit, connection } = await createGovernanceStores(config, log);
  // The Redis store reuses the governance connection; its module (and ioredis) loads only when Redis is configured.
  const events: McpEventStore = connection
    ? new (await import('./mcp/redis-event-store.js')).RedisEventStore(connection, { log })
    : new MemoryEventStore();
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
    intelligence,
    async close() {
      await audit.flush().catch((err: unknown) => log.error({ err }, 'audit flush failed at shutdown'));
      await Promise.allSettled([audit.close(), quota.close(), events.close(), store?.then((s) => s.close())]);
    },
  };
}
