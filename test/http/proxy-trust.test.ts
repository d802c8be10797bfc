import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { testConfig } from '../helpers/config.js';
import { createDeps } from '../../src/deps-factory.js';
import { FAILED_AUTH_PER_MINUTE } from '../../src/http/failed-auth.js';
import { AUTH, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { MAIN, ROOT } from '../helpers/spawn-hub.js';

/** The address Cloud Run's front end connects from (the socket peer the hub sees). */
const PROXY = '169.254.1.1';

function call(hub: TestHub, opts: { xff?: string; authorization?: string; remoteAddress?: string }) {
  return hub.app.inject({
    method: 'POST',
    url: '/v1/tools/fixture_echo',
    remoteAddress: opts.remoteAddress ?? PROXY,
    headers: {
      'content-type': 'application/json',
      ...(opts.xff ? { 'x-forwarded-for': opts.xff } : {}),
      ...(opts.authorization ? { authorization: opts.authorization } : {}),
    },
    payload: { message: 'hi' },
  });
}

interface IpHub extends TestHub {
  /** request.ip — the address both limiters key on — for a request from `remoteAddress` with this X-Forwarded-For. */
  ipOf(xff: string | undefined, remoteAddress?: string): Promise<string>;
}

/** A test hub plus one route that echoes request.ip (added before ready(), as Fastify requires). */
async function hubWith(env: Record<string, string>): Promise<IpHub> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'omni-hub-proxy-'));
  const config = testConfig({ DATA_DIR: dataDir, ...env });
  const deps = await createDeps(config, pino({ level: 'silent' }));
  const app = await buildApp(config, deps, { systems: [fixtureSystem] });
  app.get('/test/ip', { config: { access: 'key' } }, async (request) => ({ ip: request.ip }));
  await app.ready();
  return {
    app,
    config,
    deps,
    async ipOf(xff, remoteAddress = PROXY) {
      const res = await app.inject({ method: 'GET', url: '/test/ip', remoteAddress, headers: { ...AUTH, ...(xff ? { 'x-forwarded-for': xff } : {}) } });
      return res.json().ip;
    },
    async close() {
      await app.close();
      await deps.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describe('TRUST_PROXY=1 (Cloud Run: one proxy hop)', () => {
  let hub: IpHub;
  beforeAll(async () => {
    hub = await hubWith({ TRUST_PROXY: '1', RATE_LIMIT_PER_MINUTE: '100000' });
  });
  afterAll(async () => hub?.close());

  it('takes the right-most X-Forwarded-For entry as the client address, whatever the client wrote to its left', async () => {
    expect(await hub.ipOf('203.0.113.5')).toBe('203.0.113.5');
    expect(await hub.ipOf('1.2.3.4, 203.0.113.5')).toBe('203.0.113.5');
    expect(await hub.ipOf('9.9.9.9, 8.8.8.8, 203.0.113.5')).toBe('203.0.113.5');
    // No header: the peer itself.
    expect(await hub.ipOf(undefined)).toBe(PROXY);
  });

  it('forged left entries do not escape the failed-key limiter', async () => {
    const client = '203.0.113.10';
    for (let i = 0; i < FAILED_AUTH_PER_MINUTE; i++) {
      // Each attempt claims a new address on the left; the proxy appends the real one.
      const res = await call(hub, { xff: `10.0.${i}.1, ${client}`, authorization: `Bearer wrong-key-${i}-0123456789abcdef` });
      expect(res.statusCode).toBe(401);
    }
    const blocked = await call(hub, { xff: `10.99.0.1, ${client}`, authorization: AUTH.authorization });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().error.code).toBe('rate_limited');
  });

  it('another client behind the same proxy is not locked out by one client\'s failures', async () => {
    const res = await call(hub, { xff: '198.51.100.20', authorization: AUTH.authorization });
    expect(res.statusCode).toBe(200);
    expect(res.json().echo).toBe('HI');
  });
});

describe('the flood guard keys on the real client address', () => {
  let hub: IpHub;
  beforeAll(async () => {
    hub = await hubWith({ TRUST_PROXY: '1', RATE_LIMIT_PER_MINUTE: '5' });
  });
  afterAll(async () => hub?.close());

  it('limits one client whatever it forges, and not its neighbours behind the same proxy', async () => {
    const client = '203.0.113.30';
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await call(hub, { xff: `10.1.${i}.1, ${client}`, authorization: AUTH.authorization })).statusCode);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses[5]).toBe(429);
    expect((await call(hub, { xff: '198.51.100.31', authorization: AUTH.authorization })).statusCode).toBe(200);
  });
});

describe('TRUST_PROXY as a CIDR list', () => {
  let hub: IpHub;
  beforeAll(async () => {
    hub = await hubWith({ TRUST_PROXY: '169.254.0.0/16, 10.0.0.0/8', RATE_LIMIT_PER_MINUTE: '100000' });
  });
  afterAll(async () => hub?.close());

  it('skips trusted proxies from the right and stops at the first untrusted entry', async () => {
    expect(await hub.ipOf('1.2.3.4, 203.0.113.7, 10.0.0.9')).toBe('203.0.113.7');
    // A peer outside the list is the client itself: its X-Forwarded-For is ignored.
    expect(await hub.ipOf('1.2.3.4', '198.51.100.1')).toBe('198.51.100.1');
  });
});

describe('TRUST_PROXY=false', () => {
  let hub: IpHub;
  beforeAll(async () => {
    hub = await hubWith({ RATE_LIMIT_PER_MINUTE: '100000' });
  });
  afterAll(async () => hub?.close());

  it('ignores X-Forwarded-For', async () => {
    expect(await hub.ipOf('203.0.113.5')).toBe(PROXY);
  });
});

describe('start refusal', () => {
  it('TRUST_PROXY=true stops start with one line naming the fix', () => {
    const run = spawnSync(process.execPath, [MAIN], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', TRUST_PROXY: 'true', MCP_API_KEY: 'k'.repeat(20), HOST: '127.0.0.1', PORT: '0' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^omni-hub: invalid TRUST_PROXY: .*use TRUST_PROXY=1 behind Cloud Run/);
  });
});
