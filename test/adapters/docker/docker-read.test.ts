import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { system } from '../../../src/adapters/docker/index.js';
import { dockerInspect, dockerListContainers, dockerListImages, dockerLogs } from '../../../src/adapters/docker/tools-read.js';
import { testConfig } from '../../helpers/config.js';
import { HubError } from '../../../src/tools/errors.js';
import { startFakeDockerEngine, type FakeDockerEngine } from '../../fakes/docker-engine.js';
import { runTool, toolContext } from '../../helpers/context.js';

let engine: FakeDockerEngine;
let ctx: ReturnType<typeof toolContext>;

beforeAll(async () => {
  engine = await startFakeDockerEngine();
  ctx = toolContext(testConfig({ DOCKER_HOST: engine.url }));
  const web = engine.addContainer('web', 'nginx:1.27', {
    logs: [
      { stream: 1, text: 'listening on :80' },
      { stream: 2, text: 'warning: slow start' },
      { stream: 1, text: 'GET / 200' },
      { stream: 1, text: 'GET /health 200' },
    ],
  });
  web.portBindings = { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] };
  engine.addContainer('old-job', 'alpine:3.20', { running: false });
  engine.addContainer('console', 'alpine:3.20', { tty: true, logs: [{ stream: 1, text: 'tty line one' }, { stream: 1, text: 'tty line two' }] });
});
afterAll(() => engine.close());

const lastRequest = () => engine.requests[engine.requests.length - 1];

describe('docker read tools against a fake Engine on a unix socket', () => {
  it('lists running containers by default and all with all: true', async () => {
    const running = await runTool(dockerListContainers, {}, ctx);
    expect(lastRequest().url).toMatch(/^\/containers\/json\?/);
    expect(lastRequest().url).toContain('all=false');
    expect(running.count).toBe(2);
    const web = (running.containers as { name: string; ports: string[]; id: string }[]).find((c) => c.name === 'web')!;
    expect(web.ports).toEqual(['0.0.0.0:8080->80/tcp']);
    expect(web.id).toHaveLength(12);

    const all = await runTool(dockerListContainers, { all: true, name: 'old' }, ctx);
    const q = new URL(lastRequest().url, 'http://x').searchParams;
    expect(JSON.parse(q.get('filters')!)).toEqual({ name: ['old'] });
    expect(all.containers).toEqual([expect.objectContaining({ name: 'old-job', state: 'exited' })]);
  });

  it('lists images with tags and sizes, filtered by reference', async () => {
    const res = await runTool(dockerListImages, { reference: 'nginx' }, ctx);
    expect(JSON.parse(new URL(lastRequest().url, 'http://x').searchParams.get('filters')!)).toEqual({ reference: ['nginx'] });
    expect(res.images).toEqual([expect.objectContaining({ tags: ['nginx:1.27'], size_bytes: 7_800_000 })]);
  });

  it('inspects a container without exposing env values', async () => {
    const res = await runTool(dockerInspect, { target: 'web' }, ctx);
    expect(res).toMatchObject({ kind: 'container', name: 'web', state: { status: 'running', running: true } });
    expect(res.env_names).toEqual(['PATH', 'API_KEY']);
    expect(JSON.stringify(res)).not.toContain('s3cret');
  });

  it('falls back to an image when no container has that name (kind auto)', async () => {
    const before = engine.requests.length;
    const res = await runTool(dockerInspect, { target: 'nginx:1.27' }, ctx);
    const urls = engine.requests.slice(before).map((r) => r.url);
    expect(urls).toEqual(['/containers/nginx:1.27/json', '/images/nginx:1.27/json']);
    expect(res).toMatchObject({ kind: 'image', tags: ['nginx:1.27'], os: 'linux', layers: 2 });
    expect((res.config as { env_names: string[] }).env_names).toEqual(['PATH', 'SECRET_TOKEN']);
  });

  it('answers not_found with the Engine message for an unknown target', async () => {
    const err = await runTool(dockerInspect, { target: 'ghost', kind: 'container' }, ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).code).toBe('not_found');
    expect((err as HubError).details).toMatchObject({ upstream_status: 404, upstream_message: 'No such container: ghost' });
  });

  it('demultiplexes stdout/stderr frames and passes tail and since', async () => {
    const res = await runTool(dockerLogs, { container: 'web', tail: 3, since: '15m' }, ctx);
    const q = new URL(lastRequest().url, 'http://x').searchParams;
    expect(q.get('tail')).toBe('3');
    expect(q.get('follow')).toBe('false');
    expect(Number(q.get('since'))).toBeGreaterThan(Date.now() / 1000 - 16 * 60);
    expect(res.lines).toEqual([
      { stream: 'stderr', text: 'warning: slow start' },
      { stream: 'stdout', text: 'GET / 200' },
      { stream: 'stdout', text: 'GET /health 200' },
    ]);
    expect(res.truncated).toBe(false);
  });

  it('keeps the newest lines within max_bytes and says it truncated', async () => {
    const big = engine.addContainer('chatty', 'alpine:3.20', {
      logs: Array.from({ length: 300 }, (_, i) => ({ stream: 1 as const, text: `line ${String(i).padStart(3, '0')} ${'x'.repeat(40)}` })),
    });
    const res = await runTool(dockerLogs, { container: big.Name.slice(1), tail: 300, max_bytes: 1000 }, ctx);
    const lines = res.lines as { text: string }[];
    expect(res.truncated).toBe(true);
    expect(lines[lines.length - 1].text).toMatch(/^line 299 /);
    expect(res.bytes as number).toBeLessThanOrEqual(1000);
  });

  it('reads TTY logs as raw text', async () => {
    const res = await runTool(dockerLogs, { container: 'console' }, ctx);
    expect(res.tty).toBe(true);
    expect(res.lines).toEqual([
      { stream: 'stdout', text: 'tty line one' },
      { stream: 'stdout', text: 'tty line two' },
    ]);
  });

  it('rejects a bad since value at validation', () => {
    expect(() => dockerLogs.input.parse({ container: 'web', since: 'yesterday' })).toThrow();
  });

  it('check() reports the Engine version via _ping and /version', async () => {
    const status = await system.check(ctx.config, ctx.services, AbortSignal.timeout(5000));
    expect(status).toEqual({ state: 'connected', detail: 'Docker Engine 27.3.1 (API 1.47, linux/amd64)' });
    expect(engine.requests.slice(-2).map((r) => r.url)).toEqual(['/_ping', '/version']);
    expect(system.missingConfig(ctx.config)).toBeNull();
  });
});

describe('docker without DOCKER_HOST', () => {
  it.skipIf(existsSync('/var/run/docker.sock'))('needs DOCKER_HOST when the default socket does not exist', () => {
    expect(system.missingConfig(testConfig())).toBe('DOCKER_HOST');
  });
});

describe('docker with the daemon down', () => {
  const down = testConfig({ DOCKER_HOST: 'unix:///nonexistent/omni-hub-test/docker.sock' });

  it('answers upstream_error naming DOCKER_HOST, without hanging', async () => {
    const err = await runTool(dockerListContainers, {}, toolContext(down)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).code).toBe('upstream_error');
    expect((err as HubError).message).toContain('DOCKER_HOST=unix:///nonexistent/omni-hub-test/docker.sock');
    expect((err as HubError).details).toMatchObject({ variable: 'DOCKER_HOST', cause: 'ENOENT' });
  });

  it('check() reports failed with the reason', async () => {
    const status = await system.check(down, toolContext(down).services, AbortSignal.timeout(5000));
    expect(status.state).toBe('failed');
    expect((status as { reason: string }).reason).toContain('DOCKER_HOST');
  });
});
