import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { system } from '../../../src/adapters/chatgpt/index.js';
import { MAX_RESPONSE_BYTES } from '../../../src/adapters/chatgpt/client.js';
import { autoBuilderExecute } from '../../../src/adapters/chatgpt/tools.js';
import type { IntelligenceStore } from '../../../src/adapters/intelligence/store.js';
import { testConfig } from '../../helpers/config.js';
import type { HubDeps } from '../../../src/deps.js';
import { startFakeAutoBuilder, type FakeAutoBuilder } from '../../fakes/autobuilder.js';
import { startFakeServer, sendJson, type FakeServer } from '../../helpers/fake-server.js';
import { failure, runTool, toolContext } from '../../helpers/context.js';
import { depsWith, sqliteEnv, type StoreEnv } from '../intelligence/store-env.js';

const TOKEN = 'autobuilder-token-123';

describe('chatgpt_auto_builder_execute against a fake Auto Builder', () => {
  let env: StoreEnv;
  let store: IntelligenceStore;
  let deps: HubDeps;
  let fake: FakeAutoBuilder;

  const config = (extra: Record<string, string> = {}) =>
    testConfig({
      CHATGPT_MCP_ENDPOINT: fake.url,
      CHATGPT_MCP_TOKEN: TOKEN,
      PUBLIC_URL: 'https://hub.example.com',
      ...extra,
    });
  const call = (args: Record<string, unknown>, extra: Record<string, string> = {}, callId = 'call-7') =>
    runTool(autoBuilderExecute, args, toolContext(config(extra), { services: deps, callId }));

  beforeAll(async () => {
    env = await sqliteEnv('chatgpt');
    store = await env.open();
    deps = depsWith(store);
    fake = await startFakeAutoBuilder({ token: TOKEN });
  });
  afterEach(() => {
    fake.mode = { kind: 'success' };
    fake.requests.length = 0;
  });
  afterAll(async () => {
    await fake?.close();
    await env?.destroy();
  });

  it('declares the contract name, level and config variable', () => {
    expect(system.tools.map((t) => [t.name, t.level])).toEqual([['chatgpt_auto_builder_execute', 'MEDIUM']]);
    expect(system.missingConfig(testConfig())).toBe('CHATGPT_MCP_ENDPOINT');
    expect(system.missingConfig(config())).toBeNull();
    expect(autoBuilderExecute.description.length).toBeLessThanOrEqual(300);
  });

  it('posts the contract body with the bearer token, returns the result and stores it', async () => {
    fake.mode = { kind: 'success', result: { summary: 'scaffolded', files: ['a.ts', 'b.ts'] } };
    const out = await call({ command: 'scaffold a service', context: { repo: 'org/app' } });

    const [req] = fake.requests;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/execute');
    expect(req.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body)).toEqual({
      command: 'scaffold a service',
      context: { repo: 'org/app' },
      correlation_id: 'call-7',
      callback_url: 'https://hub.example.com/v1/callbacks/chatgpt',
    });

    expect(autoBuilderExecute.output!.parse(out)).toEqual(out);
    expect(out).toMatchObject({
      status: 'success',
      result: { summary: 'scaffolded', files: ['a.ts', 'b.ts'] },
      command: 'scaffold a service',
      correlation_id: 'call-7',
      callback_url: 'https://hub.example.com/v1/callbacks/chatgpt',
      truncated: false,
    });
    const doc = await store.get(String(out.document_id));
    expect(doc).toMatchObject({ source: 'autobuilder', title: 'Auto Builder: scaffold a service', tags: ['autobuilder'] });
    expect(doc?.metadata).toMatchObject({ correlation_id: 'call-7', command: 'scaffold a service', context: { repo: 'org/app' }, upstream_status: 200 });
    expect(JSON.parse(doc!.text)).toEqual({ summary: 'scaffolded', files: ['a.ts', 'b.ts'] });
    expect((await store.search({ query: 'scaffolded', source: 'autobuilder' })).map((h) => h.id)).toContain(out.document_id);
  });

  it('sends callback_url null without PUBLIC_URL and no Authorization without a token', async () => {
    const open = await startFakeAutoBuilder();
    try {
      const cfg = testConfig({ CHATGPT_MCP_ENDPOINT: `${open.url}/` });
      const out = await runTool(autoBuilderExecute, { command: 'ping' }, toolContext(cfg, { services: deps, callId: 'call-8' }));
      const [req] = open.requests;
      expect(req.url).toBe('/execute');
      expect(req.headers.authorization).toBeUndefined();
      expect(JSON.parse(req.body)).toEqual({ command: 'ping', context: {}, correlation_id: 'call-8', callback_url: null });
      expect(out).toMatchObject({ status: 'success', callback_url: null });
    } finally {
      await open.close();
    }
  });

  it('reports 202 as accepted (the result will come by callback) without storing', async () => {
    fake.mode = { kind: 'accepted' };
    const out = await call({ command: 'long build' }, {}, 'call-accepted');
    expect(out).toMatchObject({ status: 'accepted', correlation_id: 'call-accepted', document_id: null });
  });

  it('turns a 500 into upstream_error with the upstream status and message', async () => {
    fake.mode = { kind: 'error', httpStatus: 500, message: 'builder crashed' };
    const err = await failure(call({ command: 'x' }));
    expect(err.code).toBe('upstream_error');
    expect(err.details).toMatchObject({ upstream_status: 500, upstream_message: 'builder crashed' });
    expect(err.message).toContain('HTTP 500');
  });

  it('turns a 2xx {status: "error"} reply into upstream_error', async () => {
    fake.mode = { kind: 'error-envelope', message: 'unknown command' };
    const err = await failure(call({ command: 'x' }));
    expect(err.code).toBe('upstream_error');
    expect(err.details).toMatchObject({ upstream_status: 200, upstream_message: 'unknown command' });
  });

  it('reports a rejected token as auth_error naming CHATGPT_MCP_TOKEN', async () => {
    const err = await failure(call({ command: 'x' }, { CHATGPT_MCP_TOKEN: 'wrong-token' }));
    expect(err.code).toBe('auth_error');
    expect(err.message).toContain('CHATGPT_MCP_TOKEN');
    expect(err.details).toMatchObject({ upstream_status: 401 });
  });

  it('gives up with timeout after CHATGPT_TIMEOUT_MS when the endpoint never answers', async () => {
    fake.mode = { kind: 'hang' };
    const err = await failure(call({ command: 'x' }, { CHATGPT_TIMEOUT_MS: '300' }));
    expect(err.code).toBe('timeout');
    expect(err.message).toContain('CHATGPT_TIMEOUT_MS');
    expect(fake.requests).toHaveLength(1);
  });

  it('answers timeout when the call budget (ctx.signal) runs out first', async () => {
    fake.mode = { kind: 'hang' };
    const controller = new AbortController();
    const pending = runTool(autoBuilderExecute, { command: 'x' }, toolContext(config(), { services: deps, signal: controller.signal }));
    controller.abort();
    expect((await failure(pending)).code).toBe('timeout');
  });

  it.each([
    ['streamed (chunked)', false],
    ['declared by content-length', true],
  ])('refuses a reply over the 1 MiB cap, %s', async (_label, declareLength) => {
    fake.mode = { kind: 'huge', bytes: MAX_RESPONSE_BYTES * 3, declareLength };
    const err = await failure(call({ command: 'x' }));
    expect(err.code).toBe('upstream_error');
    expect(err.message).toContain('1 MiB');
    expect(err.details).toMatchObject({ upstream_status: 200, cap_bytes: MAX_RESPONSE_BYTES });
  });

  it('refuses a redirect to another host and sends it nothing', async () => {
    const other: FakeServer = await startFakeServer((_req, res) => sendJson(res, 200, { status: 'success', result: 'stolen' }));
    try {
      fake.mode = { kind: 'redirect', location: `${other.url}/execute` };
      const err = await failure(call({ command: 'x' }));
      expect(err.code).toBe('upstream_error');
      expect(err.message).toContain('another host');
      expect(err.details).toMatchObject({ upstream_status: 307, location: other.url });
      expect(other.requests).toHaveLength(0);
    } finally {
      await other.close();
    }
  });

  it('follows a same-origin 308 redirect, repeating the POST', async () => {
    fake.mode = { kind: 'redirect', location: '/v2/execute', httpStatus: 308, result: 'ok after redirect' };
    const out = await call({ command: 'moved' }, {}, 'call-moved');
    expect(fake.requests.map((r) => [r.method, r.url])).toEqual([
      ['POST', '/execute'],
      ['POST', '/v2/execute'],
    ]);
    expect(JSON.parse(fake.requests[1].body)).toMatchObject({ command: 'moved', correlation_id: 'call-moved' });
    expect(fake.requests[1].headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(out).toMatchObject({ status: 'success', result: 'ok after redirect' });
  });

  it('answers not_configured naming CHATGPT_MCP_ENDPOINT when the endpoint is unset', async () => {
    const err = await failure(runTool(autoBuilderExecute, { command: 'x' }, toolContext(testConfig(), { services: deps })));
    expect(err.code).toBe('not_configured');
    expect(err.details).toEqual({ variable: 'CHATGPT_MCP_ENDPOINT' });
  });

  it('reports an unreachable endpoint as upstream_error', async () => {
    const gone = await startFakeServer((_req, res) => sendJson(res, 200, {}));
    await gone.close();
    const err = await failure(call({ command: 'x' }, { CHATGPT_MCP_ENDPOINT: gone.url }));
    expect(err.code).toBe('upstream_error');
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.details).toMatchObject({ upstream_status: null });
  });

  it('validates command and context', () => {
    expect(() => autoBuilderExecute.input.parse({ command: '  ' })).toThrow();
    expect(() => autoBuilderExecute.input.parse({ command: 'x', context: 5 })).toThrow();
    expect(autoBuilderExecute.input.parse({ command: 'x', context: 'plain text' })).toEqual({ command: 'x', context: 'plain text' });
  });

  it('check() is a side-effect-free GET on the endpoint base', async () => {
    const status = await system.check(config(), deps, AbortSignal.timeout(10_000));
    expect(status).toMatchObject({ state: 'connected' });
    expect(fake.requests.map((r) => [r.method, r.url])).toEqual([['GET', '/']]);

    const gone = await startFakeServer((_req, res) => sendJson(res, 200, {}));
    await gone.close();
    expect(await system.check(config({ CHATGPT_MCP_ENDPOINT: gone.url }), deps, AbortSignal.timeout(10_000))).toMatchObject({
      state: 'failed',
    });
    const broken = await startFakeServer((_req, res) => sendJson(res, 503, { error: { message: 'down' } }));
    try {
      expect(await system.check(config({ CHATGPT_MCP_ENDPOINT: broken.url }), deps, AbortSignal.timeout(10_000))).toEqual({
        state: 'failed',
        reason: `${broken.url} answered HTTP 503`,
      });
    } finally {
      await broken.close();
    }
  });
});
