import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_HEADERS, testHub, untilReady, type TestHub } from '../helpers/app.js';
import { freePort, startRedisServer, stopRedisServer } from '../governance/redis-helpers.js';

const rpc = (id: number, method: string, params: Record<string, unknown> = {}) => JSON.stringify({ jsonrpc: '2.0', id, method, params });
const INIT = rpc(1, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'outage', version: '1' } });

/** Redis sessions while Redis is gone: what this process holds keeps working, what it cannot vouch for is a clear 503. */
describe('MCP sessions in Redis during a Redis outage', () => {
  let redis: ChildProcess;
  let port: number;
  let hub: TestHub;
  beforeAll(async () => {
    port = await freePort();
    redis = await startRedisServer(port);
    hub = await testHub({ REDIS_URL: `redis://127.0.0.1:${port}` });
    expect(hub.deps.sessions.kind).toBe('redis');
    // Sessions need Redis: wait until the hub's connection is up (a loaded machine may take a moment).
    expect(await untilReady(hub)).toBe(true);
  }, 30_000);
  afterAll(async () => {
    await hub?.close();
    if (redis) await stopRedisServer(redis);
  });

  const post = (payload: string, sid?: string) =>
    hub.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, ...(sid ? { 'mcp-session-id': sid } : {}) }, payload });

  it('keeps serving a session this process holds, answers 503 for new and unknown sessions, recovers with Redis', async () => {
    const init = await post(INIT);
    expect(init.statusCode).toBe(200);
    const sid = init.headers['mcp-session-id'] as string;

    await stopRedisServer(redis);
    await new Promise((r) => setTimeout(r, 1_200)); // past the 1 s record cache
    const held = await post(rpc(2, 'tools/list'), sid);
    expect(held.statusCode).toBe(200);
    const viaSdk = await post(rpc(3, 'prompts/list'), sid);
    expect(viaSdk.statusCode).toBe(200);
    const unknown = await post(rpc(4, 'tools/list'), 'a-session-this-process-never-saw');
    expect(unknown.statusCode).toBe(503);
    expect(unknown.json()).toMatchObject({ error: { message: expect.stringContaining('Session store unavailable') } });
    const refused = await post(INIT);
    expect(refused.statusCode).toBe(503);
    expect((await hub.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

    redis = await startRedisServer(port);
    const started = Date.now();
    let reopened = await post(INIT);
    while (reopened.statusCode !== 200 && Date.now() - started < 10_000) {
      await new Promise((r) => setTimeout(r, 100));
      reopened = await post(INIT);
    }
    expect(reopened.statusCode).toBe(200);
  }, 30_000);
});
