import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openIntelligenceStore } from '../../../src/adapters/intelligence/open-store.js';
import type { IntelligenceStore } from '../../../src/adapters/intelligence/store.js';
import { testConfig } from '../../helpers/config.js';
import { ROOT } from '../../helpers/spawn-hub.js';

describe('embedded store search worker', () => {
  let dir: string;
  let store: IntelligenceStore;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'omni-intel-worker-'));
    store = await openIntelligenceStore(testConfig({ DATA_DIR: dir }));
  });
  afterAll(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('sees each write at once, answers concurrent searches, and replaces a worker that died', async () => {
    await store.ingest({ title: 'Worker note', text: 'quokka habitat survey', source: 'ingest' });
    expect((await store.search({ query: 'quokka' })).map((h) => h.title)).toEqual(['Worker note']);

    const many = await Promise.all(Array.from({ length: 50 }, (_, i) => store.search({ query: i % 2 ? 'quokka' : 'habitat', snippets: i % 3 === 0 })));
    expect(many.every((hits) => hits.length === 1)).toBe(true);

    // Kill the worker thread the way a crash would: a search in flight either got its answer first or fails with a
    // clear error (never hangs), and the next search gets a new worker.
    const reader = (store as unknown as { reader: { worker: { terminate(): Promise<number> } | null } }).reader;
    const pending = store.search({ query: 'quokka' }).then(
      () => 'answered',
      (err: Error) => err.message,
    );
    await reader.worker!.terminate();
    expect(await pending).toMatch(/^answered$|worker stopped/);
    await store.ingest({ title: 'After the crash', text: 'quokka census', source: 'ingest' });
    expect((await store.search({ query: 'quokka' })).length).toBe(2);
  });

  it('a closed store refuses searches with a clear error', async () => {
    const other = await openIntelligenceStore(testConfig({ DATA_DIR: path.join(dir, 'closed') }));
    await other.close();
    await expect(other.search({ query: 'anything' })).rejects.toThrow(/closed/);
  });

  it('searches in a process started with --input-type=module, whose flag the worker inherits', async () => {
    const module = (file: string) => JSON.stringify(pathToFileURL(path.join(ROOT, 'dist', file)).href);
    const script = `
      const { openIntelligenceStore } = await import(${module('adapters/intelligence/open-store.js')});
      const { loadConfig } = await import(${module('config.js')});
      const store = await openIntelligenceStore(loadConfig({ MCP_API_KEY: 'test-key-0123456789abcdef', LOG_LEVEL: 'silent', DATA_DIR: ${JSON.stringify(path.join(dir, 'esm'))} }));
      await store.ingest({ title: 'ESM note', text: 'numbat sighting', source: 'ingest' });
      process.stdout.write(JSON.stringify((await store.search({ query: 'numbat' })).map((h) => h.title)));
      await store.close();`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000 });
    expect(JSON.parse(stdout)).toEqual(['ESM note']);
  });
});
