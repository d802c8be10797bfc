import type { Config } from '../../config.js';
import { migrate } from './migrations.js';
import { openPgDriver } from './sql-driver.js';
import { openSqliteStore, pgliteDir, sqliteFile } from './sqlite-open.js';
import { SqlIntelligenceStore } from './sql-store.js';
import type { IntelligenceStore } from './store.js';

export const DEFAULT_SCHEMA = 'intelligence';

export interface OpenStoreOptions {
  /** PostgreSQL schema holding the tables (tests use their own so suites sharing one server do not collide). */
  schema?: string;
  /** The embedded database file when DATABASE_URL is unset; default `${DATA_DIR}/intelligence.sqlite`. */
  sqliteFile?: string;
  /** Where an earlier version's PGlite store would be (an unimported one fails the open); default `${DATA_DIR}/pglite`. */
  pgliteDir?: string;
}

/**
 * Opens the Intelligence store: PostgreSQL at DATABASE_URL when set, otherwise the embedded SQLite FTS5 store in
 * DATA_DIR (an earlier version's PGlite store there is imported once by the operator, see pglite-import.ts).
 * Pending migrations are applied before this resolves, so every returned store is ready for queries.
 */
export async function openIntelligenceStore(config: Config, opts: OpenStoreOptions = {}): Promise<IntelligenceStore> {
  const schema = opts.schema ?? DEFAULT_SCHEMA;
  if (!config.databaseUrl) return openSqliteStore(opts.sqliteFile ?? sqliteFile(config), opts.pgliteDir ?? pgliteDir(config));
  const driver = await openPgDriver(config.databaseUrl);
  try {
    await migrate(driver, schema);
  } catch (err) {
    await driver.close().catch(() => {});
    throw err;
  }
  return new SqlIntelligenceStore(driver, schema);
}

/**
 * The lazy, shared opener that HubDeps.intelligence() wants: opens on first use, every caller gets the same store,
 * and a failed open is retried on the next call instead of being cached.
 */
export function lazyIntelligenceStore(
  config: Config,
  opts: OpenStoreOptions = {},
): { get(): Promise<IntelligenceStore>; close(): Promise<void> } {
  let opening: Promise<IntelligenceStore> | null = null;
  return {
    get() {
      opening ??= openIntelligenceStore(config, opts).catch((err: unknown) => {
        opening = null;
        throw err;
      });
      return opening;
    },
    async close() {
      const pending = opening;
      opening = null;
      if (pending) await (await pending.catch(() => null))?.close();
    },
  };
}
