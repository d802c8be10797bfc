import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/client';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_HEADERS, TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { modernRequest } from '../helpers/mcp-requests.js';
import { obtainTokens } from '../oauth/helpers.js';

/** Every tool of the default toolsets: what each client must list. */
const ALL_TOOLS = 44;

/**
 * Both protocol eras on one /mcp, each spoken by the SDK's own clients (v2 pinned to 2026-07-28, v2 in legacy mode,
 * v1), with a hub key and with an OAuth access token, in both session modes.
 */
describe.each([
  ['stateful', 'hub key'],
  ['stateful', 'OAuth token'],
  ['stateless', 'hub key'],
] as const)('one /mcp, both eras (MCP_SESSION_MODE=%s, %s)', (mode, credential) => {
  let hub: TestHub;
  let url: URL;
  let requestInit: { headers: Record<string, string> };
  beforeAll(async () => {
    hub = await testHub({ MCP_SESSION_MODE: mode });
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(hub.app.server.address() as AddressInfo).port}`;
    url = new URL(`${base}/mcp`);
    // A token holding every level sees every tool (a lower level narrows tools/list: test/upstreams/profiles.test.ts).
    const bearer = credential === 'hub key' ? TEST_KEY : (await obtainTokens(base, TEST_KEY, 'tools:critical')).access;
    requestInit = { headers: { authorization: `Bearer ${bearer}` } };
  });
  afterAll(() => hub.close());

  it('the v2 client pinned to 2026-07-28 lists every tool and calls search', async () => {
    const client = new Client({ name: 'eras-modern', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(new StreamableHTTPClientTransport(url, { requestInit }));
    expect(client.getProtocolEra()).toBe('modern');
    const { tools } = await client.listTools();
    expect(tools.length).toBe(ALL_TOOLS);
    const result = await client.callTool({ name: 'search', arguments: { query: 'cloud run deploy' } });
    expect(result.isError).toBeFalsy();
    await client.close();
  });

  it('the v2 client in legacy mode and the v1 client list every tool and call search', async () => {
    const v2 = new Client({ name: 'eras-legacy', version: '1' });
    await v2.connect(new StreamableHTTPClientTransport(url, { requestInit }));
    expect(v2.getProtocolEra()).toBe('legacy');
    const v1 = new ClientV1({ name: 'eras-v1', version: '1' });
    await v1.connect(new TransportV1(url, { requestInit }));
    for (const client of [v2, v1]) {
      const { tools } = await client.listTools();
      expect(tools.length).toBe(ALL_TOOLS);
      const result = await client.callTool({ name: 'search', arguments: { query: 'cloud run deploy' } });
      expect(result.isError).toBeFalsy();
    }
    await v2.close();
    await v1.close();
  });
});

/**
 * The guards read a 2026-07-28 call from its `Mcp-Method` / `Mcp-Name` headers, and only once the SDK's
 * classification has checked them against the body: a header that lies is refused before any guard acts on it.
 */
describe('2026-07-28 requests: headers checked against the body, then read by the guards', () => {
  let hub: TestHub;
  let base: string;
  let lowToken: string;
  beforeAll(async () => {
    // APPROVAL=model: the CRITICAL fixture tool runs on the model's confirm: true (no person to ask here).
    hub = await testHub({ APPROVAL: 'model' }, { systems: [fixtureSystem] });
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(hub.app.server.address() as AddressInfo).port}`;
    // A token is bound to the hub's URL as its resource, so these requests go over HTTP to that URL.
    lowToken = (await obtainTokens(base, TEST_KEY, 'tools:low')).access;
  });
  afterAll(() => hub.close());

  const post = async (bearer: string, request: ReturnType<typeof modernRequest>, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${bearer}`, ...request.headers, ...headers },
      body: request.payload,
    });
    const body: unknown = await res.json();
    return { statusCode: res.status, headers: Object.fromEntries(res.headers), json: () => body };
  };
  const DELETE = { name: 'fixture_delete', arguments: { thing: 'x', confirm: true } };

  it('a token without the level scope gets 403 with the step-up challenge, the request id kept', async () => {
    const res = await post(lowToken, modernRequest(31, 'tools/call', DELETE));
    expect(res.statusCode).toBe(403);
    expect(res.headers['www-authenticate']).toContain('insufficient_scope');
    expect(res.json()).toMatchObject({ id: 31, error: { code: -32001 } });
  });

  it('an Mcp-Name naming another tool than the body: the guard decides on the body, the SDK refuses the mismatch', async () => {
    // The header names a LOW tool, the body a CRITICAL one: the guard never trusts a header the body contradicts.
    const guarded = await post(lowToken, modernRequest(32, 'tools/call', DELETE), { 'mcp-name': 'fixture_echo' });
    expect(guarded.statusCode).toBe(403);
    expect(guarded.json()).toMatchObject({ id: 32, error: { message: expect.stringContaining('fixture_delete') } });
    const refused = await post(TEST_KEY, modernRequest(32, 'tools/call', DELETE), { 'mcp-name': 'fixture_echo' });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ id: 32, error: { code: -32020 } });
  });

  it('a request without its _meta envelope is refused with -32602 carrying the request id', async () => {
    const request = modernRequest(33, 'tools/list');
    const body = JSON.parse(request.payload) as { params: { _meta?: unknown } };
    delete body.params._meta;
    const res = await post(TEST_KEY, { ...request, payload: JSON.stringify(body) });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ id: 33, error: { code: -32602 } });
  });

  it('a hub key may call the CRITICAL tool: the guard let the validated header through', async () => {
    const res = await post(TEST_KEY, modernRequest(34, 'tools/call', DELETE));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: 34, result: { resultType: 'complete', structuredContent: { deleted: 'x' } } });
  });
});
