import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerOptions } from '../../../src/adapters/docker/client.js';
import { system } from '../../../src/adapters/docker/index.js';
import { dockerRemove, dockerRun, dockerStop } from '../../../src/adapters/docker/tools-containers.js';
import { testConfig } from '../../helpers/config.js';
import { startFakeDockerEngine, type FakeDockerEngine } from '../../fakes/docker-engine.js';
import { failure, runTool, toolContext } from '../../helpers/context.js';

let engine: FakeDockerEngine;
let ctx: ReturnType<typeof toolContext>;

beforeAll(async () => {
  engine = await startFakeDockerEngine();
  engine.addImage('nginx:1.27');
  ctx = toolContext(testConfig({ DOCKER_HOST: engine.url }));
});
afterAll(() => engine.close());

describe('docker_run', () => {
  it('creates and starts a container with name, command, env and ports', async () => {
    const res = await runTool(
      dockerRun,
      { image: 'nginx:1.27', name: 'web1', command: ['nginx', '-g', 'daemon off;'], env: { PORT: '8080' }, ports: [{ container_port: 80, host_port: 8080 }], auto_remove: true },
      ctx,
    );
    const create = engine.requests.find((r) => r.url.startsWith('/containers/create'))!;
    expect(create.url).toBe('/containers/create?name=web1');
    expect(JSON.parse(create.body)).toMatchObject({
      Image: 'nginx:1.27',
      Cmd: ['nginx', '-g', 'daemon off;'],
      Env: ['PORT=8080'],
      ExposedPorts: { '80/tcp': {} },
      HostConfig: { AutoRemove: true, PortBindings: { '80/tcp': [{ HostPort: '8080' }] } },
    });
    const id = (res.id as string);
    expect(engine.requests.some((r) => r.method === 'POST' && r.url === `/containers/${id}/start`)).toBe(true);
    expect(res).toMatchObject({ name: 'web1', state: 'running', ports: ['0.0.0.0:8080->80/tcp'] });
  });

  it('answers not_found telling to pull when the image is missing', async () => {
    const err = await failure(runTool(dockerRun, { image: 'redis:7' }, ctx));
    expect(err.code).toBe('not_found');
    expect(err.message).toContain('docker_pull');
  });

  it('passes the Engine conflict message for a taken name', async () => {
    engine.addContainer('taken', 'nginx:1.27');
    const err = await failure(runTool(dockerRun, { image: 'nginx:1.27', name: 'taken' }, ctx));
    expect(err.code).toBe('upstream_error');
    expect(err.details.upstream_status).toBe(409);
    expect(err.message).toContain('is already in use');
  });
});

describe('docker_stop', () => {
  it('stops a running container with the timeout', async () => {
    engine.addContainer('stopme', 'nginx:1.27');
    const res = await runTool(dockerStop, { container: 'stopme', timeout_s: 3 }, ctx);
    expect(engine.requests.at(-1)!.url).toBe('/containers/stopme/stop?t=3');
    expect(res).toEqual({ container: 'stopme', stopped: true, already_stopped: false });
  });

  it('treats 304 as already stopped', async () => {
    const res = await runTool(dockerStop, { container: 'stopme' }, ctx);
    expect(res).toEqual({ container: 'stopme', stopped: true, already_stopped: true });
  });

  it('answers not_found for an unknown container', async () => {
    const err = await failure(runTool(dockerStop, { container: 'nope' }, ctx));
    expect(err.code).toBe('not_found');
  });
});

describe('docker_remove', () => {
  it('is CRITICAL with dry_run/confirm and describes the action', () => {
    expect(dockerRemove.level).toBe('CRITICAL');
    expect(dockerRemove.input.shape).toHaveProperty('confirm');
    expect(dockerRemove.input.shape).toHaveProperty('dry_run');
    const args = dockerRemove.input.parse({ kind: 'container', target: 'web1', force: true, remove_volumes: true, confirm: true });
    expect(dockerRemove.describeAction!(args, ctx.config)).toBe('remove container web1 (forced) with its anonymous volumes');
    expect(() => dockerRemove.input.parse({ target: 'web1' })).toThrow();
  });

  it('refuses to remove a running container without force (Engine 409) and removes it with force', async () => {
    engine.addContainer('busy', 'nginx:1.27');
    const err = await failure(runTool(dockerRemove, { kind: 'container', target: 'busy', confirm: true }, ctx));
    expect(err.code).toBe('upstream_error');
    expect(err.details).toMatchObject({ upstream_status: 409 });
    const res = await runTool(dockerRemove, { kind: 'container', target: 'busy', force: true, remove_volumes: true, confirm: true }, ctx);
    expect(engine.requests.at(-1)).toMatchObject({ method: 'DELETE', url: '/containers/busy?force=true&v=true' });
    expect(res).toEqual({ removed: true, kind: 'container', target: 'busy' });
  });

  it('removes an image and reports untagged and deleted ids', async () => {
    const img = engine.addImage('old-app:0.1');
    const res = await runTool(dockerRemove, { kind: 'image', target: 'old-app:0.1', confirm: true }, ctx);
    expect(engine.requests.at(-1)).toMatchObject({ method: 'DELETE', url: '/images/old-app:0.1?force=false' });
    expect(res).toEqual({ removed: true, kind: 'image', target: 'old-app:0.1', untagged: ['old-app:0.1'], deleted: [img.Id] });
  });

  it('refuses path tricks in the target at validation', () => {
    expect(() => dockerRemove.input.parse({ kind: 'image', target: 'x/../../containers/y' })).toThrow();
  });
});

describe('DOCKER_HOST parsing', () => {
  it('reads unix, tcp and TLS addresses', () => {
    expect(dockerOptions(testConfig({}))).toMatchObject({ socketPath: '/var/run/docker.sock', host: undefined });
    expect(dockerOptions(testConfig({ DOCKER_HOST: 'tcp://10.0.0.5:2375' }))).toMatchObject({ host: '10.0.0.5', port: '2375', protocol: 'http', socketPath: undefined });
    expect(dockerOptions(testConfig({ DOCKER_HOST: 'tcp://10.0.0.5:2376' }))).toMatchObject({ protocol: 'https' });
    expect(dockerOptions(testConfig({ DOCKER_HOST: 'tcp://h:4000', DOCKER_TLS_VERIFY: '1' }))).toMatchObject({ protocol: 'https', port: '4000' });
  });

  it('names DOCKER_CERT_PATH when the TLS files are unreadable', () => {
    const config = testConfig({ DOCKER_HOST: 'tcp://h:2376', DOCKER_CERT_PATH: '/nonexistent/certs' });
    expect(() => dockerOptions(config)).toThrow(expect.objectContaining({ code: 'auth_error', message: expect.stringContaining('DOCKER_CERT_PATH') }));
  });

  it('rejects an unsupported scheme as not_configured naming DOCKER_HOST', () => {
    expect(() => dockerOptions(testConfig({ DOCKER_HOST: 'ssh://me@host' }))).toThrow(expect.objectContaining({ code: 'not_configured' }));
  });

  it('lists the ten tools with the catalog levels', () => {
    expect(Object.fromEntries(system.tools.map((t) => [t.name, t.level]))).toEqual({
      docker_list_containers: 'LOW',
      docker_list_images: 'LOW',
      docker_inspect: 'LOW',
      docker_logs: 'LOW',
      docker_pull: 'MEDIUM',
      docker_build: 'HIGH',
      docker_push: 'HIGH',
      docker_run: 'HIGH',
      docker_stop: 'HIGH',
      docker_remove: 'CRITICAL',
    });
    for (const t of system.tools) expect(t.description.length).toBeLessThanOrEqual(300);
  });
});
