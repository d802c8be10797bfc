import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MCP_HEADERS, testHub, type TestHub } from '../helpers/app.js';
import { modernRequest } from '../helpers/mcp-requests.js';
import { startFakeCloudRun, type FakeCloudRun } from '../fakes/cloud-run.js';

type Json = Record<string, unknown>;

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.warn('REDIS_URL is unset: the MCP Tasks tests across two instances are skipped');

const PROJECT = 'p1';
/** Service names of this run: the audit (PostgreSQL when DATABASE_URL is set) outlives it. */
const unique = (s: string) => `${s}-${randomUUID().slice(0, 8)}`;
const serviceName = (s: string) => `projects/${PROJECT}/locations/us-central1/services/${s}`;
const TASKS = { extensions: { 'io.modelcontextprotocol/tasks': {} } };

/**
 * Long calls as MCP Tasks (the io.modelcontextprotocol/tasks extension), against the Cloud Run stand-in: two hub
 * instances share one Redis, so the task one creates is read and cancelled on the other.
 */
describe.skipIf(!REDIS_URL)('MCP Tasks for long tools across two instances on one Redis', () => {
  let run: FakeCloudRun;
  let a: TestHub;
  let b: TestHub;

  const seed = (s: string) => run.state.services.set(serviceName(s), { name: serviceName(s), uid: s, generation: '1', etag: '"e"', reconciling: false });

  async function send(hub: TestHub, id: number, method: string, params: Json, capabilities: Json = TASKS, status = 200) {
    const { headers, payload } = modernRequest(id, method, params, capabilities);
    const res = await hub.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, ...headers }, payload });
    expect(res.statusCode, res.body).toBe(status);
    return JSON.parse(res.body) as { result?: Json; error?: { code: number; message: string } };
  }

  async function audit(hub: TestHub, service: string) {
    await hub.deps.audit.flush();
    const records = (await hub.deps.audit.list({ limit: 100, tool: 'google_cloud_run_delete' })).records;
    return records.filter((r) => JSON.stringify(r).includes(service));
  }

  beforeAll(async () => {
    // Three CRITICAL calls per run: earlier runs on this Redis must not have used the tool's hourly quota.
    const redis = new Redis(REDIS_URL!);
    await redis.del('omni:quota:google_cloud_run_delete');
    await redis.quit();
    run = await startFakeCloudRun({ operationPolls: 2 });
    const env = {
      REDIS_URL: REDIS_URL!,
      APPROVAL: 'model',
      TOOL_WAIT_MS: '1500',
      GOOGLE_OAUTH_TOKEN: 'ya29.tasks',
      GOOGLE_API_BASE_URL: run.url,
      GOOGLE_CLOUD_PROJECT: PROJECT,
    };
    [a, b] = await Promise.all([testHub(env), testHub(env)]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await run?.close();
  });

  it('the server advertises the extension', async () => {
    const { result } = await send(a, 1, 'server/discover', {});
    expect((result!.capabilities as Json).extensions).toMatchObject({ 'io.modelcontextprotocol/tasks': {} });
  });

  it('a delete started as a task answers a task at once; the other instance reports it, then its result inline', async () => {
    const task = unique('svc-task');
    seed(task);
    const created = (await send(a, 2, 'tools/call', { name: 'google_cloud_run_delete', arguments: { service_name: task, confirm: true } })).result!;
    expect(created).toMatchObject({ resultType: 'task', status: 'working' });
    expect(created.taskId).toEqual(expect.stringMatching(/^google_cloud_run_delete-/));
    expect(Number.isInteger(created.ttlMs) && Number.isInteger(created.pollIntervalMs)).toBe(true);
    expect(created).not.toHaveProperty('result');
    expect(created).not.toHaveProperty('task');

    const done = await vi.waitFor(
      async () => {
        const got = (await send(b, 3, 'tasks/get', { taskId: created.taskId })).result!;
        expect(got.taskId).toBe(created.taskId);
        expect(got.status).toBe('completed');
        return got;
      },
      { timeout: 20_000, interval: 100 },
    );
    const result = done.result as { isError?: boolean; structuredContent?: Json };
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ status: 'deleted' });
    expect(run.state.services.has(serviceName(task))).toBe(false);
    // The call ran once and was audited once, with its outcome.
    expect((await audit(a, task)).map((r) => r.outcome)).toEqual(['ok']);
  });

  it('tasks/cancel on the other instance stops the work; the task reads cancelled; a second cancel is the same empty ack', async () => {
    const cancel = unique('svc-cancel');
    seed(cancel);
    run.state.operationPolls = 1_000_000;
    try {
      const created = (await send(a, 4, 'tools/call', { name: 'google_cloud_run_delete', arguments: { service_name: cancel, confirm: true } })).result!;
      expect(created).toMatchObject({ resultType: 'task', status: 'working' });
      expect((await send(b, 5, 'tasks/get', { taskId: created.taskId })).result).toMatchObject({ status: 'working' });

      const ack = (await send(b, 6, 'tasks/cancel', { taskId: created.taskId })).result!;
      expect(ack.resultType).toBe('complete');
      for (const key of ['taskId', 'status', 'result', 'error']) expect(ack).not.toHaveProperty(key);
      expect((await send(a, 7, 'tasks/get', { taskId: created.taskId })).result).toMatchObject({ status: 'cancelled' });
      // The running instance notices the cancellation and its call ends (audited) instead of polling on.
      await vi.waitFor(async () => expect(await audit(a, cancel)).toHaveLength(1), { timeout: 20_000, interval: 200 });
      expect((await audit(a, cancel))[0]).toMatchObject({ outcome: 'error', error: { code: 'cancelled' } });
      expect((await send(b, 8, 'tasks/get', { taskId: created.taskId })).result).toMatchObject({ status: 'cancelled' });
      const again = (await send(b, 9, 'tasks/cancel', { taskId: created.taskId })).result!;
      expect(again.resultType).toBe('complete');
      expect(again).not.toHaveProperty('status');
    } finally {
      run.state.operationPolls = 2;
    }
  });

  it('tasks/get, tasks/cancel and tasks/update need the extension (-32021) and name an unknown task (-32602)', async () => {
    expect((await send(a, 10, 'tasks/get', { taskId: 'nope' }, {}, 400)).error?.code).toBe(-32021);
    expect((await send(a, 11, 'tasks/cancel', { taskId: 'nope' }, {}, 400)).error?.code).toBe(-32021);
    expect((await send(a, 14, 'tasks/update', { taskId: 'nope', inputResponses: {} }, {}, 400)).error?.code).toBe(-32021);
    const unknown = await send(a, 12, 'tasks/get', { taskId: 'nope' });
    expect(unknown.error?.code).toBe(-32602);
    expect((await send(a, 15, 'tasks/update', { taskId: 'nope', inputResponses: {} })).error?.code).toBe(-32602);
  });

  it('tasks/list and tasks/result, which SEP-2663 removed, are unknown methods (-32601)', async () => {
    for (const [id, method, params] of [[16, 'tasks/list', {}], [17, 'tasks/result', { taskId: 'nope' }]] as const) {
      const { headers, payload } = modernRequest(id, method, params, TASKS);
      const res = await a.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, ...headers }, payload });
      expect((JSON.parse(res.body) as { error?: { code: number } }).error?.code, res.body).toBe(-32601);
    }
  });

  it('a client without the extension gets status: running and the operation to follow, as before', async () => {
    const legacy = unique('svc-legacy');
    seed(legacy);
    run.state.operationPolls = 1_000_000;
    try {
      const answer = (await send(a, 13, 'tools/call', { name: 'google_cloud_run_delete', arguments: { service_name: legacy, confirm: true } }, {})).result!;
      expect(answer.resultType).not.toBe('task');
      expect(answer).not.toHaveProperty('taskId');
      expect(answer.structuredContent).toMatchObject({ status: 'running' });
    } finally {
      run.state.operationPolls = 2;
    }
  });
});
