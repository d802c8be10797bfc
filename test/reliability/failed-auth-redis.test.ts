import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAILED_AUTH_PER_MINUTE, RedisFailedAuthLimiter } from '../../src/http/failed-auth.js';
import { freePort, REDIS_URL, sleep, testConnection, useRedisAdmin, warnIfNoRedis } from '../helpers/redis.js';
import { AUTH, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';

warnIfNoRedis('the shared failed-key limiter tests');

/** Cloud Run's front end as the socket peer; the client is the right-most X-Forwarded-For entry (TRUST_PROXY=1). */
const PROXY = '169.254.1.1';

describe.skipIf(!REDIS_URL)('failed-key counters shared through Redis', () => {
  useRedisAdmin('omni:authfail:');
  let a: TestHub;
  let b: TestHub;
  beforeAll(async () => {
    const env = { REDIS_URL: REDIS_URL!, TRUST_PROXY: '1', RATE_LIMIT_PER_MINUTE: '100000' };
    a = await testHub(env, { systems: [fixtureSystem] });
    b = await testHub(env, { systems: [fixtureSystem] });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  const call = (hub: TestHub, client: string, authorization: string) =>
    hub.app.inject({
      method: 'POST',
      url: '/v1/tools/fixture_echo',
      remoteAddress: PROXY,
      headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.9.9.9, ${client}`, authorization },
      payload: { message: 'hi' },
    });

  it('guesses spread over two instances add up to one limit, and only that client is refused', async () => {
    // A documentation-range IPv6 address unique to this run, so an earlier run's counter cannot interfere.
    const client = `2001:db8::${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}`;
    for (let i = 0; i < FAILED_AUTH_PER_MINUTE; i++) {
      const res = await call(i % 2 ? b : a, client, `Bearer wrong-key-${i}-0123456789abcdef`);
      expect(res.statusCode).toBe(401);
    }
    // Each instance trusts its last read of a counter for up to a second; after that both see the shared count.
    await sleep(1_100);
    for (const hub of [a, b]) {
      const res = await call(hub, client, AUTH.authorization);
      expect(res.statusCode).toBe(429);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
    // A neighbour behind the same proxy keeps working on both instances.
    for (const hub of [a, b]) expect((await call(hub, '2001:db8::feed', AUTH.authorization)).statusCode).toBe(200);
  });
});

describe('failed-key limiter while Redis is unreachable', () => {
  let limiter: RedisFailedAuthLimiter;
  beforeAll(async () => {
    // Nothing listens on this port: every Redis command fails at once (no offline queue).
    limiter = new RedisFailedAuthLimiter(testConnection(`redis://127.0.0.1:${await freePort()}`, { connectTimeoutMs: 200 }));
  });
  afterAll(async () => limiter?.close());

  it('falls back to this instance\'s own counters: still limited, nobody else locked out', async () => {
    const ip = '203.0.113.77';
    for (let i = 0; i < FAILED_AUTH_PER_MINUTE; i++) {
      expect(await limiter.blocked(ip)).toBe(0);
      await limiter.fail(ip);
    }
    expect(await limiter.blocked(ip)).toBeGreaterThan(0);
    expect(await limiter.blocked('203.0.113.78')).toBe(0);
  });
});
