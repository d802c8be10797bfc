// Shared helpers of the benchmark runner: child processes, free ports, autocannon runs, RSS, statistics.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os, { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SERVERS = path.join(ROOT, 'dist-bench/bench/servers');
export const MAIN = path.join(ROOT, 'dist/main.js');
export const KEY = 'bench-key-0123456789abcdef';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix) {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** The hub's environment for load runs: huge quota and flood limits so neither throttles the benchmark. */
export function hubEnv(extra = {}) {
  return {
    HOST: '127.0.0.1',
    MCP_API_KEY: KEY,
    DATA_DIR: tempDir('omni-bench-'),
    RATE_LIMIT_PER_MINUTE: '1000000000',
    GOVERNANCE_OVERRIDES: JSON.stringify({ fixture_echo: { limit: 100_000_000 } }),
    LOG_LEVEL: 'info',
    ...extra,
  };
}

/** The hub with its real systems; quotas and the flood limit too high to throttle the benchmark. */
export function realHubEnv(extra = {}) {
  return hubEnv({
    BENCH_SYSTEMS: 'all',
    GOVERNANCE_OVERRIDES: JSON.stringify({ google_maps_geocode: { limit: 100_000_000 }, search: { limit: 100_000_000 }, intelligence_ingest: { limit: 100_000_000 } }),
    ...extra,
  });
}

/** The key the Geocoding stand-in (`bench/servers/maps-standin.ts`) accepts, and the gateway comparison's call. */
export const MAPS_KEY = 'AIza-bench-key-0123456789';
export const geocodeCall = (id) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'google_maps_geocode', arguments: { address: '1600 Amphitheatre Parkway' } } });

/** The same call as a 2026-07-28 client sends it: the per-request `_meta` envelope (with MODERN_GEOCODE_HEADERS). */
const MODERN_META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
export const geocodeModernCall = (id) => {
  const call = geocodeCall(id);
  return { ...call, params: { ...call.params, _meta: MODERN_META } };
};

/**
 * One measured gateway round at 16 connections: autocannon's figures plus the server's main-thread CPU per answered
 * request and, with a private Redis (startRedis), the Redis server's CPU per answered request (its quota scripts and
 * audit writes run on the same cores). The bench's quota limit of 100M lets the tool's rolling-window set keep every
 * call (a real limit caps it), so each round starts from an empty window in `redis`, not paying for earlier rounds.
 */
export async function gatewayRound({ server, headers, body = geocodeCall, redis, duration, firstId }) {
  if (redis?.del) await redis.del('omni:quota:google_maps_geocode');
  const cpuBefore = mainThreadCpuMs(server.proc.pid);
  const redisBefore = redis?.pid ? mainThreadCpuMs(redis.pid) : NaN;
  const latencies = [];
  const r = await loadUnique({ url: `${server.url}/mcp`, headers, body, connections: 16, duration, firstId, latencies });
  const perRequest = (ms) => Math.round((ms * 1000) / Math.max(1, r.total));
  const cpuMs = mainThreadCpuMs(server.proc.pid) - cpuBefore;
  // The round's percentiles from every response time (0.1 ms) instead of autocannon's 1 ms histogram.
  const round = { ...r, ...latencyFigures(latencies), main_thread_ms: Math.round(cpuMs), main_thread_us: perRequest(cpuMs), latencies };
  if (redis?.pid) round.redis_us = perRequest(mainThreadCpuMs(redis.pid) - redisBefore);
  return round;
}

/**
 * Pins a process, all its threads, to the given CPUs (`taskset`, Linux): the gateway comparison and the A/B harness
 * give the servers under test one core and the load generator, the upstream stand-in and Redis the other, so they do
 * not take turns on one core.
 */
export function pinProcess(pid, cpus) {
  const r = spawnSync('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`taskset could not pin process ${pid} to CPUs ${cpus}`);
}

/**
 * The CPU split for pinned runs: the servers under test on the last CPU, everything else (load generator, upstream
 * stand-in, Redis) on the others; `all` undoes it. Null with fewer than two CPUs or without `taskset`.
 */
export function cpuSplit() {
  const cpus = availableParallelism();
  if (cpus < 2 || !hasCommand('taskset')) return null;
  return { servers: String(cpus - 1), rest: cpus === 2 ? '0' : `0-${cpus - 2}`, all: `0-${cpus - 1}` };
}

/**
 * Starts `node [nodeArgs] script` in its own process, so the load generator never shares its event loop (`node`: this
 * runner's Node unless another binary is given), and waits for `readyPath` to answer 200. stdout (the hub's JSON log,
 * one line per call at LOG_LEVEL=info) goes to /dev/null.
 */
export async function startProcess(script, env, { nodeArgs = [], readyPath = '/healthz', port, node = process.execPath } = {}) {
  port ??= await freePort();
  const started = process.hrtime.bigint();
  const proc = spawn(node, [...nodeArgs, script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d.toString()));
  const exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${path.basename(script)} exited with ${proc.exitCode}: ${stderr}`);
    try {
      const res = await fetch(url + readyPath);
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${path.basename(script)} did not become ready: ${stderr}`);
    }
    await sleep(5);
  }
  const readyMs = Number(process.hrtime.bigint() - started) / 1e6;
  return {
    url,
    port,
    proc,
    readyMs,
    stderr: () => stderr,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(15_000).then(() => 'timeout')]);
      if (code === 'timeout') {
        proc.kill('SIGKILL');
        await exited;
      }
      return code;
    },
  };
}

/**
 * CPU time (user + system, ms) the main thread of a process has used so far, from /proc (Linux; NaN elsewhere). A
 * Node server's throughput is bound by its main thread, so this per request is the server's own cost, whatever the
 * load generator and the other processes on the machine take.
 */
export function mainThreadCpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** Resident set size of a process in bytes, from /proc/<pid>/status (VmRSS). */
export function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export const MCP_HEADERS = {
  authorization: `Bearer ${KEY}`,
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};

/** The headers of a 2026-07-28 `tools/call` of google_maps_geocode (the protocol version, method and name). */
export const MODERN_GEOCODE_HEADERS = { ...MCP_HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'google_maps_geocode' };

/**
 * Starts `count` processes of one gateway server (`node` as startProcess takes it), each pinned to `pin.servers` when
 * given and, with `session`, inside its own MCP session (2025 era); with `modern`, called as a 2026-07-28 client
 * calls. Each process is pushed to `started` as soon as it runs, so the caller stops every one of them whatever fails
 * later. Returns `[{ server, headers, body }]`: the headers to call it with and the request body for an id.
 */
export async function startInstances({ script, env, session = false, modern = false }, count, { pin = null, node, started }) {
  const instances = [];
  for (let i = 0; i < count; i++) {
    const server = await startProcess(script, env, { node });
    started.push(server);
    if (pin) pinProcess(server.proc.pid, pin.servers);
    const headers = session ? await openSession(server.url) : modern ? MODERN_GEOCODE_HEADERS : MCP_HEADERS;
    instances.push({ server, headers, body: modern ? geocodeModernCall : geocodeCall });
  }
  return instances;
}

/**
 * The same unrecorded gateway load on every instance first, so no measured round meets a JIT compiler at work: slices of
 * `seconds` until the instance has answered at least `minCalls` calls (at most 12 slices). A time alone warms a slow
 * server less than a fast one: after 5 s, the SDK server (under 1,000 req/s then) was still getting cheaper per call round
 * after round through a whole run, while the hub and the bare route had settled. Alone, it settles after about 40,000
 * calls (docs/benchmarks.md, "Warm-up").
 */
export async function warmUp(instances, seconds, minCalls = 40_000) {
  for (const { server, headers, body } of instances) {
    let answered = 0;
    for (let slice = 0; slice < 12 && (slice === 0 || answered < minCalls); slice++) {
      // Ids of their own (the measured rounds start at 10M): a session's request ids stay unique.
      const r = await loadUnique({ url: `${server.url}/mcp`, headers, body, connections: 16, duration: seconds, firstId: 1 + slice * 1_000_000 });
      answered += r.total;
    }
  }
}

/** initialize + notifications/initialized; returns the headers a client sends on later requests of the session. */
export async function openSession(base) {
  const res = await fetch(`${base}/mcp`, {
    method: 'POST',
    headers: MCP_HEADERS,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } }),
  });
  await res.text();
  const sid = res.headers.get('mcp-session-id');
  if (res.status !== 200 || !sid) throw new Error(`initialize failed: ${res.status}`);
  const headers = { ...MCP_HEADERS, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' };
  const n = await fetch(`${base}/mcp`, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  await n.text();
  return headers;
}

export const echoCall = (id = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'fixture_echo', arguments: { message: 'hello' } } });
export const listCall = (id = 1) => ({ jsonrpc: '2.0', id, method: 'tools/list', params: {} });

/** One autocannon run; figures in requests/s and milliseconds (autocannon's latency histogram has 1 ms resolution). */
export async function load({ url, headers, body, connections, duration }) {
  const r = await autocannon({ url, method: 'POST', headers, body: JSON.stringify(body), connections, duration, pipelining: 1 });
  return figures(r, connections);
}

/** The figures the benchmark keeps of one autocannon result. */
function figures(r, connections) {
  return {
    connections,
    rps: Math.round(r.requests.average),
    total: r.requests.total,
    duration_s: r.duration,
    p50_ms: r.latency.p50,
    p90_ms: r.latency.p90,
    p99_ms: r.latency.p99,
    mean_ms: Math.round(r.latency.average * 100) / 100,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

/**
 * Like load(), but every request gets its own JSON-RPC id (`body(id)` builds it): what a real client sends, and what
 * a stateful session needs (a reused id inside one session is a protocol error). With `latencies`, every response's
 * time (ms, autocannon's high-resolution measure) is pushed to it, so several runs can be pooled (poolRounds).
 */
export async function loadUnique({ url, headers, body, connections, duration, firstId = 1, latencies }) {
  let next = firstId;
  const run = autocannon({
    url,
    method: 'POST',
    headers,
    connections,
    duration,
    pipelining: 1,
    requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify(body(next++)) }) }],
  });
  if (latencies) run.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
  return figures(await run, connections);
}

/** Several autocannon runs at once (one per target URL), summed: the load of a multi-process deployment. */
export async function loadSplit(targets, { headers, body, connections, duration }) {
  const per = Math.max(1, Math.round(connections / targets.length));
  const runs = await Promise.all(targets.map((url) => load({ url, headers, body, connections: per, duration })));
  return {
    connections: per * targets.length,
    rps: runs.reduce((a, r) => a + r.rps, 0),
    p50_ms: Math.max(...runs.map((r) => r.p50_ms)),
    p99_ms: Math.max(...runs.map((r) => r.p99_ms)),
    non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
    errors: runs.reduce((a, r) => a + r.errors, 0),
  };
}

/** p50, p90, p99 (0.1 ms) and mean (0.01 ms) of response times in ms. */
export function latencyFigures(latencies) {
  const sorted = Float64Array.from(latencies).sort();
  const at = (q) => Math.round(10 * quantile(sorted, q)) / 10;
  const mean = sorted.reduce((a, v) => a + v, 0) / Math.max(1, sorted.length);
  return { p50_ms: at(0.5), p90_ms: at(0.9), p99_ms: at(0.99), mean_ms: Math.round(100 * mean) / 100 };
}

/**
 * One row from the rounds (gatewayRound) of one scenario: req/s is every answered request over the rounds' summed
 * time, the latency percentiles are over every response of every round, CPU per request is the main thread's CPU over
 * all rounds divided by their requests.
 */
export function poolRounds(rounds) {
  const sum = (key) => rounds.reduce((a, r) => a + (r[key] ?? 0), 0);
  const total = sum('total');
  const pooled = {
    connections: rounds[0]?.connections,
    rps: Math.round(total / Math.max(sum('duration_s'), 1e-9)),
    total,
    ...latencyFigures(rounds.flatMap((r) => r.latencies)),
    non2xx: sum('non2xx'),
    errors: sum('errors'),
  };
  if (rounds.every((r) => r.main_thread_ms !== undefined)) pooled.main_thread_us = Math.round((1000 * sum('main_thread_ms')) / Math.max(1, total));
  return pooled;
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export function hasCommand(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** A private redis-server (no persistence) on a free port, so the benchmark never touches anyone else's keys. */
export async function startRedis() {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    await sleep(25);
  }
  return {
    url,
    pid: proc.pid,
    async flushAll() {
      await redisCommand(port, 'FLUSHALL');
    },
    async del(key) {
      await redisCommand(port, `DEL ${key}`);
    },
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
    },
  };
}

/** Sends one inline Redis command and resolves with the first reply line. */
export function redisCommand(port, command) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`${command}\r\n`));
    s.once('data', (d) => {
      s.end();
      resolve(d.toString().trim());
    });
    s.once('error', reject);
  });
}

/** This machine in one line (cores, CPU, RAM, Node, kernel), for a RESULTS.md section's header. */
export function machineLine() {
  const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown CPU';
  return `${availableParallelism()} cores (${cpu}), ${Math.round(os.totalmem() / 1024 ** 3)} GB RAM, Node ${process.version}, ${os.type()} ${os.release()}`;
}

/** The 1/5/15-minute load averages as `a / b / c`: how busy the machine was around a measurement. */
export const loadLine = () => os.loadavg().map((l) => l.toFixed(1)).join(' / ');

/**
 * Writes a script's own section of bench/RESULTS.md between `<!-- id:start -->` and `<!-- id:end -->`, replacing the
 * section of an earlier run, or appending it; `npm run bench` (bench/run.mjs) keeps such sections when it rewrites
 * the rest of the file.
 */
export function writeResultsSection(id, markdown) {
  const start = `<!-- ${id}:start -->`;
  const end = `<!-- ${id}:end -->`;
  const section = `${start}\n${markdown.trim()}\n${end}`;
  const file = path.join(ROOT, 'bench/RESULTS.md');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Omni Hub benchmark results\n';
  const s = text.indexOf(start);
  const e = text.indexOf(end);
  writeFileSync(file, s >= 0 && e > s ? `${text.slice(0, s)}${section}${text.slice(e + end.length)}` : `${text.trimEnd()}\n\n${section}\n`);
}
