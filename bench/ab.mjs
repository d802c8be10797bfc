// A/B of hub builds on the gateway path: the hub of each checkout named in BENCH_AB_ROOTS (each with `npm run build`
// and `tsc -p tsconfig.bench.json` done, i.e. a `dist-bench/`), next to the bare Fastify route, all calling
// google_maps_geocode against the Geocoding stand-in with Redis, in rounds whose order alternates (A B, B A, ...) so a
// machine that speeds up or slows down during the run favours no build. Prints each round and, per server, the mean
// and median main-thread CPU per request: the figure that tells a code change from the machine's noise.
//
//   BENCH_AB_ROOTS=/tmp/before,/work/main BENCH_AB_ROUNDS=6 npm run bench:ab
//
// Environment: BENCH_AB_ROOTS (comma-separated checkouts; default this one), BENCH_AB_ROUNDS (default 6),
// BENCH_AB_S (seconds per round, default 5), BENCH_AB_WARMUP_S (default 3), BENCH_AB_BARE=false (hubs only),
// BENCH_AB_PIN=1 (Linux, 2+ cores: the servers under test on the last CPU, everything else on the others; on a
// shared 2-core machine this cut the spread between rounds several times over, see docs/benchmarks.md),
// BENCH_AB_SESSION=1 (each hub also runs MCP_SESSION_MODE=stateful, measured inside one session: the session target),
// BENCH_AB_PROCESSES (default 2: processes per server, taking the rounds in turn),
// BENCH_AB_MODERN=1 (the hubs are called as 2026-07-28 clients call them, the modern fast path; else as 2025 clients),
// BENCH_AB_TRACING=1 (each hub also runs with OpenTelemetry tracing on, 10% of traces sampled and exported over
// OTLP/HTTP to a local receiver: the cost of tracing; the hubs without it have tracing off).
import http from 'node:http';
import path from 'node:path';
import { MAPS_KEY, ROOT, SERVERS, cpuSplit, gatewayRound, median, pinProcess, realHubEnv, startInstances, startProcess, startRedis, warmUp } from './lib.mjs';

const roots = (process.env.BENCH_AB_ROOTS ?? ROOT).split(',').filter(Boolean);
const rounds = Number(process.env.BENCH_AB_ROUNDS ?? 6);
const seconds = Number(process.env.BENCH_AB_S ?? 5);
const warmup = Number(process.env.BENCH_AB_WARMUP_S ?? 3);
const processes = Math.max(1, Number(process.env.BENCH_AB_PROCESSES ?? 2));
const pin = process.env.BENCH_AB_PIN === '1' ? cpuSplit() : null;
const modern = process.env.BENCH_AB_MODERN === '1';

const redis = await startRedis();
const standin = await startProcess(path.join(SERVERS, 'maps-standin.js'), { BENCH_MAPS_KEY: MAPS_KEY });
if (pin) for (const pid of [process.pid, redis.pid, standin.proc.pid]) pinProcess(pid, pin.rest);
const upstream = { GOOGLE_API_BASE_URL: standin.url, GOOGLE_API_KEY: MAPS_KEY };
const targets = [];
if (process.env.BENCH_AB_BARE !== 'false') targets.push({ label: 'bare Fastify route', script: path.join(SERVERS, 'bare-proxy-server.js'), env: upstream });
const modes = process.env.BENCH_AB_SESSION === '1' ? ['stateless', 'stateful'] : ['stateless'];
// The receiver of the traced hubs' spans: accepts every OTLP export and counts the bytes (a collector's part).
const otlp = process.env.BENCH_AB_TRACING === '1' ? await startOtlpSink() : null;
const tracings = otlp ? [null, otlp.env] : [null];
for (const root of roots) {
  for (const mode of modes) {
    for (const tracing of tracings) {
      const env = realHubEnv({ MCP_SESSION_MODE: mode, REDIS_URL: redis.url, ...upstream, ...(tracing ?? {}) });
      const label = `hub ${root}${mode === 'stateful' ? ', in a session' : modern ? ', 2026-07-28' : ''}${tracing ? ', tracing 10%' : ''}`;
      targets.push({ label, hub: true, session: mode === 'stateful', modern: modern && mode === 'stateless', script: path.join(root, 'dist-bench/bench/servers/hub-server.js'), env });
    }
  }
}

const started = [];
try {
  // Each server in `processes` processes taking the rounds in turn: two processes of one build can differ by 15% for
  // their whole lives (docs/benchmarks.md, "How to read the figures"), which one process per build would read as the change.
  for (const t of targets) t.instances = await startInstances(t, processes, { pin, started });
  for (const t of targets) await warmUp(t.instances, warmup);
  let firstId = 1;
  for (let round = 0; round < rounds; round++) {
    for (const t of round % 2 ? [...targets].reverse() : targets) {
      // Each process gets rounds of both orders (A B and B A).
      const { server, headers, body } = t.instances[Math.floor(round / 2) % processes];
      const r = await gatewayRound({ server, headers, body, redis, duration: seconds, firstId: (firstId += 10_000_000) });
      if (r.non2xx || r.errors) throw new Error(`${t.label}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
      (t.us ??= []).push(r.main_thread_us);
      (t.redisUs ??= []).push(r.redis_us);
      (t.rps ??= []).push(r.rps);
      console.log(`round ${round + 1}/${rounds}  ${t.label}: ${r.rps} req/s, p99 ${r.p99_ms} ms, ${r.main_thread_us} µs/request, Redis ${r.redis_us} µs/request`);
    }
  }
  const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
  console.log(`\nmain-thread CPU per request, ${rounds} rounds of ${seconds} s at 16 connections${pin ? `, servers pinned to CPU ${pin.servers}` : ''}:`);
  for (const t of targets) {
    console.log(
      `  ${t.label}: mean ${mean(t.us).toFixed(0)} µs, median ${median(t.us).toFixed(0)} µs; Redis mean ${mean(t.redisUs).toFixed(1)} µs; ${mean(t.rps).toFixed(0)} req/s`,
    );
  }
  // Each round runs every server back to back, so a slow spell of the machine hits both sides of a pair: the paired
  // differences against the first hub are steadier than the two means.
  const hubs = targets.filter((t) => t.hub);
  for (const t of hubs.slice(1)) {
    const diffs = t.us.map((us, i) => us - hubs[0].us[i]);
    const sd = Math.sqrt(diffs.reduce((a, d) => a + (d - mean(diffs)) ** 2, 0) / Math.max(1, diffs.length - 1));
    const half = (tQuantile(diffs.length - 1) * sd) / Math.sqrt(diffs.length);
    const fewer = diffs.filter((d) => d < 0).length;
    console.log(`  ${t.label} − ${hubs[0].label}: ${mean(diffs).toFixed(0)} ± ${half.toFixed(0)} µs (95%), cheaper in ${fewer} of ${diffs.length} rounds`);
  }
} finally {
  await Promise.all(started.map((server) => server.stop()));
  await standin.stop();
  await redis.stop();
  if (otlp) {
    console.log(`OTLP receiver: ${otlp.exports()} exports, ${otlp.bytes()} bytes`);
    await otlp.close();
  }
}

/** A local OTLP/HTTP endpoint that answers every export with 200, and the hub variables pointing at it. */
async function startOtlpSink() {
  let exports = 0;
  let bytes = 0;
  const server = http.createServer((req, res) => {
    req.on('data', (chunk) => (bytes += chunk.length));
    req.on('end', () => {
      exports += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const env = {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${server.address().port}`,
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: '0.1',
  };
  return { env, exports: () => exports, bytes: () => bytes, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** Two-sided 95% quantile of Student's t with `df` degrees of freedom (1.96 beyond the table). */
function tQuantile(df) {
  const table = [12.71, 4.3, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23, 2.2, 2.18, 2.16, 2.14, 2.13, 2.12, 2.11, 2.1, 2.09, 2.09];
  return table[df - 1] ?? 1.96;
}
