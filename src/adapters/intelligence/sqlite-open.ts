import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import type { Config } from '../../config.js';
import { migrateSqlite, SqliteIntelligenceStore } from './sqlite-store.js';

/** Where the embedded database lives: `${DATA_DIR}/intelligence.sqlite` (plus its -wal and -shm files). */
export function sqliteFile(config: Config): string {
  return path.resolve(config.dataDir, 'intelligence.sqlite');
}

/** Where the embedded store of earlier versions (PGlite) lived: `${DATA_DIR}/pglite`. */
export function pgliteDir(config: Config): string {
  return path.resolve(config.dataDir, 'pglite');
}

/** The command that imports an earlier PGlite store (docs/deploy.md, "Upgrading an embedded PGlite store"). */
export const PGLITE_IMPORT_COMMAND = 'npm run import:pglite';

export const BUSY_TIMEOUT_MS = 5_000;

/**
 * Opens (creating) the embedded SQLite database with Node's built-in `node:sqlite`, imported here on first use so cold
 * start does not load it. WAL journal: readers never wait for a writer, and a second process on the same DATA_DIR
 * waits up to 5 s for a write lock instead of failing. Pending migrations are applied before this returns.
 */
export async function openSqliteDatabase(file: string): Promise<DatabaseSync> {
  await mkdir(path.dirname(file), { recursive: true });
  const { DatabaseSync } = await import('node:sqlite');
  const db = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.exec('PRAGMA journal_mode = WAL');
    // NORMAL in WAL mode: a commit survives a crash of the process; only an OS crash may lose the last commits.
    db.exec('PRAGMA synchronous = NORMAL');
    migrateSqlite(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Records which earlier stores were copied in, so an import never runs twice. */
export function ensureLegacyImports(db: DatabaseSync): void {
  db.exec(`CREATE TABLE IF NOT EXISTS legacy_imports (source TEXT PRIMARY KEY, documents INTEGER NOT NULL, imported_at TEXT NOT NULL)`);
}

export function legacyImported(db: DatabaseSync, dir: string): boolean {
  ensureLegacyImports(db);
  return db.prepare('SELECT 1 FROM legacy_imports WHERE source = ?').get(dir) !== undefined;
}

/**
 * Opens the embedded store. Embedded stores of earlier versions were PGlite directories (`${DATA_DIR}/pglite`); the
 * hub no longer ships PGlite, so such a directory that has not been imported yet fails the open with the command that
 * imports it, instead of serving an empty store over the operator's documents.
 */
export async function openSqliteStore(file: string, legacyPgliteDir: string): Promise<SqliteIntelligenceStore> {
  const db = await openSqliteDatabase(file);
  try {
    if (existsSync(path.join(legacyPgliteDir, 'PG_VERSION')) && !legacyImported(db, legacyPgliteDir)) {
      throw new Error(
        `${legacyPgliteDir} holds an embedded store of an earlier version (PGlite) that is not imported yet: run \`${PGLITE_IMPORT_COMMAND}\` once (docs/deploy.md), or move that directory away to start without its documents`,
      );
    }
    return new SqliteIntelligenceStore(db, file, BUSY_TIMEOUT_MS);
  } catch (err) {
    db.close();
    throw err;
  }
}
