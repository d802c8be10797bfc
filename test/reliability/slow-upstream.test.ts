import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, MCP_HEADERS, testHub, type TestHub } from '../helpers/app.js';
import { startFakeServer, type FakeServer } from '../helpers/fake-server.js';

/**
 * Auto Builder fakes that never answer, or answer headers then trickle the body one byte at a time: the call must
 * end with `timeout` within CHATGPT_TIMEOUT_MS (plus slack), and the event loop must stay responsive meanwhile.
 */
const TIMEOUT_MS = 600;
/** "Did not hang" bound: the configured timeout plus generous slack for a loaded CI machine. */
const BOUND_MS = TIMEOUT_MS + 10_000;

type Behaviour = 'hang' | 'trickle' | 'trickle-headers';
const open: http.ServerResponse[] = [];

function upstream(behaviour: Behaviour): Promise<FakeServer> {
  return startFakeServer((_req, res) => {
    open.push(res);
    if (behaviour === 'hang') return; // never answers
    if (behaviour === 'trickle-headers') {
      // Sends the status line only, never the headers' end.
      res.socket?.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"result":"');
    const t = setInterval(() => {
      if (res.destroyed || res.writableEnded) return clearInterval(t);
      res.write('a');
    }, 50);
    res.on('close', () => clearInterval(t));
  });
}

/** Latency of /healthz over real HTTP, sampled every 20 ms until `until` settles. */
async function sampleHealth(base: string, until: Promise<unknown>): Promise<number[]> {
  let done = false;
  void until.finally(() => (done = true));
  const samples: number[] = [];
  while (!done) {
    const t = performance.now();
    const res = await fetch(`${base}/healthz`);
    await res.text();
    expect(res.status).toBe(200);
    samples.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 20));
  }
  return samples;
}

describe.each(['hang', 'trickle', 'trickle-headers'] as const)('slow upstream: %s', (behaviour) => {
  let fake: FakeServer;
  let hub: TestHub;
  let base: string;

  beforeAll(async () => {
    fake = await upstream(behaviour);
    hub = await testHub({ CHATGPT_MCP_ENDPOINT: fake.url, CHATGPT_TIMEOUT_MS: String(TIMEOUT_MS), MCP_SESSION_MODE: 'stateless' });
    base = await hub.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    for (const r of open.splice(0)) r.destroy();
    await hub?.close();
    await fake?.close();
  });

  it('REST call ends with timeout within its bound while /healthz keeps answering promptly', async () => {
    const started = performance.now();
    const call = fetch(`${base}/v1/tools/chatgpt_auto_builder_execute`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ command: 'build something' }),
      signal: AbortSignal.timeout(BOUND_MS),
    });
    const health = await sampleHealth(base, call);
    const res = await call;
    const elapsed = performance.now() - started;
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(res.status).toBe(504);
    expect(body.error.code).toBe('timeout');
    expect(body.error.message).toMatch(/CHATGPT_TIMEOUT_MS/);
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(BOUND_MS);
    expect(fake.requests.some((r) => r.url === '/execute')).toBe(true);
    // Liveness, not performance (no timing threshold): /healthz answered again and again while the call was stalled,
    // so the stalled upstream held no part of the event loop. The latencies are printed for a reader, not judged.
    const sorted = [...health].sort((a, b) => a - b);
    const median = sorted[sorted.length >> 1]!;
    console.info(`${behaviour}: /healthz during the stalled call: ${health.length} samples, median ${median.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`);
    expect(health.length).toBeGreaterThanOrEqual(3);
  });

  it('MCP tools/call ends with an isError timeout result, not a dropped connection', async () => {
    const res = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: MCP_HEADERS,
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'chatgpt_auto_builder_execute', arguments: { command: 'x' } } }),
      signal: AbortSignal.timeout(BOUND_MS),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: number; result: { isError: boolean; structuredContent: { error: { code: string } } } };
    expect(body.id).toBe(7);
    expect(body.result.isError).toBe(true);
    expect(JSON.stringify(body.result)).toContain('timeout');
  });
});
