import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyMatcher } from '../../src/http/auth.js';
import { AUTH, TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';

/** Bound of the failed-key limiter (src/http/failed-auth.ts): failed attempts per client address per minute before 429. */
const FAILURES_BEFORE_BLOCK = 30;

describe('auth brute force', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await testHub({ RATE_LIMIT_PER_MINUTE: '100000' }, { systems: [fixtureSystem] });
  });
  afterAll(async () => hub?.close());

  const call = (authorization: string | undefined, remoteAddress: string) =>
    hub.app.inject({
      method: 'POST',
      url: '/v1/tools/fixture_echo',
      remoteAddress,
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      payload: { message: 'hi' },
    });

  it('answers 401 to wrong keys, then 429 with Retry-After for that IP only, without running the tool', async () => {
    const ip = '198.51.100.7';
    for (let i = 0; i < FAILURES_BEFORE_BLOCK; i++) {
      const res = await call(`Bearer wrong-key-${i}-0123456789abcdef`, ip);
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.json().error.code).toBe('unauthorized');
    }
    const blocked = await call('Bearer another-wrong-key-0123456789', ip);
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(blocked.json().error.code).toBe('rate_limited');
    // Even the right key is refused from the blocked address for the rest of the minute: guessing cannot continue.
    expect((await call(AUTH.authorization, ip)).statusCode).toBe(429);
    // Another address is unaffected.
    const other = await call(AUTH.authorization, '198.51.100.8');
    expect(other.statusCode).toBe(200);
    expect(other.json().echo).toBe('HI');
    // No wrong-key attempt reached the pipeline: the only audited call is the one with the right key.
    await hub.deps.audit.flush();
    const audit = await hub.app.inject({ method: 'GET', url: '/v1/audit?limit=1000', headers: AUTH, remoteAddress: '198.51.100.9' });
    expect(audit.json().records).toHaveLength(1);
  });

  it('malformed Authorization headers are 401, never 5xx', async () => {
    const headers = ['Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', `bearer  ${TEST_KEY} extra`, 'Bearer \u00e9\u00e9\u00e9', `Bearer ${'x'.repeat(8000)}`];
    for (const [i, h] of headers.entries()) {
      const res = await call(h, `203.0.113.${i + 1}`);
      expect(res.statusCode).toBe(401);
    }
  });

  it('a wrong key never matches (property), the right key does', () => {
    const matcher = keyMatcher([TEST_KEY, 'second-key-for-rotation-0001']);
    expect(matcher.match(TEST_KEY)).toMatch(/^key:[0-9a-f]{8}$/);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.string({ minLength: TEST_KEY.length, maxLength: TEST_KEY.length }),
          // Near misses: the right key with one character changed, a prefix, or an extension.
          fc.tuple(fc.nat(TEST_KEY.length - 1), fc.string({ minLength: 1, maxLength: 1 })).map(([i, ch]) => TEST_KEY.slice(0, i) + ch + TEST_KEY.slice(i + 1)),
          fc.nat(TEST_KEY.length - 1).map((n) => TEST_KEY.slice(0, n)),
          fc.string({ minLength: 1, maxLength: 5 }).map((s) => TEST_KEY + s),
        ),
        (guess) => {
          fc.pre(guess !== TEST_KEY && guess !== 'second-key-for-rotation-0001');
          expect(matcher.match(guess)).toBeNull();
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('reports comparison timings of near and far guesses (informative, no threshold)', () => {
    const matcher = keyMatcher([TEST_KEY]);
    const guesses = {
      right: TEST_KEY,
      near: `${TEST_KEY.slice(0, -1)}0`,
      far: 'Z'.repeat(TEST_KEY.length),
      shorter: TEST_KEY.slice(0, 8),
    };
    const samples: Record<string, number[]> = { right: [], near: [], far: [], shorter: [] };
    for (let i = 0; i < 5_000; i++) matcher.match(guesses.far);
    for (let round = 0; round < 20_000; round++) {
      for (const [name, g] of Object.entries(guesses)) {
        const t = process.hrtime.bigint();
        matcher.match(g);
        samples[name]!.push(Number(process.hrtime.bigint() - t));
      }
    }
    const medians = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.sort((a, b) => a - b)[v.length >> 1]]));
    console.info(`keyMatcher.match median ns (20k interleaved samples each; figures in bench/RESULTS.md): ${JSON.stringify(medians)}`);
    expect(matcher.match(guesses.near)).toBeNull();
  });
});
