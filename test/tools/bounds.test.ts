import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackDocumentId } from '../../src/adapters/intelligence/ids.js';
import { buildApp } from '../../src/app.js';
import { testConfig } from '../helpers/config.js';
import { redactArgs } from '../../src/governance/redact.js';
import { bodyShapeViolation } from '../../src/http/body-shape.js';
import { MemoryEventStore } from '../../src/mcp/memory-event-store.js';
import { boundedUnknownKeys, capJson } from '../../src/tools/limits.js';
import { AUTH, MCP_HEADERS, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';

/**
 * Issue 14 items 1 and 8: what one caller can make the hub hold or compute is bounded. A large Auto Builder callback
 * result read back with `fetch` comes out capped, the same way on REST, the MCP SDK path and the MCP fast path; a body
 * with ~290k keys or deep nesting is refused before validation, and the walks over it stop at their caps.
 */
const RESULT_MAX_CHARS = 10_000;
const rpc = (id: number, method: string, params: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id, method, params });
const INIT = rpc(1, 'initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } });

function message(body: string): { result?: Record<string, unknown>; error?: { code: number; message: string } } {
  const data = body.includes('data: ') ? body.split('\n').find((l) => l.startsWith('data: ') && l.length > 6)!.slice(6) : body;
  return JSON.parse(data);
}

/** A callback result the way the review sent it: big, nested, with long strings and long lists. */
const bigResult = {
  summary: 's'.repeat(50_000),
  files: Array.from({ length: 2_000 }, (_, i) => ({ path: `src/file-${i}.ts`, lines: i })),
  logs: Array.from({ length: 300 }, (_, i) => `line ${i} ${'l'.repeat(200)}`),
};

interface CallToolResultShape {
  content: { type: string; text: string }[];
  structuredContent: Record<string, unknown>;
  _meta?: Record<string, unknown>;
}

describe('tool results are capped the same way on REST, the MCP SDK path and the MCP fast path', () => {
  let stateful: TestHub;
  const EVENT_STORE_MAX_BYTES = 80_000;
  const env = {
    RESULT_MAX_CHARS: String(RESULT_MAX_CHARS),
    CALLBACK_MAX_BYTES: String(2_000_000),
    MCP_EVENT_STREAM_MAX_BYTES: '50000',
    MCP_EVENT_STORE_MAX_BYTES: String(EVENT_STORE_MAX_BYTES),
  };

  let fastPathApp: FastifyInstance;

  beforeAll(async () => {
    // The SDK transport in a session (SSE answers stored as events): tools in a session otherwise take the fast path,
    // which answers plain JSON and stores nothing.
    stateful = await testHub({ ...env, MCP_SESSION_MODE: 'stateful' }, { fastPath: false });
    // The stateless app (fast path) shares the stateful hub's services: one store, one stored document for both.
    fastPathApp = await buildApp(testConfig({ ...env, DATA_DIR: stateful.config.dataDir, MCP_SESSION_MODE: 'stateless' }), stateful.deps, { logger: pino({ level: 'silent' }) });
    await fastPathApp.ready();
    const res = await stateful.app.inject({
      method: 'POST',
      url: '/v1/callbacks/chatgpt',
      headers: AUTH,
      payload: { correlation_id: 'big-1', status: 'success', result: bigResult },
    });
    expect(res.statusCode).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await fastPathApp?.close();
    await stateful?.close();
  });

  const fetchArgs = { id: callbackDocumentId('big-1') };

  async function viaSdkSession(): Promise<CallToolResultShape> {
    const init = await stateful.app.inject({ method: 'POST', url: '/mcp', headers: MCP_HEADERS, payload: JSON.stringify(INIT) });
    const h = { ...MCP_HEADERS, 'mcp-session-id': init.headers['mcp-session-id'] as string, 'mcp-protocol-version': '2025-11-25' };
    await stateful.app.inject({ method: 'POST', url: '/mcp', headers: h, payload: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
    const res = await stateful.app.inject({ method: 'POST', url: '/mcp', headers: h, payload: JSON.stringify(rpc(2, 'tools/call', { name: 'fetch', arguments: fetchArgs })) });
    return message(res.body).result as unknown as CallToolResultShape;
  }

  async function viaFastPath(): Promise<CallToolResultShape> {
    const res = await fastPathApp.inject({ method: 'POST', url: '/mcp', headers: MCP_HEADERS, payload: JSON.stringify(rpc(2, 'tools/call', { name: 'fetch', arguments: fetchArgs })) });
    return message(res.body).result as unknown as CallToolResultShape;
  }

  it('caps structuredContent and its text copy, says so in _meta and in a note, alike on both MCP paths', async () => {
    const id = (await stateful.app.inject({ method: 'POST', url: '/v1/tools/search', headers: AUTH, payload: { query: 'callback big-1' } })).json() as {
      results: { id: string }[];
    };
    expect(id.results.map((r) => r.id)).toContain(fetchArgs.id);
    const results = [await viaSdkSession(), await viaFastPath()];
    for (const result of results) {
      const json = JSON.stringify(result.structuredContent);
      expect(json.length).toBeLessThanOrEqual(RESULT_MAX_CHARS);
      expect(result.content[0]!.text).toBe(json);
      expect(result.content[1]!.text).toContain('RESULT_MAX_CHARS');
      expect(result._meta!['omni-hub/truncated']).toMatchObject({ limit_chars: RESULT_MAX_CHARS });
      // The shape survives (the tool's output schema still holds): the fields are there, cut.
      expect(Object.keys(result.structuredContent).sort()).toEqual(['id', 'metadata', 'text', 'title', 'url']);
      expect(result.structuredContent.id).toBe(fetchArgs.id);
    }
    // The same result on both paths, byte for byte (quota counters aside: each call counts).
    const comparable = (r: CallToolResultShape) => JSON.stringify({ ...r, _meta: { ...r._meta, 'omni-hub/governance': undefined } });
    expect(comparable(results[1]!)).toBe(comparable(results[0]!));
  });

  it('caps the REST answer the same way, with _truncated', async () => {
    const res = await stateful.app.inject({ method: 'POST', url: '/v1/tools/fetch', headers: AUTH, payload: fetchArgs });
    expect(res.statusCode).toBe(200);
    const { _truncated, ...data } = res.json() as Record<string, unknown> & { _truncated: { limit_chars: number; total_chars: number; note: string } };
    expect(JSON.stringify(data).length).toBeLessThanOrEqual(RESULT_MAX_CHARS);
    expect(_truncated.limit_chars).toBe(RESULT_MAX_CHARS);
    expect(_truncated.total_chars).toBeGreaterThan(RESULT_MAX_CHARS);
    expect(_truncated.note).toContain('RESULT_MAX_CHARS');
    expect(data).toEqual((await viaSdkSession()).structuredContent);
  });

  it('keeps the stateful event store within its byte bound however many results one session fetches', async () => {
    const init = await stateful.app.inject({ method: 'POST', url: '/mcp', headers: MCP_HEADERS, payload: JSON.stringify(INIT) });
    const h = { ...MCP_HEADERS, 'mcp-session-id': init.headers['mcp-session-id'] as string, 'mcp-protocol-version': '2025-11-25' };
    const events = stateful.deps.events as MemoryEventStore;
    let written = 0;
    for (let i = 0; i < 30; i += 1) {
      const res = await stateful.app.inject({ method: 'POST', url: '/mcp', headers: h, payload: JSON.stringify(rpc(10 + i, 'tools/call', { name: 'fetch', arguments: fetchArgs })) });
      written += message(res.body).result ? res.body.length : 0;
      expect(events.bytes()).toBeLessThanOrEqual(EVENT_STORE_MAX_BYTES);
    }
    // The session did send far more than the store keeps, and the store did keep events.
    expect(written).toBeGreaterThan(EVENT_STORE_MAX_BYTES * 3);
    expect(events.bytes()).toBeGreaterThan(0);
  });

  it('fetch caps metadata as it caps the text (FETCH_METADATA_CHARS), marked as truncated', async () => {
    const res = await stateful.app.inject({ method: 'POST', url: '/v1/tools/fetch', headers: AUTH, payload: fetchArgs });
    const body = res.json() as { metadata: Record<string, unknown> };
    expect(body.metadata).toMatchObject({ metadata_truncated: true, truncated: true });
    expect(JSON.stringify(body.metadata).length).toBeLessThan(21_000);
  });
}, 120_000);

describe('bodies with too many keys or too deep nesting are refused early', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await testHub({ MCP_SESSION_MODE: 'stateless' }, { systems: [fixtureSystem] });
  }, 60_000);
  afterAll(() => hub?.close());

  const wide = JSON.stringify(Object.fromEntries(Array.from({ length: 290_000 }, (_, i) => [`k${i}`, i % 10])));
  const deep = `${'{"a":'.repeat(100)}1${'}'.repeat(100)}`;

  it('answers 400 invalid_arguments naming BODY_MAX_KEYS to a ~290k-key body on REST and MCP', async () => {
    const started = performance.now();
    const rest = await hub.app.inject({ method: 'POST', url: '/v1/tools/fixture_echo', headers: { ...AUTH, 'content-type': 'application/json' }, payload: wide });
    const restMs = performance.now() - started;
    expect(rest.statusCode).toBe(400);
    expect(rest.json()).toEqual({
      error: { code: 'invalid_arguments', message: 'the JSON body has more than 20000 keys and array items in total (BODY_MAX_KEYS)' },
    });
    const mcpBody = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fixture_echo","arguments":${wide}}}`;
    const t1 = performance.now();
    const mcp = await hub.app.inject({ method: 'POST', url: '/mcp', headers: MCP_HEADERS, payload: mcpBody });
    const mcpMs = performance.now() - t1;
    expect(mcp.statusCode).toBe(400);
    expect(mcp.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32602, message: expect.stringContaining('BODY_MAX_KEYS') } });
    // Measured, not asserted (figures for the report): the time includes JSON.parse of the 3.9 MB body.
    console.log(`290k-key body (${(wide.length / 1e6).toFixed(1)} MB) refused: REST ${restMs.toFixed(0)} ms, MCP ${mcpMs.toFixed(0)} ms`);
    // Nothing reached the pipeline: no audit record, so the audit trail is not flooded either.
    expect((await hub.deps.audit.list({ tool: 'fixture_echo' })).records).toEqual([]);
  });

  it('answers 400 naming BODY_MAX_DEPTH to deep nesting', async () => {
    const res = await hub.app.inject({ method: 'POST', url: '/v1/tools/fixture_echo', headers: { ...AUTH, 'content-type': 'application/json' }, payload: deep });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'invalid_arguments', message: 'the JSON body is nested deeper than 32 levels (BODY_MAX_DEPTH)' } });
  });

  it('still accepts ordinary bodies', async () => {
    const res = await hub.app.inject({ method: 'POST', url: '/v1/tools/fixture_echo', headers: AUTH, payload: { message: 'a:b,[c]{d}' } });
    expect(res.statusCode).toBe(200);
  });
});

/** An object of `n` keys that counts how many of its values are read. */
function countingObject(n: number): { target: Record<string, number>; reads: () => number } {
  const target = Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
  let reads = 0;
  const proxy = new Proxy(target, {
    get(t, key, receiver) {
      reads += 1;
      return Reflect.get(t, key, receiver);
    },
  });
  return { target: proxy, reads: () => reads };
}

describe('walks over a huge object stop at their caps', () => {
  it('the body shape check counts keys and items from the text, ignoring what is inside strings', () => {
    const limits = { maxKeys: 6, maxDepth: 3 };
    expect(bodyShapeViolation('{"a":1,"b":[1,2],"c":{"d":"x:y,z[{"}}', limits)).toBeNull();
    expect(bodyShapeViolation('{"a":1,"b":[1,2,3],"c":{"d":"x"}}', limits)).toContain('more than 6 keys');
    expect(bodyShapeViolation('{"a":{"b":{"c":1}}}', limits)).toBeNull();
    expect(bodyShapeViolation('{"a":{"b":{"c":[1]}}}', limits)).toContain('deeper than 3 levels');
    expect(bodyShapeViolation('{"s":"\\"{{{{{{:::::,,,,,"}', limits)).toBeNull();
    expect(bodyShapeViolation(JSON.stringify(new Array(1_000_000).fill(0)), { maxKeys: 1_000, maxDepth: 32 })).toContain('BODY_MAX_KEYS');
  });

  it('redactArgs reads at most its entry cap of a huge object', () => {
    const wide = countingObject(290_000);
    const out = redactArgs(wide.target) as Record<string, unknown>;
    expect(wide.reads()).toBeLessThanOrEqual(100);
    expect(Object.keys(out)).toHaveLength(101);
    expect(out['[truncated]']).toBe('2000+ more keys');
  });

  it('unknown-field listing stops at its cap', () => {
    const wide = countingObject(290_000);
    expect(boundedUnknownKeys({ query: {} }, wide.target, 50)).toHaveLength(50);
    expect(wide.reads()).toBe(0);
  });

  it('capJson keeps results within the bound whatever their shape', () => {
    const shapes: unknown[] = [
      { text: 'x'.repeat(1_000_000) },
      { items: Array.from({ length: 100_000 }, (_, i) => ({ i, name: `n${i}` })) },
      Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, 'v'.repeat(10)])),
      { nested: { deeper: [{ list: Array.from({ length: 5_000 }, () => 'y'.repeat(100)) }] } },
    ];
    for (const shape of shapes) {
      const capped = capJson(shape, 5_000);
      expect(capped.truncated).toBe(true);
      expect(JSON.stringify(capped.value).length).toBeLessThanOrEqual(5_000);
      expect(capped.json).toBe(JSON.stringify(capped.value));
    }
    expect(capJson({ small: true }, 5_000)).toEqual({ value: { small: true }, truncated: false, originalChars: 14, json: '{"small":true}' });
  });
});
