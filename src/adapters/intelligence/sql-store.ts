import { randomUUID } from 'node:crypto';
import { INDEXED_TEXT_CHARS, LATEST_VERSION, appliedVersions, quoteSchema } from './migrations.js';
import type { SqlDriver } from './sql-driver.js';
import type {
  DocumentSource,
  IngestOutcome,
  IntelligenceDocument,
  IntelligenceStore,
  NewDocument,
  SearchHit,
  SearchQuery,
} from './store.js';

export const DEFAULT_SEARCH_LIMIT = 10;
export const MAX_SEARCH_LIMIT = 100;

/** The id a new document is stored under: its own, else a fresh `doc_<uuid>`. */
export const documentIdOf = (doc: NewDocument): string => doc.id ?? `doc_${randomUUID()}`;

/** The hits a search returns at most: the requested limit (DEFAULT_SEARCH_LIMIT when absent) clamped to 1..MAX_SEARCH_LIMIT. */
export const searchLimitOf = (q: SearchQuery): number => Math.min(Math.max(q.limit ?? DEFAULT_SEARCH_LIMIT, 1), MAX_SEARCH_LIMIT);

/** Highlight markers around matched words in snippets (Markdown bold reads well in chat clients). */
export const HIGHLIGHT_START = '**';
export const HIGHLIGHT_STOP = '**';

const HEADLINE_OPTIONS = `StartSel=${HIGHLIGHT_START}, StopSel=${HIGHLIGHT_STOP}, MaxWords=35, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "`;

/** A documents row as the drivers return it: timestamps may be Dates and jsonb may arrive as text. */
type DocumentRow = Omit<IntelligenceDocument, 'created_at' | 'metadata'> & {
  created_at: Date | string;
  metadata: Record<string, unknown> | string;
};

interface HitRow {
  id: string;
  title: string;
  url: string | null;
  tags: string[];
  source: DocumentSource;
  /** Already ISO 8601 text (ISO_CREATED_AT). */
  created_at: string;
  rank: number;
  snippet: string;
}

const iso = (v: Date | string): string => (v instanceof Date ? v : new Date(v)).toISOString();

/**
 * A hit's `created_at` as the ISO 8601 text `iso()` gives (UTC, milliseconds truncated as a JavaScript Date truncates
 * them), formatted by the database: a search returns up to 100 rows, and parsing each timestamp into a Date only to
 * format it again is work per row that the database already does.
 */
const ISO_CREATED_AT = `to_char(h.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

function toDocument(row: DocumentRow): IntelligenceDocument {
  return {
    id: row.id,
    title: row.title,
    text: row.text,
    url: row.url,
    tags: row.tags ?? [],
    source: row.source,
    created_at: iso(row.created_at),
    metadata: typeof row.metadata === 'string' ? (JSON.parse(row.metadata) as Record<string, unknown>) : row.metadata,
  };
}

/** The Intelligence store on PostgreSQL (DATABASE_URL). */
export class SqlIntelligenceStore implements IntelligenceStore {
  private readonly table: string;
  private readonly schemaQ: string;

  constructor(
    private readonly driver: SqlDriver,
    readonly schema: string,
  ) {
    this.schemaQ = quoteSchema(schema);
    this.table = `${this.schemaQ}.documents`;
  }

  get kind(): 'postgres' {
    return this.driver.kind;
  }

  async ingest(doc: NewDocument): Promise<IntelligenceDocument> {
    return (await this.ingestOnce(doc)).document;
  }

  async ingestOnce(doc: NewDocument): Promise<IngestOutcome> {
    const id = documentIdOf(doc);
    const inserted = await this.driver.query<DocumentRow>(
      `INSERT INTO ${this.table} (id, title, text, url, tags, source, metadata)
       VALUES ($1, $2, $3, $4, $5::text[], $6, $7::jsonb)
       ON CONFLICT (id) DO NOTHING
       RETURNING id, title, text, url, tags, source, created_at, metadata`,
      [id, doc.title, doc.text, doc.url ?? null, doc.tags ?? [], doc.source, JSON.stringify(doc.metadata ?? {})],
    );
    if (inserted[0]) return { document: toDocument(inserted[0]), created: true };
    const existing = await this.get(id);
    if (!existing) throw new Error(`document ${id} conflicted but cannot be read back`);
    return { document: existing, created: false };
  }

  async get(id: string): Promise<IntelligenceDocument | null> {
    const rows = await this.driver.query<DocumentRow>(
      `SELECT id, title, text, url, tags, source, created_at, metadata FROM ${this.table} WHERE id = $1`,
      [id],
    );
    return rows[0] ? toDocument(rows[0]) : null;
  }

  /**
   * Ranked full-text search: web-search syntax (`"exact phrase"`, `or`, `-exclude`), term-frequency rank (`ts_rank`)
   * normalised to 0..1, title matches weighted above body matches; highlights computed only for the returned rows.
   * `ts_rank`, not the cover-density `ts_rank_cd`: every matching row is ranked before the top ones are kept, and
   * `ts_rank_cd` costs several times as much per row; `ts_rank` also ranks the way the
   * SQLite store's BM25 does, by how often and where (title or text) the words occur.
   * `tags` matches documents carrying all the given tags; `until` is exclusive.
   */
  async search(q: SearchQuery): Promise<SearchHit[]> {
    const limit = searchLimitOf(q);
    const snippet = q.snippets === false ? `''` : `ts_headline('english', left(h.text, ${INDEXED_TEXT_CHARS}), q.query, '${HEADLINE_OPTIONS}')`;
    const rows = await this.driver.queryPrepared<HitRow>(
      `WITH q AS (SELECT websearch_to_tsquery('english', $1) AS query),
       hits AS (
         SELECT d.id, d.title, d.url, d.tags, d.source, d.created_at, d.text,
                ts_rank(d.search, q.query, 32)::float8 AS rank
         FROM ${this.table} d, q
         WHERE d.search @@ q.query
           AND ($2::text[] IS NULL OR d.tags @> $2::text[])
           AND ($3::text IS NULL OR d.source = $3::text)
           AND ($4::timestamptz IS NULL OR d.created_at >= $4::timestamptz)
           AND ($5::timestamptz IS NULL OR d.created_at < $5::timestamptz)
         ORDER BY rank DESC, d.created_at DESC
         LIMIT $6
       )
       SELECT h.id, h.title, h.url, h.tags, h.source, ${ISO_CREATED_AT} AS created_at, h.rank,
              ${snippet} AS snippet
       FROM hits h, q
       ORDER BY h.rank DESC, h.created_at DESC`,
      [q.query, q.tags?.length ? q.tags : null, q.source ?? null, q.since ?? null, q.until ?? null, limit],
    );
    return rows.map((r) => ({
      id: r.id,
      title: r.title,
      url: r.url,
      snippet: r.snippet,
      rank: Number(r.rank),
      tags: r.tags ?? [],
      source: r.source,
      created_at: r.created_at,
    }));
  }

  async ping(): Promise<void> {
    const versions = await appliedVersions(this.driver, this.schemaQ);
    const latest = versions.at(-1)?.version ?? 0;
    if (latest < LATEST_VERSION) {
      throw new Error(`intelligence schema "${this.schema}" is at version ${latest}, expected ${LATEST_VERSION}`);
    }
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}
