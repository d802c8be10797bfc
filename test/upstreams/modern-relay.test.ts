import path from 'node:path';
import { Client, ProtocolError, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { ROOT } from '../helpers/spawn-hub.js';

/** The suite's fixture server on the SDK v2 (test/fakes/conformance-upstream.mjs), federated over stdio speaking 2026-07-28. */
const FIXTURE = path.join(ROOT, 'test/fakes/conformance-upstream.mjs');
const text = (result: { content?: unknown }) => JSON.stringify(result.content);
const requestInit = { headers: { authorization: `Bearer ${TEST_KEY}` } };
const MODERN = { versionNegotiation: { mode: { pin: '2026-07-28' as const } } };
/** A retried round's params: the SDK's callTool type leaves out `inputResponses` and `requestState`, which it sends as given. */
const retry = (name: string, fields: Record<string, unknown>) => ({ name, arguments: {}, ...fields }) as Parameters<Client['callTool']>[0];

/**
 * The hub's relay of a 2026-07-28 upstream, driven by the official v2 client: the caller's capabilities reach the
 * upstream, its input_required rounds come back with the upstream's requestState wrapped in the hub's signed state,
 * its protocol errors keep their code, and 2025 sessions get the same rounds as server-to-client requests.
 */
describe('relay of a 2026-07-28 upstream', () => {
  let hub: TestHub;
  let base: string;
  beforeAll(async () => {
    hub = await testHub({
      UPSTREAMS: JSON.stringify([{ name: 'fx', command: process.execPath, args: [FIXTURE], protocol: '2026-07-28', level: 'LOW' }]),
      PROFILES: JSON.stringify([{ name: 'front', upstreams: ['fx'], prefix: false }]),
    });
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(hub.app.server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await hub?.close();
  });

  async function connect(client: Client, endpoint = '/mcp'): Promise<Client> {
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}${endpoint}`), { requestInit }));
    return client;
  }

  it('a modern client answers every round of a multi-round tool; each round is a governed, audited call', async () => {
    const asked: string[] = [];
    const client = new Client({ name: 'modern', version: '1' }, { capabilities: { elicitation: { form: {} } }, ...MODERN });
    client.setRequestHandler('elicitation/create', async (req) => {
      asked.push(req.params.message);
      const content: Record<string, string> = asked.length === 1 ? { name: 'Ada' } : { color: 'teal' };
      return { action: 'accept', content };
    });
    await connect(client);
    try {
      const result = await client.callTool({ name: 'fx_test_input_required_result_multi_round', arguments: {} });
      expect(text(result)).toContain("Ada's favourite colour is teal");
      expect(asked).toEqual(['Step 1: What is your name?', 'Step 2: What is your favorite color?']);
    } finally {
      await client.close();
    }
    await hub.deps.audit.flush();
    const records = (await hub.deps.audit.list({ limit: 10, tool: 'fx_test_input_required_result_multi_round' })).records;
    expect(records).toHaveLength(3);
  });

  it('the upstream state comes back wrapped and signed: bound to its tool, refused when altered or moved', async () => {
    const client = await connect(new Client({ name: 'manual', version: '1' }, { capabilities: { elicitation: { form: {} } }, ...MODERN, inputRequired: { autoFulfill: false } }), '/mcp/p/front');
    try {
      const first = (await client.callTool({ name: 'test_input_required_result_request_state', arguments: {} }, { allowInputRequired: true })) as Record<string, unknown>;
      expect(first.resultType).toBe('input_required');
      const state = String(first.requestState);
      const answer = { confirm: { action: 'accept', content: { ok: true } } };
      const done = await client.callTool(retry('test_input_required_result_request_state', { inputResponses: answer, requestState: state }));
      expect(text(done)).toContain('state-ok');
      // Another tool of the same upstream, or an altered state: -32602, as the SDK answers any state that fails verification.
      for (const [name, sent] of [['test_input_required_result_tampered_state', state], ['test_input_required_result_request_state', `${state}x`]]) {
        const refused = await client.callTool(retry(name, { inputResponses: answer, requestState: sent }), { allowInputRequired: true }).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(ProtocolError);
        expect((refused as ProtocolError).code).toBe(-32602);
      }
    } finally {
      await client.close();
    }
  });

  it("the caller's own capabilities reach the upstream: its -32021 comes back with its data and HTTP 400", async () => {
    const envelope = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } };
    const res = await fetch(`${base}/mcp/p/front`, {
      method: 'POST',
      headers: {
        ...requestInit.headers,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'test_missing_capability',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'test_missing_capability', arguments: {}, _meta: envelope } }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { id: number; error: { code: number; data: { requiredCapabilities: Record<string, unknown> } } };
    expect(body.id).toBe(7);
    expect(body.error.code).toBe(-32021);
    expect(body.error.data.requiredCapabilities).toEqual({ sampling: {} });
    // Declaring sampling lets the same call through: the upstream saw this caller's capabilities, not the hub's.
    const client = new Client({ name: 'sampler', version: '1' }, { capabilities: { sampling: {} }, ...MODERN, inputRequired: { autoFulfill: false } });
    await connect(client, '/mcp/p/front');
    try {
      const asks = (await client.callTool({ name: 'test_missing_capability', arguments: {} }, { allowInputRequired: true })) as Record<string, unknown>;
      expect(asks.resultType).toBe('input_required');
    } finally {
      await client.close();
    }
  });

  it('a 2025 session gets the rounds as server-to-client requests and its answers go back', async () => {
    const client = new Client({ name: 'legacy', version: '1' }, { capabilities: { sampling: {} } });
    client.setRequestHandler('sampling/createMessage', async () => ({ role: 'assistant', content: { type: 'text', text: 'Paris, said the test' }, model: 'test-model' }));
    await connect(client, '/mcp/p/front');
    try {
      const result = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'capital of France?' } });
      expect(text(result)).toContain('LLM response: Paris, said the test');
    } finally {
      await client.close();
    }
  });

  it('a REST caller can answer nothing: the upstream hears no capabilities and refuses what would ask (upstream_error, -32021)', async () => {
    const call = (tool: string) => hub.app.inject({ method: 'POST', url: `/v1/tools/${tool}`, headers: requestInit.headers, payload: {} });
    // The upstream's SDK checks an input_required answer against the request's capabilities: with none, it cannot ask.
    for (const tool of ['fx_test_input_required_result_elicitation', 'fx_test_missing_capability']) {
      const refused = await call(tool);
      expect(refused.statusCode).toBe(502);
      expect(refused.json().error).toMatchObject({ code: 'upstream_error', upstream_code: -32021 });
    }
  });

  it('prompts and completion of the upstream are relayed too (transparent names)', async () => {
    const client = await connect(new Client({ name: 'modern', version: '1' }, { capabilities: { elicitation: { form: {} } }, ...MODERN }), '/mcp/p/front');
    client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { context: 'billing' } }));
    try {
      const prompt = await client.getPrompt({ name: 'test_input_required_result_prompt' });
      expect(JSON.stringify(prompt.messages)).toContain('billing');
      const completion = await client.complete({ ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' }, argument: { name: 'arg1', value: 'par' } });
      expect(completion.completion.values).toEqual(['paris', 'park', 'party']);
    } finally {
      await client.close();
    }
  });
});
