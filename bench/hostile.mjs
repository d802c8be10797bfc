// The hub against a hostile stdio upstream (test/fakes/hostile-upstream.mjs): how long /healthz takes while the
// hostile call runs, and how far the hub's RSS moves. Scenarios: the ReDoS schema (`^(a+)+$` with 30 `a`s and a `!`),
// a 60 MB result, and a storm of 200 `list_changed` notifications against 64 tools whose schemas change each time.
// Issue 30's target: each leaves /healthz answering in under 100 ms and RSS within 50 MB of where it started.
// Writes bench/hostile-results.json and the "Hostile upstream" section of bench/RESULTS.md; run it on an idle machine.
//
//   npm run bench:hostile                               # build, then each scenario REPEATS times (default 3)
//   BENCH_HOSTILE_REPEATS=1 node bench/hostile.mjs      # a smoke run, after npm run build
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { hubEnv, KEY, loadLine, machineLine, MAIN, ROOT, rssBytes, sleep, startProcess, writeResultsSection } from './lib.mjs';

const REPEATS = Number(process.env.BENCH_HOSTILE_REPEATS ?? '3');
const HOSTILE = path.join(ROOT, 'test/fakes/hostile-upstream.mjs');
const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
const HEALTHZ_MS = 100;
const RSS_MB = 50;
/** /healthz is probed at least this long per scenario, so a fast refusal still gets a handful of probes. */
const MIN_OBSERVE_MS = 1_000;

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

const loadStart = loadLine();
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
      let callMs = 0;
      const started = performance.now();
      const call = fetch(`${hub.url}/v1/tools/${s.tool}`, { method: 'POST', headers, body: JSON.stringify(s.body) }).then(async (res) => ({ status: res.status, body: await res.text() }));
      void call.finally(() => {
        finished = true;
        callMs = Math.round(performance.now() - started);
      });
      const settled = () => finished && performance.now() - started > Math.max(MIN_OBSERVE_MS, s.settleMs ?? 0);
      const latencies = await probe(hub.url, () => {
        rssPeak = Math.max(rssPeak, rssBytes(hub.proc.pid));
        return settled();
      });
      const answer = await call;
      const rssAfter = rssBytes(hub.proc.pid);
      latencies.sort((a, b) => a - b);
      rows.push({
        scenario: s.name,
        round,
        status: answer.status,
        call_ms: callMs,
        healthz_count: latencies.length,
        healthz_p50_ms: Number(latencies[Math.floor(latencies.length / 2)].toFixed(1)),
        healthz_max_ms: Number(latencies.at(-1).toFixed(1)),
        rss_start_mb: Number((rssBefore / 1024 / 1024).toFixed(1)),
        rss_peak_growth_mb: Number(((rssPeak - rssBefore) / 1024 / 1024).toFixed(1)),
        rss_end_growth_mb: Number(((rssAfter - rssBefore) / 1024 / 1024).toFixed(1)),
      });
    }
  }
} finally {
  await hub.stop();
}

const verdicts = scenarios.map((s) => {
  const mine = rows.filter((r) => r.scenario === s.name);
  const worstHealthz = Math.max(...mine.map((r) => r.healthz_max_ms));
  const worstRss = Math.max(...mine.map((r) => r.rss_peak_growth_mb));
  return { scenario: s.name, worst_healthz_ms: worstHealthz, worst_rss_growth_mb: worstRss, met: worstHealthz < HEALTHZ_MS && worstRss <= RSS_MB };
});
const result = { date: new Date().toISOString(), command: 'npm run bench:hostile', machine: machineLine(), loadavg_start: loadStart, loadavg_end: loadLine(), repeats: REPEATS, rows, verdicts };
writeFileSync(path.join(ROOT, 'bench/hostile-results.json'), `${JSON.stringify(result, null, 2)}\n`);

const table = [
  '| scenario | round | hub answer | call ms | /healthz probes | /healthz p50 ms | /healthz max ms | RSS at start MB | RSS growth, peak MB | RSS growth, at the end MB |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.scenario} | ${r.round + 1} | ${r.status} | ${r.call_ms} | ${r.healthz_count} | ${r.healthz_p50_ms} | ${r.healthz_max_ms} | ${r.rss_start_mb} | ${r.rss_peak_growth_mb} | ${r.rss_end_growth_mb} |`),
].join('\n');
const targets = [
  `| scenario | worst /healthz ms (target < ${HEALTHZ_MS}) | worst peak RSS growth MB (target ≤ ${RSS_MB}) | verdict |`,
  '|---|---|---|---|',
  ...verdicts.map((v) => `| ${v.scenario} | ${v.worst_healthz_ms} | ${v.worst_rss_growth_mb} | **${v.met ? 'met' : 'missed'}** |`),
].join('\n');
writeResultsSection(
  'hostile',
  `## Hostile upstream (issue 30): /healthz and RSS while a hostile stdio upstream attacks

Generated by \`${result.command}\` (\`bench/hostile.mjs\`) on ${result.date}. Machine: ${result.machine}; load average (1/5/15 min) ${result.loadavg_start} at the start, ${result.loadavg_end} at the end: figures taken while other work ran are an upper bound.

The built hub (\`dist/main.js\`, memory stores) with the hostile stdio upstream of the tests (\`test/fakes/hostile-upstream.mjs\`) as \`UPSTREAMS\` entry \`bad\`; each scenario is one REST call (\`POST /v1/tools/<tool>\`) while \`/healthz\` is asked back to back (at least ${MIN_OBSERVE_MS / 1000} s, the storm ${scenarios[2].settleMs / 1000} s), ${REPEATS} round(s) each. RSS is the hub process's VmRSS (/proc): at the start of the round, its peak while probing, and at the end. Scenarios: the ReDoS schema (\`^(a+)+$\`, 30 \`a\`s and a \`!\`; refused by the linear-time pattern check), a 60 MB result (the hub stops reading at \`UPSTREAM_RESULT_MAX_BYTES\`, 8 MiB by default, and restarts the process), and 200 \`list_changed\` notifications against 64 tools whose schemas change on every listing.

${table}

Target (issue 30): each scenario leaves \`/healthz\` answering in under ${HEALTHZ_MS} ms and RSS within ${RSS_MB} MB of where it started, judged on the worst round:

${targets}`,
);
console.log(table);
console.log(targets);
