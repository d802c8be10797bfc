import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { system } from '../../../src/adapters/intelligence/index.js';
import { lazyIntelligenceStore } from '../../../src/adapters/intelligence/open-store.js';
import { testConfig } from '../../../src/config.js';
import { depsWith } from './store-env.js';

describe('lazyIntelligenceStore (embedded default)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'omni-intel-lazy-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('opens once in DATA_DIR/pglite, shares the store, and retries after a failed open', async () => {
    const dataDir = path.join(dir, 'data');
    await writeFile(dataDir, 'a file where the data directory should be');
    const lazy = lazyIntelligenceStore(testConfig({ DATA_DIR: dataDir }));

    await expect(lazy.get()).rejects.toThrow();
    await rm(dataDir);

    const [a, b] = await Promise.all([lazy.get(), lazy.get()]);
    expect(a).toBe(b);
    expect(a.kind).toBe('pglite');
    await a.ping();
    expect((await stat(path.join(dataDir, 'pglite'))).isDirectory()).toBe(true);
    const doc = await a.ingest({ title: 'persisted', text: 'survives a restart', source: 'ingest' });
    await lazy.close();

    const reopened = lazyIntelligenceStore(testConfig({ DATA_DIR: dataDir }));
    expect((await (await reopened.get()).get(doc.id))?.text).toBe('survives a restart');
    await reopened.close();
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
