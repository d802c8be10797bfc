import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { INDEXED_TEXT_CHARS } from './migrations.js';
import { HIGHLIGHT_START, HIGHLIGHT_STOP, documentIdOf, searchLimitOf } from './sql-store.js';
import { toFtsQuery } from './fts-query.js';
import { SqliteReader } from './sqlite-reader.js';
import type {
  DocumentSource,
  IngestOutcome,
  IntelligenceDocument,
  IntelligenceStore,
  NewDocument,
  SearchHit,
  SearchQuery,
} from './store.js';

/**
 * Ordered, append-only migrations of the embedded SQLite store (never edit a released entry). The FTS5 table keeps
 * its own copy of the title and of the indexed part of the text, keyed by the documents rowid; Porter stemming over
 * unicode61 tokens, as close to PostgreSQL's `english` configuration as FTS5 gets (stop words are dropped from the
 * query instead, see fts-query.ts).
 */
export const SQLITE_MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'documents',
    sql: `
      CREATE TABLE documents (
        seq         INTEGER PRIMARY KEY,
        id          TEXT NOT NULL UNIQUE,
        title       TEXT NOT NULL,
        text        TEXT NOT NULL,
        url         TEXT,
        tags        TEXT NOT NULL DEFAULT '[]',
        source      TEXT NOT NULL CHECK (source IN ('ingest', 'autobuilder', 'callback')),
        created_at  TEXT NOT NULL,
        metadata    TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX documents_created_at_idx ON documents (created_at);
      CREATE VIRTUAL TABLE documents_fts USING fts5(title, body, tokenize = 'porter unicode61');
    `,
  },
];
export const SQLITE_LATEST_VERSION = Math.max(...SQLITE_MIGRATIONS.map((m) => m.version));

/** BM25 column weights (title, body): a title match counts 2.5 times a body match, as weights A=1.0 / B=0.4 do in PostgreSQL. */
const TITLE_WEIGHT = 2.5;
const BODY_WEIGHT = 1.0;
/** Snippet length in tokens (PostgreSQL's headline uses MaxWords=35). */
const SNIPPET_TOKENS = 35;

/** The snippet expression of the search query (FTS5 `snippet()` on the body column, Markdown-bold highlights). */
export const SNIPPET_SQL = `snippet(documents_fts, 1, '${HIGHLIGHT_START}', '${HIGHLIGHT_STOP}', ' … ', ${SNIPPET_TOKENS})`;

type SearchStatement = `${'filtered' | 'unfiltered'}:${'snippets' | 'plain'}`;

interface DocumentRow {
  id: string;
  title: string;
  text: string;
  url: string | null;
  tags: string;
  source: DocumentSource;
  created_at: string;
  metadata: string;
}

interface HitRow {
  id: string;
  title: string;
  url: string | null;
  tags: string;
  source: DocumentSource;
  created_at: string;
  score: number;
  snippet: string;
}

const iso = (v: string): string => new Date(v).toISOString();

function toDocument(row: DocumentRow): IntelligenceDocument {
  return {
    id: row.id,
    title: row.title,
    text: row.text,
    url: row.url,
    tags: JSON.parse(row.tags) as string[],
    source: row.source,
    created_at: iso(row.created_at),
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
  };
}

/**
 * Runs `fn` in one IMMEDIATE transaction (the write lock is taken at BEGIN, so a second process waits for it up to the
 * busy timeout instead of failing on a lock upgrade); rolls back when `fn` throws. `fn` is synchronous: nothing else
 * runs on this connection in between.
 */
export function immediateTransaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

/** Applies every pending migration in one immediate transaction (a second process waits on the lock, then sees them). */
export function migrateSqlite(db: DatabaseSync): number[] {
  return immediateTransaction(db, () => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at TEXT NOT NULL
    )`);
    const done = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
    const applied: number[] = [];
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of SQLITE_MIGRATIONS) {
      if (done.has(m.version)) continue;
      db.exec(m.sql);
      record.run(m.version, m.name, new Date().toISOString());
      applied.push(m.version);
    }
    return applied;
  });
}

/**
 * The embedded Intelligence store: SQLite with an FTS5 index through Node's built-in `node:sqlite`, one file in
 * DATA_DIR. Writes and reads by id run on the main connection (short, synchronous); searches run on a worker thread
 * (sqlite-reader.ts).
 */
export class SqliteIntelligenceStore implements IntelligenceStore {
  readonly kind = 'sqlite' as const;
  private readonly insertDoc: StatementSync;
  private readonly insertFts: StatementSync;
  private readonly getDoc: StatementSync;
  private readonly reader: SqliteReader<SearchStatement>;

  constructor(
    private readonly db: DatabaseSync,
    file: string,
    busyTimeoutMs: number,
  ) {
    this.insertDoc = db.prepare(
      `INSERT INTO documents (id, title, text, url, tags, source, created_at, metadata)
       VALUES (@id, @title, @text, @url, @tags, @source, @created_at, @metadata)
       ON CONFLICT (id) DO NOTHING`,
    );
    this.insertFts = db.prepare('INSERT INTO documents_fts (rowid, title, body) VALUES (?, ?, ?)');
    this.getDoc = db.prepare('SELECT id, title, text, url, tags, source, created_at, metadata FROM documents WHERE id = ?');
    const filters = `(@tags IS NULL OR (SELECT count(DISTINCT t.value) FROM json_each(d.tags) t WHERE t.value IN (SELECT value FROM json_each(@tags))) = @tagCount)
           AND (@source IS NULL OR d.source = @source)
           AND (@since IS NULL OR julianday(d.created_at) >= julianday(@since))
           AND (@until IS NULL OR julianday(d.created_at) < julianday(@until))`;
    // Ranked and filtered hits, best first (ties: newest first); the top `limit` rows only.
    const top = `SELECT h.rowid, h.score
         FROM (SELECT rowid, bm25(documents_fts, ${TITLE_WEIGHT}, ${BODY_WEIGHT}) AS score FROM documents_fts WHERE documents_fts MATCH @match) h
         JOIN documents d ON d.seq = h.rowid
         WHERE ${filters}
         ORDER BY h.score, d.seq DESC
         LIMIT @limit`;
    // Without filters the FTS index alone picks the top rows, before any documents row is read.
    const topUnfiltered = `SELECT rowid, bm25(documents_fts, ${TITLE_WEIGHT}, ${BODY_WEIGHT}) AS score
         FROM documents_fts WHERE documents_fts MATCH @match
         ORDER BY score, rowid DESC
         LIMIT @limit`;
    // Snippets are computed for the returned rows only (the FTS cursor is positioned on each by rowid).
    const withRows = (topSql: string, withSnippets: boolean) =>
        withSnippets
          ? `WITH top AS (${topSql})
             SELECT d.id, d.title, d.url, d.tags, d.source, d.created_at, top.score, ${SNIPPET_SQL} AS snippet
             FROM top JOIN documents_fts ON documents_fts.rowid = top.rowid JOIN documents d ON d.seq = top.rowid
             WHERE documents_fts MATCH @match
             ORDER BY top.score, d.seq DESC`
          : `WITH top AS (${topSql})
             SELECT d.id, d.title, d.url, d.tags, d.source, d.created_at, top.score, '' AS snippet
             FROM top JOIN documents d ON d.seq = top.rowid
             ORDER BY top.score, d.seq DESC`;
    const statements: Record<SearchStatement, string> = {
      'filtered:snippets': withRows(top, true),
      'filtered:plain': withRows(top, false),
      'unfiltered:snippets': withRows(topUnfiltered, true),
      'unfiltered:plain': withRows(topUnfiltered, false),
    };
    // Checked here, on the main connection, so a bad statement fails the open rather than the first search.
    for (const sql of Object.values(statements)) db.prepare(sql);
    this.reader = new SqliteReader(file, statements, busyTimeoutMs);
  }

  async ingest(doc: NewDocument): Promise<IntelligenceDocument> {
    return (await this.ingestOnce(doc)).document;
  }

  async ingestOnce(doc: NewDocument): Promise<IngestOutcome> {
    const id = documentIdOf(doc);
    const row = {
      id,
      title: doc.title,
      text: doc.text,
      url: doc.url ?? null,
      tags: JSON.stringify(doc.tags ?? []),
      source: doc.source,
      created_at: new Date().toISOString(),
      metadata: JSON.stringify(doc.metadata ?? {}),
    };
    const created = immediateTransaction(this.db, () => {
      const info = this.insertDoc.run(row);
      if (info.changes === 0) return false;
      this.insertFts.run(info.lastInsertRowid, row.title, row.text.slice(0, INDEXED_TEXT_CHARS));
      return true;
    });
    const stored = await this.get(id);
    if (!stored) throw new Error(`document ${id} conflicted but cannot be read back`);
    return { document: stored, created };
  }

  async get(id: string): Promise<IntelligenceDocument | null> {
    const row = this.getDoc.get(id) as DocumentRow | undefined;
    return row ? toDocument(row) : null;
  }

  /**
   * Ranked full-text search with PostgreSQL's web-search syntax translated to FTS5 (fts-query.ts); BM25 with the
   * title weighted above the body, mapped to 0..1 as score/(score+1) like PostgreSQL's normalisation 32.
   */
  async search(q: SearchQuery): Promise<SearchHit[]> {
    const match = toFtsQuery(q.query);
    if (!match) return [];
    const limit = searchLimitOf(q);
    const tags = q.tags?.length ? [...new Set(q.tags)] : null;
    const filtered = tags !== null || q.source !== undefined || q.since !== undefined || q.until !== undefined;
    const statement: SearchStatement = `${filtered ? 'filtered' : 'unfiltered'}:${q.snippets === false ? 'plain' : 'snippets'}`;
    const params = filtered
      ? { match, limit, tags: tags ? JSON.stringify(tags) : null, tagCount: tags?.length ?? 0, source: q.source ?? null, since: q.since ?? null, until: q.until ?? null }
      : { match, limit };
    const rows = await this.reader.all<HitRow>(statement, params);
    return rows.map((r) => {
      const score = -r.score;
      return {
        id: r.id,
        title: r.title,
        url: r.url,
        snippet: r.snippet,
        rank: score / (score + 1),
        tags: JSON.parse(r.tags) as string[],
        source: r.source,
        created_at: iso(r.created_at),
      };
    });
  }

  async ping(): Promise<void> {
    const row = this.db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null };
    if ((row.v ?? 0) < SQLITE_LATEST_VERSION) throw new Error(`intelligence database is at version ${row.v ?? 0}, expected ${SQLITE_LATEST_VERSION}`);
  }

  async close(): Promise<void> {
    await this.reader.close();
    if (this.db.isOpen) this.db.close();
  }
}
