import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testHub, untilReady, type TestHub } from '../helpers/app.js';

/**
 * Issue 14 item 5: one key opening sessions without end used to fill the hub-wide cap, and every other key then got
 * 503. Sessions are now capped per principal (its least recently used ones are ended first); the per-process cap
 * stays as the memory bound.
 */
// Keys of this run only: with Redis the per-principal cap is fleet-wide, and other suites' hubs share the database.
const KEY_1 = `cap-one-${randomUUID()}`;
const KEY_2 = `cap-two-${randomUUID()}`;
const KEY_3 = `cap-three-${randomUUID()}`;
const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'cap', version: '1' } },
});
const LIST = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} });

const backends = [{ name: 'memory', env: {} as Record<string, string> }];
if (process.env.REDIS_URL) backends.push({ name: 'redis', env: { REDIS_URL: process.env.REDIS_URL } });
else console.warn('REDIS_URL is unset: the session cap test runs with the memory session store only');

describe.each(backends)('MCP sessions per principal ($name session store)', ({ name, env }) => {
  let hub: TestHub;
  let base: string;
  const streams: AbortController[] = [];
  // The open SSE responses stay referenced: undici cancels the body of a Response that is garbage collected, which
  // closes the stream and ends its session on the hub (a GC mid-test used to free a slot the last test counts on).
  const held: Response[] = [];
  const headers = (key: string, sid?: string): Record<string, string> => ({
    authorization: `Bearer ${key}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    ...(sid ? { 'mcp-session-id': sid } : {}),
  });
  const open = async (key: string) => {
    const res = await fetch(`${base}/mcp`, { method: 'POST', headers: headers(key), body: INIT });
    await res.text();
    return { status: res.status, sid: res.headers.get('mcp-session-id') };
  };
  const openSse = async (key: string) => {
    const controller = new AbortController();
    streams.push(controller);
    const res = await fetch(`${base}/sse`, { headers: { authorization: `Bearer ${key}` }, signal: controller.signal });
    if (res.status !== 200) await res.text();
    else held.push(res);
    return res.status;
  };
  const listStatus = async (key: string, sid: string) => {
    const res = await fetch(`${base}/mcp`, { method: 'POST', headers: headers(key, sid), body: LIST });
    await res.text();
    return res.status;
  };

  beforeAll(async () => {
    hub = await testHub({
      ...env,
      MCP_API_KEY: `${KEY_1},${KEY_2},${KEY_3}`,
      MCP_MAX_SESSIONS: '4',
      MCP_MAX_SESSIONS_PER_PRINCIPAL: '2',
    });
    await hub.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(hub.app.server.address() as AddressInfo).port}`;
    expect(hub.deps.sessions.kind).toBe(name);
    expect(await untilReady(hub)).toBe(true);
  });
  afterAll(async () => {
    for (const c of streams) c.abort();
    await hub?.close();
  });

  it('one key opening many sessions cannot make another key get 503: its own oldest sessions are ended instead', async () => {
    const mine = [];
    for (let i = 0; i < 12; i++) {
      const s = await open(KEY_1);
      expect(s.status).toBe(200);
      mine.push(s.sid!);
    }
    for (let i = 0; i < 3; i++) expect(await openSse(KEY_1)).toBe(200);
    const other = await open(KEY_2);
    expect(other.status).toBe(200);
    expect(await openSse(KEY_2)).toBe(200);
    expect(await listStatus(KEY_2, other.sid!)).toBe(200);
    // The flood's streamable sessions were all evicted by its own later SSE sessions (cap 2 per key).
    const statuses = await Promise.all(mine.map((sid) => listStatus(KEY_1, sid)));
    expect(statuses.every((s) => s === 404)).toBe(true);
    const last = await open(KEY_1);
    expect(await listStatus(KEY_1, last.sid!)).toBe(200);
  });

  it.runIf(name === 'memory')('keeps the per-process cap as the memory bound', async () => {
    // Key 1 and key 2 hold two sessions each: the process is at MCP_MAX_SESSIONS=4, so a third key is refused.
    const refused = await open(KEY_3);
    expect(refused.status).toBe(503);
  });
});
