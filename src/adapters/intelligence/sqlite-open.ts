import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../config.js';
import { INDEXED_TEXT_CHARS, migrate } from './migrations.js';
import { openPgliteDriver } from './sql-driver.js';
import { migrateSqlite, SqliteIntelligenceStore } from './sqlite-store.js';

/** Where the embedded database lives: `${DATA_DIR}/intelligence.sqlite` (plus its -wal and -shm files). */
export function sqliteFile(config: Config): string {
  return path.resolve(config.dataDir, 'intelligence.sqlite');
}

const BUSY_TIMEOUT_MS = 5_000;

/** better-sqlite3 is installed without its native module (an install made with --ignore-scripts, e.g. the image). */
export class SqliteUnavailableError extends Error {
  constructor() {
    super("better-sqlite3's native module is missing (run `npm rebuild better-sqlite3`)");
  }
}
const IMPORT_BATCH = 500;

/**
 * Opens (creating and migrating) the embedded SQLite store; better-sqlite3 is imported here, on first use, so cold
 * start does not load it. WAL journal: readers never wait for a writer, and a second process on the same DATA_DIR
 * waits up to 5 s for a write lock instead of failing.
 *
 * Embedded stores before this one were PGlite directories (`${DATA_DIR}/pglite`): when the SQLite file is new and
 * such a directory exists, its documents are copied in once (ids, timestamps and metadata kept) and the directory is
 * left untouched; the import is recorded so it never runs twice.
 */
export async function openSqliteStore(file: string, legacyPgliteDir: string): Promise<SqliteIntelligenceStore> {
  await mkdir(path.dirname(file), { recursive: true });
  const { default: Database } = await import('better-sqlite3');
  let db: import('better-sqlite3').Database;
  try {
    db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  } catch (err) {
    // An install made with --ignore-scripts has the package but not its native module.
    if (err instanceof Error && /bindings file|better_sqlite3\.node|Could not locate/i.test(err.message)) {
      throw new SqliteUnavailableError();
    }
    throw err;
  }
  try {
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a commit survives a crash of the process; only an OS crash may lose the last commits.
    db.pragma('synchronous = NORMAL');
    migrateSqlite(db);
    const store = new SqliteIntelligenceStore(db, BUSY_TIMEOUT_MS);
    if (existsSync(path.join(legacyPgliteDir, 'PG_VERSION'))) await importPglite(db, legacyPgliteDir);
    return store;
  } catch (err) {
    db.close();
    throw err;
  }
}

interface LegacyRow {
  id: string;
  title: string;
  text: string;
  url: string | null;
  tags: string[];
  source: string;
  created_at: Date | string;
  metadata: Record<string, unknown> | string;
}

/** Copies every document of a PGlite store (schema `intelligence`) into the SQLite store, once. */
async function importPglite(db: import('better-sqlite3').Database, dir: string): Promise<void> {
  db.exec(`CREATE TABLE IF NOT EXISTS legacy_imports (source TEXT PRIMARY KEY, documents INTEGER NOT NULL, imported_at TEXT NOT NULL)`);
  if (db.prepare('SELECT 1 FROM legacy_imports WHERE source = ?').get(dir)) return;
  const driver = await openPgliteDriver(dir);
  try {
    await migrate(driver, 'intelligence');
    const insertDoc = db.prepare(
      `INSERT INTO documents (id, title, text, url, tags, source, created_at, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    );
    const insertFts = db.prepare('INSERT INTO documents_fts (rowid, title, body) VALUES (?, ?, ?)');
    const insertBatch = db.transaction((rows: LegacyRow[]) => {
      for (const r of rows) {
        const created = (r.created_at instanceof Date ? r.created_at : new Date(r.created_at)).toISOString();
        const metadata = typeof r.metadata === 'string' ? r.metadata : JSON.stringify(r.metadata);
        const info = insertDoc.run(r.id, r.title, r.text, r.url, JSON.stringify(r.tags ?? []), r.source, created, metadata);
        if (info.changes) insertFts.run(info.lastInsertRowid, r.title, r.text.slice(0, INDEXED_TEXT_CHARS));
      }
    });
    let total = 0;
    for (let offset = 0; ; offset += IMPORT_BATCH) {
      const rows = await driver.query<LegacyRow>(
        `SELECT id, title, text, url, tags, source, created_at, metadata FROM intelligence.documents ORDER BY created_at, id LIMIT $1 OFFSET $2`,
        [IMPORT_BATCH, offset],
      );
      insertBatch(rows);
      total += rows.length;
      if (rows.length < IMPORT_BATCH) break;
    }
    db.prepare('INSERT INTO legacy_imports (source, documents, imported_at) VALUES (?, ?, ?)').run(dir, total, new Date().toISOString());
  } finally {
    await driver.close();
  }
}
