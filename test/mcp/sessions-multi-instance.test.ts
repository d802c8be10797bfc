import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyId } from '../../src/http/auth.js';
import { startHubProcess, type HubProcess } from '../helpers/spawn-hub.js';

/**
 * Two hub processes on one Redis, as Cloud Run runs several instances behind one address: a session opened on one is
 * served by the other, including after the first is gone; DELETE and idle expiry end it on both.
 */
const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.warn('REDIS_URL is unset: the multi-instance MCP session tests are skipped');

const KEY_1 = 'multi-instance-key-one-0123456789';
const KEY_2 = 'multi-instance-key-two-0123456789';
const IDLE_MS = 3_000;
const PREFIX = 'omni:mcp:';

const rpc = (id: number, method: string, params: Record<string, unknown> = {}) => JSON.stringify({ jsonrpc: '2.0', id, method, params });
const INIT = rpc(1, 'initialize', { protocolVersion: '2025-11-25', capabilities: { roots: {} }, clientInfo: { name: 'multi', version: '1' } });
const headers = (key: string, sid?: string): Record<string, string> => ({
  authorization: `Bearer ${key}`,
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
  ...(sid ? { 'mcp-session-id': sid } : {}),
});

/** The JSON-RPC message of a JSON or SSE answer (skipping an SSE priming event). */
function message(body: string): { id?: number; result?: Record<string, unknown>; error?: { code: number; message: string } } {
  const data = !body.startsWith('{') ? body.split('\n').find((l) => l.startsWith('data: ') && l.length > 6)!.slice(6) : body;
  return JSON.parse(data);
}

async function post(hub: HubProcess, key: string, sid: string | undefined, body: string): Promise<{ status: number; body: string; sid: string | null }> {
  const res = await fetch(`${hub.url}/mcp`, { method: 'POST', headers: headers(key, sid), body });
  return { status: res.status, body: await res.text(), sid: res.headers.get('mcp-session-id') };
}

async function open(hub: HubProcess, key = KEY_1): Promise<string> {
  const init = await post(hub, key, undefined, INIT);
  expect(init.status).toBe(200);
  expect((await post(hub, key, init.sid!, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }))).status).toBe(202);
  return init.sid!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds (an ended session may be seen through a cache for up to 1 s on another instance). */
async function eventually(check: () => Promise<boolean>, ms = 2_500): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(50);
  }
  return check();
}

describe.skipIf(!REDIS_URL)('MCP sessions across two hub processes on one Redis', () => {
  let a: HubProcess;
  let b: HubProcess;
  let redis: Redis;
  const env = {
    REDIS_URL: REDIS_URL!,
    MCP_API_KEY: `${KEY_1},${KEY_2}`,
    MCP_SESSION_IDLE_MS: String(IDLE_MS),
    MCP_MAX_SESSIONS_PER_PRINCIPAL: '3',
  };

  beforeAll(async () => {
    redis = new Redis(REDIS_URL!);
    // Only this suite's principals: other suites may be using the same database right now.
    await redis.del(`${PREFIX}principal:${keyId(KEY_1)}`, `${PREFIX}principal:${keyId(KEY_2)}`);
    [a, b] = await Promise.all([startHubProcess(env), startHubProcess(env)]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    redis?.disconnect();
  });

  it('serves a session opened on A from B: fast path, SDK path, notifications; another key gets 404 on both', async () => {
    const sid = await open(a);
    const list = await post(b, KEY_1, sid, rpc(2, 'tools/list'));
    expect(list.status).toBe(200);
    expect(list.sid).toBe(sid);
    expect((message(list.body).result as { tools: unknown[] }).tools.length).toBeGreaterThan(40);
    const call = await post(b, KEY_1, sid, rpc(3, 'tools/call', { name: 'google_maps_geocode', arguments: { address: 'Paris' } }));
    expect(message(call.body).result).toMatchObject({ isError: true });
    expect(call.body).toContain('not_configured');
    // prompts/list goes through an SDK transport B rebuilds for the session (concurrent first requests share one).
    const prompts = await Promise.all([40, 41, 42, 43].map((n) => post(b, KEY_1, sid, rpc(n, 'prompts/list'))));
    for (const [i, p] of prompts.entries()) expect(message(p.body)).toMatchObject({ id: 40 + i, result: { prompts: expect.any(Array) } });
    const ping = await post(b, KEY_1, sid, rpc(5, 'ping'));
    expect(message(ping.body)).toMatchObject({ id: 5, result: {} });
    const level = await post(b, KEY_1, sid, rpc(6, 'logging/setLevel', { level: 'error' }));
    expect(message(level.body)).toMatchObject({ id: 6, result: {} });
    expect(JSON.parse((await redis.get(`${PREFIX}session:${sid}`))!)).toMatchObject({
      principal: expect.any(String),
      protocolVersion: '2025-11-25',
      clientCapabilities: { roots: {} },
      clientInfo: { name: 'multi', version: '1' },
      logLevel: 'error',
    });

    for (const hub of [a, b]) {
      const foreign = await post(hub, KEY_2, sid, rpc(7, 'tools/list'));
      expect(foreign.status).toBe(404);
      expect(JSON.parse(foreign.body)).toMatchObject({ error: { code: -32001, message: 'Session not found' } });
      const foreignSdk = await post(hub, KEY_2, sid, rpc(8, 'prompts/list'));
      expect(foreignSdk.status).toBe(404);
      const foreignGet = await fetch(`${hub.url}/mcp`, { headers: { ...headers(KEY_2, sid), accept: 'text/event-stream' } });
      expect(foreignGet.status).toBe(404);
    }
  });

  it('resumes on B a POST stream A answered (Last-Event-ID through the Redis event store)', async () => {
    const sid = await open(a);
    const res = await post(a, KEY_1, sid, rpc(2, 'prompts/list'));
    const priming = res.body.split('\n').find((l) => l.startsWith('id: '))!.slice(4);
    const resumed = await fetch(`${b.url}/mcp`, { headers: { ...headers(KEY_1, sid), accept: 'text/event-stream', 'last-event-id': priming } });
    expect(resumed.status).toBe(200);
    const reader = resumed.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('"prompts"')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    await reader.cancel();
    expect(text).toContain('"id":2');
  });

  it('DELETE on B ends the session for A', async () => {
    const sid = await open(a);
    expect((await post(a, KEY_1, sid, rpc(2, 'prompts/list'))).status).toBe(200);
    const del = await fetch(`${b.url}/mcp`, { method: 'DELETE', headers: headers(KEY_1, sid) });
    expect(del.status).toBe(200);
    expect(await redis.exists(`${PREFIX}session:${sid}`)).toBe(0);
    expect(await eventually(async () => (await post(a, KEY_1, sid, rpc(3, 'tools/list'))).status === 404)).toBe(true);
    expect((await post(a, KEY_1, sid, rpc(4, 'prompts/list'))).status).toBe(404);
    expect((await post(b, KEY_1, sid, rpc(5, 'tools/list'))).status).toBe(404);
  });

  it('caps sessions per principal across instances, evicting its least recently used; another key is unaffected', async () => {
    const other = await open(b, KEY_2);
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) mine.push(await open(i % 2 ? a : b));
    const alive = await Promise.all(mine.map(async (sid) => (await post(a, KEY_1, sid, rpc(2, 'tools/list'))).status));
    // Cap 3: the two oldest were ended to make room (eviction publishes, so no instance serves them from cache).
    expect(alive).toEqual([404, 404, 200, 200, 200]);
    expect((await post(a, KEY_2, other, rpc(2, 'tools/list'))).status).toBe(200);
  });

  it('answers /messages on the instance not holding the SSE stream with a 409 naming the reason', async () => {
    const controller = new AbortController();
    const sse = await fetch(`${a.url}/sse`, { headers: { authorization: `Bearer ${KEY_1}`, accept: 'text/event-stream' }, signal: controller.signal });
    expect(sse.status).toBe(200);
    const reader = sse.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!/sessionId=[\w-]+/.test(text)) text += (await reader.read()).value ?? '';
    const sessionId = /sessionId=([\w-]+)/.exec(text)![1]!;
    const send = (hub: HubProcess, key: string) =>
      fetch(`${hub.url}/messages?sessionId=${sessionId}`, { method: 'POST', headers: headers(key), body: rpc(1, 'ping') });
    const elsewhere = await send(b, KEY_1);
    expect(elsewhere.status).toBe(409);
    expect(((await elsewhere.json()) as { error: { message: string } }).error.message).toMatch(/held by another instance.*Streamable HTTP.*affinity/);
    expect((await send(b, KEY_2)).status).toBe(404);
    expect((await send(a, KEY_1)).status).toBe(202);
    controller.abort();
    await reader.cancel().catch(() => undefined);
  });

  it('ends a session idle past MCP_SESSION_IDLE_MS on both instances', async () => {
    const sid = await open(a);
    expect((await post(b, KEY_1, sid, rpc(2, 'prompts/list'))).status).toBe(200);
    await sleep(IDLE_MS + 1_500);
    expect((await post(a, KEY_1, sid, rpc(3, 'tools/list'))).status).toBe(404);
    expect((await post(b, KEY_1, sid, rpc(4, 'prompts/list'))).status).toBe(404);
  });

  it('keeps serving the session on B after A is stopped', async () => {
    const sid = await open(a);
    expect((await post(b, KEY_1, sid, rpc(2, 'tools/list'))).status).toBe(200);
    expect(await a.stop()).toBe(0);
    for (let i = 0; i < 3; i++) {
      const list = await post(b, KEY_1, sid, rpc(10 + i, 'tools/list'));
      expect(list.status).toBe(200);
      const prompts = await post(b, KEY_1, sid, rpc(20 + i, 'prompts/list'));
      expect(message(prompts.body)).toMatchObject({ id: 20 + i, result: { prompts: expect.any(Array) } });
    }
  });
});
