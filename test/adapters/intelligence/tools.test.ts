import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { system } from '../../../src/adapters/intelligence/index.js';
import type { IntelligenceStore } from '../../../src/adapters/intelligence/store.js';
import { intelligenceIngest, intelligenceQuery } from '../../../src/adapters/intelligence/tools.js';
import type { HubDeps } from '../../../src/deps.js';
import { runTool, toolContext } from '../../helpers/context.js';
import { depsWith, sqliteEnv, type StoreEnv } from './store-env.js';

describe('intelligence tools (embedded SQLite)', () => {
  let env: StoreEnv;
  let store: IntelligenceStore;
  let deps: HubDeps;
  const ctx = () => toolContext(env.config, { services: deps, principal: 'key:abc', callId: 'call-42' });

  beforeAll(async () => {
    env = await sqliteEnv('tools');
    store = await env.open();
    deps = depsWith(store);
  });
  afterAll(async () => env?.destroy());

  it('declares the contract names, levels and annotations', () => {
    expect(system.id).toBe('intelligence');
    expect(system.tools.map((t) => [t.name, t.level])).toEqual([
      ['intelligence_ingest', 'MEDIUM'],
      ['intelligence_query', 'LOW'],
    ]);
    expect(intelligenceQuery.annotations.readOnlyHint).toBe(true);
    expect(intelligenceIngest.annotations.readOnlyHint).toBe(false);
    expect(system.missingConfig(env.config)).toBeNull();
    for (const t of system.tools) expect(t.description.length).toBeLessThanOrEqual(300);
  });

  it('ingest stores the document (normalised tags, caller in metadata) and query finds it with a highlight', async () => {
    const out = await runTool(
      intelligenceIngest,
      { title: 'Cloud Run checklist', text: 'Set min instances before the launch. Memory limits matter.', url: 'https://example.com/c', tags: [' Cloud-Run ', 'cloud-run', 'Launch'] },
      ctx(),
    );
    expect(out).toMatchObject({ title: 'Cloud Run checklist', url: 'https://example.com/c', tags: ['cloud-run', 'launch'], source: 'ingest', chars: 58 });
    expect(intelligenceIngest.output!.parse(out)).toEqual(out);
    const stored = await store.get(String(out.id));
    expect(stored?.metadata).toEqual({ principal: 'key:abc', call_id: 'call-42' });

    const q = await runTool(intelligenceQuery, { query: 'launch instances', tags: ['LAUNCH'] }, ctx());
    expect(intelligenceQuery.output!.parse(q)).toEqual(q);
    expect(q).toMatchObject({ query: 'launch instances', count: 1 });
    const hit = (q.hits as { id: string; snippet: string }[])[0];
    expect(hit.id).toBe(out.id);
    expect(hit.snippet).toContain('**instances**');
    expect(hit.snippet).toContain('**launch**');
  });

  it('query filters by source and by a date-only until that includes the whole day', async () => {
    await store.ingest({ id: 'old', title: 'Old runbook', text: 'rollback procedure', source: 'autobuilder' });
    await env.sql(`UPDATE "${env.schema}".documents SET created_at = '2024-03-10T23:30:00Z' WHERE id = 'old'`);
    const run = (args: Record<string, unknown>) => runTool(intelligenceQuery, { query: 'rollback', ...args }, ctx());
    expect((await run({ until: '2024-03-10' })).count).toBe(1);
    expect((await run({ until: '2024-03-09' })).count).toBe(0);
    expect((await run({ since: '2024-03-11' })).count).toBe(0);
    expect((await run({ source: 'ingest' })).count).toBe(0);
    expect((await run({ source: 'autobuilder', limit: 1 })).count).toBe(1);
  });

  it('rejects bad arguments with the field named', () => {
    const bad = (args: unknown) => {
      try {
        intelligenceQuery.input.parse(args);
      } catch (err) {
        return (err as ZodError).issues.map((i) => i.path.join('.'));
      }
      return [];
    };
    expect(bad({ query: '' })).toEqual(['query']);
    expect(bad({ query: 'x', limit: 500 })).toEqual(['limit']);
    expect(bad({ query: 'x', since: 'yesterday' })).toEqual(['since']);
    expect(bad({ query: 'x', source: 'web' })).toEqual(['source']);
    expect(() => intelligenceIngest.input.parse({ title: 't', text: 'x', url: 'not a url' })).toThrow(ZodError);
    expect(() => intelligenceIngest.input.parse({ title: 't', text: 'x', url: 'javascript:alert(1)' })).toThrow(ZodError);
  });

  it('check() reports the embedded store as connected, and a failing store as failed', async () => {
    expect(await system.check(env.config, deps, AbortSignal.timeout(10_000))).toEqual({ state: 'connected', detail: 'embedded SQLite' });
    const broken = depsWith(() => Promise.reject(new Error('disk full')));
    expect(await system.check(env.config, broken, AbortSignal.timeout(10_000))).toEqual({ state: 'failed', reason: 'disk full' });
  });
});
