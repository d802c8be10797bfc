// tools/call through a gateway to one stdio MCP server (the official everything server's `echo`), 16 connections in
// one 2025 session: the hub (its UPSTREAMS stdio client, governance and audit on the way) next to supergateway
// (`--stateful`, Streamable HTTP out, the same stdio server behind it), in alternating rounds.
//
//   npm run build && node bench/federation.mjs
//
// Environment: BENCH_FED_ROUNDS (default 4), BENCH_FED_S (seconds per round, default 5), BENCH_FED_WARMUP_S (default 2),
// BENCH_FED_CONNECTIONS (default 16).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { MAIN, ROOT, freePort, hubEnv, latencyFigures, loadUnique, openSession, sleep, startProcess } from './lib.mjs';

const rounds = Number(process.env.BENCH_FED_ROUNDS ?? 4);
const seconds = Number(process.env.BENCH_FED_S ?? 5);
const warmup = Number(process.env.BENCH_FED_WARMUP_S ?? 2);
const connections = Number(process.env.BENCH_FED_CONNECTIONS ?? 16);
const EVERYTHING = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const SUPERGATEWAY = path.join(ROOT, 'node_modules/supergateway/dist/index.js');
const call = (tool) => (id) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: { message: 'hello' } } });

/** supergateway serving the everything server (stdio) over stateful Streamable HTTP at /mcp. */
async function startSupergateway() {
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    [SUPERGATEWAY, '--stdio', `${process.execPath} ${EVERYTHING} stdio`, '--outputTransport', 'streamableHttp', '--stateful', '--port', String(port), '--healthEndpoint', '/healthz', '--logLevel', 'none'],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 30_000; ; await sleep(20)) {
    if (proc.exitCode !== null) throw new Error(`supergateway exited: ${stderr}`);
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`supergateway did not become ready: ${stderr}`);
  }
  return { url, stop: () => proc.kill('SIGKILL') };
}

const upstreams = JSON.stringify([{ name: 'ev', command: process.execPath, args: [EVERYTHING, 'stdio'] }]);
const hub = await startProcess(MAIN, hubEnv({ UPSTREAMS: upstreams, MCP_SESSION_MODE: 'stateful', GOVERNANCE_OVERRIDES: JSON.stringify({ ev_echo: { limit: 100_000_000 } }), LOG_LEVEL: 'warn' }));
const gateway = await startSupergateway();
try {
  const targets = [
    { label: 'omni-hub (UPSTREAMS stdio)', url: hub.url, body: call('ev_echo'), headers: await openSession(hub.url) },
    { label: 'supergateway --stateful', url: gateway.url, body: call('echo'), headers: await openSession(gateway.url) },
  ];
  // Each target must really answer the call (a refusal is a 200 too): one call checked before any load.
  for (const t of targets) {
    const res = await fetch(`${t.url}/mcp`, { method: 'POST', headers: t.headers, body: JSON.stringify(t.body(0)) });
    const text = await res.text();
    if (!text.includes('Echo: hello') || text.includes('"isError":true')) throw new Error(`${t.label} did not echo: ${res.status} ${text.slice(0, 300)}`);
  }
  let firstId = 1;
  for (const t of targets) {
    await loadUnique({ url: `${t.url}/mcp`, headers: t.headers, body: t.body, connections, duration: warmup, firstId });
    firstId += 1_000_000;
    t.latencies = [];
    t.total = 0;
    t.seconds = 0;
    t.bad = 0;
  }
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? targets : [...targets].reverse();
    for (const t of order) {
      const res = await loadUnique({ url: `${t.url}/mcp`, headers: t.headers, body: t.body, connections, duration: seconds, firstId, latencies: t.latencies });
      firstId += 1_000_000;
      t.total += res.total;
      t.seconds += res.duration_s;
      t.bad += res.non2xx + res.errors;
      console.log(`round ${r + 1} ${t.label}: ${res.rps} req/s, p50 ${res.p50_ms} ms, p99 ${res.p99_ms} ms, non-2xx/errors ${res.non2xx + res.errors}`);
    }
  }
  for (const t of targets) {
    console.log(JSON.stringify({ server: t.label, connections, rps: Math.round(t.total / Math.max(t.seconds, 1e-9)), ...latencyFigures(t.latencies), non2xx_or_errors: t.bad }));
  }
} finally {
  gateway.stop();
  await hub.stop();
}
