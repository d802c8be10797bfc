import { createHash } from 'node:crypto';
import { Client, SSEClientTransport, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { startAppUpstream, type AppUpstream } from '../fakes/app-upstream.js';
import { allConnected, startBasicAppHttp, stdioEverything, type ChildServer } from './helpers.js';

/** Claude's app origin for an MCP URL, computed as the ext-apps documentation does (not with the hub's code). */
const claudeDomain = (mcpUrl: string) => `${createHash('sha256').update(mcpUrl).digest('hex').slice(0, 32)}.claudemcpcontent.com`;
const hash = (mcpUrl: string) => createHash('sha256').update(mcpUrl).digest('hex').slice(0, 32);
const text = (result: { content?: unknown }) => JSON.stringify(result.content);

/**
 * Issue 30's federation as a client sees it, in one hub: the official everything server (stdio), the official MCP
 * Apps example server of ext-apps (its Streamable HTTP mode) and an app server that derives its app origin from its own
 * URL (HTTP), read through the hub by the official v2 client on a 2025 session that answers elicitation.
 */
describe('an MCP Apps example server and the everything server behind the hub, through the official client', () => {
  let hub: TestHub;
  let base: string;
  let basicApp: ChildServer;
  let dashboard: AppUpstream;
  const asked: string[] = [];

  beforeAll(async () => {
    [basicApp, dashboard] = await Promise.all([startBasicAppHttp(), startAppUpstream()]);
    hub = await testHub(
      {
        UPSTREAMS: JSON.stringify([stdioEverything('ev'), { name: 'app', url: basicApp.url }, { name: 'dash', url: dashboard.mcpUrl }]),
        PROFILES: JSON.stringify([{ name: 'apps', upstreams: ['app', 'dash'] }]),
        // Two prompt gets and one app read an hour: the next is refused by the quota, as a tool call past its limit.
        GOVERNANCE_OVERRIDES: JSON.stringify({ ev_prompts_get: { limit: 2 }, app_resources_read: { limit: 1 } }),
      },
      { systems: [fixtureSystem] },
    );
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(hub.app.server.address() as { port: number }).port}`;
    await allConnected(hub.app, ['ev', 'app', 'dash']);
  });
  afterAll(async () => {
    await hub?.close();
    await basicApp?.stop();
    await dashboard?.close();
  });

  async function connect(path = '/mcp', era: 'legacy' | 'modern' = 'legacy'): Promise<Client> {
    const client = new Client(
      { name: 'done-when', version: '1.0.0' },
      { capabilities: { elicitation: { form: {} } }, ...(era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' as const } } } : {}) },
    );
    const requestInit = { headers: { authorization: `Bearer ${TEST_KEY}` } };
    if (path === '/sse') {
      const withKey = (url: string | URL, init?: RequestInit) => {
        const headers = new Headers(init?.headers);
        headers.set('authorization', requestInit.headers.authorization);
        return fetch(url, { ...init, headers });
      };
      await client.connect(new SSEClientTransport(new URL(`${base}${path}`), { fetch: withKey }));
      return client;
    }
    client.setRequestHandler('elicitation/create', async (req) => {
      asked.push(req.params.message);
      return { action: 'accept', content: { name: 'Grace Hopper', check: true } };
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}${path}`), { requestInit }));
    return client;
  }

  it('lists and reads resources, templates, prompts and app resources of both; reads and gets are governed (quota) and audited; an elicitation is answered', async () => {
    const client = await connect();
    let doc: string | undefined;
    try {
      // Lists: every upstream's resources under hub URIs, the everything server's templates and prompts.
      const uris = (await client.listResources()).resources.map((r) => r.uri);
      expect(uris).toEqual(expect.arrayContaining(['app+ui://get-time/mcp-app.html', 'dash+ui://dashboard/view.html', 'dash+ui://dashboard/generated.html']));
      doc = uris.find((u) => u.startsWith('ev+demo://resource/static/document/'));
      if (!doc) throw new Error('the everything server listed no static document');
      expect((await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate)).toContain('ev+demo://resource/dynamic/text/{resourceId}');
      expect((await client.listPrompts()).prompts.map((p) => p.name)).toEqual(expect.arrayContaining(['ev_simple-prompt', 'ev_args-prompt']));

      // Reads: a static resource, one from a template, and the app resources a tool's _meta.ui points at.
      expect((await client.readResource({ uri: doc })).contents[0]!.uri).toBe(doc);
      expect((await client.readResource({ uri: 'ev+demo://resource/dynamic/text/42' })).contents[0]).toMatchObject({ uri: 'ev+demo://resource/dynamic/text/42' });
      const getTime = (await client.listTools()).tools.find((t) => t.name === 'app_get-time')!;
      const appUri = (getTime._meta!.ui as { resourceUri: string }).resourceUri;
      expect(appUri).toBe('app+ui://get-time/mcp-app.html');
      const app = (await client.readResource({ uri: appUri })).contents[0] as { mimeType: string; text: string };
      expect(app.mimeType).toBe('text/html;profile=mcp-app');
      expect(app.text).toContain('<html');
      await expect(client.readResource({ uri: appUri })).rejects.toThrow(/quota/i);
      expect((await client.callTool({ name: 'app_get-time', arguments: {} })).structuredContent).toMatchObject({ time: expect.any(String) });

      // Prompts, governed: the quota of ev_prompts_get allows two gets, the third is refused naming the quota.
      expect((await client.getPrompt({ name: 'ev_args-prompt', arguments: { city: 'Oslo' } })).messages[0]!.content).toEqual({ type: 'text', text: "What's weather in Oslo?" });
      await client.getPrompt({ name: 'ev_simple-prompt' });
      await expect(client.getPrompt({ name: 'ev_simple-prompt' })).rejects.toThrow(/quota/i);

      // An upstream elicitation reaches this client, whose answer goes back to the upstream.
      const elicited = await client.callTool({ name: 'ev_trigger-elicitation-request', arguments: {} });
      expect(elicited.isError ?? false).toBe(false);
      expect(text(elicited)).toContain('Grace Hopper');
      expect(asked).toHaveLength(1);
    } finally {
      await client.close();
    }

    await hub.deps.audit.flush();
    const records = (await hub.deps.audit.list({ limit: 200 })).records;
    const reads = records.filter((r) => r.tool.endsWith('_resources_read') && r.transport === 'mcp' && r.outcome === 'ok').map((r) => (r.args as { uri: string }).uri);
    expect(reads).toEqual(expect.arrayContaining([doc, 'ev+demo://resource/dynamic/text/42', 'app+ui://get-time/mcp-app.html']));
    expect(records.find((r) => r.tool === 'app_resources_read' && r.outcome === 'ok')).toMatchObject({ system: 'app', level: 'LOW', quota: expect.anything() });
    expect(records.some((r) => r.tool === 'app_resources_read' && r.outcome !== 'ok')).toBe(true);
    const gets = records.filter((r) => r.tool === 'ev_prompts_get');
    expect(gets.filter((r) => r.outcome === 'ok')).toHaveLength(2);
    expect(gets.some((r) => r.outcome !== 'ok')).toBe(true);
    expect(records.some((r) => r.tool === 'ev_trigger-elicitation-request' && r.outcome === 'ok')).toBe(true);
  });

  it.each([
    ['/mcp', 'legacy'],
    ['/mcp/p/apps', 'legacy'],
    ['/mcp', 'modern'],
    ['/sse', 'legacy'],
  ] as const)('on %s (%s era): app domains derived from the upstream\'s URL are re-derived from the hub URL the client connected to; CSP lists pass unchanged', async (path, era) => {
    const hubUrl = `${base}${path}`;
    const client = await connect(path, era);
    try {
      const view = (await client.readResource({ uri: 'dash+ui://dashboard/view.html' })).contents[0]!;
      expect(view._meta).toEqual({
        ui: {
          domain: claudeDomain(hubUrl),
          csp: { connectDomains: [dashboard.origin, 'https://api.example.com'], resourceDomains: [dashboard.origin] },
          prefersBorder: true,
        },
        'openai/widgetDomain': base,
        'openai/widgetCSP': { connect_domains: [dashboard.origin, 'https://api.example.com'], resource_domains: [dashboard.origin] },
      });
      const generated = `mcp-endpoint-${hash(hubUrl)}.web-sandbox.oaiusercontent.com`;
      expect((await client.readResource({ uri: 'dash+ui://dashboard/generated.html' })).contents[0]!._meta).toEqual({ ui: { domain: generated, csp: { frameDomains: [dashboard.origin] } } });
      const listed = (await client.listResources()).resources.find((r) => r.uri === 'dash+ui://dashboard/generated.html')!;
      expect(listed._meta).toEqual({ ui: { domain: generated } });
    } finally {
      await client.close();
    }
  });
});

describe('app domains behind a proxy: PUBLIC_URL is the address the client configured', () => {
  let hub: TestHub;
  let dashboard: AppUpstream;
  beforeAll(async () => {
    dashboard = await startAppUpstream();
    hub = await testHub({ UPSTREAMS: JSON.stringify([{ name: 'dash', url: dashboard.mcpUrl }]), PUBLIC_URL: 'https://hub.example.test/omni' }, { systems: [fixtureSystem] });
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    await allConnected(hub.app, ['dash']);
  });
  afterAll(async () => {
    await hub?.close();
    await dashboard?.close();
  });

  it('derives the domain from PUBLIC_URL and the path the request came to', async () => {
    const client = new Client({ name: 'behind-proxy', version: '1.0.0' });
    const port = (hub.app.server.address() as { port: number }).port;
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), { requestInit: { headers: { authorization: `Bearer ${TEST_KEY}` } } }));
    try {
      const meta = (await client.readResource({ uri: 'dash+ui://dashboard/view.html' })).contents[0]!._meta as { ui: { domain: string }; 'openai/widgetDomain': string };
      expect(meta.ui.domain).toBe(claudeDomain('https://hub.example.test/omni/mcp'));
      expect(meta['openai/widgetDomain']).toBe('https://hub.example.test');
    } finally {
      await client.close();
    }
  });
});
