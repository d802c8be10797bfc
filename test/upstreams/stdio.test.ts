import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, MCP_HEADERS, TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { answerApproval } from '../helpers/approval-page.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { eventually, hubClient, MEMORY, stdioEverything, upstream } from './helpers.js';

type ToolRow = { name: string; system: string; level: string; title: string; annotations: Record<string, unknown>; input_schema: Record<string, unknown>; needs_confirmation: boolean };

const audit = async (hub: TestHub, tool: string) => (await hub.deps.audit.list({ limit: 50, tool })).records;

describe('federation: server-everything over stdio', () => {
  let hub: TestHub;
  let client: Client;
  beforeAll(async () => {
    hub = await testHub(
      {
        UPSTREAMS: JSON.stringify([stdioEverything('ev', { tools: { 'get-env': { enabled: false }, 'toggle-simulated-logging': { level: 'HIGH' } } })]),
        GOVERNANCE_OVERRIDES: JSON.stringify({ 'ev_get-annotated-message': { limit: 1 } }),
      },
      { systems: [fixtureSystem] },
    );
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    client = await hubClient(hub.app);
  });
  afterAll(async () => {
    // Ending the session closes its streams, including the one a cancelled request leaves open (the SDK sends no
    // response to a cancelled request, as the spec says).
    await (client?.transport as StreamableHTTPClientTransport | undefined)?.terminateSession();
    await client?.close();
    await hub?.close();
  }, 30_000);

  it('serves the upstream tools as <name>_<tool> with its schema, title and annotations, levels per §9', async () => {
    const { tools } = (await hub.app.inject({ method: 'GET', url: '/v1/tools', headers: AUTH })).json() as { tools: ToolRow[] };
    const sum = tools.find((t) => t.name === 'ev_get-sum')!;
    expect(sum).toMatchObject({ system: 'ev', level: 'LOW', annotations: { readOnlyHint: true, destructiveHint: false } });
    expect(sum.input_schema).toMatchObject({ type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] });
    // Not annotated read-only → MEDIUM; a per-tool level wins; a disabled tool is not served at all.
    expect(tools.find((t) => t.name === 'ev_gzip-file-as-resource')?.level).toBe('MEDIUM');
    expect(tools.find((t) => t.name === 'ev_toggle-simulated-logging')?.level).toBe('HIGH');
    expect(tools.some((t) => t.name === 'ev_get-env')).toBe(false);
    // The built-in tools are still there, unprefixed.
    expect(tools.some((t) => t.name === 'fixture_echo')).toBe(true);

    const listed = await client.listTools();
    const mcpSum = listed.tools.find((t) => t.name === 'ev_get-sum')!;
    expect(mcpSum.inputSchema).toEqual(sum.input_schema);
    expect(mcpSum.description).toContain('[governance: LOW');
    expect(client.getServerCapabilities()?.tools?.listChanged).toBe(true);

    const openapi = (await hub.app.inject({ method: 'GET', url: '/openapi.json?systems=ev' })).json() as { paths: Record<string, { post: { description: string; requestBody: unknown } }> };
    const op = openapi.paths['/v1/tools/ev_get-sum']!.post;
    expect(op.description.length).toBeLessThanOrEqual(300);
    expect(Object.keys(openapi.paths).every((p) => p.startsWith('/v1/tools/ev_'))).toBe(true);
  });

  it('runs a call through the pipeline: REST and MCP answers, one audit record with system = upstream name', async () => {
    const rest = await hub.app.inject({ method: 'POST', url: '/v1/tools/ev_get-sum', headers: AUTH, payload: { a: 2, b: 40 } });
    expect(rest.statusCode).toBe(200);
    expect(rest.json()).toEqual({ content: [{ type: 'text', text: 'The sum of 2 and 40 is 42.' }] });
    expect(rest.headers['ratelimit-limit']).toBe('1000');

    const mcp = await client.callTool({ name: 'ev_echo', arguments: { message: 'hi there' } });
    expect(mcp.content).toEqual([{ type: 'text', text: 'Echo: hi there' }]);
    expect(mcp._meta).toMatchObject({ 'omni-hub/governance': { level: 'LOW' } });

    const records = await eventually(async () => {
      const r = await audit(hub, 'ev_get-sum');
      return r.length ? r : undefined;
    });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ tool: 'ev_get-sum', system: 'ev', level: 'LOW', outcome: 'ok', transport: 'rest', args: { a: 2, b: 40 } });
  });

  it('validates arguments against the upstream JSON Schema before governance (no quota used)', async () => {
    const bad = await hub.app.inject({ method: 'POST', url: '/v1/tools/ev_get-sum', headers: AUTH, payload: { a: 'two' } });
    expect(bad.statusCode).toBe(400);
    const error = bad.json().error;
    expect(error.code).toBe('invalid_arguments');
    expect(error.issues).toEqual(expect.arrayContaining([{ field: 'b', message: "must have required property 'b'" }, { field: 'a', message: 'must be number' }]));
    const gov = (await hub.app.inject({ method: 'GET', url: '/v1/governance', headers: AUTH })).json() as { tools: { name: string; used: number }[] };
    const before = gov.tools.find((t) => t.name === 'ev_get-sum')!.used;
    await hub.app.inject({ method: 'POST', url: '/v1/tools/ev_get-sum', headers: AUTH, payload: {} });
    const after = ((await hub.app.inject({ method: 'GET', url: '/v1/governance', headers: AUTH })).json() as typeof gov).tools.find((t) => t.name === 'ev_get-sum')!.used;
    expect(after).toBe(before);
  });

  it('applies GOVERNANCE_OVERRIDES to upstream tools (quota by full name)', async () => {
    const first = await hub.app.inject({ method: 'POST', url: '/v1/tools/ev_get-annotated-message', headers: AUTH, payload: { messageType: 'error' } });
    expect(first.statusCode).toBe(200);
    const second = await hub.app.inject({ method: 'POST', url: '/v1/tools/ev_get-annotated-message', headers: AUTH, payload: { messageType: 'error' } });
    expect(second.statusCode).toBe(429);
    expect(second.headers['retry-after']).toBeDefined();
    expect(second.json().error.code).toBe('quota_exceeded');
  });

  it('passes image, resource-link and structured results through unchanged', async () => {
    const image = await client.callTool({ name: 'ev_get-tiny-image', arguments: {} });
    const img = (image.content as { type: string; mimeType?: string; data?: string }[]).find((c) => c.type === 'image')!;
    expect(img.mimeType).toBe('image/png');
    expect(img.data!.length).toBeGreaterThan(100);

    const links = await client.callTool({ name: 'ev_get-resource-links', arguments: { count: 2 } });
    expect((links.content as { type: string }[]).filter((c) => c.type === 'resource_link')).toHaveLength(2);

    const structured = await client.callTool({ name: 'ev_get-structured-content', arguments: { location: 'New York' } });
    expect(structured.structuredContent).toMatchObject({ temperature: expect.any(Number) });

    // The same image over REST: the MCP content as is (small enough for the REST limit).
    const rest = await hub.app.inject({ method: 'POST', url: '/v1/tools/ev_get-tiny-image', headers: AUTH, payload: {} });
    expect(rest.json().content).toEqual(image.content);
  });

  it('bounds a huge upstream result over REST like any result, and passes it whole over MCP', async () => {
    const message = 'x'.repeat(150_000);
    const rest = await hub.app.inject({ method: 'POST', url: '/v1/tools/ev_echo', headers: AUTH, payload: { message } });
    expect(rest.statusCode).toBe(200);
    expect(rest.body.length).toBeLessThan(100_000);
    expect(rest.json()._truncated).toMatchObject({ limit_chars: 90_000 });
    const mcp = await client.callTool({ name: 'ev_echo', arguments: { message } });
    expect((mcp.content as { text: string }[])[0]!.text).toBe(`Echo: ${message}`);
  });

  it("forwards the upstream's progress notifications to the client's progressToken", async () => {
    const progress: { progress: number; total?: number }[] = [];
    const result = await client.callTool(
      { name: 'ev_trigger-long-running-operation', arguments: { duration: 0.6, steps: 3 } },
      CallToolResultSchema,
      { onprogress: (p) => progress.push({ progress: p.progress, total: p.total }) },
    );
    expect((result.content as { text: string }[])[0]!.text).toContain('Long running operation completed');
    // The SDK client dispatches notifications a tick after responses, so an update sent right before the result can
    // arrive after it (and is then dropped, as the spec allows); the earlier ones always come through, in order.
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.slice(0, 2)).toEqual([
      { progress: 1, total: 3 },
      { progress: 2, total: 3 },
    ]);
  });

  it("a client's cancellation cancels the upstream call", async () => {
    const controller = new AbortController();
    // Cancelled on the first progress update: the upstream's operation is then certainly running.
    const call = client.callTool({ name: 'ev_trigger-long-running-operation', arguments: { duration: 60, steps: 60 } }, CallToolResultSchema, {
      signal: controller.signal,
      onprogress: () => controller.abort('changed my mind'),
    });
    await expect(call).rejects.toThrow();
    // The hub's record is written when its upstream call ends: long before the 60 s operation would finish.
    const [record] = await eventually(async () => {
      const r = await audit(hub, 'ev_trigger-long-running-operation');
      return r.some((x) => x.outcome === 'error') ? r.filter((x) => x.outcome === 'error') : undefined;
    }, 15_000);
    expect(record!.error?.code).toBe('timeout');
  }, 20_000);

  describe('in a session whose client cannot be asked anything (no elicitation, sampling or log level)', () => {
    const rpc = (id: number, method: string, params: Record<string, unknown>) => ({ jsonrpc: '2.0', id, method, params });
    const post = (payload: unknown, sid?: string) =>
      hub.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, ...(sid ? { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' } : {}) }, payload: payload as object });
    const open = async (capabilities: Record<string, unknown>): Promise<string> => {
      const init = await post(rpc(1, 'initialize', { protocolVersion: '2025-06-18', capabilities, clientInfo: { name: 'raw', version: '1' } }));
      const sid = init.headers['mcp-session-id'] as string;
      expect((await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, sid)).statusCode).toBe(202);
      return sid;
    };

    it('an upstream call is answered as JSON; a client that can elicit gets the SDK stream, which can carry the question', async () => {
      const sum = rpc(2, 'tools/call', { name: 'ev_get-sum', arguments: { a: 20, b: 22 } });
      const plain = await post(sum, await open({}));
      expect(plain.headers['content-type']).toBe('application/json');
      expect(plain.json().result.content[0].text).toContain('42');
      const eliciting = await post(sum, await open({ elicitation: {} }));
      expect(eliciting.headers['content-type']).toContain('text/event-stream');
      expect(eliciting.body).toContain('42');
    });

    it("the client's notifications/cancelled stops such a call", async () => {
      const sid = await open({});
      const before = (await audit(hub, 'ev_trigger-long-running-operation')).length;
      let answered = false;
      const call = post(rpc(7, 'tools/call', { name: 'ev_trigger-long-running-operation', arguments: { duration: 60, steps: 60 } }), sid).finally(() => (answered = true));
      // Cancelled until it ends: the first notifications may arrive before the call is under way (then they name no call).
      await eventually(async () => {
        expect((await post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7, reason: 'changed my mind' } }, sid)).statusCode).toBe(202);
        return answered;
      }, 15_000);
      expect((await call).headers['content-type']).toBe('application/json');
      const records = await audit(hub, 'ev_trigger-long-running-operation');
      expect(records.length).toBe(before + 1);
      expect(records[0]!.outcome).toBe('error');
    }, 20_000);
  });

  it('a dropped REST request cancels the upstream call', async () => {
    const address = hub.app.server.address() as { port: number };
    const controller = new AbortController();
    const call = fetch(`http://127.0.0.1:${address.port}/v1/tools/ev_trigger-long-running-operation`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ duration: 60, steps: 60 }),
      signal: controller.signal,
    });
    // Dropped once the hub is running the call (not before it arrives, which would test nothing).
    await eventually(() => hub.app.hub.pipeline.inFlight === 1);
    controller.abort();
    await expect(call).rejects.toThrow();
    await eventually(async () => (await audit(hub, 'ev_trigger-long-running-operation')).filter((x) => x.transport === 'rest' && x.outcome === 'error').length === 1, 15_000);
  }, 20_000);

  it('a hung upstream call is bounded by timeout_ms and answers timeout', async () => {
    const slow = await testHub({ UPSTREAMS: JSON.stringify([stdioEverything('slow', { timeout_ms: 700 })]) }, { systems: [fixtureSystem] });
    try {
      const res = await slow.app.inject({ method: 'POST', url: '/v1/tools/slow_trigger-long-running-operation', headers: AUTH, payload: { duration: 30, steps: 1 } });
      expect(res.statusCode).toBe(504);
      expect(res.json().error).toMatchObject({ code: 'timeout', upstream: 'slow', timeout_ms: 700 });
      // The upstream is still usable afterwards.
      const ok = await slow.app.inject({ method: 'POST', url: '/v1/tools/slow_get-sum', headers: AUTH, payload: { a: 1, b: 1 } });
      expect(ok.statusCode).toBe(200);
    } finally {
      await slow.close();
    }
  }, 20_000);

  it('killing the upstream mid-call answers upstream_error; it is restarted, the catalog refreshed and list_changed forwarded', async () => {
    const ev = upstream(hub.app, 'ev');
    const pid = ev.connection.pid!;
    expect(pid).toBeGreaterThan(0);
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changed += 1;
    });
    const call = hub.app.inject({ method: 'POST', url: '/v1/tools/ev_trigger-long-running-operation', headers: AUTH, payload: { duration: 30, steps: 30 } });
    await eventually(() => hub.app.hub.pipeline.inFlight === 1);
    process.kill(pid, 'SIGKILL');
    const res = await call;
    expect(res.statusCode).toBe(502);
    expect(res.json().error.code).toBe('upstream_error');

    // While it is down (or restarting): a fast upstream_error or, once back, the answer; never a hang.
    const during = await hub.app.inject({ method: 'POST', url: '/v1/tools/ev_get-sum', headers: AUTH, payload: { a: 1, b: 2 } });
    expect([200, 502]).toContain(during.statusCode);

    await eventually(() => ev.connection.status.state === 'connected' && ev.connection.pid !== pid);
    await eventually(() => changed > 0);
    const again = await hub.app.inject({ method: 'POST', url: '/v1/tools/ev_get-sum', headers: AUTH, payload: { a: 1, b: 2 } });
    expect(again.statusCode).toBe(200);
    const rows = (await hub.app.inject({ method: 'GET', url: '/v1/connections', headers: AUTH })).json().systems as { system: string; status: string; tools: number }[];
    expect(rows.find((r) => r.system === 'ev')).toMatchObject({ status: 'connected', tools: ev.tools.length });
  }, 30_000);

  it('stateless MCP serves upstream tools too (a stateless 2025 request cannot be asked anything: the fast path answers)', async () => {
    const stateless = await testHub({ MCP_SESSION_MODE: 'stateless', UPSTREAMS: JSON.stringify([stdioEverything('ev')]) }, { systems: [fixtureSystem] });
    try {
      const res = await stateless.app.inject({
        method: 'POST',
        url: '/mcp',
        headers: MCP_HEADERS,
        payload: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'ev_get-sum', arguments: { a: 3, b: 4 } } },
      });
      expect(res.json().result.content).toEqual([{ type: 'text', text: 'The sum of 3 and 4 is 7.' }]);
    } finally {
      await stateless.close();
    }
  }, 20_000);
});

describe('federation: name clashes', () => {
  it('a built-in tool keeps its name; the clashing upstream tool is left out and reported', async () => {
    // An upstream called "fixture" offers `echo`, which would be `fixture_echo`: the built-in fixture tool's name.
    const hub = await testHub({ UPSTREAMS: JSON.stringify([stdioEverything('fixture')]) }, { systems: [fixtureSystem] });
    try {
      expect(hub.app.hub.registry.get('fixture_echo')?.def.system).toBe('connector');
      expect(hub.app.hub.registry.skipped).toEqual([{ name: 'fixture_echo', system: 'fixture', reason: 'name clash: fixture_echo is already served by connector' }]);
      const res = await hub.app.inject({ method: 'POST', url: '/v1/tools/fixture_echo', headers: AUTH, payload: { message: 'x' } });
      expect(res.json()).toEqual({ echo: 'X', length: 1 });
      // The upstream's other tools are served.
      expect(hub.app.hub.registry.get('fixture_get-sum')?.def.system).toBe('fixture');
    } finally {
      await hub.close();
    }
  }, 20_000);
});

describe('federation: TOOLSETS', () => {
  it('an upstream left out of TOOLSETS is not started and serves nothing', async () => {
    const hub = await testHub({ UPSTREAMS: JSON.stringify([stdioEverything('ev')]), TOOLSETS: 'connector' }, { systems: [fixtureSystem] });
    try {
      expect(hub.app.hub.registry.systems.map((s) => s.id)).toEqual(['connector']);
      expect(hub.app.hub.registry.federated).toBe(false);
      const res = await hub.app.inject({ method: 'POST', url: '/v1/tools/ev_get-sum', headers: AUTH, payload: { a: 1, b: 2 } });
      expect(res.statusCode).toBe(404);
    } finally {
      await hub.close();
    }
  });
});

describe('federation: server-memory over stdio', () => {
  let hub: TestHub;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'omni-hub-memory-'));
    hub = await testHub(
      { UPSTREAMS: JSON.stringify([{ name: 'mem', command: process.execPath, args: [MEMORY], env: { MEMORY_FILE_PATH: path.join(dir, 'memory.jsonl') } }]) },
      { systems: [fixtureSystem] },
    );
  });
  afterAll(async () => {
    await hub?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores and reads entities; destructive tools become CRITICAL with dry_run/confirm/approval_id added by the hub', async () => {
    const created = await hub.app.inject({
      method: 'POST',
      url: '/v1/tools/mem_create_entities',
      headers: AUTH,
      payload: { entities: [{ name: 'Omni Hub', entityType: 'gateway', observations: ['federates MCP servers'] }] },
    });
    expect(created.statusCode).toBe(200);
    const graph = await hub.app.inject({ method: 'POST', url: '/v1/tools/mem_read_graph', headers: AUTH, payload: {} });
    expect(graph.json().structuredContent.entities).toEqual([{ name: 'Omni Hub', entityType: 'gateway', observations: ['federates MCP servers'] }]);

    const del = hub.app.hub.registry.get('mem_delete_entities')!;
    expect(del.def.level).toBe('CRITICAL');
    expect(del.needsConfirmation).toBe(true);
    expect(del.inputSchema.properties).toMatchObject({ dry_run: { type: 'boolean' }, confirm: { type: 'boolean' } });

    const refused = await hub.app.inject({ method: 'POST', url: '/v1/tools/mem_delete_entities', headers: AUTH, payload: { entityNames: ['Omni Hub'] } });
    expect(refused.statusCode).toBe(428);
    expect(refused.json().error.code).toBe('approval_required');
    const preview = await hub.app.inject({ method: 'POST', url: '/v1/tools/mem_delete_entities', headers: AUTH, payload: { entityNames: ['Omni Hub'], dry_run: true } });
    expect(preview.json()).toMatchObject({ dry_run: true, level: 'CRITICAL', uses_quota: false });
    expect((await hub.app.inject({ method: 'POST', url: '/v1/tools/mem_read_graph', headers: AUTH, payload: {} })).json().structuredContent.entities).toHaveLength(1);

    // confirm and approval_id are the hub's fields: the upstream (whose schema has neither) gets only its own arguments.
    const approvalId = String(refused.json().error.approval_id);
    expect((await answerApproval(hub.app, `/approvals/${approvalId}`, 'approve', TEST_KEY)).statusCode).toBe(200);
    const done = await hub.app.inject({
      method: 'POST',
      url: '/v1/tools/mem_delete_entities',
      headers: AUTH,
      payload: { entityNames: ['Omni Hub'], confirm: true, approval_id: approvalId },
    });
    expect(done.statusCode).toBe(200);
    expect((await hub.app.inject({ method: 'POST', url: '/v1/tools/mem_read_graph', headers: AUTH, payload: {} })).json().structuredContent.entities).toEqual([]);
  });
});
