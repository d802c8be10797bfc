import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerBuild, dockerPull, dockerPush } from '../../../src/adapters/docker/tools-images.js';
import { testConfig } from '../../helpers/config.js';
import { operationOutcome } from '../../../src/tools/operations.js';
import { startFakeDockerEngine, type FakeDockerEngine } from '../../fakes/docker-engine.js';
import { failure, runTool, toolContext } from '../../helpers/context.js';

const AUTH = { username: 'ci-bot', password: 'registry-pass', serveraddress: 'ghcr.io' };
let engine: FakeDockerEngine;
let tmp: string;
let ctx: ReturnType<typeof toolContext>;

async function write(rel: string, content: string): Promise<void> {
  const file = path.join(tmp, rel);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, content);
}

const LONG_DIR = `deep/${'nested-directory-name/'.repeat(6)}`;

beforeAll(async () => {
  engine = await startFakeDockerEngine();
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'docker-build-test-'));
  await write('root/app/Dockerfile', 'FROM alpine:3.20\nCOPY . /app\nRUN echo ok\n');
  await write('root/app/src/index.js', 'console.log("héllo");\n');
  await write('root/app/.dockerignore', 'node_modules\n*.log\n');
  await write('root/app/node_modules/dep/index.js', 'ignored');
  await write('root/app/debug.log', 'ignored');
  await write(`root/app/${LONG_DIR}file.txt`, 'long path');
  await fs.symlink('src/index.js', path.join(tmp, 'root/app/entry.js'));
  await write('root/broken/Dockerfile', 'FROM alpine:3.20\nRUN exit 2\nRUN echo never\n');
  await write('root/escape/Dockerfile', 'FROM alpine:3.20\n');
  await fs.symlink('/etc/hostname', path.join(tmp, 'root/escape/hostname'));
  await write('root/empty/README', 'no dockerfile here');
  await write('outside/Dockerfile', 'FROM alpine:3.20\n');
  await fs.symlink(path.join(tmp, 'outside'), path.join(tmp, 'root/sneaky'));
  ctx = toolContext(
    testConfig({ DOCKER_HOST: engine.url, DOCKER_BUILD_ROOT: path.join(tmp, 'root'), DOCKER_REGISTRY_AUTH: JSON.stringify(AUTH) }),
  );
});
afterAll(async () => {
  await engine.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('docker_pull', () => {
  it('pulls with registry auth, condenses progress and returns the digest', async () => {
    const res = await runTool(dockerPull, { image: 'ghcr.io/org/base' }, ctx);
    expect(engine.state.pulls.at(-1)).toEqual({ fromImage: 'ghcr.io/org/base', tag: 'latest', auth: AUTH, platform: undefined });
    expect(engine.requests.at(-2)!.url).toBe('/images/create?fromImage=ghcr.io%2Forg%2Fbase&tag=latest');
    expect(res).toMatchObject({ status: 'pulled', image: 'ghcr.io/org/base:latest', image_id: expect.stringMatching(/^sha256:/) });
    expect(res.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    const lines = res.last_lines as string[];
    expect(lines).toContain('Status: Downloaded newer image for ghcr.io/org/base:latest');
    expect(lines.some((l) => l.includes('Downloading'))).toBe(false);
  });

  it('reports each meaningful progress line when the caller asked for progress', async () => {
    const updates: { progress: number; message?: string }[] = [];
    await runTool(dockerPull, { image: 'ghcr.io/org/base' }, { ...ctx, progress: (p) => updates.push(p) });
    expect(updates.length).toBeGreaterThan(1);
    expect(updates.map((u) => u.message)).toContain('Status: Downloaded newer image for ghcr.io/org/base:latest');
    expect(updates.some((u) => u.message?.includes('Downloading'))).toBe(false);
    // Counts only grow.
    expect(updates.every((u, i) => i === 0 || u.progress > updates[i - 1]!.progress)).toBe(true);
  });

  it('turns an error inside the 200 stream into upstream_error', async () => {
    engine.state.pullStreamError = 'failed to register layer: no space left on device';
    try {
      const err = await failure(runTool(dockerPull, { image: 'nginx:1.27' }, ctx));
      expect(err.code).toBe('upstream_error');
      expect(err.message).toContain('no space left on device');
      expect(err.details.last_lines).toEqual(expect.arrayContaining(['ERROR: failed to register layer: no space left on device']));
    } finally {
      engine.state.pullStreamError = undefined;
    }
  });

  it('reports a repository the registry refuses as not_found with the Engine message', async () => {
    const err = await failure(runTool(dockerPull, { image: 'org/does-not-exist:1' }, ctx));
    expect(err.code).toBe('not_found');
    expect(err.details.upstream_message).toContain('pull access denied');
  });
});

describe('docker_build', () => {
  it('tars the context in-process (honouring .dockerignore, symlinks kept inside) and returns the image id', async () => {
    const res = await runTool(
      dockerBuild,
      { context: 'app', tags: ['ghcr.io/org/app:v1', 'ghcr.io/org/app:latest'], build_args: { NODE_ENV: 'production' }, labels: { team: 'hub' } },
      ctx,
    );
    const build = engine.state.builds.at(-1)!;
    expect(build.query.t).toEqual(['ghcr.io/org/app:v1', 'ghcr.io/org/app:latest']);
    expect(JSON.parse(build.query.buildargs as string)).toEqual({ NODE_ENV: 'production' });
    expect(JSON.parse(build.query.labels as string)).toEqual({ team: 'hub' });
    expect(build.registryConfig).toEqual({ 'ghcr.io': AUTH });
    expect(Object.keys(build.query).sort()).toEqual(['buildargs', 'forcerm', 'labels', 'nocache', 'pull', 'rm', 't']);
    expect(build.files['Dockerfile']).toContain('FROM alpine:3.20');
    expect(build.files['src/index.js']).toBe('console.log("héllo");\n');
    expect(build.files[`${LONG_DIR}file.txt`]).toBe('long path');
    expect(build.links['entry.js']).toBe('src/index.js');
    expect(Object.keys(build.types).some((n) => n.startsWith('node_modules') || n.endsWith('.log'))).toBe(false);

    expect(res).toMatchObject({ status: 'built', tags: ['ghcr.io/org/app:v1', 'ghcr.io/org/app:latest'] });
    expect(res.image_id).toMatch(/^sha256:/);
    expect(res.last_lines).toEqual(expect.arrayContaining(['Successfully tagged ghcr.io/org/app:v1']));
  });

  it('never reports a failed build as success', async () => {
    const err = await failure(runTool(dockerBuild, { context: 'broken', tags: ['broken:1'] }, ctx));
    expect(err.code).toBe('upstream_error');
    expect(err.message).toContain("returned a non-zero code: 2");
    expect(err.details.last_lines).toEqual(expect.arrayContaining(['Step 2/3 : RUN exit 2']));
    expect([...engine.state.images.values()].some((i) => i.RepoTags.includes('broken:1'))).toBe(false);
  });

  it('surfaces an Engine HTTP error (missing Dockerfile) as upstream_error', async () => {
    const err = await failure(runTool(dockerBuild, { context: 'empty' }, ctx));
    expect(err.code).toBe('upstream_error');
    expect(err.details).toMatchObject({ upstream_status: 500, upstream_message: 'Cannot locate specified Dockerfile: Dockerfile' });
  });

  it.each([
    ['../outside', 'outside DOCKER_BUILD_ROOT'],
    ['/etc', 'outside DOCKER_BUILD_ROOT'],
    ['sneaky', 'resolves (through a symlink) outside'],
    ['escape', 'points outside the context'],
    ['missing', 'does not exist'],
  ])('refuses context %s with invalid_arguments before contacting the daemon', async (context, message) => {
    const before = engine.requests.length;
    const err = await failure(runTool(dockerBuild, { context }, ctx));
    expect(err.code).toBe('invalid_arguments');
    expect(err.message).toContain(message);
    expect(engine.requests.length).toBe(before);
  });

  it('validates arguments: exactly one of context or remote, relative dockerfile', () => {
    expect(() => dockerBuild.input.parse({})).toThrow();
    expect(() => dockerBuild.input.parse({ context: 'app', remote: 'https://github.com/org/app.git' })).toThrow();
    expect(() => dockerBuild.input.parse({ context: 'app', dockerfile: '../Dockerfile' })).toThrow();
    expect(() => dockerBuild.input.parse({ remote: 'file:///etc' })).toThrow();
  });

  it('builds from a Git URL with remote and an empty body', async () => {
    // A public address literal: the remote check resolves host names, and this machine has no DNS.
    const res = await runTool(dockerBuild, { remote: 'https://140.82.121.3/org/app.git#main', tags: ['remote-app:1'] }, ctx);
    const build = engine.state.builds.at(-1)!;
    expect(build.query.remote).toBe('https://140.82.121.3/org/app.git#main');
    expect(Object.keys(build.files)).toEqual([]);
    expect(res).toMatchObject({ status: 'built', source: { remote: 'https://140.82.121.3/org/app.git#main' } });
  });

  it('answers status running past the deadline and stores the outcome for a follow-up', async () => {
    let release!: () => void;
    engine.state.buildGate = new Promise<void>((r) => (release = r));
    const outcome = () => operationOutcome(ctx.services.operations, 'docker_build', op, ctx.principal);
    let op = '';
    try {
      const shortCtx = toolContext(ctx.config, { deadline: Date.now(), services: ctx.services });
      const first = await runTool(dockerBuild, { context: 'app', tags: ['slow:1'] }, shortCtx);
      expect(first).toMatchObject({ status: 'running', operation: expect.stringMatching(/^docker_build-/) });
      op = first.operation as string;
      expect(await outcome()).toMatchObject({ status: 'running', operation: op });
      release();
      let result = await outcome();
      for (let i = 0; i < 200 && result.status === 'running'; i++) {
        await new Promise((r) => setTimeout(r, 25));
        result = await outcome();
      }
      expect(result).toMatchObject({ status: 'built', tags: ['slow:1'] });
      // Another tool or another principal does not see it.
      expect((await failure(operationOutcome(ctx.services.operations, 'docker_push', op, ctx.principal))).code).toBe('not_found');
      expect((await failure(operationOutcome(ctx.services.operations, 'docker_build', op, 'key:other'))).code).toBe('not_found');
    } finally {
      engine.state.buildGate = undefined;
    }
  });

  it('answers not_found for an unknown operation id', async () => {
    const err = await failure(operationOutcome(ctx.services.operations, 'docker_build', 'docker_build-00000000-0000-0000-0000-000000000000', ctx.principal));
    expect(err.code).toBe('not_found');
  });
});

describe('docker_push', () => {
  it('pushes the tag with X-Registry-Auth and returns the digest', async () => {
    engine.addImage('ghcr.io/org/app:v2');
    const res = await runTool(dockerPush, { image: 'ghcr.io/org/app:v2' }, ctx);
    expect(engine.state.pushes.at(-1)).toEqual({ name: 'ghcr.io/org/app', tag: 'v2', auth: AUTH });
    expect(engine.requests.at(-1)!.url).toBe('/images/ghcr.io/org/app/push?tag=v2');
    expect(res).toMatchObject({ status: 'pushed', image: 'ghcr.io/org/app:v2', digest: expect.stringMatching(/^sha256:/) });
  });

  it('sends anonymous auth when DOCKER_REGISTRY_AUTH is unset', async () => {
    engine.addImage('localhost:5000/app:1');
    const anon = toolContext(testConfig({ DOCKER_HOST: engine.url }));
    await runTool(dockerPush, { image: 'localhost:5000/app:1' }, anon);
    expect(engine.state.pushes.at(-1)).toEqual({ name: 'localhost:5000/app', tag: '1', auth: {} });
  });

  it('turns a registry refusal inside the stream into upstream_error', async () => {
    engine.state.pushError = 'denied: requested access to the resource is denied';
    try {
      const err = await failure(runTool(dockerPush, { image: 'ghcr.io/org/app:v2' }, ctx));
      expect(err.code).toBe('upstream_error');
      expect(err.details.upstream_message).toBe('denied: requested access to the resource is denied');
    } finally {
      engine.state.pushError = undefined;
    }
  });

  it('answers not_found for an image that is not local', async () => {
    const err = await failure(runTool(dockerPush, { image: 'ghcr.io/org/nothing:1' }, ctx));
    expect(err.code).toBe('not_found');
    expect(err.details.upstream_message).toContain('An image does not exist locally');
  });
});
