import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { system } from '../../../src/adapters/connector/index.js';
import { FETCH_TEXT_CHARS, fetchDocument, search } from '../../../src/adapters/connector/tools.js';
import type { IntelligenceStore } from '../../../src/adapters/intelligence/store.js';
import type { HubDeps } from '../../../src/deps.js';
import { HubError } from '../../../src/tools/errors.js';
import { runTool, toolContext } from '../../helpers/context.js';
import { depsWith, sqliteEnv, type StoreEnv } from '../intelligence/store-env.js';

describe('ChatGPT connector search/fetch over the Intelligence store (embedded SQLite)', () => {
  let env: StoreEnv;
  let store: IntelligenceStore;
  let deps: HubDeps;
  const ctx = () => toolContext(env.config, { services: deps });

  beforeAll(async () => {
    env = await sqliteEnv('connector');
    store = await env.open();
    deps = depsWith(store);
    await store.ingest({ id: 'web-1', title: 'Quarterly revenue report', text: 'Revenue grew 12% in Q3.', url: 'https://example.com/q3', tags: ['finance'], source: 'ingest', metadata: { author: 'cfo' } });
    await store.ingest({ id: 'note-1', title: 'Meeting note', text: 'Discussed revenue targets for Q4.', source: 'ingest' });
    await store.ingest({ id: 'big-1', title: 'Large export', text: `glacier ${'x'.repeat(FETCH_TEXT_CHARS + 500)}`, source: 'autobuilder' });
  });
  afterAll(async () => env?.destroy());

  it('declares search and fetch as LOW read-only tools', () => {
    expect(system).toMatchObject({ id: 'connector', title: 'ChatGPT connector' });
    expect(system.tools.map((t) => [t.name, t.level, t.annotations.readOnlyHint])).toEqual([
      ['search', 'LOW', true],
      ['fetch', 'LOW', true],
    ]);
    expect(system.missingConfig(env.config)).toBeNull();
    expect(Object.keys(search.input.shape)).toEqual(['query']);
    expect(Object.keys(fetchDocument.input.shape)).toEqual(['id']);
  });

  it('search returns {results: [{id, title, url}]} best first, with a stable URI for documents without a url', async () => {
    const out = await runTool(search, { query: 'revenue' }, ctx());
    expect(out).toEqual({
      results: [
        { id: 'web-1', title: 'Quarterly revenue report', url: 'https://example.com/q3' },
        { id: 'note-1', title: 'Meeting note', url: 'intelligence://documents/note-1' },
      ],
    });
    expect(await runTool(search, { query: 'nothing-matches-this' }, ctx())).toEqual({ results: [] });
  });

  it('fetch returns {id, title, text, url, metadata}', async () => {
    const out = await runTool(fetchDocument, { id: 'web-1' }, ctx());
    expect(fetchDocument.output!.parse(out)).toEqual(out);
    expect(out).toMatchObject({
      id: 'web-1',
      title: 'Quarterly revenue report',
      text: 'Revenue grew 12% in Q3.',
      url: 'https://example.com/q3',
      metadata: { author: 'cfo', source: 'ingest', tags: ['finance'] },
    });
    expect((out.metadata as Record<string, unknown>).truncated).toBeUndefined();
  });

  it('fetch cuts very long text and says so', async () => {
    const out = await runTool(fetchDocument, { id: 'big-1' }, ctx());
    expect(String(out.text).length).toBeLessThanOrEqual(FETCH_TEXT_CHARS + 1);
    expect(out.metadata).toMatchObject({ truncated: true, total_chars: FETCH_TEXT_CHARS + 508 });
  });

  it('fetch of an unknown id is not_found', async () => {
    const err = await runTool(fetchDocument, { id: 'missing' }, ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).code).toBe('not_found');
  });

  it('check() probes the store', async () => {
    expect(await system.check(env.config, deps, AbortSignal.timeout(10_000))).toEqual({ state: 'connected', detail: 'embedded SQLite' });
  });
});
