import type { Queryable, SqlDriver } from './sql-driver.js';

/**
 * Ordered, append-only schema migrations of the Intelligence store. Applied automatically when the store opens, so a
 * "database not initialized" state cannot be observed. Never edit a released entry: add a new version instead.
 * `{{schema}}` is replaced by the quoted schema name.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Text beyond this many characters is stored but not indexed (a tsvector is limited to 1 MB). */
export const INDEXED_TEXT_CHARS = 200_000;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'documents',
    sql: `
      CREATE TABLE {{schema}}.documents (
        id          text PRIMARY KEY,
        title       text NOT NULL,
        text        text NOT NULL,
        url         text,
        tags        text[] NOT NULL DEFAULT '{}',
        source      text NOT NULL CHECK (source IN ('ingest', 'autobuilder', 'callback')),
        created_at  timestamptz NOT NULL DEFAULT now(),
        metadata    jsonb NOT NULL DEFAULT '{}'::jsonb,
        search      tsvector GENERATED ALWAYS AS (
          setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
          setweight(to_tsvector('english', left(coalesce(text, ''), ${INDEXED_TEXT_CHARS})), 'B')
        ) STORED
      );
      CREATE INDEX documents_search_idx ON {{schema}}.documents USING gin (search);
      CREATE INDEX documents_tags_idx ON {{schema}}.documents USING gin (tags);
      CREATE INDEX documents_created_at_idx ON {{schema}}.documents (created_at DESC);
      CREATE INDEX documents_source_idx ON {{schema}}.documents (source, created_at DESC);
    `,
  },
  {
    // New documents wait in the search index's pending list until it reaches this size (kB), and every search reads
    // the whole list: with the 4 MB default, searches after an ingest burst cost markedly more. 64 kB (the least
    // PostgreSQL takes) keeps that read small without slowing ingest (docs/intelligence-chatgpt.md, "PostgreSQL search
    // cost").
    version: 2,
    name: 'small search pending list',
    sql: `
      ALTER INDEX {{schema}}.documents_search_idx SET (gin_pending_list_limit = 64);
      SELECT gin_clean_pending_list('{{schema}}.documents_search_idx'::regclass)
    `,
  },
];

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Validates and quotes a schema name (it is interpolated into SQL, so only plain lowercase identifiers). */
export function quoteSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid intelligence schema name "${schema}"`);
  return `"${schema}"`;
}

/**
 * Creates the schema and applies every pending migration in one transaction, serialised across processes by a
 * transaction-scoped advisory lock keyed on the schema name (two hub replicas starting together migrate once).
 * Returns the versions applied by this call.
 */
export async function migrate(driver: SqlDriver, schema: string): Promise<number[]> {
  const q = quoteSchema(schema);
  return driver.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`omni-hub:intelligence:${schema}`]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${q}`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS ${q}.schema_migrations (
         version    integer PRIMARY KEY,
         name       text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const done = new Set((await appliedVersions(tx, q)).map((r) => r.version));
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      for (const statement of splitStatements(m.sql.replaceAll('{{schema}}', q))) await tx.query(statement);
      await tx.query(`INSERT INTO ${q}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}

export function appliedVersions(db: Queryable, quotedSchema: string): Promise<{ version: number }[]> {
  return db.query<{ version: number }>(`SELECT version FROM ${quotedSchema}.schema_migrations ORDER BY version`);
}

/** Migration texts hold several statements; extended-protocol queries take one at a time. No `;` inside literals. */
function splitStatements(sql: string): string[] {
  return sql
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
}

export const LATEST_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));
