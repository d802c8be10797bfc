import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_HEADERS, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { FAST_PATH_CASES, rpc } from '../helpers/mcp-requests.js';

const INIT = rpc(1, 'initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } });

/** Reads a JSON-RPC message from either a JSON body or an SSE body (the SDK answers stateful POSTs as SSE). */
function message(body: string): { result?: Record<string, unknown>; error?: { code: number; message: string } } {
  // Skips the empty priming event that resumable streams open with (protocol 2025-11-25).
  const data = body.includes('data: ') ? body.split('\n').find((l) => l.startsWith('data: ') && l.length > 6)!.slice(6) : body;
  return JSON.parse(data);
}

describe('MCP stateless: fast path and SDK path answer alike', () => {
  let fast: TestHub;
  let sdk: TestHub;
  beforeAll(async () => {
    // APPROVAL=model: a person's approval carries a fresh id per call, the model's confirmation answers alike.
    fast = await testHub({ MCP_SESSION_MODE: 'stateless', APPROVAL: 'model' }, { systems: [fixtureSystem] });
    sdk = await testHub({ MCP_SESSION_MODE: 'stateless', APPROVAL: 'model' }, { systems: [fixtureSystem], fastPath: false });
  });
  afterAll(async () => {
    await fast.close();
    await sdk.close();
  });

  const post = (hub: TestHub, body: unknown, headers: Record<string, string> = {}) =>
    hub.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, ...headers }, payload: JSON.stringify(body) });

  it.each(FAST_PATH_CASES)('%s: byte-for-byte equal', async (_name, body) => {
    const a = await post(fast, body, { 'mcp-protocol-version': '2025-06-18' });
    const b = await post(sdk, body, { 'mcp-protocol-version': '2025-06-18' });
    expect(a.statusCode).toBe(b.statusCode);
    expect(a.headers['content-type']).toBe(b.headers['content-type']);
    // Quota counters differ between the two hubs only in `_meta` numbers, which are equal here because both are fresh.
    expect(a.body).toBe(b.body);
  });

  it('answers tool failures as isError results with a structured code', async () => {
    const res = message((await post(fast, rpc(3, 'tools/call', { name: 'fixture_echo', arguments: { message: 5 } }))).body);
    const result = res.result as { isError: boolean; content: { text: string }[] };
    expect(result.isError).toBe(true);
    expect(JSON.parse(result.content[0]!.text).error).toMatchObject({ code: 'invalid_arguments', issues: [{ field: 'message' }] });
    const unknown = message((await post(fast, rpc(4, 'tools/call', { name: 'nope' }))).body);
    expect(unknown.error).toMatchObject({ code: -32602 });
    expect(unknown.error!.message).toContain('nope');
  });

  it('leaves initialize, batches and protocol errors to the SDK', async () => {
    const init = await post(fast, INIT);
    expect(init.statusCode).toBe(200);
    expect(message(init.body).result).toMatchObject({ protocolVersion: '2025-11-25', serverInfo: { name: 'omni-hub' } });
    const badVersion = await post(fast, rpc(2, 'tools/list'), { 'mcp-protocol-version': '1999-01-01' });
    expect(badVersion.statusCode).toBe(400);
    const batch = await post(fast, [rpc(1, 'tools/list'), { garbage: true }]);
    expect(batch.statusCode).toBe(400);
    const notAcceptable = await post(fast, rpc(1, 'tools/list'), { accept: 'application/json' });
    expect(notAcceptable.statusCode).toBe(406);
    const unknownMethod = message((await post(fast, rpc(5, 'no/such/method'))).body);
    expect(unknownMethod.error).toMatchObject({ code: -32601 });
    const get = await fast.app.inject({ method: 'GET', url: '/mcp', headers: MCP_HEADERS });
    expect(get.statusCode).toBe(405);
  });
});

describe('MCP stateful sessions', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await testHub({}, { systems: [fixtureSystem] });
  });
  afterAll(() => hub.close());

  it('initializes a session, lists and calls tools in it, and deletes it', async () => {
    const init = await hub.app.inject({ method: 'POST', url: '/mcp', headers: MCP_HEADERS, payload: JSON.stringify(INIT) });
    expect(init.statusCode).toBe(200);
    const sid = init.headers['mcp-session-id'] as string;
    expect(sid).toMatch(/^[0-9a-f-]{36}$/);
    const h = { ...MCP_HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
    await hub.app.inject({ method: 'POST', url: '/mcp', headers: h, payload: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
    const list = message((await hub.app.inject({ method: 'POST', url: '/mcp', headers: h, payload: JSON.stringify(rpc(2, 'tools/list')) })).body);
    expect((list.result as { tools: { name: string }[] }).tools.map((t) => t.name)).toContain('fixture_echo');
    const called = message(
      (await hub.app.inject({ method: 'POST', url: '/mcp', headers: h, payload: JSON.stringify(rpc(3, 'tools/call', { name: 'fixture_echo', arguments: { message: 'a' } })) })).body,
    );
    expect(called.result).toMatchObject({ structuredContent: { echo: 'A', length: 1 } });
    const prompts = message((await hub.app.inject({ method: 'POST', url: '/mcp', headers: h, payload: JSON.stringify(rpc(4, 'prompts/list')) })).body);
    expect((prompts.result as { prompts: { name: string }[] }).prompts.map((p) => p.name)).toEqual(['code_to_cloud_run', 'intelligent_analytics', 'multi_cloud_orchestration']);
    const del = await hub.app.inject({ method: 'DELETE', url: '/mcp', headers: h });
    expect(del.statusCode).toBe(200);
    const after = await hub.app.inject({ method: 'POST', url: '/mcp', headers: h, payload: JSON.stringify(rpc(5, 'tools/list')) });
    expect(after.statusCode).toBe(404);
  });

  it('rejects missing, invalid and foreign session ids', async () => {
    const missing = await hub.app.inject({ method: 'POST', url: '/mcp', headers: MCP_HEADERS, payload: JSON.stringify(rpc(2, 'tools/list')) });
    expect(missing.statusCode).toBe(400);
    const invalid = await hub.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, 'mcp-session-id': 'not-a-session' }, payload: JSON.stringify(rpc(2, 'tools/list')) });
    expect(invalid.statusCode).toBe(404);
    expect(invalid.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32001 } });
  });

  it('answers garbage with JSON-RPC errors and stays up', async () => {
    const bad = await hub.app.inject({ method: 'POST', url: '/mcp', headers: MCP_HEADERS, payload: '{"jsonrpc":' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32700 } });
    const ct = await hub.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, 'content-type': 'text/plain' }, payload: 'x' });
    expect(ct.statusCode).toBe(415);
    const big = await hub.app.inject({ method: 'POST', url: '/mcp', headers: MCP_HEADERS, payload: JSON.stringify({ x: 'y'.repeat(10 * 1024 * 1024) }) });
    expect(big.statusCode).toBe(413);
    const garbageBatch = await hub.app.inject({ method: 'POST', url: '/mcp', headers: MCP_HEADERS, payload: '[1,2,{"a":3}]' });
    expect(garbageBatch.statusCode).toBeGreaterThanOrEqual(400);
    expect(garbageBatch.statusCode).toBeLessThan(500);
    expect((await hub.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('refuses a foreign Host or Origin (DNS rebinding)', async () => {
    const host = await hub.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, host: 'evil.example' }, payload: JSON.stringify(INIT) });
    expect(host.statusCode).toBe(403);
    const origin = await hub.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, origin: 'http://evil.example' }, payload: JSON.stringify(INIT) });
    expect(origin.statusCode).toBe(403);
    const ok = await hub.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, host: 'localhost:3000', origin: 'http://localhost:3000' }, payload: JSON.stringify(INIT) });
    expect(ok.statusCode).toBe(200);
  });
});
