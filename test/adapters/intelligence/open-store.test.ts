import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { system } from '../../../src/adapters/intelligence/index.js';
import { migrate } from '../../../src/adapters/intelligence/migrations.js';
import { DEFAULT_SCHEMA, lazyIntelligenceStore } from '../../../src/adapters/intelligence/open-store.js';
import { pgliteDir } from '../../../src/adapters/intelligence/sqlite-open.js';
import type { SqlDriver } from '../../../src/adapters/intelligence/sql-driver.js';
import { SqlIntelligenceStore } from '../../../src/adapters/intelligence/sql-store.js';
import type { IntelligenceDocument } from '../../../src/adapters/intelligence/store.js';
import { runImportPgliteCommand } from '../../../src/cli/import-pglite.js';
import { testConfig } from '../../helpers/config.js';
import { depsWith } from './store-env.js';

describe('lazyIntelligenceStore (embedded default)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'omni-intel-lazy-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('opens once in DATA_DIR/intelligence.sqlite, shares the store, and retries after a failed open', async () => {
    const dataDir = path.join(dir, 'data');
    await writeFile(dataDir, 'a file where the data directory should be');
    const lazy = lazyIntelligenceStore(testConfig({ DATA_DIR: dataDir }));

    await expect(lazy.get()).rejects.toThrow();
    await rm(dataDir);

    const [a, b] = await Promise.all([lazy.get(), lazy.get()]);
    expect(a).toBe(b);
    expect(a.kind).toBe('sqlite');
    await a.ping();
    expect((await stat(path.join(dataDir, 'intelligence.sqlite'))).isFile()).toBe(true);
    const doc = await a.ingest({ title: 'persisted', text: 'survives a restart', source: 'ingest' });
    await lazy.close();

    const reopened = lazyIntelligenceStore(testConfig({ DATA_DIR: dataDir }));
    expect((await (await reopened.get()).get(doc.id))?.text).toBe('survives a restart');
    await reopened.close();
  });

  it('refuses to open over an unimported PGlite store of an earlier version; the import command copies it once', async () => {
    const dataDir = path.join(dir, 'legacy');
    const config = testConfig({ DATA_DIR: dataDir });
    const old = await writeLegacyPgliteStore(pgliteDir(config));

    const before = lazyIntelligenceStore(config);
    await expect(before.get()).rejects.toThrow(/holds an embedded store of an earlier version \(PGlite\).*npm run import:pglite/);
    expect(await system.check(config, depsWith(() => before.get()), AbortSignal.timeout(10_000))).toMatchObject({
      state: 'failed',
      reason: expect.stringContaining('npm run import:pglite'),
    });

    const out: string[] = [];
    const io = { stdout: (t: string) => out.push(t), stderr: (t: string) => out.push(t) };
    expect(await runImportPgliteCommand([], { DATA_DIR: dataDir }, io)).toBe(0);
    expect(out.join('')).toMatch(/^imported 2 document\(s\) from .*pglite into .*intelligence\.sqlite\n$/);

    const lazy = lazyIntelligenceStore(config);
    const store = await lazy.get();
    expect(store.kind).toBe('sqlite');
    expect(await store.get(old.id)).toEqual(old);
    expect((await store.search({ query: 'kubernetes certificates' })).map((h) => h.id)).toEqual([old.id]);
    await store.ingest({ title: 'New', text: 'Written after the import.', source: 'ingest' });
    await lazy.close();

    // A second run does not import again: the PGlite directory is left as it was, the SQLite store keeps its own writes.
    out.length = 0;
    expect(await runImportPgliteCommand([], { DATA_DIR: dataDir }, io)).toBe(0);
    expect(out.join('')).toMatch(/imported into .* before; nothing to do/);
    const again = lazyIntelligenceStore(config);
    const reopened = await again.get();
    expect((await reopened.search({ query: 'legacy' })).length).toBe(2);
    expect((await reopened.search({ query: 'written import' })).length).toBe(1);
    expect((await stat(path.join(dataDir, 'pglite', 'PG_VERSION'))).isFile()).toBe(true);
    await again.close();
    // PGlite starts twice here (create, then import): slow WASM start-ups on a busy machine, not a timing assertion.
  }, 180_000);

  it('the import command says what is wrong: no PGlite store, DATABASE_URL set, unknown argument', async () => {
    const err: string[] = [];
    const io = { stdout: () => {}, stderr: (t: string) => err.push(t) };
    expect(await runImportPgliteCommand([], { DATA_DIR: path.join(dir, 'empty') }, io)).toBe(1);
    expect(err.pop()).toMatch(/no PGlite store in .*pglite \(it has no PG_VERSION file\)/);
    expect(await runImportPgliteCommand([], { DATA_DIR: dir, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x' }, io)).toBe(1);
    expect(err.pop()).toMatch(/DATABASE_URL is set/);
    expect(await runImportPgliteCommand(['--from'], { DATA_DIR: dir }, io)).toBe(1);
    expect(err.pop()).toMatch(/unknown argument "--from"/);
  });

  it('an unreachable DATABASE_URL fails the open and the connection check, with the reason', async () => {
    const lazy = lazyIntelligenceStore(testConfig({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' }));
    await expect(lazy.get()).rejects.toThrow(/ECONNREFUSED/);
    expect(await system.check(testConfig(), depsWith(() => lazy.get()), AbortSignal.timeout(10_000))).toMatchObject({
      state: 'failed',
      reason: expect.stringContaining('ECONNREFUSED'),
    });
  });
});

/**
 * An embedded store as earlier versions of the hub wrote it: PGlite in `dir`, migrated and filled through the same SQL
 * store the PostgreSQL backend uses (PGlite speaks PostgreSQL's SQL). Returns the first of its two documents.
 */
async function writeLegacyPgliteStore(dir: string): Promise<IntelligenceDocument> {
  await mkdir(dir, { recursive: true });
  const db = await PGlite.create(dir);
  const driver: SqlDriver = {
    kind: 'postgres',
    query: async <T>(sql: string, params: unknown[] = []) => (await db.query<T>(sql, params)).rows,
    queryPrepared: async <T>(sql: string, params: unknown[]) => (await db.query<T>(sql, params)).rows,
    transaction: <T>(fn: Parameters<SqlDriver['transaction']>[0]) =>
      db.transaction((tx) => fn({ query: async <R>(sql: string, params: unknown[] = []) => (await tx.query<R>(sql, params)).rows })) as Promise<T>,
    close: () => db.close(),
  };
  await migrate(driver, DEFAULT_SCHEMA);
  const legacy = new SqlIntelligenceStore(driver, DEFAULT_SCHEMA);
  const old = await legacy.ingest({ title: 'Legacy runbook', text: 'Rotate the kubernetes certificates yearly.', tags: ['ops'], source: 'callback', metadata: { call_id: 'c1' } });
  await legacy.ingest({ title: 'Second', text: 'Another legacy note.', source: 'ingest' });
  await legacy.close();
  return old;
}
