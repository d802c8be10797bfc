import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../../../src/config.js';
import { testConfig } from '../../helpers/config.js';
import { openIntelligenceStore } from '../../../src/adapters/intelligence/open-store.js';
import type { IntelligenceStore } from '../../../src/adapters/intelligence/store.js';
import type { HubDeps } from '../../../src/deps.js';
import type { AuditStore } from '../../../src/governance/audit.js';

/**
 * One place that says how a test gets an Intelligence store on each backend: embedded SQLite in a temporary directory, or the
 * real PostgreSQL at DATABASE_URL in a schema of its own (dropped afterwards), so suites can share the server.
 */
export interface StoreEnv {
  kind: 'sqlite' | 'postgres';
  config: Config;
  schema: string;
  open(): Promise<IntelligenceStore>;
  /** Runs one SQL statement outside the store (e.g. to inspect the migrations table). */
  sql<T>(text: string): Promise<T[]>;
  destroy(): Promise<void>;
}

/** Opens stores in `schema`, remembering each so destroy() can close them. */
const opener = (config: Config, schema: string, opened: IntelligenceStore[]) => async (): Promise<IntelligenceStore> => {
  const store = await openIntelligenceStore(config, { schema });
  opened.push(store);
  return store;
};

const uniqueSchema = (label: string) => `intel_${label}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

export async function sqliteEnv(label: string): Promise<StoreEnv> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'omni-intel-'));
  const config = testConfig({ DATA_DIR: dir });
  const schema = uniqueSchema(label);
  const opened: IntelligenceStore[] = [];
  return {
    kind: 'sqlite',
    config,
    schema,
    open: opener(config, schema, opened),
    async sql<T>(text: string) {
      // One SQLite file per environment: the schema qualifier of the shared SQL names nothing here.
      const store = opened.at(-1);
      if (!store) throw new Error('open a store first');
      const db = (store as unknown as { db: import('node:sqlite').DatabaseSync }).db;
      const statement = db.prepare(text.replaceAll(`"${schema}".`, ''));
      if (statement.columns().length > 0) return statement.all() as T[];
      statement.run();
      return [];
    },
    async destroy() {
      for (const s of opened) await s.close().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function postgresEnv(label: string, databaseUrl: string): Promise<StoreEnv> {
  const config = testConfig({ DATABASE_URL: databaseUrl });
  const schema = uniqueSchema(label);
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  const opened: IntelligenceStore[] = [];
  return {
    kind: 'postgres',
    config,
    schema,
    open: opener(config, schema, opened),
    async sql<T>(text: string) {
      return (await admin.query(text)).rows as T[];
    },
    async destroy() {
      for (const s of opened) await s.close().catch(() => {});
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    },
  };
}

/** The backends to run on: the embedded SQLite store always, PostgreSQL when DATABASE_URL is set. */
export function backends(): { name: string; make(label: string): Promise<StoreEnv> }[] {
  const url = process.env.DATABASE_URL;
  if (!url) console.warn('DATABASE_URL is unset: Intelligence store tests run on embedded SQLite only (set it to also test PostgreSQL)');
  return [
    { name: 'SQLite', make: (label) => sqliteEnv(label) },
    ...(url ? [{ name: 'PostgreSQL', make: (label: string) => postgresEnv(label, url) }] : []),
  ];
}

/** HubDeps whose intelligence() is the given store, with an optional audit store (quota is not used here). */
export function depsWith(store: IntelligenceStore | (() => Promise<IntelligenceStore>), audit?: AuditStore): HubDeps {
  return {
    get quota(): never {
      throw new Error('quota store not used by this test');
    },
    get audit(): AuditStore {
      if (!audit) throw new Error('audit store not used by this test');
      return audit;
    },
    get events(): never {
      throw new Error('MCP event store not used by this test');
    },
    get operations(): never {
      throw new Error('operation store not used by this test');
    },
    get approvals(): never {
      throw new Error('approval store not used by this test');
    },
    get failedAuth(): never {
      throw new Error('failed-key limiter not used by this test');
    },
    get sessions(): never {
      throw new Error('MCP session store not used by this test');
    },
    intelligence: typeof store === 'function' ? store : async () => store,
    close: async () => {},
  };
}
