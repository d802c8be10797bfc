// The hub's container image, measured in a real Docker Engine: `npm run bench:image` (after `npm run image`).
// Size (unpacked, and gzip-compressed as a registry stores it), cold start (container create+start → first /readyz
// 200, median of 5), the hub's RSS inside the container, the first Intelligence call (the embedded SQLite store opened on first use)
// and `docker stop` (SIGTERM → exit). Writes bench/image-results.json and the "Container image" section of
// bench/RESULTS.md (between its markers; the rest of the file is bench/run.mjs's).
//
// DOCKER_HOST names the engine (e.g. unix:///run/omni-docker/docker.sock); BENCH_IMAGE the image (default
// omni-hub:<package version>).
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import Docker from 'dockerode';
import { writeResultsSection } from './lib.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const IMAGE = process.env.BENCH_IMAGE ?? `omni-hub:${pkg.version}`;
const RUNS = 5;
const KEY = 'bench-image-key-0123456789abcdef';

const docker = new Docker();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes) => Math.round((bytes / 1e6) * 10) / 10;

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function execText(container, cmd) {
  const e = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await e.start({ hijack: true, stdin: false });
  const chunks = [];
  stream.on('data', (c) => chunks.push(c));
  await new Promise((r) => stream.on('end', r));
  const raw = Buffer.concat(chunks);
  let out = '';
  for (let o = 0; o + 8 <= raw.length; o += 8 + raw.readUInt32BE(o + 4)) out += raw.subarray(o + 8, o + 8 + raw.readUInt32BE(o + 4)).toString('utf8');
  return out;
}

async function rssMb(container) {
  const status = await execText(container, ['cat', '/proc/1/status']);
  return Math.round((Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) / 1024) * 10) / 10;
}

/** gzip size of `docker save`: close to what a registry stores (layers are gzip-compressed tarballs). */
async function compressedBytes() {
  const save = spawn('docker', ['save', IMAGE], { stdio: ['ignore', 'pipe', 'inherit'] });
  const gzip = createGzip({ level: 6 });
  let bytes = 0;
  gzip.on('data', (c) => (bytes += c.length));
  save.stdout.pipe(gzip);
  await new Promise((resolve, reject) => {
    gzip.on('end', resolve);
    save.on('error', reject);
  });
  return bytes;
}

async function oneRun(i) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const container = await docker.createContainer({
    Image: IMAGE,
    name: `omni-hub-bench-${process.pid}-${i}`,
    Env: [`PORT=${port}`, `MCP_API_KEY=${KEY}`],
    HostConfig: { NetworkMode: 'host' },
  });
  try {
    await container.start();
    for (;;) {
      const ok = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (performance.now() - t0 > 120_000) throw new Error('no /readyz 200 within 120 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    const readyMs = performance.now() - t0;
    const rssReady = await rssMb(container);
    let firstIntelligenceMs;
    let rssAfterCalls;
    if (i === 0) {
      const t1 = performance.now();
      const res = await fetch(`${base}/v1/tools/intelligence_ingest`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'bench', text: 'first call opens the embedded store' }),
      });
      if (res.status !== 200) throw new Error(`intelligence_ingest answered ${res.status}`);
      firstIntelligenceMs = performance.now() - t1;
      // 200 calls of the REST catalog and the Intelligence store, then RSS again.
      for (let n = 0; n < 100; n++) {
        await fetch(`${base}/v1/tools`, { headers: { authorization: `Bearer ${KEY}` } }).then((r) => r.arrayBuffer());
        await fetch(`${base}/v1/tools/intelligence_query`, {
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ query: 'embedded store' }),
        }).then((r) => r.arrayBuffer());
      }
      rssAfterCalls = await rssMb(container);
    }
    const t2 = performance.now();
    await container.stop({ t: 20 });
    const stopMs = performance.now() - t2;
    const exitCode = (await container.inspect()).State.ExitCode;
    return { readyMs, rssReady, stopMs, exitCode, firstIntelligenceMs, rssAfterCalls };
  } finally {
    await container.remove({ force: true }).catch(() => {});
  }
}

async function main() {
  const info = await docker.getImage(IMAGE).inspect();
  const version = await docker.version();
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await oneRun(i));
  const compressed = await compressedBytes();
  // npm run image labels the image with the base it used (node:24-slim, or the locally assembled one).
  const baseLabel = info.Config?.Labels?.['org.omni-hub.base'] ?? 'not recorded (built without npm run image)';
  const results = {
    date: new Date().toISOString(),
    image: IMAGE,
    image_id: info.Id,
    engine: `Docker Engine ${version.Version}, storage driver ${(await docker.info()).Driver}`,
    base: baseLabel,
    machine: `${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} at the end`,
    size_bytes: info.Size,
    compressed_bytes: compressed,
    layers: info.RootFS?.Layers?.length ?? 0,
    runs,
    median_ready_ms: Math.round(median(runs.map((r) => r.readyMs))),
    median_rss_ready_mb: median(runs.map((r) => r.rssReady)),
    median_stop_ms: Math.round(median(runs.map((r) => r.stopMs))),
  };
  writeFileSync(path.join(ROOT, 'bench/image-results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeSection(results);
  console.log(JSON.stringify({ ...results, runs: undefined }, null, 2));
}

function writeSection(r) {
  const rows = r.runs
    .map((x, i) => `| ${i + 1} | ${Math.round(x.readyMs)} | ${x.rssReady} | ${Math.round(x.stopMs)} | ${x.exitCode} |`)
    .join('\n');
  const first = r.runs[0];
  writeResultsSection(
    'container-image',
    `## Container image

Generated by \`npm run bench:image\` (\`bench/image.mjs\`) on ${r.date}: the image built by \`npm run image\` from the
repository's Dockerfile, run in a real engine (${r.engine}) with \`--network host\`, \`PORT\` and \`MCP_API_KEY\`, no
REDIS_URL or DATABASE_URL (embedded stores). Base image: \`${r.base}\`. Machine: ${r.machine}; the other developers' work shares
these 2 cores, so absolute times are pessimistic.

| figure | value |
|---|---|
| image size, unpacked (\`docker image inspect\` Size) | ${mb(r.size_bytes)} MB |
| image size, gzip-compressed \`docker save\` (≈ what a registry stores) | ${mb(r.compressed_bytes)} MB |
| layers | ${r.layers} |
| cold start: container create + start → first \`/readyz\` 200, median of ${r.runs.length} | ${r.median_ready_ms} ms |
| hub RSS inside the container after start (\`VmRSS\` of PID 1), median of ${r.runs.length} | ${r.median_rss_ready_mb} MB |
| hub RSS after the first Intelligence call and 200 REST calls (run 1) | ${first.rssAfterCalls} MB |
| first Intelligence call (opens the embedded SQLite store in \`DATA_DIR\`), run 1 | ${Math.round(first.firstIntelligenceMs)} ms |
| \`docker stop\` (SIGTERM → exit), median of ${r.runs.length} | ${r.median_stop_ms} ms (exit codes: ${[...new Set(r.runs.map((x) => x.exitCode))].join(', ')}) |

| run | create + start → /readyz 200 (ms) | RSS after start (MB) | docker stop (ms) | exit code |
|---|---|---|---|---|
${rows}`,
  );
}

main().catch((err) => {
  console.error(`bench:image: ${err.message}`);
  process.exit(1);
});
