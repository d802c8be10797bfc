import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { INDEXED_TEXT_CHARS } from './migrations.js';
import { legacyImported, openSqliteDatabase } from './sqlite-open.js';
import { immediateTransaction } from './sqlite-store.js';

/**
 * The one-time import of an earlier version's embedded store (PGlite, in `${DATA_DIR}/pglite`) into the SQLite store.
 * The hub does not depend on PGlite: the operator installs it for this import only (`@electric-sql/pglite` is a
 * devDependency, so a checkout with `npm ci` has it). Ids, timestamps, tags and metadata are kept; the PGlite
 * directory is only read; the import is recorded in the SQLite file so it never runs twice.
 */

export interface PgliteImportResult {
  /** Documents copied by this call (0 when the directory had been imported before). */
  imported: number;
  alreadyImported: boolean;
}

export const PGLITE_PACKAGE = '@electric-sql/pglite';

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

const BATCH = 500;

/**
 * PGlite from the hub's own dependencies (a checkout with dev dependencies), else from the current directory's
 * node_modules, so an operator can add it next to an installed hub without touching the hub's own packages.
 */
async function loadPglite(): Promise<typeof PGlite> {
  try {
    return (await import('@electric-sql/pglite')).PGlite;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
  }
  try {
    return (createRequire(path.join(process.cwd(), 'package.json'))(PGLITE_PACKAGE) as { PGlite: typeof PGlite }).PGlite;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    throw new Error(
      `${PGLITE_PACKAGE} is not installed: install it for the import (npm install --no-save ${PGLITE_PACKAGE}@0.5, in the hub's directory or the current one), then run the import again`,
      { cause: err },
    );
  }
}

/**
 * Copies every document of the PGlite store in `legacyDir` (schema `intelligence`) into the SQLite file, in one
 * transaction: either all documents arrive or none (an interrupted import can simply be run again).
 */
export async function importPgliteStore(sqliteFile: string, legacyDir: string): Promise<PgliteImportResult> {
  const dir = path.resolve(legacyDir);
  if (!existsSync(path.join(dir, 'PG_VERSION'))) throw new Error(`no PGlite store in ${dir} (it has no PG_VERSION file)`);
  const db = await openSqliteDatabase(sqliteFile);
  try {
    if (legacyImported(db, dir)) return { imported: 0, alreadyImported: true };
    const Pglite = await loadPglite();
    const legacy = await Pglite.create(dir);
    try {
      const insertDoc = db.prepare(
        `INSERT INTO documents (id, title, text, url, tags, source, created_at, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      );
      const insertFts = db.prepare('INSERT INTO documents_fts (rowid, title, body) VALUES (?, ?, ?)');
      const rows: LegacyRow[] = [];
      for (let offset = 0; ; offset += BATCH) {
        const { rows: batch } = await legacy.query<LegacyRow>(
          `SELECT id, title, text, url, tags, source, created_at, metadata FROM intelligence.documents ORDER BY created_at, id LIMIT $1 OFFSET $2`,
          [BATCH, offset],
        );
        rows.push(...batch);
        if (batch.length < BATCH) break;
      }
      const imported = immediateTransaction(db, () => {
        let count = 0;
        for (const r of rows) {
          const created = (r.created_at instanceof Date ? r.created_at : new Date(r.created_at)).toISOString();
          const metadata = typeof r.metadata === 'string' ? r.metadata : JSON.stringify(r.metadata);
          const info = insertDoc.run(r.id, r.title, r.text, r.url, JSON.stringify(r.tags ?? []), r.source, created, metadata);
          if (!info.changes) continue;
          insertFts.run(info.lastInsertRowid, r.title, r.text.slice(0, INDEXED_TEXT_CHARS));
          count++;
        }
        db.prepare('INSERT INTO legacy_imports (source, documents, imported_at) VALUES (?, ?, ?)').run(dir, count, new Date().toISOString());
        return count;
      });
      return { imported, alreadyImported: false };
    } finally {
      await legacy.close();
    }
  } finally {
    db.close();
  }
}
