import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDIS_URL, useRedisAdmin, warnIfNoRedis } from '../helpers/redis.js';
import { startFakeDockerEngine, type FakeDockerEngine } from '../fakes/docker-engine.js';
import { AUTH, TEST_KEY, testHub, type TestHub } from '../helpers/app.js';

warnIfNoRedis('the two-instance long-operation tests (the single-instance ones still run)');

const OTHER_KEY = 'other-key-0123456789abcdef';
const OTHER = { authorization: `Bearer ${OTHER_KEY}` };

let engine: FakeDockerEngine;
let buildRoot: string;
beforeAll(async () => {
  engine = await startFakeDockerEngine();
  buildRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'omni-hub-ops-'));
  await fs.mkdir(path.join(buildRoot, 'app'));
  await fs.writeFile(path.join(buildRoot, 'app/Dockerfile'), 'FROM alpine:3.20\nRUN echo ok\n');
});
afterAll(async () => {
  await engine?.close();
  await fs.rm(buildRoot, { recursive: true, force: true });
});

async function hubs(redis: boolean): Promise<[TestHub, TestHub]> {
  const env = {
    MCP_API_KEY: `${TEST_KEY},${OTHER_KEY}`,
    DOCKER_HOST: engine.url,
    DOCKER_BUILD_ROOT: buildRoot,
    // The call waits ~0.5 s (TOOL_WAIT_MS minus a 1 s margin) before answering "running".
    TOOL_WAIT_MS: '1500',
    GOVERNANCE_OVERRIDES: '{"docker_build":{"limit":1000}}',
    ...(redis ? { REDIS_URL: REDIS_URL! } : {}),
  };
  const a = await testHub(env);
  // Without Redis an operation lives in one process: both roles are played by the same instance.
  return [a, redis ? await testHub(env) : a];
}

const build = (hub: TestHub, args: Record<string, unknown>, headers: Record<string, string> = AUTH) =>
  hub.app.inject({ method: 'POST', url: '/v1/tools/docker_build', headers: { ...headers, 'content-type': 'application/json' }, payload: args });

async function buildUsage(hub: TestHub): Promise<number> {
  const res = await hub.app.inject({ method: 'GET', url: '/v1/governance', headers: AUTH });
  return res.json().tools.find((t: { name: string }) => t.name === 'docker_build').used;
}

describe.each([
  { backend: 'memory, one instance', redis: false },
  { backend: 'Redis, two instances', redis: true },
])('long operations ($backend)', ({ redis }) => {
  if (redis) useRedisAdmin('omni:op:');
  let a: TestHub;
  let b: TestHub;
  beforeAll(async () => {
    if (redis && !REDIS_URL) return;
    [a, b] = await hubs(redis);
  });
  afterAll(async () => {
    await a?.close();
    if (b !== a) await b?.close();
  });

  it.skipIf(redis && !REDIS_URL)('an operation started on A is answered on B; polls start no work and use no quota, each audited once', async () => {
    let release!: () => void;
    engine.state.buildGate = new Promise<void>((r) => (release = r));
    const tag = `multi-${randomBytes(4).toString('hex')}:1`;
    const before = await buildUsage(b);
    const buildsBefore = engine.state.builds.length;
    let op: string;
    let polls = 1;
    try {
      const first = await build(a, { context: 'app', tags: [tag] });
      expect(first.statusCode).toBe(200);
      expect(first.json()).toMatchObject({ status: 'running', operation: expect.stringMatching(/^docker_build-/) });
      op = first.json().operation;
      expect(await buildUsage(b)).toBe(before + 1);

      const running = await build(b, { operation: op });
      expect(running.statusCode).toBe(200);
      expect(running.json()).toMatchObject({ status: 'running', operation: op });
      // The state carries the latest progress lines the running instance saw (the fake streams step 1, then waits);
      // they are written at most every 2 s, so wait for them (bounded).
      let lines: string[] = running.json().last_lines;
      for (let i = 0; i < 100 && !lines.length; i++) {
        await new Promise((r) => setTimeout(r, 50));
        lines = (await build(b, { operation: op })).json().last_lines;
        polls++;
      }
      expect(lines).toContain('Step 1/2 : FROM alpine:3.20');
    } finally {
      release();
      engine.state.buildGate = undefined;
    }
    let outcome = (await build(b, { operation: op })).json();
    polls++;
    for (let i = 0; i < 200 && outcome.status === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 25));
      outcome = (await build(b, { operation: op })).json();
      polls++;
    }
    expect(outcome).toMatchObject({ status: 'built', tags: [tag], image_id: expect.stringMatching(/^sha256:/) });
    // The build ran once; every poll after it was free.
    expect(engine.state.builds.length).toBe(buildsBefore + 1);
    expect(await buildUsage(b)).toBe(before + 1);

    await a.deps.audit.flush();
    await b.deps.audit.flush();
    const audit = await b.app.inject({ method: 'GET', url: '/v1/audit?tool=docker_build&limit=1000', headers: AUTH });
    const records = audit.json().records as { args: { operation?: string; tags?: string[] }; outcome: string; quota?: unknown }[];
    const pollRecords = records.filter((r) => r.args.operation === op);
    expect(pollRecords).toHaveLength(polls);
    expect(pollRecords.every((r) => r.outcome === 'ok' && r.quota === undefined)).toBe(true);
    expect(records.filter((r) => r.args.tags?.includes(tag))).toHaveLength(1);

    // Bound to the principal that started it: another key does not see it.
    const other = await build(b, { operation: op }, OTHER);
    expect(other.statusCode).toBe(404);
    expect(other.json().error.code).toBe('not_found');
  });

  it.skipIf(redis && !REDIS_URL)('an unknown operation id is a clear not_found that uses no quota', async () => {
    const before = await buildUsage(b);
    const res = await build(b, { operation: 'docker_build-00000000-0000-0000-0000-000000000000' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({ code: 'not_found', message: expect.stringMatching(/no docker_build operation docker_build-0000/) });
    expect(await buildUsage(b)).toBe(before);
  });
});
