import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubProcess, type HubProcess } from '../helpers/spawn-hub.js';

const KEY = 'e2e-key-0123456789abcdef';
const auth = { headers: { Authorization: `Bearer ${KEY}` } };

async function exercise(client: Client): Promise<void> {
  const { tools } = await client.listTools();
  expect(tools.length).toBe(44);
  expect(tools.map((t) => t.name)).toContain('google_cloud_run_deploy');
  // A tool whose system has no credentials answers not_configured naming the variable — it never pretends.
  const res = await client.callTool({ name: 'github_get_contents', arguments: { owner: 'o', repo: 'r', path: 'README.md' } });
  expect(res.isError).toBe(true);
  const body = JSON.parse((res.content as { text: string }[])[0]!.text);
  expect(body.error).toMatchObject({ code: 'not_configured', variable: 'GITHUB_TOKEN' });
  // The embedded Intelligence store works with no configuration at all.
  const ingested = await client.callTool({ name: 'intelligence_ingest', arguments: { title: 'E2E note', text: 'omni hub end to end test document' } });
  expect(ingested.isError).toBeFalsy();
  const found = await client.callTool({ name: 'search', arguments: { query: 'end to end' } });
  expect((found.structuredContent as { results: { title: string }[] }).results[0]?.title).toBe('E2E note');
}

describe.each(['stateful', 'stateless'] as const)('built server, MCP_SESSION_MODE=%s', (mode) => {
  let hub: HubProcess;
  beforeAll(async () => {
    hub = await startHubProcess({ MCP_API_KEY: KEY, MCP_SESSION_MODE: mode });
  });
  afterAll(async () => {
    expect(await hub.stop()).toBe(0);
    expect(hub.stdout() + hub.stderr()).not.toContain(KEY);
  });

  it('serves MCP over Streamable HTTP with the SDK client', async () => {
    const client = new Client({ name: 'e2e', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${hub.url}/mcp`), { requestInit: auth }));
    expect(client.getServerVersion()?.name).toBe('omni-hub');
    await exercise(client);
    await client.close();
  });

  it.skipIf(mode === 'stateless')('serves the legacy SSE transport', async () => {
    const client = new Client({ name: 'e2e-sse', version: '1.0.0' });
    await client.connect(
      new SSEClientTransport(new URL(`${hub.url}/sse`), {
        requestInit: auth,
        eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...auth.headers } }) },
      }),
    );
    const { tools } = await client.listTools();
    expect(tools.length).toBe(44);
    await client.close();
  });

  it('refuses a missing or wrong key with 401 and a foreign Host with 403', async () => {
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
    const h = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const none = await fetch(`${hub.url}/mcp`, { method: 'POST', headers: h, body: JSON.stringify(init) });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe(`Bearer realm="omni-hub", scope="tools:low", resource_metadata="${hub.url}/.well-known/oauth-protected-resource/mcp"`);
    const wrong = await fetch(`${hub.url}/mcp`, { method: 'POST', headers: { ...h, authorization: 'Bearer nope-nope-nope-nope' }, body: JSON.stringify(init) });
    expect(wrong.status).toBe(401);
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${hub.url}/mcp`, { method: 'POST', headers: { ...h, ...auth.headers, host: 'attacker.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(JSON.stringify(init));
    });
    expect(status).toBe(403);
  });

  it('answers the REST callback route the GPT calls', async () => {
    const res = await fetch(`${hub.url}/v1/tools/intelligence_query`, {
      method: 'POST',
      headers: { ...auth.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'anything' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-limit')).toBe('1000');
  });
});

describe('start-up', () => {
  it('prints a generated key once to stderr when MCP_API_KEY is unset', async () => {
    const hub = await startHubProcess({});
    try {
      const lines = hub.stderr().split('\n');
      const key = lines.find((l) => /^\s{4}\S{32,}$/.test(l))!.trim();
      expect(hub.stderr()).toContain('set MCP_API_KEY');
      expect(hub.stdout()).not.toContain(key);
      const res = await fetch(`${hub.url}/v1/tools`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
    } finally {
      await hub.stop();
    }
  });

  it('refuses a bad environment with one line and exit code 1', async () => {
    await expect(startHubProcess({ PORT: 'abc' } as Record<string, string>)).rejects.toThrow(/exited with 1/);
  });
});
