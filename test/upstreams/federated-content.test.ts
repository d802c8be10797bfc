import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyId } from '../../src/http/auth.js';
import { TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { appMeta } from '../../src/upstreams/tools.js';
import { allConnected, stdioBasicApp, stdioEverything } from './helpers.js';

const OTHER_KEY = 'other-profile-key-0123456789';

/** The official v2 client on the hub's /mcp: legacy (2025 session) or pinned to 2026-07-28. */
async function mcpClient(base: string, bearer: string, era: 'legacy' | 'modern', path = '/mcp'): Promise<Client> {
  const client = new Client({ name: 'content-test', version: '1.0.0' }, era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {});
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}${path}`), { requestInit: { headers: { authorization: `Bearer ${bearer}` } } }));
  return client;
}

/**
 * A listening hub federating the everything server (`ev`, with `ev` options) and the ext-apps example (`app`), with
 * OTHER_KEY bound to the profile `other` and the profiles `evonly` (without prefixes) and `apps`.
 */
async function federatedHub(ev: Record<string, unknown> = {}): Promise<{ hub: TestHub; base: string }> {
  const hub = await testHub(
    {
      MCP_API_KEY: [TEST_KEY, OTHER_KEY].join(','),
      UPSTREAMS: JSON.stringify([stdioEverything('ev', ev), stdioBasicApp('app')]),
      PROFILES: JSON.stringify([{ name: 'other', toolsets: ['connector'] }, { name: 'evonly', upstreams: ['ev'], prefix: false }, { name: 'apps', upstreams: ['app'] }]),
      MCP_API_KEY_PROFILES: JSON.stringify({ [keyId(OTHER_KEY)]: 'other' }),
    },
    { systems: [fixtureSystem] },
  );
  try {
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    await allConnected(hub.app, ['ev', 'app']);
  } catch (err) {
    await hub.close();
    throw err;
  }
  return { hub, base: `http://127.0.0.1:${(hub.app.server.address() as { port: number }).port}` };
}

describe('upstream resources, templates and prompts on the hub\'s MCP server (official everything server over stdio)', () => {
  let hub: TestHub;
  let base: string;
  beforeAll(async () => {
    ({ hub, base } = await federatedHub({ resources_level: 'MEDIUM' }));
  });
  afterAll(async () => {
    await hub?.close();
  });

  it.each(['legacy', 'modern'] as const)('%s era: lists merged with the hub\'s own, reads and gets routed to the upstream, governed and audited', async (era) => {
    const client = await mcpClient(base, TEST_KEY, era);
    try {
      expect(client.getServerCapabilities()?.resources).toMatchObject({ listChanged: true });
      const { resources } = await client.listResources();
      expect(resources.length).toBeGreaterThan(0);
      expect(resources.every((r) => r.uri.startsWith('ev+') || r.uri.startsWith('app+'))).toBe(true);
      const doc = resources.find((r) => r.uri.startsWith('ev+demo://resource/static/document/'))!;
      const read = await client.readResource({ uri: doc.uri });
      expect(read.contents[0]!.uri).toBe(doc.uri);

      const { resourceTemplates } = await client.listResourceTemplates();
      expect(resourceTemplates.map((t) => t.uriTemplate)).toContain('ev+demo://resource/dynamic/text/{resourceId}');
      const dynamic = await client.readResource({ uri: 'ev+demo://resource/dynamic/text/7' });
      expect(dynamic.contents[0]).toMatchObject({ uri: 'ev+demo://resource/dynamic/text/7' });

      const names = (await client.listPrompts()).prompts.map((p) => p.name);
      expect(names).toEqual(expect.arrayContaining(['code_to_cloud_run', 'ev_simple-prompt', 'ev_args-prompt']));
      const got = await client.getPrompt({ name: 'ev_args-prompt', arguments: { city: 'Lyon' } });
      expect(got.messages[0]!.content).toEqual({ type: 'text', text: "What's weather in Lyon?" });
      expect((await client.getPrompt({ name: 'code_to_cloud_run', arguments: { app_description: 'x', service_name: 'y' } })).messages.length).toBeGreaterThan(0);

      await expect(client.readResource({ uri: 'ev+demo://resource/nope' })).rejects.toThrow();
      await expect(client.readResource({ uri: 'file:///etc/passwd' })).rejects.toThrow(/not found|file:\/\/\/etc\/passwd/i);
    } finally {
      await client.close();
    }
    await hub.deps.audit.flush();
    const reads = (await hub.deps.audit.list({ limit: 20, tool: 'ev_resources_read' })).records;
    expect(reads.some((r) => r.transport === 'mcp' && r.system === 'ev' && r.level === 'MEDIUM' && r.outcome === 'ok' && (r.args as { uri?: string }).uri === 'ev+demo://resource/dynamic/text/7')).toBe(true);
    expect(reads.some((r) => r.outcome === 'error' && (r.args as { uri?: string }).uri === 'ev+demo://resource/nope')).toBe(true);
    const gets = (await hub.deps.audit.list({ limit: 20, tool: 'ev_prompts_get' })).records;
    expect(gets.some((r) => r.outcome === 'ok' && r.quota !== undefined)).toBe(true);
  });

  it('a key whose profile does not select the upstream neither lists nor reads its content', async () => {
    const client = await mcpClient(base, OTHER_KEY, 'legacy');
    try {
      expect((await client.listResources()).resources).toEqual([]);
      expect((await client.listResourceTemplates()).resourceTemplates).toEqual([]);
      expect((await client.listPrompts()).prompts.map((p) => p.name).some((n) => n.startsWith('ev_'))).toBe(false);
      await expect(client.readResource({ uri: 'ev+demo://resource/dynamic/text/7' })).rejects.toThrow();
      await expect(client.getPrompt({ name: 'ev_simple-prompt' })).rejects.toThrow(/unknown prompt/);
    } finally {
      await client.close();
    }
    await hub.deps.audit.flush();
    const reads = (await hub.deps.audit.list({ limit: 50, tool: 'ev_resources_read' })).records;
    expect(reads.some((r) => r.principal === keyId(OTHER_KEY))).toBe(false);
  });

  it.each(['legacy', 'modern'] as const)('%s era: an MCP App (ext-apps example server) keeps its _meta.ui and its ui:// resource reads through the hub', async (era) => {
    const client = await mcpClient(base, TEST_KEY, era);
    try {
      const tool = (await client.listTools()).tools.find((t) => t.name === 'app_get-time')!;
      expect(tool._meta).toMatchObject({ ui: { resourceUri: 'app+ui://get-time/mcp-app.html' }, 'ui/resourceUri': 'app+ui://get-time/mcp-app.html' });
      const { resources } = await client.listResources();
      expect(resources).toContainEqual(expect.objectContaining({ uri: 'app+ui://get-time/mcp-app.html', mimeType: 'text/html;profile=mcp-app' }));
      const read = await client.readResource({ uri: (tool._meta!.ui as { resourceUri: string }).resourceUri });
      expect(read.contents[0]).toMatchObject({ uri: 'app+ui://get-time/mcp-app.html', mimeType: 'text/html;profile=mcp-app' });
      expect((read.contents[0] as { text: string }).text).toContain('<html');
      const called = await client.callTool({ name: 'app_get-time', arguments: {} });
      expect(called.structuredContent).toMatchObject({ time: expect.any(String) });
    } finally {
      await client.close();
    }
  });
});

describe('/mcp/p/<profile>: one profile\'s view on both eras', () => {
  let hub: TestHub;
  let base: string;
  beforeAll(async () => {
    ({ hub, base } = await federatedHub());
  });
  afterAll(async () => {
    await hub?.close();
  });

  it.each(['legacy', 'modern'] as const)('%s era: a "prefix": false profile fronts its upstream transparently (tools, resources, prompts)', async (era) => {
    const client = await mcpClient(base, TEST_KEY, era, '/mcp/p/evonly');
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('get-sum');
      expect(names.some((n) => n.startsWith('ev_') || n.startsWith('fixture_') || n.startsWith('app_'))).toBe(false);
      const sum = await client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } });
      expect(sum.content).toEqual([{ type: 'text', text: 'The sum of 1 and 2 is 3.' }]);
      const { resources } = await client.listResources();
      expect(resources.length).toBeGreaterThan(0);
      expect(resources.every((r) => r.uri.startsWith('demo://'))).toBe(true);
      const read = await client.readResource({ uri: 'demo://resource/dynamic/text/3' });
      expect(read.contents[0]).toMatchObject({ uri: 'demo://resource/dynamic/text/3' });
      const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
      expect(prompts).toContain('args-prompt');
      expect(prompts).not.toContain('code_to_cloud_run');
      expect((await client.getPrompt({ name: 'args-prompt', arguments: { city: 'Nice' } })).messages[0]!.content).toEqual({ type: 'text', text: "What's weather in Nice?" });
    } finally {
      await client.close();
    }
    // Audited under the catalog names.
    await hub.deps.audit.flush();
    expect((await hub.deps.audit.list({ limit: 10, tool: 'ev_get-sum' })).records.some((r) => (r.args as { a?: number }).a === 1)).toBe(true);
    expect((await hub.deps.audit.list({ limit: 10, tool: 'ev_resources_read' })).records.some((r) => (r.args as { uri?: string }).uri === 'ev+demo://resource/dynamic/text/3')).toBe(true);
  });

  it('a prefixed profile narrows the view; an unknown profile is 404, a key bound to another profile 403', async () => {
    const client = await mcpClient(base, TEST_KEY, 'legacy', '/mcp/p/apps');
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['app_get-time']);
      expect((await client.listResources()).resources.map((r) => r.uri)).toEqual(['app+ui://get-time/mcp-app.html']);
      await expect(client.readResource({ uri: 'ev+demo://resource/dynamic/text/3' })).rejects.toThrow();
      // A tool outside the view is an unknown tool, as on /mcp.
      await expect(client.callTool({ name: 'ev_get-sum', arguments: { a: 1, b: 2 } })).rejects.toThrow(/Unknown tool: ev_get-sum/);
    } finally {
      await client.close();
    }
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
    const post = (path: string, key: string) =>
      fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify(init) });
    expect((await post('/mcp/p/nope', TEST_KEY)).status).toBe(404);
    const bound = await post('/mcp/p/apps', OTHER_KEY);
    expect(bound.status).toBe(403);
    expect(((await bound.json()) as { error: { message: string } }).error.message).toContain('bound to profile "other"');
  });
});

describe('appMeta: MCP App metadata of an upstream tool', () => {
  it('rewrites ui:// URIs to hub URIs, keeps the openai/* keys, marks app-only tools and drops the rest of _meta', () => {
    expect(appMeta('app', { ui: { resourceUri: 'ui://w/a.html', visibility: ['app'] }, 'openai/outputTemplate': 'ui://w/a.html', 'openai/widgetAccessible': true, other: 1 })).toEqual({
      mcpMeta: { ui: { resourceUri: 'app+ui://w/a.html', visibility: ['app'] }, 'openai/outputTemplate': 'app+ui://w/a.html', 'openai/widgetAccessible': true },
      forModel: false,
    });
    expect(appMeta('app', { ui: { resourceUri: 'ui://w/a.html', visibility: ['model', 'app'] } }).forModel).toBe(true);
    expect(appMeta('app', { other: 1 })).toEqual({ forModel: true });
    expect(appMeta('app', undefined)).toEqual({ forModel: true });
  });
});
