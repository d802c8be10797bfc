// The hub against a hostile stdio upstream (test/fakes/hostile-upstream.mjs): how long /healthz takes while the
// hostile call runs, and how far the hub's RSS moves. Scenarios: the ReDoS schema (`^(a+)+$` with 30 `a`s and a `!`),
// a 60 MB result, and a storm of 200 `list_changed` notifications against 64 tools whose schemas change each time.
// Writes bench/hostile-results.json and prints a Markdown table for bench/RESULTS.md.
//
//   npm run build && node bench/hostile.mjs            # each scenario REPEATS times (default 3)
//   BENCH_HOSTILE_REPEATS=1 node bench/hostile.mjs     # a smoke run
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { hubEnv, KEY, MAIN, ROOT, rssBytes, sleep, startProcess } from './lib.mjs';

const REPEATS = Number(process.env.BENCH_HOSTILE_REPEATS ?? '3');
const HOSTILE = path.join(ROOT, 'test/fakes/hostile-upstream.mjs');
const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

const scenarios = [
  { name: 'ReDoS pattern, 30 a + !', tool: 'bad_redos', body: { s: `${'a'.repeat(30)}!` } },
  { name: '60 MB result', tool: 'bad_huge', body: {} },
  { name: 'list_changed storm, 200 notifications, 64 tools', tool: 'bad_storm', body: { count: 200 }, settleMs: 3_000 },
];

/** /healthz latencies (ms) measured back to back until `done()` is true. */
async function probe(url, done) {
  const latencies = [];
  do {
    const t = performance.now();
    const res = await fetch(`${url}/healthz`);
    await res.arrayBuffer();
    latencies.push(performance.now() - t);
  } while (!done());
  return latencies;
}

async function connected(url) {
  for (let i = 0; i < 300; i += 1) {
    const res = await fetch(`${url}/v1/connections`, { headers });
    const rows = (await res.json()).systems ?? [];
    if (rows.find((r) => r.system === 'bad')?.status === 'connected') return;
    await sleep(100);
  }
  throw new Error('the hostile upstream never connected');
}

const hub = await startProcess(MAIN, hubEnv({ LOG_LEVEL: 'warn', UPSTREAMS: JSON.stringify([{ name: 'bad', command: process.execPath, args: [HOSTILE] }]) }));
const rows = [];
try {
  await connected(hub.url);
  for (const s of scenarios) {
    for (let round = 0; round < REPEATS; round += 1) {
      await connected(hub.url);
      const rssBefore = rssBytes(hub.proc.pid);
      let rssPeak = rssBefore;
      let finished = false;
      const started = performance.now();
      const call = fetch(`${hub.url}/v1/tools/${s.tool}`, { method: 'POST', headers, body: JSON.stringify(s.body) }).then(async (res) => ({ status: res.status, body: await res.text() }));
      void call.finally(() => (finished = true));
      const settleUntil = () => finished && performance.now() - started > (s.settleMs ?? 0);
      const latencies = await probe(hub.url, () => {
        rssPeak = Math.max(rssPeak, rssBytes(hub.proc.pid));
        return settleUntil();
      });
      const answer = await call;
      latencies.sort((a, b) => a - b);
      rows.push({
        scenario: s.name,
        round,
        status: answer.status,
        call_ms: Math.round(performance.now() - started),
        healthz_count: latencies.length,
        healthz_p50_ms: Number(latencies[Math.floor(latencies.length / 2)].toFixed(1)),
        healthz_max_ms: Number(latencies.at(-1).toFixed(1)),
        rss_growth_mb: Number(((rssPeak - rssBefore) / 1024 / 1024).toFixed(1)),
      });
    }
  }
} finally {
  await hub.stop();
}

const result = { date: new Date().toISOString(), node: process.version, repeats: REPEATS, rows };
writeFileSync(path.join(ROOT, 'bench/hostile-results.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log('| scenario | round | hub answer | call ms | /healthz probes | /healthz p50 ms | /healthz max ms | RSS growth MB (peak) |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.scenario} | ${r.round + 1} | ${r.status} | ${r.call_ms} | ${r.healthz_count} | ${r.healthz_p50_ms} | ${r.healthz_max_ms} | ${r.rss_growth_mb} |`);
