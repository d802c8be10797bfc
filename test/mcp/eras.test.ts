import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/client';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, testHub, type TestHub } from '../helpers/app.js';

/** Both protocol eras on one /mcp, each spoken by the SDK's own clients: v2 pinned to 2026-07-28, v2 legacy, v1. */
describe.each(['stateful', 'stateless'] as const)('one /mcp, both eras (MCP_SESSION_MODE=%s)', (mode) => {
  let hub: TestHub;
  let url: URL;
  beforeAll(async () => {
    hub = await testHub({ MCP_SESSION_MODE: mode });
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    url = new URL(`http://127.0.0.1:${(hub.app.server.address() as AddressInfo).port}/mcp`);
  });
  afterAll(() => hub.close());

  const requestInit = { headers: AUTH };

  it('the v2 client pinned to 2026-07-28 lists every tool and calls search', async () => {
    const client = new Client({ name: 'eras-modern', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(new StreamableHTTPClientTransport(url, { requestInit }));
    expect(client.getProtocolEra()).toBe('modern');
    const { tools } = await client.listTools();
    expect(tools.length).toBe(hub.app.hub.registry.list().length);
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
      expect(tools.length).toBe(hub.app.hub.registry.list().length);
      const result = await client.callTool({ name: 'search', arguments: { query: 'cloud run deploy' } });
      expect(result.isError).toBeFalsy();
    }
    await v2.close();
    await v1.close();
  });
});
