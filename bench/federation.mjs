// tools/call through a gateway to one stdio MCP server (the official everything server's `echo`), 16 connections in
// one 2025 session: the hub (its UPSTREAMS stdio client, governance and audit on the way) next to supergateway
// (`--stateful`, Streamable HTTP out, the same stdio server behind it), in alternating rounds. Issue 30's target: the
// hub at least as fast as supergateway. Writes bench/federation-results.json and the "Federation" section of
// bench/RESULTS.md; run it on an idle machine.
//
//   npm run bench:federation
//
// Environment: BENCH_FED_ROUNDS (default 6), BENCH_FED_S (seconds per round, default 5), BENCH_FED_WARMUP_S (default 3),
// BENCH_FED_CONNECTIONS (default 16).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  freePort,
  hasCommand,
  hubEnv,
  latencyFigures,
  loadLine,
  loadUnique,
  machineLine,
  MAIN,
  mainThreadCpuMs,
  median,
  openSession,
  ROOT,
  sleep,
  startProcess,
  startRedis,
  writeResultsSection,
} from './lib.mjs';

const rounds = Number(process.env.BENCH_FED_ROUNDS ?? 6);
const seconds = Number(process.env.BENCH_FED_S ?? 5);
const warmup = Number(process.env.BENCH_FED_WARMUP_S ?? 3);
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
  return { url, proc, stop: () => proc.kill('SIGKILL') };
}

const loadStart = loadLine();
// Governance as deployed: the quota and the audit in Redis when a private redis-server can be started, else in memory.
const redis = hasCommand('redis-server') ? await startRedis() : null;
const upstreams = JSON.stringify([{ name: 'ev', command: process.execPath, args: [EVERYTHING, 'stdio'] }]);
const hub = await startProcess(
  MAIN,
  hubEnv({ UPSTREAMS: upstreams, MCP_SESSION_MODE: 'stateful', GOVERNANCE_OVERRIDES: JSON.stringify({ ev_echo: { limit: 100_000_000 } }), LOG_LEVEL: 'warn', ...(redis ? { REDIS_URL: redis.url } : {}) }),
);
const gateway = await startSupergateway();
const targets = [
  { id: 'hub', label: 'omni-hub (UPSTREAMS stdio entry; auth, validation, quota, audit)', url: hub.url, pid: hub.proc.pid, body: call('ev_echo') },
  { id: 'supergateway', label: 'supergateway --stateful (Streamable HTTP, no governance)', url: gateway.url, pid: gateway.proc.pid, body: call('echo') },
];
try {
  for (const t of targets) {
    t.headers = await openSession(t.url);
    // Each target must really answer the call (a refusal is a 200 too): one call checked before any load.
    const res = await fetch(`${t.url}/mcp`, { method: 'POST', headers: t.headers, body: JSON.stringify(t.body(0)) });
    const text = await res.text();
    if (!text.includes('Echo: hello') || text.includes('"isError":true')) throw new Error(`${t.label} did not echo: ${res.status} ${text.slice(0, 300)}`);
  }
  let firstId = 1;
  for (const t of targets) {
    await loadUnique({ url: `${t.url}/mcp`, headers: t.headers, body: t.body, connections, duration: warmup, firstId });
    firstId += 1_000_000;
    Object.assign(t, { latencies: [], total: 0, seconds: 0, bad: 0, cpuMs: 0, rounds: [] });
  }
  for (let r = 0; r < rounds; r++) {
    // A B, then B A: a machine that speeds up or slows down over the run favours neither.
    for (const t of r % 2 === 0 ? targets : [...targets].reverse()) {
      const cpuBefore = mainThreadCpuMs(t.pid);
      const res = await loadUnique({ url: `${t.url}/mcp`, headers: t.headers, body: t.body, connections, duration: seconds, firstId, latencies: t.latencies });
      const cpuMs = mainThreadCpuMs(t.pid) - cpuBefore;
      firstId += 1_000_000;
      t.total += res.total;
      t.seconds += res.duration_s;
      t.bad += res.non2xx + res.errors;
      t.cpuMs += cpuMs;
      t.rounds.push({ rps: res.total / Math.max(res.duration_s, 1e-9), p99_ms: res.p99_ms });
      console.log(`round ${r + 1} ${t.id}: ${res.rps} req/s, p50 ${res.p50_ms} ms, p99 ${res.p99_ms} ms, non-2xx/errors ${res.non2xx + res.errors}`);
    }
  }
} finally {
  gateway.stop();
  await hub.stop();
  await redis?.stop();
}

const rows = targets.map((t) => ({
  server: t.label,
  id: t.id,
  connections,
  rps: Math.round(t.total / Math.max(t.seconds, 1e-9)),
  ...latencyFigures(t.latencies),
  main_thread_us: Math.round((1000 * t.cpuMs) / Math.max(1, t.total)),
  non2xx_or_errors: t.bad,
  rounds_rps: t.rounds.map((x) => Math.round(x.rps)),
}));
const [hubT, sgT] = targets;
const ratios = hubT.rounds.map((h, i) => h.rps / sgT.rounds[i].rps);
const ratio = median(ratios);
const result = {
  date: new Date().toISOString(),
  command: 'npm run bench:federation',
  machine: machineLine(),
  loadavg_start: loadStart,
  loadavg_end: loadLine(),
  stores: redis ? 'Redis (a private redis-server on loopback)' : 'memory (no redis-server binary)',
  rounds,
  seconds,
  warmup_s: warmup,
  rows,
  hub_over_supergateway_by_round: ratios.map((x) => Math.round(x * 100) / 100),
  hub_over_supergateway_median: Math.round(ratio * 100) / 100,
  met: ratio >= 1,
};
writeFileSync(path.join(ROOT, 'bench/federation-results.json'), `${JSON.stringify(result, null, 2)}\n`);
const pct = (x) => `${Math.round(x * 100)}%`;
const table = [
  '| gateway | req/s | p50 ms | p90 ms | p99 ms | mean ms | main-thread CPU µs/request | non-2xx or errors | rounds: req/s |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.server} | ${r.rps.toLocaleString('en-US')} | ${r.p50_ms} | ${r.p90_ms} | ${r.p99_ms} | ${r.mean_ms} | ${r.main_thread_us} | ${r.non2xx_or_errors} | ${r.rounds_rps.join(', ')} |`),
].join('\n');
writeResultsSection(
  'federation',
  `## Federation (issue 30): \`tools/call\` to a stdio upstream, hub vs supergateway

Generated by \`${result.command}\` (\`bench/federation.mjs\`) on ${result.date}. Machine: ${result.machine}; load average (1/5/15 min) ${result.loadavg_start} at the start, ${result.loadavg_end} at the end.

The official everything server's \`echo\` over stdio behind two gateways, each called inside one 2025 MCP session at ${connections} connections with a unique JSON-RPC id per request: the built hub (\`UPSTREAMS\` stdio entry \`ev\`, so each call is authenticated, validated, counted against its quota and audited; quota and audit in ${result.stores}) and \`supergateway --stateful\` (Streamable HTTP out, the same stdio server behind it, no governance). Each gateway's answer is checked to be the echo before any load; an unrecorded ${warmup} s warm-up each, then ${rounds} rounds of ${seconds} s, alternating the order (A B, B A). Each row pools its rounds; "main-thread CPU µs/request" is the gateway process's main-thread CPU (from /proc) per answered request (the everything server's own CPU is the same work behind both).

${table}

Hub ÷ supergateway req/s by round: ${ratios.map(pct).join(', ')} (median ${pct(ratio)}).

| figure | target | measured | verdict |
|---|---|---|---|
| hub \`tools/call\` to a stdio upstream with governance, one session at ${connections} connections, vs supergateway --stateful | ≥ 100% | ${pct(ratio)} (median of paired rounds) | **${result.met ? 'met' : 'missed'}** |`,
);
console.log(table);
console.log(`hub ÷ supergateway (median of paired rounds): ${pct(ratio)}`);
