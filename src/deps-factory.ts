import type { FastifyBaseLogger } from 'fastify';
import { openIntelligenceStore } from './adapters/intelligence/open-store.js';
import type { IntelligenceStore } from './adapters/intelligence/store.js';
import type { Config } from './config.js';
import type { HubDeps } from './deps.js';
import { createGovernanceStores } from './governance/index.js';

/** Builds the long-lived services from the config: Redis or memory governance, Postgres or PGlite (lazily). */
export async function createDeps(config: Config, log: FastifyBaseLogger): Promise<HubDeps> {
  const { quota, audit } = await createGovernanceStores(config, log);
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
    intelligence,
    async close() {
      await audit.flush().catch((err: unknown) => log.error({ err }, 'audit flush failed at shutdown'));
      await Promise.allSettled([audit.close(), quota.close(), store?.then((s) => s.close())]);
    },
  };
}
