import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { autoBuilderExecute } from '../../../src/adapters/chatgpt/tools.js';
import { callbackDocumentId } from '../../../src/adapters/intelligence/ids.js';
import type { IntelligenceStore } from '../../../src/adapters/intelligence/store.js';
import { fetchDocument, search } from '../../../src/adapters/connector/tools.js';
import { testConfig } from '../../helpers/config.js';
import type { HubDeps } from '../../../src/deps.js';
import { MemoryAuditStore } from '../../../src/governance/memory-audit-store.js';
import { callbackRoutes, type StoredCallback } from '../../../src/http/callbacks.js';
import { startFakeAutoBuilder } from '../../fakes/autobuilder.js';
import { runTool, toolContext } from '../../helpers/context.js';
import { depsWith, sqliteEnv, type StoreEnv } from '../intelligence/store-env.js';

const MAX_BYTES = 64 * 1024;

describe('POST /v1/callbacks/chatgpt and GET /v1/callbacks/:correlation_id', () => {
  let env: StoreEnv;
  let store: IntelligenceStore;
  let deps: HubDeps;
  let app: FastifyInstance;
  const audit = new MemoryAuditStore(100);
  const seen: { callback: StoredCallback; duplicate: boolean }[] = [];

  beforeAll(async () => {
    env = await sqliteEnv('callbacks');
    store = await env.open();
    deps = depsWith(store, audit);
    app = Fastify();
    await app.register(callbackRoutes, { deps, maxBytes: MAX_BYTES, onStored: (callback, duplicate) => seen.push({ callback, duplicate }) });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await env?.destroy();
  });

  const post = (payload: unknown) => app.inject({ method: 'POST', url: '/v1/callbacks/chatgpt', payload: payload as object });

  it('stores a callback (201), answers a repeat with the same record (200, duplicate) and serves it by correlation id', async () => {
    const body = { correlation_id: 'corr-1', status: 'success', result: { pr: 'https://github.com/o/r/pull/1' } };
    const first = await post(body);
    expect(first.statusCode).toBe(201);
    const created = first.json() as { duplicate: boolean; callback: StoredCallback };
    expect(created.duplicate).toBe(false);
    expect(created.callback).toMatchObject({
      id: callbackDocumentId('corr-1'),
      correlation_id: 'corr-1',
      status: 'success',
      result: { pr: 'https://github.com/o/r/pull/1' },
      error: null,
      autobuilder_document_id: null,
    });

    const repeat = await post({ ...body, result: 'a different payload' });
    expect(repeat.statusCode).toBe(200);
    expect(repeat.json()).toEqual({ duplicate: true, callback: created.callback });
    expect(seen.map((s) => s.duplicate)).toEqual([false, true]);
    const { records } = await audit.list({ tool: 'chatgpt_callback' });
    expect(records.map((r) => [r.outcome, r.args])).toEqual([
      ['ok', { correlation_id: 'corr-1', status: 'success', duplicate: true, document_id: created.callback.id }],
      ['ok', { correlation_id: 'corr-1', status: 'success', duplicate: false, document_id: created.callback.id }],
    ]);
    expect(records[0]).toMatchObject({ system: 'chatgpt', transport: 'rest', principal: 'unknown' });

    const doc = await store.get(created.callback.id);
    expect(doc).toMatchObject({ source: 'callback', tags: ['autobuilder-callback', 'status:success'] });
    expect(doc?.text).toContain('github.com/o/r/pull/1');

    const got = await app.inject({ method: 'GET', url: '/v1/callbacks/corr-1' });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual({ callback: created.callback });
  });

  it('accepts an error callback carrying only an error message', async () => {
    const res = await post({ correlation_id: 'corr-err', status: 'ERROR', error: 'build failed: missing Dockerfile' });
    expect(res.statusCode).toBe(201);
    expect((res.json() as { callback: StoredCallback }).callback).toMatchObject({ status: 'error', result: null, error: 'build failed: missing Dockerfile' });
    expect((await store.search({ query: 'Dockerfile', source: 'callback' })).map((h) => h.id)).toEqual([callbackDocumentId('corr-err')]);
  });

  it('answers 400 JSON naming each bad field', async () => {
    const res = await post({ correlation_id: 42, status: '' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/json');
    const { error } = res.json() as { error: { code: string; message: string; issues: { path: string; message: string }[] } };
    expect(error.code).toBe('invalid_arguments');
    expect(error.issues.map((i) => i.path).sort()).toEqual(['correlation_id', 'result', 'status']);
    expect(error.message).toContain('correlation_id');

    const missing = await post({ correlation_id: 'corr-x' });
    expect(missing.statusCode).toBe(400);
    expect((missing.json() as { error: { issues: { path: string }[] } }).error.issues.map((i) => i.path)).toEqual(['result']);

    const notObject = await post([1, 2]);
    expect(notObject.statusCode).toBe(400);
    expect((notObject.json() as { error: { issues: { path: string }[] } }).error.issues[0].path).toBe('(body)');
    expect(await store.get(callbackDocumentId('corr-x'))).toBeNull();
    const invalid = (await audit.list({ tool: 'chatgpt_callback', outcome: 'invalid' })).records;
    expect(invalid.map((r) => r.args)).toEqual([{ correlation_id: null }, { correlation_id: 'corr-x' }, { correlation_id: null }]);
    expect(invalid[0].error?.code).toBe('invalid_arguments');
  });

  it('refuses a result over CALLBACK_MAX_BYTES with 413 naming the limit, stores nothing and audits the refusal', async () => {
    const res = await post({ correlation_id: 'corr-big', status: 'success', result: { blob: 'x'.repeat(MAX_BYTES) } });
    expect(res.statusCode).toBe(413);
    const { error } = res.json() as { error: { code: string; message: string; limit_bytes: number; stored_bytes: number } };
    expect(error.code).toBe('payload_too_large');
    expect(error.message).toContain(`${MAX_BYTES}-byte limit (CALLBACK_MAX_BYTES)`);
    expect(error.limit_bytes).toBe(MAX_BYTES);
    expect(error.stored_bytes).toBeGreaterThan(MAX_BYTES);
    expect(await store.get(callbackDocumentId('corr-big'))).toBeNull();
    const { records } = await audit.list({ tool: 'chatgpt_callback', outcome: 'invalid' });
    expect(records[0]).toMatchObject({ args: { correlation_id: 'corr-big' }, error: { code: 'payload_too_large' } });

    // Within the bound is stored (the result counts twice: as searchable text and in the metadata).
    const fits = await post({ correlation_id: 'corr-fits', status: 'success', result: { blob: 'y'.repeat(MAX_BYTES / 3) } });
    expect(fits.statusCode).toBe(201);
  });

  it('answers 404 JSON for an unknown correlation id', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/callbacks/never-sent' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'not_found', message: 'no callback received for correlation_id "never-sent"' } });
  });

  it('answers 503 JSON when the store is down', async () => {
    const down = Fastify();
    await down.register(callbackRoutes, { deps: depsWith(() => Promise.reject(new Error('connection refused'))), maxBytes: MAX_BYTES });
    try {
      const res = await down.inject({ method: 'POST', url: '/v1/callbacks/chatgpt', payload: { correlation_id: 'c', result: 1 } });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ error: { code: 'internal_error', message: 'Intelligence store unavailable: connection refused' } });
    } finally {
      await down.close();
    }
  });
});

describe('Auto Builder round trip: execute → callback over HTTP → search → fetch', () => {
  let env: StoreEnv;
  let deps: HubDeps;
  let hub: FastifyInstance;
  let hubUrl: string;

  beforeAll(async () => {
    env = await sqliteEnv('roundtrip');
    deps = depsWith(await env.open());
    hub = Fastify();
    await hub.register(callbackRoutes, { deps, maxBytes: testConfig().callbackMaxBytes });
    hubUrl = await hub.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await hub?.close();
    await env?.destroy();
  });

  it('links the asynchronous result to the call and makes it searchable', async () => {
    const fake = await startFakeAutoBuilder();
    try {
      fake.mode = { kind: 'success', result: { summary: 'repository skeleton generated' } };
      fake.callback = { status: 'success', result: { deployment: 'zephyrine service deployed to staging' } };
      const config = testConfig({ CHATGPT_MCP_ENDPOINT: fake.url, PUBLIC_URL: hubUrl });
      const ctx = toolContext(config, { services: deps, callId: 'audit-rec-123' });

      const out = await runTool(autoBuilderExecute, { command: 'build and deploy zephyrine' }, ctx);
      expect(out).toMatchObject({ status: 'success', correlation_id: 'audit-rec-123', callback_url: `${hubUrl}/v1/callbacks/chatgpt` });

      expect(fake.deliveries).toHaveLength(1);
      const delivered = await fake.deliveries[0];
      expect(delivered.status).toBe(201);
      expect(delivered.body).toMatchObject({
        duplicate: false,
        callback: { id: callbackDocumentId('audit-rec-123'), correlation_id: 'audit-rec-123', status: 'success' },
      });

      const found = await runTool(search, { query: 'zephyrine staging' }, ctx);
      const results = found.results as { id: string; title: string; url: string }[];
      expect(results.map((r) => r.id)).toEqual([callbackDocumentId('audit-rec-123')]);
      expect(results[0]).toEqual({
        id: callbackDocumentId('audit-rec-123'),
        title: 'Auto Builder callback audit-rec-123 (success)',
        url: `intelligence://documents/${callbackDocumentId('audit-rec-123')}`,
      });
      expect(search.output!.parse(found)).toEqual(found);

      const doc = await runTool(fetchDocument, { id: results[0].id }, ctx);
      expect(fetchDocument.output!.parse(doc)).toEqual(doc);
      expect(doc).toMatchObject({ id: results[0].id, url: results[0].url });
      expect(String(doc.text)).toContain('zephyrine service deployed to staging');
      expect(doc.metadata).toMatchObject({ correlation_id: 'audit-rec-123', status: 'success', source: 'callback' });

      // Both the synchronous reply and the callback are found for the call's subject.
      const both = (await runTool(search, { query: 'zephyrine' }, ctx)).results as { id: string }[];
      expect(both.map((r) => r.id).sort()).toEqual([String(out.document_id), callbackDocumentId('audit-rec-123')].sort());

      const viaRoute = await fetch(`${hubUrl}/v1/callbacks/audit-rec-123`);
      expect(viaRoute.status).toBe(200);
      const { callback } = (await viaRoute.json()) as { callback: StoredCallback };
      expect(callback.result).toEqual({ deployment: 'zephyrine service deployed to staging' });
      // The callback record points at the document holding the call's synchronous reply.
      expect(callback.autobuilder_document_id).toBe(out.document_id);
    } finally {
      await fake.close();
    }
  });
});
