import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MCP_HEADERS, testHub, untilReady, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { modernRequest } from '../helpers/mcp-requests.js';
import { freePort, startRedisServer, stopRedisServer } from '../helpers/redis.js';

const rpc = (id: number, method: string, params: Record<string, unknown> = {}) => JSON.stringify({ jsonrpc: '2.0', id, method, params });
const INIT = rpc(1, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'outage', version: '1' } });

/**
 * Redis sessions while Redis is gone: what this process holds keeps working, a session it cannot vouch for is a clear
 * 503, a new legacy session is opened degraded (served by this process alone), and 2026-07-28 requests need no session.
 * The quota store's outage policy holds for both eras: LOW allowed, HIGH and above refused.
 */
describe('MCP sessions in Redis during a Redis outage', () => {
  let redis: ChildProcess;
  let port: number;
  let hub: TestHub;
  beforeAll(async () => {
    port = await freePort();
    redis = await startRedisServer(port);
    // fixture_fail raised to HIGH: the outage policy refuses HIGH calls on the quota store, before any approval step.
    // No session record cache: the held session below is served without a record read from Redis, not from a cache.
    hub = await testHub(
      { REDIS_URL: `redis://127.0.0.1:${port}`, MCP_SESSION_CACHE_MS: '0', GOVERNANCE_OVERRIDES: JSON.stringify({ fixture_fail: { level: 'HIGH' } }) },
      { systems: [fixtureSystem] },
    );
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

  const resultOf = (body: string): { isError?: boolean; content: { text: string }[] } => {
    // JSON or a one-event SSE stream, as the SDK transport chooses.
    const json = body.startsWith('{') ? body : body.split('\n').find((l) => l.startsWith('data: {'))!.slice(6);
    return (JSON.parse(json) as { result: { isError?: boolean; content: { text: string }[] } }).result;
  };
  const ECHO = { name: 'fixture_echo', arguments: { message: 'during the outage' } };
  const CRITICAL = { name: 'fixture_delete', arguments: { thing: 'x', confirm: true } };
  const HIGH = { name: 'fixture_fail', arguments: { reason: 'x' } };
  const refusedForQuotaStore = (body: string): void => {
    const result = resultOf(body);
    expect(result.isError).toBe(true);
    expect(result.content[0]!.text).toContain('governance_unavailable');
    expect(result.content[0]!.text).toContain('quota_store_unavailable');
  };

  it('keeps serving held sessions, opens new ones degraded, serves modern requests, refuses HIGH calls, recovers', async () => {
    const init = await post(INIT);
    expect(init.statusCode).toBe(200);
    const sid = init.headers['mcp-session-id'] as string;

    await stopRedisServer(redis);
    const held = await post(rpc(2, 'tools/list'), sid);
    expect(held.statusCode).toBe(200);
    const viaSdk = await post(rpc(3, 'prompts/list'), sid);
    expect(viaSdk.statusCode).toBe(200);
    const unknown = await post(rpc(4, 'tools/list'), 'a-session-this-process-never-saw');
    expect(unknown.statusCode).toBe(503);
    expect(unknown.json()).toMatchObject({ error: { message: expect.stringContaining('Session store unavailable') } });
    expect((await hub.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

    // A new legacy client gets a working session (degraded: logged, counted), and its LOW call runs.
    const degraded = await post(INIT);
    expect(degraded.statusCode).toBe(200);
    const dsid = degraded.headers['mcp-session-id'] as string;
    expect(dsid).toBeTruthy();
    const low = await post(rpc(5, 'tools/call', ECHO), dsid);
    expect(low.statusCode).toBe(200);
    expect(resultOf(low.body).isError, low.body).toBeFalsy();
    refusedForQuotaStore((await post(rpc(6, 'tools/call', HIGH), dsid)).body);
    const critical = await post(rpc(6, 'tools/call', CRITICAL), dsid);
    expect(resultOf(critical.body)).toMatchObject({ isError: true, content: [{ text: expect.stringContaining('governance_unavailable') }] });
    const counted = await hub.app.hub.metrics.registry.getSingleMetricAsString('omni_hub_mcp_sessions_degraded_total');
    expect(counted).toContain('omni_hub_mcp_sessions_degraded_total{kind="streamable"} 1');

    // A 2026-07-28 request needs no session at all.
    for (const [params, isError] of [[ECHO, false], [CRITICAL, true]] as const) {
      const modern = modernRequest(7, 'tools/call', params);
      const answer = await hub.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, ...modern.headers }, payload: modern.payload });
      expect(answer.statusCode).toBe(200);
      expect(!!resultOf(answer.body).isError).toBe(isError);
    }
    const modernHigh = modernRequest(8, 'tools/call', HIGH);
    refusedForQuotaStore(
      (await hub.app.inject({ method: 'POST', url: '/mcp', headers: { ...MCP_HEADERS, ...modernHigh.headers }, payload: modernHigh.payload })).body,
    );

    redis = await startRedisServer(port);
    // The hub reconnects on its own schedule: poll until a new session is a normal one again.
    const reopened = await vi.waitUntil(async () => {
      const answer = await post(INIT);
      return answer.statusCode === 200 && answer;
    }, { timeout: 10_000, interval: 100 });
    expect(reopened.statusCode).toBe(200);
  }, 30_000);
});
