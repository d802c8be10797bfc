// The benchmark: `npm run bench` (builds dist/ and dist-bench/, then runs this). Writes bench/RESULTS.md.
// BENCH_DURATION_S (default 5) sets the length of each load run; BENCH_ONLY=load,profile,... runs a subset.
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  KEY,
  MAIN,
  MAPS_KEY,
  MCP_HEADERS,
  ROOT,
  SERVERS,
  cpuSplit,
  echoCall,
  gatewayRound,
  geocodeCall,
  hasCommand,
  hubEnv,
  listCall,
  load,
  loadSplit,
  loadUnique,
  median,
  openSession,
  pinProcess,
  poolRounds,
  quantile,
  realHubEnv,
  rssBytes,
  sleep,
  startInstances,
  startProcess,
  startRedis,
  tempDir,
  warmUp,
} from './lib.mjs';
import { makeCorpus } from './corpus.mjs';
import { summariseProfile } from './profile.mjs';
import { writeResults } from './report.mjs';

const DURATION = Number(process.env.BENCH_DURATION_S ?? 5);
// The gateway comparison: 10 interleaved rounds of 3 s per scenario. The search comparison's rounds and the profiled
// gateway run: 10 s each.
const GATEWAY_DURATION = Number(process.env.BENCH_GATEWAY_S ?? 3);
const GATEWAY_ROUNDS = Number(process.env.BENCH_GATEWAY_ROUNDS ?? 10);
const GATEWAY_PROCESSES = Math.max(1, Number(process.env.BENCH_GATEWAY_PROCESSES ?? 2));
// The gateway comparison's servers on another Node binary (e.g. the production image's Node 24), the rest unchanged.
const GATEWAY_NODE = process.env.BENCH_GATEWAY_NODE || process.execPath;
const SEARCH_DURATION = Number(process.env.BENCH_SEARCH_S ?? 10);
// Unrecorded load on every gateway server before the rounds (s).
const GATEWAY_WARMUP = Number(process.env.BENCH_GATEWAY_WARMUP_S ?? 5);
// ...repeated until each process has answered at least this many calls (see warmUp).
const GATEWAY_WARMUP_CALLS = Number(process.env.BENCH_GATEWAY_WARMUP_CALLS ?? 40_000);
const SEARCH_ROUNDS = Number(process.env.BENCH_SEARCH_ROUNDS ?? 2);
const SHORT = Math.max(2, Math.round(DURATION * 0.6));
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;
const want = (section) => !ONLY || ONLY.has(section);
const HUB = path.join(SERVERS, 'hub-server.js');
const log = (...a) => console.error('[bench]', ...a);

const RESULTS_JSON = path.join(ROOT, 'bench/results.json');
const BASELINE_JSON = path.join(ROOT, 'bench/profile-baseline.json');
// With BENCH_ONLY the other sections keep the figures of the previous full run.
const previous = ONLY && existsSync(RESULTS_JSON) ? JSON.parse(readFileSync(RESULTS_JSON, 'utf8')) : {};
delete previous.failures;
const results = {
  ...previous,
  ...(ONLY ? { rerun: `sections ${[...ONLY].join(', ')} re-run on ${new Date().toISOString()}` } : { date: new Date().toISOString() }),
  command: previous.command ?? `npm run bench${process.env.BENCH_DURATION_S ? ` (BENCH_DURATION_S=${DURATION})` : ''}`,
  machine: {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    ram_gb: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    loadavg_start: os.loadavg().map((x) => Math.round(x * 10) / 10),
  },
  duration_s: DURATION,
};

// The quota store under test: a private redis-server when the binary exists (never someone else's keys), else the
// REDIS_URL given, else the in-memory store.
let redis = null;
if (hasCommand('redis-server')) {
  redis = await startRedis();
  results.quota_store = `redis (private redis-server on loopback, ${redis.url})`;
} else if (process.env.REDIS_URL) {
  redis = { url: process.env.REDIS_URL, flushAll: async () => undefined, stop: async () => undefined };
  results.quota_store = 'redis (REDIS_URL; shared server)';
} else {
  results.quota_store = 'memory (no redis-server binary and no REDIS_URL)';
}
const redisEnv = redis ? { REDIS_URL: redis.url } : {};
log('quota store:', results.quota_store);

async function freshRedis() {
  if (redis) await redis.flushAll();
}

/** Checks a server answers the benchmark request correctly before loading it (a fast wrong answer is no result). */
async function verify(url, headers, body, expect) {
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== 200 || !text.includes(expect)) throw new Error(`unexpected answer from ${url}: ${res.status} ${text.slice(0, 300)}`);
  return text;
}

async function throughputMatrix() {
  const conns = [1, 16, 64];
  const rows = [];
  let hubAnswer = null;
  const targets = [
    { id: 'hub_fast', label: 'hub, stateless (fast path)', script: HUB, env: hubEnv({ ...redisEnv, MCP_SESSION_MODE: 'stateless' }) },
    { id: 'hub_sdk_path', label: 'hub, stateless, fast path off (SDK transport)', script: HUB, env: hubEnv({ ...redisEnv, MCP_SESSION_MODE: 'stateless', BENCH_FAST_PATH: 'false' }) },
    { id: 'hub_stateful', label: 'hub, stateful (one reused session)', script: HUB, env: hubEnv({ ...redisEnv, MCP_SESSION_MODE: 'stateful' }), session: true },
    { id: 'bare', label: 'bare Fastify route (same JSON-RPC result)', script: path.join(SERVERS, 'bare-server.js'), env: () => ({ BENCH_RESULT: hubAnswer }) },
    { id: 'sdk', label: 'official SDK minimal stateless server', script: path.join(SERVERS, 'sdk-server.js'), env: {} },
  ];
  for (const t of targets) {
    await freshRedis();
    const server = await startProcess(t.script, typeof t.env === 'function' ? t.env() : t.env);
    try {
      const headers = t.session ? await openSession(server.url) : MCP_HEADERS;
      const text = await verify(`${server.url}/mcp`, headers, echoCall(), 'HELLO');
      if (t.id === 'hub_fast') hubAnswer = JSON.stringify(JSON.parse(text).result);
      for (const connections of conns) {
        log(`${t.label}: ${connections} connection(s)`);
        rows.push({ id: t.id, label: t.label, ...(await load({ url: `${server.url}/mcp`, headers, body: echoCall(), connections, duration: DURATION })) });
      }
    } finally {
      await server.stop();
    }
  }
  // The same fast-path run on the in-memory store, so the cost of the Redis round trip is visible.
  if (redis) {
    const server = await startProcess(HUB, hubEnv({ MCP_SESSION_MODE: 'stateless' }));
    try {
      log('hub fast path, memory store: 16 connections');
      rows.push({ id: 'hub_fast_memory', label: 'hub, stateless (fast path), in-memory quota + audit', ...(await load({ url: `${server.url}/mcp`, headers: MCP_HEADERS, body: echoCall(), connections: 16, duration: DURATION })) });
    } finally {
      await server.stop();
    }
  }
  results.throughput = rows;
}

const searchCall = (queries) => (id) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'search', arguments: { query: queries[id % queries.length].query } } });

/**
 * The comparison of issue 18, side by side in one run at 16 connections: every server makes one upstream GET to the
 * same Geocoding stand-in per request and answers it as a `google_maps_geocode` tools/call result.
 */
async function gatewayComparison() {
  const standin = await startProcess(path.join(SERVERS, 'maps-standin.js'), { BENCH_MAPS_KEY: MAPS_KEY });
  const upstream = { GOOGLE_API_BASE_URL: standin.url, GOOGLE_API_KEY: MAPS_KEY };
  const rows = [];
  const targets = [
    { id: 'bare', label: 'bare Fastify route, one upstream GET (undici, keep-alive)', script: path.join(SERVERS, 'bare-proxy-server.js'), env: upstream },
    { id: 'hub_modern', label: 'hub, 2026-07-28 request (stateless, modern fast path), full pipeline (Redis quota + audit)', script: HUB, env: realHubEnv({ ...redisEnv, ...upstream, MCP_SESSION_MODE: 'stateful' }), modern: true },
    { id: 'hub_stateless', label: 'hub, 2025-era stateless request (fast path), full pipeline', script: HUB, env: realHubEnv({ ...redisEnv, ...upstream, MCP_SESSION_MODE: 'stateless' }) },
    { id: 'hub_session', label: 'hub, 2025-era, inside one MCP session (unique request ids)', script: HUB, env: realHubEnv({ ...redisEnv, ...upstream, MCP_SESSION_MODE: 'stateful' }), session: true },
    { id: 'sdk', label: "SDK v2's documented stateless server (createMcpHandler), 2026-07-28 request, same tool and upstream client", script: path.join(SERVERS, 'sdk-server.js'), env: { ...upstream, BENCH_TOOL: 'geocode' }, modern: true },
    { id: 'sdk_fetch', label: "SDK v2's documented stateless server, 2026-07-28 request, upstream through fetch", script: path.join(SERVERS, 'sdk-server.js'), env: { ...upstream, BENCH_TOOL: 'geocode', BENCH_UPSTREAM_CLIENT: 'fetch' }, modern: true },
  ];
  // Every server runs for the whole section and the scenarios are measured in short interleaved rounds (bare, hub,
  // session, SDK, SDK+fetch, then again): the machine's speed drifts by tens of percent over minutes (other work on
  // it), and a cycle of 15 s lets every scenario sample the same drift. Each row pools all of its scenario's rounds
  // (poolRounds); every round is kept in results.json, and the targets are judged on the paired rounds (report.mjs).
  // Pinned (unless BENCH_PIN=0): the server under test alone on the last CPU, the load generator, the stand-in and
  // Redis on the others, as a deployed gateway's client, upstream API and Redis run on other machines. Unpinned, the
  // hub's rounds also paid for the Redis server's CPU and swung by up to 40% with the scheduler (docs/benchmarks.md).
  const pin = process.env.BENCH_PIN === '0' ? null : cpuSplit();
  const environment = [process.pid, standin.proc.pid, ...(redis?.pid ? [redis.pid] : [])];
  if (pin) for (const pid of environment) pinProcess(pid, pin.rest);
  const servers = [];
  try {
    await freshRedis();
    // BENCH_GATEWAY_TARGETS=bare,hub_modern runs only those scenarios (ids above); RESULTS.md then lists only them.
    const only = process.env.BENCH_GATEWAY_TARGETS?.split(',');
    if (only) targets.splice(0, targets.length, ...targets.filter((t) => only.includes(t.id)));
    // Each scenario runs in GATEWAY_PROCESSES processes that take the rounds in turn: two processes of one build have
    // differed by 15% for their whole lives (docs/benchmarks.md), so one process would stand for its scenario by luck.
    for (const t of targets) {
      t.run = { instances: await startInstances(t, GATEWAY_PROCESSES, { pin, node: GATEWAY_NODE, started: servers }), rounds: [] };
      for (const { server, headers, body } of t.run.instances) await verify(`${server.url}/mcp`, headers, body(1_000_000_000), 'Amphitheatre');
    }
    for (const t of targets) {
      log(`gateway warm-up: ${t.label}, ${GATEWAY_PROCESSES} process(es), 16 connections, ${GATEWAY_WARMUP} s slices until ${GATEWAY_WARMUP_CALLS} calls each`);
      await warmUp(t.run.instances, GATEWAY_WARMUP, GATEWAY_WARMUP_CALLS);
    }
    for (let round = 1; round <= GATEWAY_ROUNDS; round++) {
      for (const t of targets) {
        const { server, headers, body } = t.run.instances[(round - 1) % GATEWAY_PROCESSES];
        log(`gateway round ${round}/${GATEWAY_ROUNDS}: ${t.label}, 16 connections, ${GATEWAY_DURATION} s`);
        t.run.rounds.push(await gatewayRound({ server, headers, body, redis, duration: GATEWAY_DURATION, firstId: round * 10_000_000 }));
      }
    }
    for (const t of targets) {
      const rounds = t.run.rounds.map((r) => ({ rps: r.rps, p99_ms: r.p99_ms, main_thread_us: r.main_thread_us }));
      rows.push({ id: t.id, label: t.label, ...poolRounds(t.run.rounds), rounds });
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await standin.stop();
    if (pin) for (const pid of [process.pid, ...(redis?.pid ? [redis.pid] : [])]) pinProcess(pid, pin.all);
  }
  results.gateway = { tool: 'google_maps_geocode', node: nodeVersion(GATEWAY_NODE), duration_s: GATEWAY_DURATION, rounds: GATEWAY_ROUNDS, processes: GATEWAY_PROCESSES, warmup_s: GATEWAY_WARMUP, warmup_calls: GATEWAY_WARMUP_CALLS, pinned: pin, rows };
}

/** The version a Node binary reports (`v24.1.0`). */
function nodeVersion(binary) {
  return binary === process.execPath ? process.version : execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
}

/** POSTs `count` bodies to /mcp with `concurrency` keep-alive connections; fails on any non-result answer. */
async function postMany(url, headers, bodies, concurrency) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const one = (body) =>
    new Promise((resolve, reject) => {
      const data = JSON.stringify(body);
      const req = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(data) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => (res.statusCode === 200 && !text.includes('"isError":true') && text.includes('"result"') ? resolve() : reject(new Error(`ingest: ${res.statusCode} ${text.slice(0, 300)}`))));
      });
      req.on('error', reject);
      req.end(data);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) await one(bodies[next++]);
    }),
  );
  agent.destroy();
}

/**
 * The embedded search of issue 18: 10,000 notes (80 words, Zipf vocabulary of 4,000 words) ingested over MCP
 * (`intelligence_ingest`, 16 at a time, timed), then `search` over MCP at 16 connections with two-word queries that
 * each match about 1.5% of the notes. On the embedded default (DATA_DIR) and on PostgreSQL (DATABASE_URL, when set;
 * the bench drops and recreates the schema `intelligence` of that database).
 */
async function searchBench() {
  const corpus = makeCorpus();
  const rows = [];
  const backends = [['embedded default', {}]];
  if (process.env.DATABASE_URL) backends.push(['PostgreSQL', { DATABASE_URL: process.env.DATABASE_URL }]);
  else log('search: DATABASE_URL unset, PostgreSQL skipped');
  // Each backend's hub ingests and then stays up; the search load runs in interleaved rounds across the backends and
  // each row is that backend's best round (as in the gateway comparison).
  const hubs = [];
  try {
    await freshRedis();
    for (const [backend, env] of backends) {
      if (env.DATABASE_URL) await dropIntelligenceSchema(env.DATABASE_URL);
      const hubEnvironment = realHubEnv({ ...redisEnv, ...env, MCP_SESSION_MODE: 'stateless' });
      let ingestMs = null;
      const ingestHow = 'over MCP';
      const hub = await startProcess(HUB, hubEnvironment);
      hubs.push(hub);
      const bodies = corpus.docs.map((d, i) => ({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name: 'intelligence_ingest', arguments: { title: d.title, text: d.text } } }));
      if (ingestMs === null) {
        log(`search (${backend}): ingesting ${bodies.length} documents over MCP`);
        const t0 = Date.now();
        await postMany(`${hub.url}/mcp`, MCP_HEADERS, bodies, 16);
        ingestMs = Date.now() - t0;
      }
      const answer = JSON.parse(await verify(`${hub.url}/mcp`, MCP_HEADERS, searchCall(corpus.queries)(0), 'results'));
      rows.push({ backend, store: storeKind(hubEnvironment), documents: corpus.docs.length, ingest_how: ingestHow, ingest_ms: ingestMs, ingest_per_s: Math.round((1000 * corpus.docs.length) / ingestMs), first_results: answer.result.structuredContent.results.length, url: `${hub.url}/mcp`, rounds: [] });
    }
    for (let round = 1; round <= SEARCH_ROUNDS; round++) {
      for (const row of rows) {
        log(`search round ${round}/${SEARCH_ROUNDS} (${row.backend}, ${row.store}): 16 connections, ${SEARCH_DURATION} s`);
        row.rounds.push(await loadUnique({ url: row.url, headers: MCP_HEADERS, body: searchCall(corpus.queries), connections: 16, duration: SEARCH_DURATION }));
      }
    }
  } finally {
    await Promise.all(hubs.map((h) => h.stop()));
  }
  if (process.env.DATABASE_URL) await dropIntelligenceSchema(process.env.DATABASE_URL);
  const measured = rows.map(({ url: _url, rounds, ...row }) => ({ ...row, ...rounds.reduce((a, b) => (b.rps > a.rps ? b : a)), rounds: rounds.map((r) => ({ rps: r.rps, p99_ms: r.p99_ms })) }));
  results.search = { documents: corpus.docs.length, words_per_document: 80, vocabulary: 4000, queries: corpus.queries, duration_s: SEARCH_DURATION, rounds: SEARCH_ROUNDS, rows: measured };
}

/** Which engine served the hub's Intelligence store: PostgreSQL with DATABASE_URL, else what DATA_DIR holds. */
function storeKind(env) {
  if (env.DATABASE_URL) return 'postgres';
  return readdirSync(env.DATA_DIR).some((f) => f.startsWith('intelligence.sqlite')) ? 'sqlite' : 'unknown';
}

async function dropIntelligenceSchema(databaseUrl) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('DROP SCHEMA IF EXISTS intelligence CASCADE');
  } finally {
    await client.end();
  }
}

async function profileRun() {
  const dir = tempDir('omni-bench-prof-');
  await freshRedis();
  const server = await startProcess(HUB, hubEnv({ ...redisEnv, MCP_SESSION_MODE: 'stateless' }), { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
  let run;
  try {
    log('profiled hub run: 16 connections');
    run = await load({ url: `${server.url}/mcp`, headers: MCP_HEADERS, body: echoCall(), connections: 16, duration: DURATION });
  } finally {
    await server.stop();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no .cpuprofile written');
  results.profile = { run, file: path.join(dir, file), ...summariseProfile(path.join(dir, file)) };
}

/**
 * The gateway path under `node --cpu-prof`: the hub (stateless fast path, Redis) calling google_maps_geocode against
 * the stand-in at 16 connections. BENCH_SAVE_BASELINE=1 also stores the summary as bench/profile-baseline.json, the
 * "before" column of RESULTS.md.
 */
async function gatewayProfile() {
  const dir = tempDir('omni-bench-gwprof-');
  const standin = await startProcess(path.join(SERVERS, 'maps-standin.js'), { BENCH_MAPS_KEY: MAPS_KEY });
  let run;
  try {
    await freshRedis();
    const env = realHubEnv({ ...redisEnv, GOOGLE_API_BASE_URL: standin.url, GOOGLE_API_KEY: MAPS_KEY, MCP_SESSION_MODE: 'stateless' });
    const server = await startProcess(HUB, env, { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
    try {
      log('profiled hub run: google_maps_geocode, 16 connections');
      run = await loadUnique({ url: `${server.url}/mcp`, headers: MCP_HEADERS, body: geocodeCall, connections: 16, duration: SEARCH_DURATION });
    } finally {
      await server.stop();
    }
  } finally {
    await standin.stop();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no .cpuprofile written');
  results.profile_gateway = { run, file: path.join(dir, file), ...summariseProfile(path.join(dir, file)) };
  if (process.env.BENCH_SAVE_BASELINE === '1') {
    const { file: _file, ...summary } = results.profile_gateway;
    writeFileSync(BASELINE_JSON, `${JSON.stringify({ date: new Date().toISOString(), note: process.env.BENCH_BASELINE_NOTE ?? '', ...summary }, null, 2)}\n`);
  }
}

async function quotaAndAudit() {
  log('quota store latency (bench/quota.mjs)');
  const out = await new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'bench/quota.mjs'), '--calls', '20000'], {
      env: { PATH: process.env.PATH ?? '', ...(redis ? { REDIS_URL: redis.url } : {}) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let s = '';
    p.stdout.on('data', (d) => (s += d));
    p.once('exit', (code) => (code === 0 ? resolve(s) : reject(new Error(`quota.mjs exited ${code}`))));
  });
  results.quota = JSON.parse(out);

  log('audit write cost');
  const dist = (f) => import(pathToFileURL(path.join(ROOT, 'dist/governance', f)).href);
  const { MemoryAuditStore } = await dist('memory-audit-store.js');
  const N = 20_000;
  const record = (i) => ({
    id: randomUUID(),
    ts: new Date().toISOString(),
    tool: 'fixture_echo',
    system: 'connector',
    level: 'LOW',
    principal: 'key:bench000',
    transport: 'mcp',
    outcome: 'ok',
    duration_ms: 0.2,
    quota: { used: i, limit: 1000, reset_s: 3600 },
    args: { message: 'hello', repeat: 1 },
  });
  const measure = async (store) => {
    const records = Array.from({ length: N }, (_, i) => record(i));
    const t0 = process.hrtime.bigint();
    for (const r of records) store.append(r);
    const t1 = process.hrtime.bigint();
    await store.flush();
    const t2 = process.hrtime.bigint();
    return {
      records: N,
      append_us_per_record: Math.round(Number(t1 - t0) / N) / 1000,
      append_plus_flush_ms: Math.round(Number(t2 - t0) / 1e4) / 100,
      us_per_record_total: Math.round(Number(t2 - t0) / N) / 1000,
    };
  };
  const audit = { memory: await measure(new MemoryAuditStore(10_000)) };
  if (redis) {
    const { RedisAuditStore } = await dist('redis-audit-store.js');
    const { RedisConnection } = await import(pathToFileURL(path.join(ROOT, 'dist/redis/connection.js')).href);
    const connection = new RedisConnection({ url: redis.url });
    await connection.waitUntilReady(3_000);
    const key = `omni:bench:audit:${randomUUID()}`;
    const store = new RedisAuditStore(connection, { cap: 10_000, key, maxQueue: N });
    audit.redis = await measure(store);
    await connection.client.del(key);
    await store.close();
  }
  results.audit = audit;
}

async function authTiming() {
  log('key comparison timing');
  const { keyMatcher } = await import(pathToFileURL(path.join(ROOT, 'dist/http/auth.js')).href);
  const matcher = keyMatcher([KEY]);
  const guesses = {
    right_key: KEY,
    near_guess_same_length: `${KEY.slice(0, -1)}${KEY.endsWith('x') ? 'y' : 'x'}`,
    far_guess_same_length: 'Z'.repeat(KEY.length),
    shorter_guess: KEY.slice(0, 10),
    longer_guess: `${KEY}${KEY}`,
  };
  const samples = Object.fromEntries(Object.keys(guesses).map((k) => [k, []]));
  for (let i = 0; i < 20_000; i++) matcher.match(guesses.far_guess_same_length); // warm up
  for (let round = 0; round < 100_000; round++) {
    for (const [k, g] of Object.entries(guesses)) {
      const t = process.hrtime.bigint();
      matcher.match(g);
      samples[k].push(Number(process.hrtime.bigint() - t));
    }
  }
  results.auth_timing = Object.fromEntries(
    Object.entries(samples).map(([k, v]) => {
      const s = v.sort((a, b) => a - b);
      return [k, { samples: s.length, p50_ns: quantile(s, 0.5), p90_ns: quantile(s, 0.9), p99_ns: quantile(s, 0.99) }];
    }),
  );
}

async function coldStart() {
  const env = { HOST: '127.0.0.1', MCP_API_KEY: KEY, LOG_LEVEL: 'info' };
  const runs = [];
  for (let i = 0; i < 5; i++) {
    log(`cold start ${i + 1}/5`);
    const hub = await startProcess(MAIN, { ...env, DATA_DIR: tempDir('omni-bench-cold-') }, { readyPath: '/readyz' });
    const rss = rssBytes(hub.proc.pid);
    await hub.stop();
    runs.push({ ready_ms: Math.round(hub.readyMs), rss_mb: Math.round(rss / 1024 / 102.4) / 10 });
  }
  results.cold_start = { runs, median_ready_ms: median(runs.map((r) => r.ready_ms)), median_rss_mb: median(runs.map((r) => r.rss_mb)), store: 'memory quota + audit (no REDIS_URL), the embedded Intelligence store not opened until first use' };
}

/** Opens `n` sessions with `open(i)`, returns RSS of the hub before and after (after 20 warm-up sessions). */
async function sessionMemory(kind, n) {
  const hub = await startProcess(MAIN, { HOST: '127.0.0.1', MCP_API_KEY: KEY, LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '1000000', DATA_DIR: tempDir('omni-bench-sess-') }, { readyPath: '/readyz' });
  const held = [];
  try {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const initBody = JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } });
    const openStateful = () =>
      new Promise((resolve, reject) => {
        const req = http.request(`${hub.url}/mcp`, { method: 'POST', agent, headers: { ...MCP_HEADERS, 'content-length': Buffer.byteLength(initBody) } }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 && res.headers['mcp-session-id'] ? resolve() : reject(new Error(`initialize: ${res.statusCode}`))));
        });
        req.on('error', reject);
        req.end(initBody);
      });
    const openSse = () =>
      new Promise((resolve, reject) => {
        const req = http.request(`${hub.url}/sse`, { method: 'GET', agent: false, headers: { authorization: MCP_HEADERS.authorization, accept: 'text/event-stream' } }, (res) => {
          if (res.statusCode !== 200) return reject(new Error(`GET /sse: ${res.statusCode}`));
          held.push(req);
          res.once('data', () => resolve());
        });
        req.on('error', reject);
        req.end();
      });
    const open = kind === 'sse' ? openSse : openStateful;
    const openMany = async (count) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < count) {
            next++;
            await open();
          }
        }),
      );
    };
    await openMany(20);
    await sleep(1000);
    const before = rssBytes(hub.proc.pid);
    await openMany(n);
    await sleep(1000);
    const after = rssBytes(hub.proc.pid);
    agent.destroy();
    return { sessions: n, rss_before_mb: Math.round(before / 1048576), rss_after_mb: Math.round(after / 1048576), kb_per_session: Math.round((after - before) / n / 102.4) / 10 };
  } finally {
    for (const r of held) r.destroy();
    await hub.stop();
  }
}

async function perSession() {
  log('per-session memory: 1000 stateful sessions');
  const stateful = await sessionMemory('stateful', 1000);
  log('per-session memory: 1000 SSE streams');
  const sse = await sessionMemory('sse', 1000);
  results.sessions = { stateful, sse };
}

async function scaling() {
  const rows = [];
  for (const n of [1, 2, 4]) {
    await freshRedis();
    const hubs = [];
    try {
      for (let i = 0; i < n; i++) hubs.push(await startProcess(HUB, hubEnv({ ...redisEnv, MCP_SESSION_MODE: 'stateless' })));
      log(`scaling: ${n} hub process(es), 64 connections split`);
      const r = await loadSplit(hubs.map((h) => `${h.url}/mcp`), { headers: MCP_HEADERS, body: echoCall(), connections: 64, duration: DURATION });
      rows.push({ processes: n, ...r });
    } finally {
      await Promise.all(hubs.map((h) => h.stop()));
    }
  }
  results.scaling = { shared_store: redis ? 'one Redis' : 'none (memory: each process has its own budget)', rows };
}

// The fixture system's own tools, counted in the totals of the cost curve.
const FIXTURE_TOOL_COUNT = (await import(pathToFileURL(path.join(ROOT, 'dist-bench/test/helpers/fixture-system.js')).href)).fixtureSystem.tools.length;

async function costCurve() {
  const rows = [];
  for (const total of [44, 200, 1000]) {
    await freshRedis();
    const hub = await startProcess(HUB, hubEnv({ ...redisEnv, MCP_SESSION_MODE: 'stateless', BENCH_EXTRA_TOOLS: String(total - FIXTURE_TOOL_COUNT) }));
    try {
      const list = await verify(`${hub.url}/mcp`, MCP_HEADERS, listCall(), 'fixture_echo');
      const count = JSON.parse(list).result.tools.length;
      log(`cost curve: ${count} tools`);
      const l = await load({ url: `${hub.url}/mcp`, headers: MCP_HEADERS, body: listCall(), connections: 16, duration: SHORT });
      const c = await load({ url: `${hub.url}/mcp`, headers: MCP_HEADERS, body: echoCall(), connections: 16, duration: SHORT });
      rows.push({ tools: count, list_bytes: list.length, list_rps: l.rps, list_p99_ms: l.p99_ms, call_rps: c.rps, call_p99_ms: c.p99_ms, errors: l.errors + c.errors + l.non2xx + c.non2xx });
    } finally {
      await hub.stop();
    }
  }
  const audit = [];
  const stores = [['memory', {}], ...(redis ? [['redis', redisEnv]] : [])];
  for (const [store, env] of stores) {
    for (const prefill of [0, 10_000]) {
      await freshRedis();
      const hub = await startProcess(HUB, hubEnv({ ...env, MCP_SESSION_MODE: 'stateless', AUDIT_CAP: '10000', BENCH_AUDIT_PREFILL: String(prefill) }));
      try {
        log(`audit volume: ${store}, ${prefill} records before the run`);
        const c = await load({ url: `${hub.url}/mcp`, headers: MCP_HEADERS, body: echoCall(), connections: 16, duration: SHORT });
        audit.push({ store, prefilled: prefill, cap: 10_000, rps: c.rps, p99_ms: c.p99_ms, errors: c.errors + c.non2xx });
      } finally {
        await hub.stop();
      }
    }
  }
  results.cost_curve = { tools: rows, audit };
}

const sections = [
  ['gateway', gatewayComparison],
  ['search', searchBench],
  ['gwprofile', gatewayProfile],
  ['load', throughputMatrix],
  ['profile', profileRun],
  ['quota', quotaAndAudit],
  ['auth', authTiming],
  ['cold', coldStart],
  ['sessions', perSession],
  ['scaling', scaling],
  ['cost', costCurve],
];
const started = Date.now();
try {
  for (const [name, fn] of sections) {
    if (!want(name)) continue;
    try {
      await fn();
    } catch (err) {
      log(`${name} failed:`, err);
      results.failures = [...(results.failures ?? []), `${name}: ${err instanceof Error ? err.message : String(err)}`];
    }
  }
} finally {
  await redis?.stop();
}
if (!ONLY) results.total_s = Math.round((Date.now() - started) / 1000);
results.machine.loadavg_end = os.loadavg().map((x) => Math.round(x * 10) / 10);
const file = path.join(ROOT, 'bench/RESULTS.md');
const baseline = existsSync(BASELINE_JSON) ? JSON.parse(readFileSync(BASELINE_JSON, 'utf8')) : null;
// Sections other scripts own (between <!-- name:start --> and <!-- name:end -->, e.g. bench/image.mjs's) are kept.
const kept = existsSync(file) ? (readFileSync(file, 'utf8').match(/<!-- ([a-z-]+):start -->[\s\S]*?<!-- \1:end -->/g) ?? []) : [];
writeFileSync(file, [writeResults(results, baseline), ...kept].join('\n') + (kept.length ? '\n' : ''));
writeFileSync(RESULTS_JSON, `${JSON.stringify(results, null, 2)}\n`);
log(`wrote ${file} in ${Math.round((Date.now() - started) / 1000)} s`);
process.exit(results.failures ? 1 : 0);
