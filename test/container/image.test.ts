import { readFileSync } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson, startFakeServer, type FakeServer } from '../helpers/fake-server.js';
import { announceSkip, realEngine } from '../helpers/docker-real.js';
import { freePort } from '../helpers/spawn-hub.js';

/**
 * The hub's own image (built by `npm run image`, which .ci/run runs before the tests) in a real Docker Engine:
 * started as Cloud Run would (PORT, MCP_API_KEY; host network here), ready, not root, healthy by its own
 * HEALTHCHECK, DATA_DIR writable, and `docker stop` (SIGTERM) drains a call in flight and exits 0.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const IMAGE = process.env.DOCKER_TEST_IMAGE ?? `omni-hub:${version}`;
const KEY = 'container-test-key-0123456789';

const real = await realEngine();
let skipReason = real.skipReason;
if (!skipReason) {
  try {
    await real.docker!.getImage(IMAGE).inspect();
  } catch {
    skipReason = `image ${IMAGE} is not in the engine at ${real.host} (npm run image builds it; .ci/run does so before the tests)`;
  }
}
announceSkip('the hub image in a container', skipReason);

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function exec(container: Docker.Container, cmd: string[]): Promise<{ exitCode: number; output: string }> {
  const e = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await e.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  await new Promise((resolve) => stream.on('end', resolve));
  const info = await e.inspect();
  // Multiplexed frames: 8-byte header, then the payload.
  const raw = Buffer.concat(chunks);
  let out = '';
  for (let o = 0; o + 8 <= raw.length; o += 8 + raw.readUInt32BE(o + 4)) out += raw.subarray(o + 8, o + 8 + raw.readUInt32BE(o + 4)).toString('utf8');
  return { exitCode: info.ExitCode ?? -1, output: out };
}

async function logsOf(container: Docker.Container): Promise<string> {
  const buf = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  let out = '';
  for (let o = 0; o + 8 <= buf.length; o += 8 + buf.readUInt32BE(o + 4)) out += buf.subarray(o + 8, o + 8 + buf.readUInt32BE(o + 4)).toString('utf8');
  return out;
}

describe.skipIf(skipReason)(`the hub image ${IMAGE} in a real Docker Engine${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let docker: Docker;
  let container: Docker.Container;
  let port: number;
  let base: string;
  let upstream: FakeServer;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let received!: () => void;
  const executeReceived = new Promise<void>((r) => (received = r));

  beforeAll(async () => {
    docker = real.docker!;
    // A slow Auto Builder on the host's loopback (the container shares the host network): a call stays in flight until released.
    upstream = await startFakeServer(async (req, res) => {
      if (req.method !== 'POST') return sendJson(res, 200, { service: 'slow auto builder' });
      received();
      await gate;
      sendJson(res, 200, { status: 'success', result: { built: true } });
    });
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    container = await docker.createContainer({
      Image: IMAGE,
      name: `omni-hub-image-test-${process.pid}`,
      Env: [`PORT=${port}`, `MCP_API_KEY=${KEY}`, `CHATGPT_MCP_ENDPOINT=${upstream.url}`],
      // The image's own HEALTHCHECK command, checked every second instead of every 30 s (the daemon keeps the test).
      Healthcheck: { Interval: 1_000_000_000, StartPeriod: 1_000_000_000, Timeout: 5_000_000_000, Retries: 3 },
      HostConfig: { NetworkMode: 'host' },
    });
    await container.start();
    await until('/readyz 200', async () => {
      const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2_000) });
      return res.status === 200 ? res.status : undefined;
    });
  }, 90_000);

  afterAll(async () => {
    release?.();
    await container?.remove({ force: true }).catch(() => {});
    await upstream?.close();
  });

  it('answers /readyz 200 after start', async () => {
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const unauthorized = await fetch(`${base}/v1/tools`);
    expect(unauthorized.status).toBe(401);
    const tools = await fetch(`${base}/v1/tools`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(tools.status).toBe(200);
  }, 90_000);

  it('runs as the unprivileged node user, not root', async () => {
    const info = await docker.getImage(IMAGE).inspect();
    expect(info.Config.User).toBe('node');
    const id = await exec(container, ['id', '-u']);
    expect(id).toEqual({ exitCode: 0, output: '1000\n' });
    const top = await container.top({ ps_args: '-o user,pid,args' });
    const hub = top.Processes.find((p: string[]) => p.join(' ').includes('dist/main.js'));
    expect(hub?.[0]).not.toBe('root');
  });

  it('reports healthy through the image HEALTHCHECK', async () => {
    const health = await until('health status healthy', async () => {
      const s = (await container.inspect()).State.Health;
      if (s?.Status === 'unhealthy') throw new Error(`unhealthy: ${JSON.stringify(s.Log?.slice(-1))}`);
      return s?.Status === 'healthy' ? s : undefined;
    });
    expect(health.Status).toBe('healthy');
    expect(health.Log?.at(-1)?.ExitCode).toBe(0);
  }, 90_000);

  it('can write to DATA_DIR', async () => {
    const res = await exec(container, ['node', '-e', "const f=require('path').join(process.env.DATA_DIR,'probe');require('fs').writeFileSync(f,'ok');process.stdout.write(process.env.DATA_DIR+':'+require('fs').readFileSync(f,'utf8'))"]);
    expect(res).toEqual({ exitCode: 0, output: '/app/data:ok' });
  });

  it("serves the Intelligence store from the same embedded SQLite as development; the first calls stay under 200 MB RSS", async () => {
    const post = (tool: string, body: unknown) =>
      fetch(`${base}/v1/tools/${tool}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    // The first Intelligence calls of this container: an ingest opens the store, a query starts its search worker.
    const ingest = await post('intelligence_ingest', { title: 'Container note', text: 'the wombat census runs in the image' });
    expect(ingest.status).toBe(200);
    const query = await post('intelligence_query', { query: 'wombat census' });
    expect(query.status).toBe(200);
    expect(JSON.stringify(await query.json())).toContain('Container note');

    const connections = (await (await fetch(`${base}/v1/connections`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as {
      systems: { system: string; status: string; detail: string }[];
    };
    expect(connections.systems.find((s) => s.system === 'intelligence')).toMatchObject({ status: 'connected', detail: 'embedded SQLite' });
    const files = await exec(container, ['ls', '/app/data']);
    expect(files.output.split('\n')).toContain('intelligence.sqlite');
    expect(files.output).not.toContain('pglite');

    // The hub is PID 1 (CMD node dist/main.js); VmRSS counts every thread, the search worker's included.
    const status = await exec(container, ['cat', '/proc/1/status']);
    const rssKb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status.output)?.[1]);
    console.info(`hub RSS in the container after its first Intelligence calls: ${Math.round(rssKb / 1024)} MB`);
    expect(rssKb).toBeGreaterThan(0);
    expect(rssKb).toBeLessThan(200 * 1024);
  }, 60_000);

  it('on docker stop (SIGTERM) completes the call in flight and exits 0 within the grace period', async () => {
    // The Auto Builder tool stores its answer in the Intelligence store: open it (SQLite in DATA_DIR) before the call,
    // so that the call in flight is the upstream wait and nothing else.
    const warm = await fetch(`${base}/v1/tools/intelligence_ingest`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'warm-up', text: 'opens the embedded store in DATA_DIR' }),
    });
    expect(warm.status).toBe(200);
    const call = fetch(`${base}/v1/tools/chatgpt_auto_builder_execute`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ command: 'build the thing', context: { repo: 'org/app' } }),
    });
    await executeReceived;
    // 20 s grace before SIGKILL; the hub's own drain bound (SHUTDOWN_GRACE_MS) is 10 s.
    const stopping = container.stop({ t: 20 });
    await until('the hub to log its shutdown', async () => ((await logsOf(container)).includes('shutting down') ? true : undefined), 20_000);
    release();
    const res = await call;
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'success', result: { built: true } });
    await stopping;
    const state = (await container.inspect()).State;
    // A failed exit says why from the hub's own log (its shutdown lines), not only from the exit code.
    if (state.ExitCode !== 0) console.error(`hub container exited ${state.ExitCode}; the end of its log:\n${(await logsOf(container)).slice(-4_000)}`);
    // 137 would mean SIGKILL after the grace period; 0 is the hub's own clean exit.
    expect(state).toMatchObject({ Running: false, ExitCode: 0, OOMKilled: false });
  }, 120_000);
});
