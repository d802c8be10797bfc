import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyId } from '../../src/http/auth.js';
import { AUTH, MCP_HEADERS, TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { modernRequest } from '../helpers/mcp-requests.js';
import { startFakeCloudRun, type FakeCloudRun } from '../fakes/cloud-run.js';

type Json = Record<string, unknown>;
type ToolResult = { isError?: boolean; structuredContent?: Json; content: { type: string; text?: string }[] };

const PROJECT = 'p1';
const serviceName = (s: string) => `projects/${PROJECT}/locations/us-central1/services/${s}`;

/**
 * A person approves a CRITICAL call through MCP elicitation (the default APPROVAL=person), against the Cloud Run
 * stand-in: on 2026-07-28 the call answers input_required with a form and a signed requestState, on a 2025 session
 * the SDK sends `elicitation/create`. Each approval runs its call once.
 */
describe('approval through MCP elicitation', () => {
  let run: FakeCloudRun;
  let hub: TestHub;
  let url: URL;

  const deletes = () => run.state.requests.filter((r) => r.method === 'DELETE').length;
  const seed = (s: string) => run.state.services.set(serviceName(s), { name: serviceName(s), uid: s, generation: '1', etag: '"e"', reconciling: false });

  async function audit(tool = 'google_cloud_run_delete') {
    await hub.deps.audit.flush();
    return (await hub.deps.audit.list({ limit: 100, tool })).records;
  }

  beforeAll(async () => {
    run = await startFakeCloudRun({ operationPolls: 0 });
    hub = await testHub({ GOOGLE_OAUTH_TOKEN: 'ya29.elicit', GOOGLE_API_BASE_URL: run.url, GOOGLE_CLOUD_PROJECT: PROJECT });
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    url = new URL(`http://127.0.0.1:${(hub.app.server.address() as { port: number }).port}/mcp`);
  });
  afterAll(async () => {
    await hub?.close();
    await run?.close();
  });

  /** The official v2 client with elicitation declared; its handler answers as the person would. */
  async function client(era: 'modern' | 'legacy', answer: () => Json, asked: string[]) {
    const c = new Client(
      { name: `elicit-${era}`, version: '1' },
      { capabilities: { elicitation: { form: {} } }, ...(era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {}) },
    );
    c.setRequestHandler('elicitation/create', (req) => {
      asked.push(String(req.params.message));
      return Promise.resolve(answer() as never);
    });
    await c.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: AUTH } }));
    return c;
  }

  it('2026-07-28: the v2 client is asked in a form stating the action; approving runs the delete once', async () => {
    seed('svc-a');
    const asked: string[] = [];
    const c = await client('modern', () => ({ action: 'accept', content: { approve: true } }), asked);
    try {
      const before = deletes();
      const result = (await c.callTool({ name: 'google_cloud_run_delete', arguments: { service_name: 'svc-a', confirm: true } })) as ToolResult;
      expect(result.isError, JSON.stringify(result)).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ status: 'deleted' });
      expect(asked).toHaveLength(1);
      expect(asked[0]).toContain('google_cloud_run_delete needs your approval. It would: ');
      expect(asked[0]).toContain('svc-a');
      expect(deletes()).toBe(before + 1);
      const ran = (await audit()).find((r) => r.outcome === 'ok');
      expect(ran?.approved_by).toMatchObject({ who: keyId(TEST_KEY), via: 'elicitation' });
    } finally {
      await c.close();
    }
  });

  it('2026-07-28: declining refuses the call with approval_denied, audited with denied_by', async () => {
    seed('svc-b');
    const asked: string[] = [];
    const c = await client('modern', () => ({ action: 'decline' }), asked);
    try {
      const before = deletes();
      const result = (await c.callTool({ name: 'google_cloud_run_delete', arguments: { service_name: 'svc-b' } })) as ToolResult;
      expect(result.isError).toBe(true);
      expect(JSON.parse(result.content[0]!.text!).error).toMatchObject({ code: 'approval_denied' });
      expect(asked).toHaveLength(1);
      expect(deletes()).toBe(before);
      expect(run.state.services.has(serviceName('svc-b'))).toBe(true);
      const denied = (await audit()).find((r) => r.error?.code === 'approval_denied');
      expect(denied?.denied_by).toMatchObject({ who: keyId(TEST_KEY), via: 'elicitation' });
    } finally {
      await c.close();
    }
  });

  it('2026-07-28 on the wire: a replayed answer, or the answer with changed arguments, does not run the call again', async () => {
    seed('svc-c');
    seed('svc-d');
    const elicits = { elicitation: {} };
    const send = async (id: number, params: Json) => {
      const { headers, payload } = modernRequest(id, 'tools/call', params, elicits);
      const res = await hub.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, ...headers }, payload });
      expect(res.statusCode, res.body).toBe(200);
      return JSON.parse(res.body) as { result?: Json; error?: Json };
    };
    const args = { service_name: 'svc-c' };
    const first = (await send(1, { name: 'google_cloud_run_delete', arguments: args })).result!;
    expect(first).toMatchObject({ resultType: 'input_required', inputRequests: { approval: { method: 'elicitation/create', params: { mode: 'form' } } } });
    expect(typeof first.requestState).toBe('string');
    const before = deletes();

    const approve = { approval: { action: 'accept', content: { approve: true } } };
    // The answer for other arguments is not the answer for this call: the person is asked again, nothing runs.
    const changed = (await send(2, { name: 'google_cloud_run_delete', arguments: { service_name: 'svc-d' }, inputResponses: approve, requestState: first.requestState })).result!;
    expect(changed.resultType).toBe('input_required');
    expect(deletes()).toBe(before);

    const answered = (await send(3, { name: 'google_cloud_run_delete', arguments: args, inputResponses: approve, requestState: first.requestState })).result!;
    expect(answered.isError, JSON.stringify(answered)).toBeFalsy();
    expect(answered.structuredContent).toMatchObject({ status: 'deleted' });
    expect(deletes()).toBe(before + 1);

    const replayed = (await send(4, { name: 'google_cloud_run_delete', arguments: args, inputResponses: approve, requestState: first.requestState })).result!;
    expect(replayed.resultType).toBe('input_required');
    expect(replayed.requestState).not.toBe(first.requestState);
    expect(deletes()).toBe(before + 1);

    // A requestState the hub did not sign is refused before the handler runs.
    const forged = await send(5, { name: 'google_cloud_run_delete', arguments: args, inputResponses: approve, requestState: `${String(first.requestState)}x` });
    expect(forged.error).toMatchObject({ code: -32602 });
    expect(deletes()).toBe(before + 1);
  });

  it('2025 session: the hub sends elicitation/create; approving runs the delete once', async () => {
    seed('svc-e');
    const asked: string[] = [];
    const c = await client('legacy', () => ({ action: 'accept', content: { approve: true } }), asked);
    try {
      expect(c.getNegotiatedProtocolVersion?.() ?? '').not.toBe('2026-07-28');
      const before = deletes();
      const result = (await c.callTool({ name: 'google_cloud_run_delete', arguments: { service_name: 'svc-e' } })) as ToolResult;
      expect(result.isError, JSON.stringify(result)).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ status: 'deleted' });
      expect(asked).toHaveLength(1);
      expect(asked[0]).toContain('svc-e');
      expect(deletes()).toBe(before + 1);
    } finally {
      await c.close();
    }
  });

  it('a client without elicitation gets the approval page, with an absolute URL', async () => {
    seed('svc-f');
    const c = new Client({ name: 'no-elicit', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await c.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: AUTH } }));
    try {
      const before = deletes();
      const result = (await c.callTool({ name: 'google_cloud_run_delete', arguments: { service_name: 'svc-f' } })) as ToolResult;
      expect(result.isError).toBe(true);
      const error = JSON.parse(result.content[0]!.text!).error;
      expect(error).toMatchObject({ code: 'approval_required' });
      expect(error.approval_url).toBe(`${url.origin}/approvals/${error.approval_id}`);
      expect(deletes()).toBe(before);
    } finally {
      await c.close();
    }
  });
});

const REDIS_URL = process.env.REDIS_URL;

/** Two hubs on one Redis: one asks, the other takes the answer (the approval in Redis, the requestState key shared). */
describe.skipIf(!REDIS_URL)('approval through elicitation across two instances on one Redis', () => {
  let run: FakeCloudRun;
  let a: TestHub;
  let b: TestHub;

  beforeAll(async () => {
    run = await startFakeCloudRun({ operationPolls: 0 });
    const env = { REDIS_URL: REDIS_URL!, GOOGLE_OAUTH_TOKEN: 'ya29.elicit', GOOGLE_API_BASE_URL: run.url, GOOGLE_CLOUD_PROJECT: PROJECT };
    [a, b] = await Promise.all([testHub(env), testHub(env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await run?.close();
  });

  it('asked on one instance, answered on the other: runs once; the replay on the first runs nothing', async () => {
    expect([a.deps.approvals.kind, b.deps.approvals.kind]).toEqual(['redis', 'redis']);
    const name = serviceName(`svc-r-${Date.now()}`);
    run.state.services.set(name, { name, uid: 'r', generation: '1', etag: '"e"', reconciling: false });
    const deletes = () => run.state.requests.filter((r) => r.method === 'DELETE').length;
    const send = async (hub: TestHub, id: number, params: Json) => {
      const { headers, payload } = modernRequest(id, 'tools/call', params, { elicitation: {} });
      const res = await hub.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, ...headers }, payload });
      expect(res.statusCode, res.body).toBe(200);
      return (JSON.parse(res.body) as { result: Json }).result;
    };
    const call = { name: 'google_cloud_run_delete', arguments: { service_name: name.split('/').pop() } };
    const asked = await send(a, 1, call);
    expect(asked.resultType).toBe('input_required');
    const answer = { ...call, inputResponses: { approval: { action: 'accept', content: { approve: true } } }, requestState: asked.requestState };
    const ran = await send(b, 2, answer);
    expect(ran.isError, JSON.stringify(ran)).toBeFalsy();
    expect(deletes()).toBe(1);
    expect((await send(a, 3, answer)).resultType).toBe('input_required');
    expect(deletes()).toBe(1);
  });
});
