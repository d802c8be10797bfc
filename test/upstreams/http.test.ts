import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheckCommand } from '../../src/cli/check.js';
import type { ConnectionRow } from '../../src/connections.js';
import { AUTH, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { eventually, hubClient, startEverythingHttp, upstream, type ChildServer } from './helpers.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';

const connections = async (hub: TestHub) =>
  ((await hub.app.inject({ method: 'GET', url: '/v1/connections', headers: AUTH })).json() as { systems: ConnectionRow[] }).systems;

describe('federation: server-everything over Streamable HTTP', () => {
  let server: ChildServer;
  let hub: TestHub;
  beforeAll(async () => {
    server = await startEverythingHttp('streamableHttp');
    hub = await testHub({ UPSTREAMS: JSON.stringify([{ name: 'web', url: server.url, headers: { 'x-team': 'hub' } }]) }, { systems: [fixtureSystem] });
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await hub?.close();
    await server?.stop();
  });

  it('connects over Streamable HTTP and serves its tools with progress', async () => {
    expect((await connections(hub)).find((r) => r.system === 'web')).toMatchObject({ status: 'connected', detail: expect.stringContaining('streamable-http') });
    const sum = await hub.app.inject({ method: 'POST', url: '/v1/tools/web_get-sum', headers: AUTH, payload: { a: 5, b: 6 } });
    expect(sum.json()).toEqual({ content: [{ type: 'text', text: 'The sum of 5 and 6 is 11.' }] });

    const client = await hubClient(hub.app);
    try {
      const progress: number[] = [];
      const result = await client.callTool({ name: 'web_trigger-long-running-operation', arguments: { duration: 0.6, steps: 3 } }, CallToolResultSchema, {
        onprogress: (p) => progress.push(p.progress),
      });
      expect((result.content as { text: string }[])[0]!.text).toContain('completed');
      expect(progress.slice(0, 2)).toEqual([1, 2]);
      const image = await client.callTool({ name: 'web_get-tiny-image', arguments: {} });
      expect((image.content as { type: string }[]).map((c) => c.type)).toContain('image');
    } finally {
      await client.close();
    }
  });

  it('a dead HTTP upstream answers upstream_error fast and is reconnected in the background', async () => {
    const port = server.port;
    await server.stop();
    const down = await hub.app.inject({ method: 'POST', url: '/v1/tools/web_get-sum', headers: AUTH, payload: { a: 1, b: 1 } });
    expect(down.statusCode).toBe(502);
    expect(down.json().error).toMatchObject({ code: 'upstream_error', upstream: 'web' });
    // Now known to be down: the next call does not even try the network.
    const again = await hub.app.inject({ method: 'POST', url: '/v1/tools/web_get-sum', headers: AUTH, payload: { a: 1, b: 1 } });
    expect(again.json().error.message).toContain('is not connected');
    expect((await connections(hub)).find((r) => r.system === 'web')?.status).toBe('failed');

    server = await startEverythingHttp('streamableHttp', port);
    await eventually(() => upstream(hub.app, 'web').connection.status.state === 'connected');
    const back = await hub.app.inject({ method: 'POST', url: '/v1/tools/web_get-sum', headers: AUTH, payload: { a: 1, b: 1 } });
    expect(back.statusCode).toBe(200);
  }, 40_000);
});

describe('federation: legacy HTTP+SSE upstream', () => {
  it('falls back to the SSE transport when the URL refuses Streamable HTTP', async () => {
    const server = await startEverythingHttp('sse');
    const hub = await testHub({ UPSTREAMS: JSON.stringify([{ name: 'old', url: server.url }]) }, { systems: [fixtureSystem] });
    try {
      expect(upstream(hub.app, 'old').connection.status).toEqual({ state: 'connected', transport: 'sse' });
      const res = await hub.app.inject({ method: 'POST', url: '/v1/tools/old_echo', headers: AUTH, payload: { message: 'legacy' } });
      expect(res.json()).toEqual({ content: [{ type: 'text', text: 'Echo: legacy' }] });
    } finally {
      await hub.close();
      await server.stop();
    }
  }, 30_000);
});

/**
 * A deliberately broken MCP endpoint: a correct initialize and tools/list, then a tools/call answer that is not
 * JSON-RPC (what a buggy or hostile upstream may send). Also answers 401 with OAuth metadata on /protected.
 */
function brokenServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/protected') {
      res.writeHead(401, { 'www-authenticate': 'Bearer resource_metadata="http://127.0.0.1/.well-known/oauth-protected-resource"' }).end();
      return;
    }
    if (req.method !== 'POST') return void res.writeHead(405).end();
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const msg = JSON.parse(body) as { id?: number; method: string; params?: { protocolVersion?: string } };
      const json = (value: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (msg.id === undefined) return void res.writeHead(202).end();
      if (msg.method === 'initialize') {
        return json({ jsonrpc: '2.0', id: msg.id, result: { protocolVersion: msg.params!.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'broken', version: '1' } } });
      }
      if (msg.method === 'tools/list') return json({ jsonrpc: '2.0', id: msg.id, result: { tools: [{ name: 'garble', inputSchema: { type: 'object' } }] } });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc": "2.0", "id": ' + msg.id + ', "result": {"content": [{"type": "te');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) });
    }),
  );
}

describe('federation: broken upstreams', () => {
  let broken: Awaited<ReturnType<typeof brokenServer>>;
  beforeAll(async () => {
    broken = await brokenServer();
  });
  afterAll(async () => {
    await broken?.close();
  });

  it('an upstream answering malformed JSON-RPC gives upstream_error, and the hub keeps serving', async () => {
    const hub = await testHub({ UPSTREAMS: JSON.stringify([{ name: 'bad', url: `${broken.url}/mcp`, timeout_ms: 5000 }]) }, { systems: [fixtureSystem] });
    try {
      const res = await hub.app.inject({ method: 'POST', url: '/v1/tools/bad_garble', headers: AUTH, payload: {} });
      expect(res.statusCode).toBe(502);
      expect(res.json().error).toMatchObject({ code: 'upstream_error', upstream: 'bad' });
      const local = await hub.app.inject({ method: 'POST', url: '/v1/tools/fixture_echo', headers: AUTH, payload: { message: 'ok' } });
      expect(local.statusCode).toBe(200);
    } finally {
      await hub.close();
    }
  });

  it('an HTTP upstream that wants OAuth (401) is a row saying what is missing; its start does not block the hub', async () => {
    const env = { UPSTREAMS: JSON.stringify([{ name: 'locked', url: `${broken.url}/protected` }]) };
    const hub = await testHub(env, { systems: [fixtureSystem] });
    try {
      const row = (await connections(hub)).find((r) => r.system === 'locked')!;
      expect(row).toMatchObject({ status: 'needs', variable: 'UPSTREAMS[locked].headers.Authorization', tools: 0 });
    } finally {
      await hub.close();
    }
    // npm run check shows the same row (and no built-in systems when none are given).
    let stdout = '';
    const code = await runCheckCommand(['--json'], { DATA_DIR: hub.config.dataDir, LOG_LEVEL: 'silent', ...env }, { stdout: (t) => (stdout += t), stderr: () => undefined }, []);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual([expect.objectContaining({ system: 'locked', status: 'needs', label: '⊘ Needs UPSTREAMS[locked].headers.Authorization' })]);
  });

  it('an upstream that cannot start is a failed row with the reason; the rest of the hub serves', async () => {
    const hub = await testHub({ UPSTREAMS: JSON.stringify([{ name: 'gone', command: '/nonexistent/mcp-server' }]) }, { systems: [fixtureSystem] });
    try {
      const row = (await connections(hub)).find((r) => r.system === 'gone')!;
      expect(row.status).toBe('failed');
      expect(row.detail).toContain('ENOENT');
      expect((await hub.app.inject({ method: 'POST', url: '/v1/tools/fixture_echo', headers: AUTH, payload: { message: 'ok' } })).statusCode).toBe(200);
    } finally {
      await hub.close();
    }
  });
});
