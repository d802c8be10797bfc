import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerRemove, dockerRun, dockerStop } from '../../../src/adapters/docker/tools-containers.js';
import { dockerBuild, dockerPull, dockerPush } from '../../../src/adapters/docker/tools-images.js';
import { dockerInspect, dockerListContainers, dockerListImages, dockerLogs } from '../../../src/adapters/docker/tools-read.js';
import { testConfig } from '../../helpers/config.js';
import { startFakeDockerEngine, type FakeDockerEngine } from '../../fakes/docker-engine.js';
import { AUTH as HUB_AUTH, TEST_KEY, testHub, type TestHub } from '../../helpers/app.js';
import { answerApproval } from '../../helpers/approval-page.js';
import { failure, runTool, toolContext } from '../../helpers/context.js';
import { announceSkip, BUSYBOX, busyboxSkipReason, realEngine, testRegistry } from '../../helpers/docker-real.js';

/**
 * One suite, two engines: the same tool calls and the same assertions against the fake Engine (test/fakes) and
 * against a real Docker Engine (DOCKER_TEST_HOST, started by .ci/run) with a real registry (htpasswd auth). What
 * only a real engine can show (commands really run: RUN output, files in the image) is asserted where `executes`.
 */

interface Target {
  kind: 'fake' | 'real';
  host: string;
  registry: string;
  auth: { username: string; password: string; serveraddress: string };
  executes: boolean;
  close(): Promise<void>;
}

const real = await realEngine();
const registry = testRegistry();
const realSkip = real.skipReason ?? busyboxSkipReason() ?? ('skipReason' in registry ? registry.skipReason : undefined);
announceSkip('Docker tools against the real engine', realSkip);

async function fakeTarget(): Promise<Target> {
  const engine: FakeDockerEngine = await startFakeDockerEngine();
  const auth = { username: 'ci-bot', password: 'fake-registry-pass', serveraddress: 'registry.test:5000' };
  engine.addRegistry(auth.serveraddress, auth);
  return { kind: 'fake', host: engine.url, registry: auth.serveraddress, auth, executes: false, close: () => engine.close() };
}

async function realTarget(): Promise<Target> {
  if ('skipReason' in registry) throw new Error(registry.skipReason);
  return { kind: 'real', host: real.host!, registry: registry.address, auth: registry.auth, executes: true, close: async () => {} };
}

const targets = [
  { name: 'fake Engine', skip: undefined, open: fakeTarget },
  { name: `real Docker Engine${realSkip ? ` (skipped: ${realSkip})` : ''}`, skip: realSkip, open: realTarget },
];

describe.each(targets)('Docker tools against the $name', ({ skip, open }) => {
  const run = randomBytes(4).toString('hex');
  const tag = `omni-contract-${run}:1`;
  let pushRef: string;
  const container = `omni-contract-${run}`;
  let t: Target;
  let tmp: string;
  let ctx: ReturnType<typeof toolContext>;
  let hub: TestHub | undefined;

  async function write(rel: string, content: string | Buffer, mode = 0o644): Promise<void> {
    const file = path.join(tmp, rel);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, content, { mode });
  }

  beforeAll(async () => {
    if (skip) return;
    t = await open();
    pushRef = `${t.registry}/omni-contract/app-${run}:v1`;
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'docker-contract-'));
    const busybox = await fs.readFile(BUSYBOX).catch(() => Buffer.from('busybox'));
    await write('root/app/busybox', busybox, 0o755);
    await write(
      'root/app/Dockerfile',
      [
        'FROM scratch',
        'COPY busybox /bin/busybox',
        'ARG GREETING=default-greeting',
        'LABEL org.omni.greeting=$GREETING',
        'COPY . /ctx',
        'RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && echo \\"greeting=$GREETING\\""]',
        'CMD ["sh"]',
        '',
      ].join('\n'),
    );
    await write('root/app/.dockerignore', '*.log\nsecret/\n');
    await write('root/app/app.txt', 'kept');
    await write('root/app/debug.log', 'ignored');
    await write('root/app/secret/key.txt', 'ignored');
    await write('root/broken/busybox', busybox, 0o755);
    await write('root/broken/Dockerfile', 'FROM scratch\nCOPY busybox /bin/sh\nRUN exit 3\nRUN echo never\n');
    const config = { DOCKER_HOST: t.host, DOCKER_BUILD_ROOT: path.join(tmp, 'root'), DOCKER_REGISTRY_AUTH: JSON.stringify(t.auth) };
    ctx = toolContext(testConfig(config));
    hub = await testHub(config);
  }, 120_000);

  afterAll(async () => {
    if (skip) return;
    for (const target of [container, `${container}-2`]) {
      await runTool(dockerRemove, { kind: 'container', target, force: true, confirm: true }, ctx).catch(() => {});
    }
    for (const target of [tag, pushRef]) await runTool(dockerRemove, { kind: 'image', target, force: true, confirm: true }, ctx).catch(() => {});
    await hub?.close();
    await t.close();
    await fs.rm(tmp, { recursive: true, force: true });
  }, 60_000);

  it.skipIf(skip)('builds a context under DOCKER_BUILD_ROOT with build args and two tags', async () => {
    const res = await runTool(dockerBuild, { context: 'app', tags: [tag, pushRef], build_args: { GREETING: 'hello-from-ci' } }, ctx);
    expect(res).toMatchObject({ status: 'built', tags: [tag, pushRef], image_id: expect.stringMatching(/^sha256:[a-f0-9]{64}$/) });
    expect(res.last_lines).toEqual(expect.arrayContaining([`Successfully tagged ${tag}`]));
    // Files in the context, .dockerignore applied (the fake counts what it received, the real engine what it built).
    expect(res.source).toMatchObject({ context: 'app', files: 4 });
    if (t.executes) expect(res.last_lines).toEqual(expect.arrayContaining(['greeting=hello-from-ci']));

    const image = await runTool(dockerInspect, { target: tag, kind: 'image' }, ctx);
    expect(image).toMatchObject({ kind: 'image', id: res.image_id, tags: expect.arrayContaining([tag, pushRef]), os: 'linux' });
    expect((image.config as { labels: Record<string, string> }).labels).toEqual({ 'org.omni.greeting': 'hello-from-ci' });
  }, 120_000);

  it.skipIf(skip)('reports a failing build as upstream_error with the failing step in its log', async () => {
    const err = await failure(runTool(dockerBuild, { context: 'broken', tags: [`omni-contract-broken-${run}:1`] }, ctx));
    expect(err.code).toBe('upstream_error');
    expect(err.message).toContain('returned a non-zero code: 3');
    expect(err.details.last_lines).toEqual(expect.arrayContaining(['Step 3/4 : RUN exit 3']));
    const images = await runTool(dockerListImages, { reference: `omni-contract-broken-${run}` }, ctx);
    expect(images.count).toBe(0);
  }, 60_000);

  it.skipIf(skip)('runs a container with a name, env and a published port; lists and inspects it', async () => {
    const res = await runTool(
      dockerRun,
      {
        image: tag,
        name: container,
        command: ['sh', '-c', 'echo "out: $WHO"; echo "err: $WHO" >&2; mkdir -p /www && echo "served" > /www/index.html && exec httpd -f -p 8080 -h /www'],
        env: { WHO: 'tell-no-one' },
        ports: [{ container_port: 8080, host_port: 0, host_ip: '127.0.0.1' }],
        labels: { 'org.omni.run': run },
      },
      ctx,
    );
    expect(res).toMatchObject({ name: container, image: tag, state: 'running', id: expect.stringMatching(/^[a-f0-9]{64}$/) });
    // host_port 0: the Engine picks a free port on the host and publishes it.
    expect(res.ports).toEqual([expect.stringMatching(/^127\.0\.0\.1:\d+->8080\/tcp$/)]);
    const hostPort = Number(/:(\d+)->/.exec((res.ports as string[])[0])![1]);
    expect(hostPort).toBeGreaterThan(0);
    if (t.executes) {
      const page = await fetch(`http://127.0.0.1:${hostPort}/index.html`, { signal: AbortSignal.timeout(5_000) });
      expect(await page.text()).toBe('served\n');
    }

    const list = await runTool(dockerListContainers, { name: container }, ctx);
    expect(list.containers).toEqual([expect.objectContaining({ name: container, image: tag, state: 'running', ports: [`127.0.0.1:${hostPort}->8080/tcp`] })]);
    const byLabel = await runTool(dockerListContainers, { label: `org.omni.run=${run}` }, ctx);
    expect(byLabel.count).toBe(1);

    const info = await runTool(dockerInspect, { target: container }, ctx);
    expect(info).toMatchObject({ kind: 'container', name: container, image: tag, state: { status: 'running', running: true }, labels: { 'org.omni.run': run } });
    expect(info.env_names).toContain('WHO');
    expect(JSON.stringify(info)).not.toContain('tell-no-one');
  }, 60_000);

  it.skipIf(skip)('reads stdout and stderr logs, each line tagged with its stream', async () => {
    let res: Record<string, unknown> = {};
    for (let i = 0; i < 50; i++) {
      res = await runTool(dockerLogs, { container }, ctx);
      if ((res.lines as unknown[]).length >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(res).toMatchObject({ container, tty: false, truncated: false });
    expect(res.lines).toEqual(
      expect.arrayContaining([
        { stream: 'stdout', text: 'out: tell-no-one' },
        { stream: 'stderr', text: 'err: tell-no-one' },
      ]),
    );
    const stderrOnly = await runTool(dockerLogs, { container, stdout: false }, ctx);
    expect(stderrOnly.lines).toEqual([{ stream: 'stderr', text: 'err: tell-no-one' }]);
  }, 30_000);

  it.skipIf(skip)('stops the container, then answers already_stopped', async () => {
    expect(await runTool(dockerStop, { container, timeout_s: 1 }, ctx)).toEqual({ container, stopped: true, already_stopped: false });
    expect(await runTool(dockerStop, { container, timeout_s: 1 }, ctx)).toEqual({ container, stopped: true, already_stopped: true });
    const info = await runTool(dockerInspect, { target: container, kind: 'container' }, ctx);
    expect(info).toMatchObject({ state: { status: 'exited', running: false } });
  }, 30_000);

  it.skipIf(skip)("removes a container only once a person approved it (through the hub), then it is gone", async () => {
    const refused = await hub!.app.inject({ method: 'POST', url: '/v1/tools/docker_remove', headers: HUB_AUTH, payload: { kind: 'container', target: container, confirm: true } });
    expect(refused.statusCode).toBe(428);
    expect(refused.json().error.code).toBe('approval_required');
    const approvalId = String(refused.json().error.approval_id);
    expect((await answerApproval(hub!.app, `/approvals/${approvalId}`, 'approve', TEST_KEY)).statusCode).toBe(200);
    const removed = await hub!.app.inject({
      method: 'POST',
      url: '/v1/tools/docker_remove',
      headers: HUB_AUTH,
      payload: { kind: 'container', target: container, confirm: true, approval_id: approvalId },
    });
    expect(removed.statusCode).toBe(200);
    expect(removed.json()).toMatchObject({ removed: true, kind: 'container', target: container });
    const err = await failure(runTool(dockerInspect, { target: container, kind: 'container' }, ctx));
    expect(err.code).toBe('not_found');
  }, 30_000);

  it.skipIf(skip)('lists images by reference', async () => {
    const res = await runTool(dockerListImages, { reference: tag.split(':')[0] }, ctx);
    expect(res.images).toEqual([expect.objectContaining({ tags: [tag], size_bytes: expect.any(Number) })]);
  });

  it.skipIf(skip)('pushes to the registry with DOCKER_REGISTRY_AUTH and pulls it back', async () => {
    const pushed = await runTool(dockerPush, { image: pushRef }, ctx);
    expect(pushed).toMatchObject({ status: 'pushed', image: pushRef, digest: expect.stringMatching(/^sha256:[a-f0-9]{64}$/) });

    await runTool(dockerRemove, { kind: 'image', target: pushRef, confirm: true }, ctx);
    expect((await runTool(dockerListImages, { reference: pushRef.split(':').slice(0, -1).join(':') }, ctx)).count).toBe(0);

    const pulled = await runTool(dockerPull, { image: pushRef }, ctx);
    expect(pulled).toMatchObject({ status: 'pulled', image: pushRef, digest: pushed.digest, image_id: expect.stringMatching(/^sha256:/) });
  }, 60_000);

  it.skipIf(skip)('refuses push and pull with a wrong registry password', async () => {
    const wrong = toolContext(testConfig({ DOCKER_HOST: t.host, DOCKER_REGISTRY_AUTH: JSON.stringify({ ...t.auth, password: 'wrong-password' }) }));
    for (const [tool, args] of [
      [dockerPush, { image: pushRef }],
      [dockerPull, { image: pushRef }],
    ] as const) {
      const err = await failure(runTool(tool, args, wrong));
      expect(err.code, tool.name).toBe('auth_error');
      expect(err.message).toContain('DOCKER_REGISTRY_AUTH');
      expect(err.details.upstream_message).toBe('unauthorized: authentication required');
      expect(JSON.stringify(err.details)).not.toContain('wrong-password');
    }
    const anonymous = toolContext(testConfig({ DOCKER_HOST: t.host }));
    expect((await failure(runTool(dockerPull, { image: pushRef }, anonymous))).code).toBe('auth_error');
  }, 60_000);

  it.skipIf(skip)('answers not_found for a missing image, container, local tag and registry manifest', async () => {
    expect((await failure(runTool(dockerRun, { image: `omni-contract-missing-${run}:1` }, ctx))).code).toBe('not_found');
    expect((await failure(runTool(dockerLogs, { container: `omni-contract-missing-${run}` }, ctx))).code).toBe('not_found');
    expect((await failure(runTool(dockerPush, { image: `${t.registry}/omni-contract/missing-${run}:1` }, ctx))).code).toBe('not_found');
    const manifest = await failure(runTool(dockerPull, { image: `${t.registry}/omni-contract/missing-${run}:1` }, ctx));
    expect(manifest.code).toBe('not_found');
    expect(manifest.details.upstream_message).toContain('manifest unknown');
  });

  it.skipIf(skip)('passes the Engine conflict for a taken name', async () => {
    await runTool(dockerRun, { image: tag, name: `${container}-2`, command: ['sh', '-c', 'sleep 60'] }, ctx);
    const err = await failure(runTool(dockerRun, { image: tag, name: `${container}-2` }, ctx));
    expect(err.code).toBe('upstream_error');
    expect(err.details.upstream_status).toBe(409);
    expect(err.message).toContain('is already in use');
    await runTool(dockerRemove, { kind: 'container', target: `${container}-2`, force: true, confirm: true }, ctx);
  }, 30_000);
});
