import { execFileSync, spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packBuildContext, resolveBuildContext } from '../../../src/adapters/docker/build-context.js';
import { dockerBuild } from '../../../src/adapters/docker/tools-images.js';
import { testConfig } from '../../helpers/config.js';
import { HubError } from '../../../src/tools/errors.js';
import { startFakeDockerEngine, type FakeDockerEngine } from '../../fakes/docker-engine.js';
import { failure, runTool, toolContext } from '../../helpers/context.js';

/** Issue 14 item 9 (build context race, hard links), item 10 (FIFO .dockerignore) and the "..foo" context name. */

const SECRET = 'SECRET-FROM-OUTSIDE-THE-BUILD-ROOT';
let engine: FakeDockerEngine;
let tmp: string;
let root: string;
let config: ReturnType<typeof testConfig>;
/** A fresh call context per call: its deadline and signal start when the call does. */
const ctx = () => toolContext(config);

async function write(rel: string, content: string): Promise<void> {
  const file = path.join(tmp, rel);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, content);
}

/** Reads a pack stream to its end; returns what was produced and how it ended. */
async function drain(stream: NodeJS.ReadableStream): Promise<{ bytes: Buffer; error?: unknown }> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of stream) chunks.push(c as Buffer);
    return { bytes: Buffer.concat(chunks) };
  } catch (error) {
    return { bytes: Buffer.concat(chunks), error };
  }
}

/** A reader blocked on a FIFO (only the unfixed code opens one) is released by a writer that opens and closes it. */
async function releaseFifo(fifo: string): Promise<void> {
  try {
    const h = await fs.open(fifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
    await h.close();
  } catch {
    // ENXIO: nobody is reading it, nothing to release.
  }
}

beforeAll(async () => {
  engine = await startFakeDockerEngine();
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'build-context-test-'));
  root = path.join(tmp, 'root');
  await write('outside/file.txt', SECRET);
  await write('outside/secret.txt', SECRET);
  await write('root/..foo/Dockerfile', 'FROM alpine:3.20\n');
  await write('root/..foo/..bar/x.txt', 'dots');
  await write('root/hardlink/Dockerfile', 'FROM alpine:3.20\n');
  await fs.link(path.join(tmp, 'outside/secret.txt'), path.join(root, 'hardlink/secret.txt'));
  await write('root/fifo/Dockerfile', 'FROM alpine:3.20\n');
  execFileSync('mkfifo', [path.join(root, 'fifo/.dockerignore')]);
  config = testConfig({ DOCKER_HOST: engine.url, DOCKER_BUILD_ROOT: root });
});
afterAll(async () => {
  await releaseFifo(path.join(root, 'fifo/.dockerignore'));
  await engine.close();
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('context names', () => {
  it('accepts a directory named "..foo" (inside the root; only a ".." segment leaves it)', async () => {
    const res = await runTool(dockerBuild, { context: '..foo', tags: ['dots:1'] }, ctx());
    expect(res).toMatchObject({ status: 'built' });
    expect(engine.state.builds.at(-1)!.files['..bar/x.txt']).toBe('dots');
  });

  it('still refuses a real ".." segment', async () => {
    for (const context of ['..', '../outside', '..foo/../../outside']) {
      const err = await failure(runTool(dockerBuild, { context }, ctx()));
      expect(err.code, context).toBe('invalid_arguments');
      expect(err.message).toContain('outside DOCKER_BUILD_ROOT');
    }
  });
});

describe('hard links', () => {
  it('refuses a file with more than one link before contacting the Engine', async () => {
    const before = engine.requests.length;
    const err = await failure(runTool(dockerBuild, { context: 'hardlink' }, ctx()));
    expect(err.code).toBe('invalid_arguments');
    expect(err.message).toContain('secret.txt in the build context has 2 hard links');
    expect(engine.requests.length).toBe(before);
  });
});

describe('a FIFO named .dockerignore (item 10)', () => {
  it('is refused at once with a clear error instead of blocking a file-system thread', async () => {
    const shortCtx = toolContext(config, { signal: AbortSignal.timeout(10_000), deadline: Date.now() + 10_000 });
    const before = engine.requests.length;
    const err = await failure(runTool(dockerBuild, { context: 'fifo' }, shortCtx));
    expect(err.code).toBe('invalid_arguments');
    expect(err.message).toContain('.dockerignore in the build context is not a regular file');
    expect(engine.requests.length).toBe(before);
  }, 15_000);

  it('resolves the context under the call signal', async () => {
    const err = await failure(resolveBuildContext(root, '..foo', AbortSignal.abort()));
    expect(err.code).toBe('timeout');
  });
});

describe('changes between the check and the upload (item 9)', () => {
  async function swapContext(name: string): Promise<string> {
    const dir = path.join(root, name);
    await write(`root/${name}/Dockerfile`, 'FROM alpine:3.20\nCOPY . /app\n');
    await write(`root/${name}/sub/file.txt`, 'inside');
    return dir;
  }

  it('does not send an outside file when a checked subdirectory is swapped for a symlink', async () => {
    const dir = await swapContext('swap-dir');
    const checked = await resolveBuildContext(root, 'swap-dir');
    await fs.rename(path.join(dir, 'sub'), path.join(dir, 'sub.orig'));
    await fs.symlink(path.join(tmp, 'outside'), path.join(dir, 'sub'));
    const { bytes, error } = await drain(packBuildContext(checked));
    expect(bytes.toString('latin1')).not.toContain(SECRET);
    expect(error).toBeInstanceOf(HubError);
    expect((error as HubError).message).toMatch(/sub in the build context was replaced by a symlink/);
  });

  it('does not send an outside file when a checked file is swapped for a symlink or a hard link', async () => {
    const dir = await swapContext('swap-file');
    const target = path.join(dir, 'sub/file.txt');
    for (const swap of [
      () => fs.symlink(path.join(tmp, 'outside/file.txt'), target),
      () => fs.link(path.join(tmp, 'outside/file.txt'), target),
    ]) {
      await fs.writeFile(target, 'inside');
      const checked = await resolveBuildContext(root, 'swap-file');
      await fs.rm(target);
      await swap();
      const { bytes, error } = await drain(packBuildContext(checked));
      expect(bytes.toString('latin1')).not.toContain(SECRET);
      expect((error as HubError).message).toMatch(/sub\/file\.txt in the build context (was replaced by a symlink|changed after it was checked)/);
      await fs.rm(target);
    }
  });

  it('fails without blocking when a checked file is swapped for a FIFO', async () => {
    const dir = await swapContext('swap-fifo');
    const checked = await resolveBuildContext(root, 'swap-fifo');
    const target = path.join(dir, 'sub/file.txt');
    await fs.rm(target);
    execFileSync('mkfifo', [target]);
    try {
      const { error } = await drain(packBuildContext(checked));
      expect((error as HubError).message).toContain('sub/file.txt in the build context changed after it was checked (it is no longer a regular file)');
    } finally {
      await releaseFifo(target);
    }
  }, 15_000);

  it('never sends an outside file while another process keeps swapping a subdirectory for a symlink', async () => {
    const dir = await swapContext('race');
    await Promise.all(Array.from({ length: 40 }, (_, i) => write(`root/race/sub/f${i}.txt`, `inside ${i}`)));
    await write('outside/f0.txt', SECRET);
    // Bounded: the swapper stops by itself after 20,000 swaps; the test stops it earlier by its pid.
    const swapper = spawn(
      'sh',
      ['-c', `cd "${dir}" && i=0; while [ $i -lt 20000 ]; do mv sub sub.real; ln -s "${path.join(tmp, 'outside')}" sub; rm sub; mv sub.real sub; i=$((i+1)); done`],
      // Its own process group, so the test stops the loop and the mv/ln it is running at that moment alike.
      { stdio: 'ignore', detached: true },
    );
    const exited = new Promise((resolve) => swapper.once('exit', resolve));
    const outcomes: string[] = [];
    try {
      for (let i = 0; i < 30; i++) {
        const before = engine.state.builds.length;
        try {
          await runTool(dockerBuild, { context: 'race', tags: [`race:${i}`] }, ctx());
          outcomes.push('built');
        } catch (err) {
          expect(err, String(err)).toBeInstanceOf(HubError);
          outcomes.push((err as HubError).code);
        }
        for (const build of engine.state.builds.slice(before)) {
          expect(Object.values(build.files).join('\n')).not.toContain(SECRET);
        }
      }
    } finally {
      // Waited for: a rename still running when the test's cleanup removes the directory fails that cleanup.
      process.kill(-swapper.pid!, 'SIGKILL');
      await exited;
    }
    expect(outcomes.every((o) => o === 'built' || o === 'invalid_arguments'), outcomes.join(',')).toBe(true);
  }, 60_000);
});
