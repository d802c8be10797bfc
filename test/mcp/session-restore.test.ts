import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { NodeStreamableHTTPServerTransport as StreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemoryEventStore } from '../../src/mcp/memory-event-store.js';
import { McpSurface } from '../../src/mcp/server.js';
import { adoptSession, restoreClientState } from '../../src/mcp/session-restore.js';
import type { SessionRecord } from '../../src/mcp/session-store.js';
import { MCP_HEADERS, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { FAST_PATH_CASES, rpc } from '../helpers/mcp-requests.js';

const CLIENT = { capabilities: { roots: { listChanged: true } }, clientInfo: { name: 'restore-test', version: '3' } };
const INIT = rpc(1, 'initialize', { protocolVersion: '2025-11-25', ...CLIENT });

/** Serves one SDK transport over real HTTP, the way routes.ts hands requests to it. */
async function serve(transport: StreamableHTTPServerTransport): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => void transport.handleRequest(req, res, body ? JSON.parse(body) : undefined));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function record(id: string, extra: Partial<SessionRecord> = {}): SessionRecord {
  const { capabilities: clientCapabilities, clientInfo } = CLIENT;
  return { id, kind: 'streamable', principal: 'k', instance: 'elsewhere', createdAt: 0, protocolVersion: '2025-11-25', clientCapabilities, clientInfo, ...extra };
}

/** If the SDK moves the private state session-restore.ts sets, these fail: update that module, not the routes. */
describe('session-restore: the SDK internals a rebuilt session relies on', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await testHub({}, { systems: [fixtureSystem] });
  });
  afterAll(() => hub.close());

  it('an adopted transport serves its session id as if it had answered initialize, and only that id', async () => {
    const surface = new McpSurface(hub.app.hub.registry, hub.app.hub.pipeline);
    const sid = 'restored-session-1';
    const fresh = new StreamableHTTPServerTransport({ sessionIdGenerator: () => sid, enableJsonResponse: true });
    await (await surface.createServer()).connect(fresh);
    const plain = await serve(fresh);
    const headers = { ...MCP_HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
    // Without adoption the SDK refuses: the test below proves adoption, not a lenient SDK.
    expect((await fetch(plain.url, { method: 'POST', headers, body: JSON.stringify(rpc(2, 'tools/list')) })).status).toBe(400);
    await plain.close();

    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => sid, enableJsonResponse: true });
    adoptSession(transport, sid);
    const server = await surface.createServer();
    await server.connect(transport);
    restoreClientState(server, record(sid, { logLevel: 'error' }));
    const web = await serve(transport);
    const ok = await fetch(web.url, { method: 'POST', headers, body: JSON.stringify(rpc(2, 'tools/list')) });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('mcp-session-id')).toBe(sid);
    expect(((await ok.json()) as { result: { tools: unknown[] } }).result.tools.length).toBeGreaterThan(0);
    const other = await fetch(web.url, { method: 'POST', headers: { ...headers, 'mcp-session-id': 'another' }, body: JSON.stringify(rpc(3, 'tools/list')) });
    expect(other.status).toBe(404);
    const reinit = await fetch(web.url, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify(INIT) });
    expect(reinit.status).toBe(400);
    expect(server.getClientCapabilities()).toEqual(CLIENT.capabilities);
    expect(server.getClientVersion()).toEqual(CLIENT.clientInfo);
    // The filter sendLoggingMessage applies (private in the SDK's types, which is why this test watches it).
    const filter = server as unknown as { isMessageIgnored(level: string, sessionId: string): boolean };
    expect(filter.isMessageIgnored('warning', sid)).toBe(true);
    expect(filter.isMessageIgnored('critical', sid)).toBe(false);
    await web.close();
    await transport.close();
  });
});

/**
 * The session fast path answers as the SDK transport of that session answers in JSON response mode (the SDK path of
 * this hub streams SSE instead; both are valid Streamable HTTP answers, the JSON one needs no event-store write).
 */
describe('MCP session fast path: byte-for-byte what the SDK transport of that session answers', () => {
  let fast: TestHub;
  let sdk: TestHub;
  let sid: string;
  let sdkUrl: string;
  let closeSdk: () => Promise<void>;
  beforeAll(async () => {
    // APPROVAL=model: a person's approval carries a fresh id per call, the model's confirmation answers alike.
    fast = await testHub({ APPROVAL: 'model' }, { systems: [fixtureSystem] });
    sdk = await testHub({ APPROVAL: 'model' }, { systems: [fixtureSystem], fastPath: false });
    const init = await fast.app.inject({ method: 'POST', url: '/mcp', headers: MCP_HEADERS, payload: JSON.stringify(INIT) });
    sid = init.headers['mcp-session-id'] as string;
    // The same session on the SDK side: a transport for that id (fresh quotas, as on the fast hub).
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => sid, enableJsonResponse: true });
    adoptSession(transport, sid);
    const server = await new McpSurface(sdk.app.hub.registry, sdk.app.hub.pipeline).createServer();
    await server.connect(transport);
    restoreClientState(server, record(sid));
    const served = await serve(transport);
    sdkUrl = served.url;
    closeSdk = async () => {
      await served.close();
      await transport.close();
    };
  });
  afterAll(async () => {
    await closeSdk();
    await fast.close();
    await sdk.close();
  });

  it.each(FAST_PATH_CASES)('%s: byte-for-byte equal', async (_name, body) => {
    const headers = { ...MCP_HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' };
    const a = await fast.app.inject({ method: 'POST', url: '/mcp', headers, payload: JSON.stringify(body) });
    const b = await fetch(sdkUrl, { method: 'POST', headers, body: JSON.stringify(body) });
    expect(a.statusCode).toBe(b.status);
    expect(a.headers['content-type']).toBe(b.headers.get('content-type'));
    expect(a.headers['mcp-session-id']).toBe(b.headers.get('mcp-session-id'));
    expect(a.body).toBe(await b.text());
  });

  it('writes nothing to the event store for a fast-path answer', async () => {
    const events = fast.deps.events as MemoryEventStore;
    const headers = { ...MCP_HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
    const before = events.size();
    await fast.app.inject({ method: 'POST', url: '/mcp', headers, payload: JSON.stringify(rpc(20, 'tools/call', { name: 'fixture_echo', arguments: { message: 'x' } })) });
    await fast.app.inject({ method: 'POST', url: '/mcp', headers, payload: JSON.stringify(rpc(21, 'tools/list')) });
    expect(events.size()).toBe(before);
    // The SDK path stores its priming event and answer: the count above would have seen them.
    await fast.app.inject({ method: 'POST', url: '/mcp', headers, payload: JSON.stringify(rpc(22, 'prompts/list')) });
    expect(events.size()).toBe(before + 2);
  });

  it('leaves everything else in a session to the SDK transport (SSE answers, protocol errors)', async () => {
    const headers = { ...MCP_HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
    const prompts = await fast.app.inject({ method: 'POST', url: '/mcp', headers, payload: JSON.stringify(rpc(2, 'prompts/list')) });
    expect(prompts.headers['content-type']).toContain('text/event-stream');
    const badVersion = await fast.app.inject({ method: 'POST', url: '/mcp', headers: { ...headers, 'mcp-protocol-version': '1999-01-01' }, payload: JSON.stringify(rpc(3, 'tools/list')) });
    expect(badVersion.statusCode).toBe(400);
    const batch = await fast.app.inject({ method: 'POST', url: '/mcp', headers, payload: JSON.stringify([rpc(4, 'tools/list'), rpc(5, 'tools/list')]) });
    expect(batch.headers['content-type']).toContain('text/event-stream');
  });
});
