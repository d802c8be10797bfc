import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, SdkError, SdkErrorCode, StreamableHTTPClientTransport, type FetchLike } from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { AUTH, testHub, type TestHub } from '../helpers/app.js';
import { announceSkip, BUSYBOX, busyboxSkipReason, realEngine } from '../helpers/docker-real.js';

/**
 * Issue 31's "done when" for Tasks, against the real Docker Engine (DOCKER_TEST_HOST): two hub instances share one
 * Redis; the official v2 client (2026-07-28, declaring io.modelcontextprotocol/tasks) starts a docker_build that runs
 * a step for minutes, reads its progress through `tasks/get` on the other instance, cancels it there, and the engine
 * really stops the build. A 2025 client (the v1 SDK, no Tasks) gets `status: running` and follows the operation up on
 * the other instance until the image is built. Each build uses the quota once and is audited once, with its outcome.
 */

type Json = Record<string, unknown>;

const REDIS_URL = process.env.REDIS_URL;
const real = await realEngine();
const skip = real.skipReason ?? busyboxSkipReason() ?? (REDIS_URL ? undefined : 'REDIS_URL is unset (two hub instances share their tasks through Redis)');
announceSkip('MCP Tasks for a Docker build against the real engine', skip);

const TASKS = 'io.modelcontextprotocol/tasks';
/** What `tasks/get` answers (the extension's DetailedTask; the SDK ships no schema for it). */
const DetailedTask = z.looseObject({
  taskId: z.string(),
  status: z.enum(['working', 'input_required', 'completed', 'failed', 'cancelled']),
  statusMessage: z.string().optional(),
  result: z.looseObject({}).optional(),
});
const Ack = z.looseObject({});

/** The JSON-RPC results in a response body, whether it came as JSON or as an SSE stream. */
function rpcResults(body: string): Json[] {
  const texts = body.trimStart().startsWith('{') ? [body] : body.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5));
  return texts.flatMap((t) => {
    try {
      const message = JSON.parse(t) as { result?: Json };
      return message.result ? [message.result] : [];
    } catch {
      return [];
    }
  });
}

describe.skipIf(skip)(`MCP Tasks for a Docker build on the real engine${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const run = randomBytes(4).toString('hex');
  const marker = `omni-task-${run}`;
  let tmp: string;
  let docker: Docker;
  let a: TestHub;
  let b: TestHub;
  let urlA: URL;
  let urlB: URL;

  async function listen(hub: TestHub): Promise<URL> {
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    return new URL(`http://127.0.0.1:${(hub.app.server.address() as { port: number }).port}/mcp`);
  }

  /** The official v2 client on 2026-07-28 with the Tasks extension declared; `seen` gets every result it receives raw. */
  async function modernClient(url: URL, seen: Json[] = []): Promise<Client> {
    // Client.callTool refuses a CreateTaskResult (the SDK has no Tasks runtime yet: typescript-sdk#2637), so the task
    // handle is read from the response the client's own transport received.
    const observe: FetchLike = async (input, init) => {
      const res = await fetch(input, init);
      if (res.ok && res.body) void res.clone().text().then((body) => seen.push(...rpcResults(body)), () => undefined);
      return res;
    };
    const c = new Client({ name: 'tasks-docker', version: '1' }, { capabilities: { extensions: { [TASKS]: {} } }, versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await c.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: AUTH }, fetch: observe }));
    return c;
  }

  async function used(hub: TestHub): Promise<number> {
    const gov = (await hub.app.inject({ method: 'GET', url: '/v1/governance', headers: AUTH })).json() as { tools: { name: string; used: number | null }[] };
    return gov.tools.find((t) => t.name === 'docker_build')!.used ?? 0;
  }

  async function audits(hub: TestHub, tag: string) {
    await hub.deps.audit.flush();
    return (await hub.deps.audit.list({ limit: 200, tool: 'docker_build' })).records.filter((r) => JSON.stringify(r).includes(tag));
  }

  /** Containers of this run's build steps (the RUN step's command carries the marker): running ones, or all. */
  async function buildSteps(all = false): Promise<Docker.ContainerInfo[]> {
    return (await docker.listContainers({ all })).filter((c) => c.Command.includes(marker));
  }

  beforeAll(async () => {
    docker = real.docker!;
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tasks-docker-'));
    await fs.mkdir(path.join(tmp, 'root', 'slow'), { recursive: true });
    await fs.copyFile(BUSYBOX, path.join(tmp, 'root', 'slow', 'busybox'));
    await fs.chmod(path.join(tmp, 'root', 'slow', 'busybox'), 0o755);
    // One step that reports a line, then works for PAUSE seconds: long enough to be cancelled, or followed up.
    await fs.writeFile(
      path.join(tmp, 'root', 'slow', 'Dockerfile'),
      ['FROM scratch', 'COPY busybox /bin/busybox', 'ARG PAUSE=600', `RUN ["/bin/busybox", "sh", "-c", "echo ${marker} started; /bin/busybox sleep $PAUSE; echo ${marker} done"]`, ''].join('\n'),
    );
    const env = { REDIS_URL: REDIS_URL!, DOCKER_HOST: real.host!, DOCKER_BUILD_ROOT: path.join(tmp, 'root'), TOOL_WAIT_MS: '1500' };
    [a, b] = await Promise.all([testHub(env), testHub(env)]);
    [urlA, urlB] = await Promise.all([listen(a), listen(b)]);
  }, 60_000);

  afterAll(async () => {
    for (const c of await buildSteps(true).catch(() => [])) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    for (const tag of [`${marker}:task`, `${marker}:legacy`]) await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
    await a?.close();
    await b?.close();
    await fs.rm(tmp, { recursive: true, force: true });
  }, 60_000);

  it('the v2 client gets a task, reads its progress on the other instance, cancels it there, and the engine stops the build', async () => {
    const tag = `${marker}:task`;
    const seen: Json[] = [];
    const onA = await modernClient(urlA, seen);
    const onB = await modernClient(urlB);
    try {
      const quota = await used(a);
      const call = onA.callTool({ name: 'docker_build', arguments: { context: 'slow', tags: [tag], no_cache: true } });
      await expect(call).rejects.toSatisfy((e) => e instanceof SdkError && e.code === SdkErrorCode.UnsupportedResultType);
      const created = await vi.waitFor(() => {
        const task = seen.find((r) => r.resultType === 'task');
        expect(task).toBeDefined();
        return task!;
      });
      expect(created).toMatchObject({ status: 'working', taskId: expect.stringMatching(/^docker_build-/) });
      const taskId = created.taskId as string;
      const get = (c: Client) => c.request({ method: 'tasks/get', params: { taskId } }, DetailedTask);

      // Progress: the build's own lines, as the engine streams them, reach tasks/get on the instance not running it.
      const working = await vi.waitFor(
        async () => {
          const task = await get(onB);
          expect(task.status).toBe('working');
          expect(task.statusMessage).toBe(`${marker} started`);
          return task;
        },
        { timeout: 60_000, interval: 250 },
      );
      expect(working.taskId).toBe(taskId);
      expect(await buildSteps()).toHaveLength(1);

      // The extension's empty acknowledgement (the SDK adds only its serverInfo _meta).
      const ack = await onB.request({ method: 'tasks/cancel', params: { taskId } }, Ack);
      expect(Object.keys(ack).filter((k) => k !== '_meta')).toEqual([]);
      expect((await get(onA)).status).toBe('cancelled');
      // The instance running the build sees the cancellation, hangs up on the engine, and the engine stops the step
      // and removes its container.
      await vi.waitFor(async () => expect(await buildSteps(true)).toEqual([]), { timeout: 60_000, interval: 250 });
      await expect(docker.getImage(tag).inspect()).rejects.toMatchObject({ statusCode: 404 });
      // Audited once at its end, with the outcome; the quota was used once, when the task was created.
      const records = await vi.waitFor(
        async () => {
          const r = await audits(a, tag);
          expect(r).toHaveLength(1);
          return r;
        },
        { timeout: 20_000, interval: 200 },
      );
      expect(records[0]).toMatchObject({ outcome: 'error', error: { code: 'cancelled' } });
      expect((await get(onB)).status).toBe('cancelled');
      expect(await used(b)).toBe(quota + 1);
    } finally {
      await onA.close();
      await onB.close();
    }
  }, 180_000);

  it('a 2025 client without Tasks gets status running and follows the operation up on the other instance', async () => {
    const tag = `${marker}:legacy`;
    const connect = async (url: URL) => {
      const c = new LegacyClient({ name: 'tasks-docker-legacy', version: '1' });
      await c.connect(new LegacyTransport(url, { requestInit: { headers: AUTH } }));
      return c;
    };
    const onA = await connect(urlA);
    const onB = await connect(urlB);
    try {
      const quota = await used(a);
      const first = (await onA.callTool({ name: 'docker_build', arguments: { context: 'slow', tags: [tag], no_cache: true, build_args: { PAUSE: '3' } } })) as { structuredContent?: Json; isError?: boolean };
      expect(first.isError).toBeFalsy();
      expect(first).not.toHaveProperty('taskId');
      expect(first.structuredContent).toMatchObject({ status: 'running', operation: expect.stringMatching(/^docker_build-/) });
      const operation = first.structuredContent!.operation as string;
      const built = await vi.waitFor(
        async () => {
          const next = (await onB.callTool({ name: 'docker_build', arguments: { operation } })) as { structuredContent?: Json };
          expect(next.structuredContent).toMatchObject({ status: 'built' });
          return next.structuredContent!;
        },
        { timeout: 120_000, interval: 500 },
      );
      expect(built.last_lines).toEqual(expect.arrayContaining([`${marker} started`, `${marker} done`]));
      expect((await docker.getImage(tag).inspect()).Id).toBe(built.image_id);
      // The follow-ups started nothing: one build, one quota use, one audit record (ok).
      expect(await used(b)).toBe(quota + 1);
      await vi.waitFor(async () => expect((await audits(a, tag)).map((r) => r.outcome)).toEqual(['ok']), { timeout: 20_000, interval: 200 });
    } finally {
      await onA.close();
      await onB.close();
    }
  }, 180_000);
});
