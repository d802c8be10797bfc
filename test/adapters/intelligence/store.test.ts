import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LATEST_VERSION, MIGRATIONS } from '../../../src/adapters/intelligence/migrations.js';
import { SQLITE_LATEST_VERSION, SQLITE_MIGRATIONS } from '../../../src/adapters/intelligence/sqlite-store.js';
import type { IntelligenceStore } from '../../../src/adapters/intelligence/store.js';
import { backends, type StoreEnv } from './store-env.js';

for (const backend of backends()) {
  describe(`Intelligence store on ${backend.name}`, () => {
    let env: StoreEnv;
    let store: IntelligenceStore;
    const [migrations, latest] = backend.name === 'SQLite' ? [SQLITE_MIGRATIONS, SQLITE_LATEST_VERSION] : [MIGRATIONS, LATEST_VERSION];

    beforeAll(async () => {
      env = await backend.make('store');
      store = await env.open();
      await seed(store);
    });
    afterAll(async () => {
      await env?.destroy();
    });

    it('reports its backend and answers ping once migrated', async () => {
      expect(store.kind).toBe(env.kind);
      await expect(store.ping()).resolves.toBeUndefined();
      const rows = await env.sql<{ version: number; name: string }>(
        `SELECT version, name FROM "${env.schema}".schema_migrations ORDER BY version`,
      );
      expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
      expect(rows.at(-1)?.version).toBe(latest);
    });

    it('stores and reads back a document with tags, url and metadata', async () => {
      const doc = await store.ingest({
        title: 'Roundtrip',
        text: 'Body of the roundtrip document',
        url: 'https://example.com/r',
        tags: ['a', 'b'],
        source: 'ingest',
        metadata: { nested: { n: 1 }, list: [1, 'two'] },
      });
      expect(doc.id).toMatch(/^doc_[0-9a-f-]{36}$/);
      expect(new Date(doc.created_at).toISOString()).toBe(doc.created_at);
      const read = await store.get(doc.id);
      expect(read).toEqual(doc);
      expect(read).toMatchObject({ url: 'https://example.com/r', tags: ['a', 'b'], source: 'ingest', metadata: { nested: { n: 1 }, list: [1, 'two'] } });
      expect(await store.get('doc_missing')).toBeNull();
    });

    it('keeps the first document when the same id is ingested again', async () => {
      const first = await store.ingestOnce({ id: 'fixed-id', title: 'First', text: 'first text', source: 'callback' });
      const again = await store.ingestOnce({ id: 'fixed-id', title: 'Second', text: 'second text', source: 'callback' });
      expect(first.created).toBe(true);
      expect(again.created).toBe(false);
      expect(again.document).toEqual(first.document);
      expect((await store.ingest({ id: 'fixed-id', title: 'Third', text: 'x', source: 'callback' })).title).toBe('First');
    });

    it('ranks title matches and dense matches first, with highlighted snippets', async () => {
      const hits = await store.search({ query: 'kubernetes' });
      // One title match or four body matches both beat a single body match.
      expect(hits.slice(0, 2).map((h) => h.id).sort()).toEqual(['k-dense', 'k-title']);
      expect(hits[2].id).toBe('k-once');
      expect(hits[0].rank).toBeGreaterThanOrEqual(hits[1].rank);
      expect(hits[1].rank).toBeGreaterThan(hits[2].rank);
      for (const h of hits) {
        expect(h.rank).toBeGreaterThan(0);
        expect(h.rank).toBeLessThan(1);
      }
      expect(hits[2].snippet).toContain('**Kubernetes**');
      expect(hits[2].snippet).not.toContain('**cluster**');
      expect(hits[2]).toMatchObject({ title: 'Ops notes', url: 'https://example.com/ops', tags: ['ops'], source: 'ingest' });
    });

    it('understands web-search syntax: stemming, phrases, exclusion and or', async () => {
      // Stemming: a plural finds the singular (PostgreSQL's Snowball English and SQLite's Porter stemmer agree here;
      // they differ on some derived forms, e.g. Porter does not match "deploying" with "deployment").
      expect((await store.search({ query: 'deployments' })).map((h) => h.id)).toContain('deploy-1');
      expect((await store.search({ query: '"blue green deployment"' })).map((h) => h.id)).toEqual(['deploy-1']);
      expect((await store.search({ query: 'deployment -canary' })).map((h) => h.id)).toEqual(['deploy-1']);
      const either = (await store.search({ query: 'canary or gemini' })).map((h) => h.id).sort();
      expect(either).toEqual(['deploy-2', 'gemini']);
    });

    it('returns nothing (not an error) for unmatched or stop-word-only queries', async () => {
      expect(await store.search({ query: 'zzyzx-unmatched' })).toEqual([]);
      expect(await store.search({ query: 'the and of' })).toEqual([]);
    });

    it('treats search-engine syntax in the query as words, never as an error', async () => {
      for (const query of ['title:kubernetes', 'NEAR(kubernetes pods)', 'kubernet*', '"unterminated kubernetes', '^kubernetes', 'a:b:c "" ()']) {
        await expect(store.search({ query })).resolves.toBeInstanceOf(Array);
      }
      expect((await store.search({ query: 'kubernetes', snippets: false })).every((h) => h.snippet === '')).toBe(true);
    });

    it('filters by tags (all must match), source and date range, and honours limit', async () => {
      const ids = async (q: Parameters<IntelligenceStore['search']>[0]) => (await store.search(q)).map((h) => h.id).sort();
      expect(await ids({ query: 'deployment', tags: ['cloud-run'] })).toEqual(['deploy-1', 'deploy-2']);
      expect(await ids({ query: 'deployment', tags: ['cloud-run', 'prod'] })).toEqual(['deploy-1']);
      expect(await ids({ query: 'deployment', source: 'autobuilder' })).toEqual(['deploy-2']);
      expect(await ids({ query: 'kubernetes', source: 'callback' })).toEqual([]);

      await env.sql(`UPDATE "${env.schema}".documents SET created_at = '2020-01-15T00:00:00Z' WHERE id = 'deploy-2'`);
      expect(await ids({ query: 'deployment', since: '2021-01-01T00:00:00Z' })).toEqual(['deploy-1']);
      expect(await ids({ query: 'deployment', until: '2021-01-01T00:00:00Z' })).toEqual(['deploy-2']);
      expect(await ids({ query: 'deployment', since: '2020-01-15T00:00:00Z', until: '2020-01-16T00:00:00Z' })).toEqual(['deploy-2']);
      expect(await ids({ query: 'deployment', until: '2020-01-15T00:00:00Z' })).toEqual([]);

      expect(await store.search({ query: 'kubernetes', limit: 2 })).toHaveLength(2);
    });

    it('applies migrations once: reopening and concurrent opens leave one row per version', async () => {
      const [a, b] = await Promise.all([env.open(), env.open()]);
      await Promise.all([a.ping(), b.ping()]);
      await store.ping();
      const rows = await env.sql<{ n: string | number }>(`SELECT count(*) AS n FROM "${env.schema}".schema_migrations`);
      expect(Number(rows[0].n)).toBe(migrations.length);
      expect(await store.get('k-title')).not.toBeNull();
    });

    it('gives a hit the created_at its document reads back with, to the millisecond', async () => {
      const doc = await store.ingest({ id: 'when-1', title: 'Timestamp probe', text: 'chronometry of hits', source: 'ingest' });
      // Microseconds the store keeps but a JavaScript Date cannot: both reads must drop them the same way.
      if (env.kind === 'postgres') await env.sql(`UPDATE "${env.schema}".documents SET created_at = '2021-03-04T05:06:07.891999Z' WHERE id = 'when-1'`);
      const read = await store.get(doc.id);
      const [hit] = await store.search({ query: 'chronometry' });
      expect(hit?.id).toBe('when-1');
      expect(hit?.created_at).toBe(read?.created_at);
      if (env.kind === 'postgres') expect(hit?.created_at).toBe('2021-03-04T05:06:07.891Z');
    });

    it.runIf(backend.name === 'PostgreSQL')('keeps the search index pending list small, also on a schema made at version 1', async () => {
      const reloptions = async (schema: string) =>
        (await env.sql<{ reloptions: string[] | null }>(`SELECT reloptions FROM pg_class WHERE oid = '"${schema}".documents_search_idx'::regclass`))[0]
          .reloptions;
      expect(await reloptions(env.schema)).toEqual(['gin_pending_list_limit=64']);

      const old = await backend.make('v1');
      try {
        await old.sql(`CREATE SCHEMA "${old.schema}"`);
        await old.sql(`CREATE TABLE "${old.schema}".schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
        await old.sql(MIGRATIONS[0].sql.replaceAll('{{schema}}', `"${old.schema}"`));
        await old.sql(`INSERT INTO "${old.schema}".schema_migrations (version, name) VALUES (1, 'documents')`);
        await old.sql(`INSERT INTO "${old.schema}".documents (id, title, text, source) VALUES ('before', 'Written at version 1', 'kubernetes notes', 'ingest')`);
        expect(await reloptions(old.schema)).toBeNull();
        const upgraded = await old.open();
        expect(await reloptions(old.schema)).toEqual(['gin_pending_list_limit=64']);
        expect((await upgraded.search({ query: 'kubernetes' })).map((h) => h.id)).toEqual(['before']);
      } finally {
        await old.destroy();
      }
    });

    it.runIf(backend.name === 'PostgreSQL')('migrates a fresh schema exactly once when several hubs open it at the same time', async () => {
      const fresh = await backend.make('race');
      try {
        const stores = await Promise.all([fresh.open(), fresh.open(), fresh.open()]);
        for (const s of stores) await s.ping();
        const rows = await fresh.sql<{ n: string | number }>(`SELECT count(*) AS n FROM "${fresh.schema}".schema_migrations`);
        expect(Number(rows[0].n)).toBe(migrations.length);
      } finally {
        await fresh.destroy();
      }
    });
  });
}

async function seed(store: IntelligenceStore): Promise<void> {
  const docs = [
    { id: 'k-title', title: 'Kubernetes primer', text: 'Pods, services and controllers explained.', tags: ['k8s'] },
    {
      id: 'k-dense',
      title: 'Cluster handbook',
      text: 'Kubernetes scheduling. Kubernetes networking. Kubernetes storage and Kubernetes upgrades.',
      tags: ['k8s'],
    },
    {
      id: 'k-once',
      title: 'Ops notes',
      text: 'Many long unrelated words about budgets and staffing come first here, then one cluster runs Kubernetes at the very end of the note.',
      url: 'https://example.com/ops',
      tags: ['ops'],
    },
    { id: 'deploy-1', title: 'Release plan', text: 'We use a blue green deployment for the API.', tags: ['cloud-run', 'prod'] },
    { id: 'deploy-2', title: 'Autobuilder output', text: 'A canary deployment was prepared.', tags: ['cloud-run'], source: 'autobuilder' as const },
    { id: 'gemini', title: 'Model notes', text: 'Gemini generates text.', tags: [] },
  ];
  for (const d of docs) await store.ingest({ source: 'ingest', ...d });
}
