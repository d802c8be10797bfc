import http from 'node:http';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MCP_HEADERS, TEST_KEY } from '../helpers/app.js';
import { startFakeServer, sendJson, type FakeServer } from '../helpers/fake-server.js';
import { startHubProcess, type HubProcess } from '../helpers/spawn-hub.js';

/**
 * SIGTERM while slow calls are in flight, against the built server (dist/main.js, as `npm start` runs it). The slow
 * tool is chatgpt_auto_builder_execute pointed at a local Auto Builder fake that answers only when the test says so,
 * so each step waits for a condition (the calls reached the fake, the hub logged its shutdown), never for a time.
 */
const N = 6;
const SLACK_MS = 10_000;

/** A new TCP connection to the hub: resolves with the status, or the connection error code. */
function freshConnection(port: number): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

function callSlowTool(url: string, i: number): Promise<{ status: number; body: { result?: { isError?: boolean; structuredContent?: Record<string, unknown> } } } | { failed: string }> {
  return fetch(`${url}/mcp`, {
    method: 'POST',
    headers: MCP_HEADERS,
    body: JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'chatgpt_auto_builder_execute', arguments: { command: `slow ${i}` } } }),
  }).then(
    async (res) => ({ status: res.status, body: (await res.json()) as { result?: { isError?: boolean; structuredContent?: Record<string, unknown> } } }),
    (err: unknown) => ({ failed: String(err) }),
  );
}

describe('SIGTERM during in-flight calls', () => {
  let fake: FakeServer | undefined;
  let hub: HubProcess | undefined;
  /** Lets the fake Auto Builder answer the calls it holds (and every later one). */
  let answer: () => void = () => undefined;
  afterEach(async () => {
    answer();
    await hub?.stop('SIGKILL');
    await fake?.close();
  });

  async function start(graceMs: number): Promise<{ fake: FakeServer; hub: HubProcess }> {
    const answered = new Promise<void>((resolve) => (answer = resolve));
    fake = await startFakeServer(async (req, res) => {
      if (req.url !== '/execute') return sendJson(res, 404, { error: 'not found' });
      await answered;
      if (!res.destroyed) sendJson(res, 202, { status: 'accepted' });
    });
    hub = await startHubProcess({
      MCP_API_KEY: TEST_KEY,
      MCP_SESSION_MODE: 'stateless',
      CHATGPT_MCP_ENDPOINT: fake.url,
      SHUTDOWN_GRACE_MS: String(graceMs),
      LOG_LEVEL: 'info',
    });
    return { fake, hub };
  }

  const POLL = { timeout: 15_000, interval: 20 };

  async function inFlight(f: FakeServer, h: HubProcess) {
    const calls = Array.from({ length: N }, (_, i) => callSlowTool(h.url, i));
    await vi.waitUntil(() => f.requests.filter((r) => r.url === '/execute').length === N, POLL);
    return calls;
  }

  /** Stops the hub with SIGTERM and resolves once it says it is shutting down (the exit code comes with `exit`). */
  async function sigterm(h: HubProcess): Promise<{ exit: Promise<number | null>; at: number }> {
    const at = Date.now();
    const exit = h.stop('SIGTERM');
    await vi.waitUntil(() => /shutting down/.test(h.stdout()), POLL);
    return { exit, at };
  }

  it('lets in-flight calls finish, refuses new connections and exits 0', async () => {
    const grace = 8_000;
    const { fake: f, hub: h } = await start(grace);
    const calls = await inFlight(f, h);
    const { exit, at } = await sigterm(h);
    // The calls are held in flight, so the hub is draining: a new connection is refused (once the listener closed).
    const fresh = await vi.waitUntil(async () => {
      const status = await freshConnection(h.port);
      return status !== 200 && status;
    }, POLL);
    expect(fresh === 'ECONNREFUSED' || fresh === 'ECONNRESET' || fresh === 503, `new connection answered ${fresh}`).toBe(true);
    answer();
    const results = await Promise.all(calls);
    for (const r of results) {
      expect('failed' in r ? r.failed : '').toBe('');
      if ('failed' in r) continue;
      expect(r.status).toBe(200);
      expect(r.body.result?.isError).toBeFalsy();
      expect(r.body.result?.structuredContent?.status).toBe('accepted');
    }
    expect(await exit, h.stdout().slice(-2000) + h.stderr().slice(-2000)).toBe(0);
    expect(Date.now() - at).toBeLessThan(grace + SLACK_MS);
  });

  it('exits 0 while a client keeps its connection open after its answer', async () => {
    // The client would keep the connection for a minute: the hub must close it once idle, not wait for the client
    // (or run into its shutdown bound, SHUTDOWN_GRACE_MS + 5 s, and exit 1).
    const grace = 3_000;
    const { fake: f, hub: h } = await start(grace);
    const agent = new Agent({ keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000 });
    try {
      // The REST route: its answer goes through Fastify's reply hooks, written a few turns after the call settles.
      const call = request(`${h.url}/v1/tools/chatgpt_auto_builder_execute`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ command: 'slow' }),
        dispatcher: agent,
      });
      await vi.waitUntil(() => f.requests.some((r) => r.url === '/execute'), POLL);
      // The answer is written only after shutdown began: the connection is busy when close() starts.
      const { exit } = await sigterm(h);
      answer();
      const res = await call;
      expect(res.statusCode).toBe(200);
      expect(JSON.stringify(await res.body.json())).toContain('accepted');
      expect(await exit, h.stdout().slice(-2000) + h.stderr().slice(-2000)).toBe(0);
    } finally {
      await agent.close();
    }
  });

  it('aborts calls that outlive SHUTDOWN_GRACE_MS with a clean error and still exits 0 within the bound', async () => {
    const grace = 1_000;
    // The fake never answers while the hub runs: every call outlives the grace period.
    const { fake: f, hub: h } = await start(grace);
    const calls = await inFlight(f, h);
    const { exit, at } = await sigterm(h);
    const results = await Promise.all(calls);
    for (const r of results) {
      // Either a tool error result (timeout: the hub is shutting down) or, at worst, a closed connection: never a hang.
      if ('failed' in r) continue;
      expect(r.status).toBe(200);
      expect(r.body.result?.isError).toBe(true);
      expect(JSON.stringify(r.body.result)).toContain('timeout');
    }
    const answered = results.filter((r) => !('failed' in r)).length;
    console.info(`sigterm past grace: ${answered}/${N} calls answered with a clean timeout error, the rest saw the connection close`);
    expect(answered).toBe(N);
    expect(await exit, h.stdout().slice(-2000) + h.stderr().slice(-2000)).toBe(0);
    expect(Date.now() - at).toBeLessThan(grace + SLACK_MS);
  });
});
