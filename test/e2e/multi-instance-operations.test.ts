import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDockerEngine, type FakeDockerEngine } from '../fakes/docker-engine.js';
import { REDIS_URL, warnIfNoRedis } from '../helpers/redis.js';
import { startHubProcess, type HubProcess } from '../helpers/spawn-hub.js';

warnIfNoRedis('the two-process long-operation test');

const KEY = 'multi-instance-key-0123456789';
const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };

/** Two built hub processes on one Redis, as two Cloud Run instances: a Docker build started on A is followed up on B. */
describe.skipIf(!REDIS_URL)('long operations across two hub processes', () => {
  let engine: FakeDockerEngine;
  let buildRoot: string;
  let a: HubProcess;
  let b: HubProcess;

  beforeAll(async () => {
    engine = await startFakeDockerEngine();
    buildRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'omni-hub-multi-'));
    await fs.mkdir(path.join(buildRoot, 'app'));
    await fs.writeFile(path.join(buildRoot, 'app/Dockerfile'), 'FROM alpine:3.20\nRUN echo ok\n');
    const env = {
      MCP_API_KEY: KEY,
      REDIS_URL: REDIS_URL!,
      DOCKER_HOST: engine.url,
      DOCKER_BUILD_ROOT: buildRoot,
      TOOL_WAIT_MS: '1500',
      GOVERNANCE_OVERRIDES: '{"docker_build":{"limit":1000}}',
      LOG_LEVEL: 'warn',
    };
    [a, b] = await Promise.all([startHubProcess(env), startHubProcess(env)]);
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await engine?.close();
    await fs.rm(buildRoot, { recursive: true, force: true });
  });

  const build = (hub: HubProcess, args: Record<string, unknown>) =>
    fetch(`${hub.url}/v1/tools/docker_build`, { method: 'POST', headers, body: JSON.stringify(args) });
  const used = async (hub: HubProcess): Promise<number> => {
    const res = await fetch(`${hub.url}/v1/governance`, { headers });
    return ((await res.json()) as { tools: { name: string; used: number }[] }).tools.find((t) => t.name === 'docker_build')!.used;
  };

  it('started on A, answered on B while running and after A has stopped; polls use no quota', { timeout: 60_000 }, async () => {
    let release!: () => void;
    engine.state.buildGate = new Promise<void>((r) => (release = r));
    const before = await used(b);
    let op: string;
    try {
      const first = await build(a, { context: 'app', tags: [`multi-${randomBytes(4).toString('hex')}:1`] });
      expect(first.status).toBe(200);
      const body = (await first.json()) as { status: string; operation: string };
      expect(body.status).toBe('running');
      op = body.operation;
      const running = await build(b, { operation: op });
      expect(await running.json()).toMatchObject({ status: 'running', operation: op });
    } finally {
      release();
      engine.state.buildGate = undefined;
    }
    let outcome: Record<string, unknown> = { status: 'running' };
    for (let i = 0; i < 200 && outcome.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      outcome = (await (await build(b, { operation: op })).json()) as Record<string, unknown>;
    }
    expect(outcome).toMatchObject({ status: 'built' });

    expect(await a.stop()).toBe(0);
    const after = await build(b, { operation: op });
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({ status: 'built', image_id: outcome.image_id });
    expect(await used(b)).toBe(before + 1);
  });
});
