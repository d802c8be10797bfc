import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { RefusalLimiter } from '../../src/governance/refusal-limiter.js';

/**
 * Issue 14 item 7: calls refused before running (unknown tool, invalid arguments...) use no quota, so they are
 * rate-limited per key: past REFUSED_CALLS_PER_MINUTE they get 429 rate_limited, are counted in metrics and not
 * audited; executed calls and other keys are unaffected.
 */
const KEY_A = 'refused-key-a-0123456789abcdef';
const KEY_B = 'refused-key-b-0123456789abcdef';
const LIMIT = 5;

describe('refused calls are rate-limited per key and cannot flush the audit trail', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await testHub({ MCP_API_KEY: `${KEY_A},${KEY_B}`, REFUSED_CALLS_PER_MINUTE: String(LIMIT), AUDIT_CAP: '10', AUDIT_REFUSED_CAP: '3' }, { systems: [fixtureSystem] });
  });
  afterAll(() => hub?.close());

  const call = (key: string, tool: string, body: unknown) =>
    hub.app.inject({ method: 'POST', url: `/v1/tools/${tool}`, headers: { authorization: `Bearer ${key}` }, payload: body as object });

  it('answers 429 rate_limited with Retry-After past the budget, keeps executed records, and counts the throttled calls', async () => {
    expect((await call(KEY_A, 'fixture_echo', { message: 'real call' })).statusCode).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 40; i += 1) statuses.push((await call(KEY_A, i % 2 ? 'no_such_tool' : 'fixture_echo', { wrong: i })).statusCode);
    expect(statuses.slice(0, LIMIT).every((s) => s === 404 || s === 400)).toBe(true);
    expect(statuses.slice(LIMIT)).toEqual(new Array(40 - LIMIT).fill(429));

    const limited = await call(KEY_A, 'no_such_tool', {});
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const { error } = limited.json() as { error: { code: string; message: string; limit: number } };
    expect(error.code).toBe('rate_limited');
    expect(error.message).toContain('REFUSED_CALLS_PER_MINUTE');
    expect(error.limit).toBe(LIMIT);

    // Another key still gets its own answers; an executed call of the limited key still runs.
    expect((await call(KEY_B, 'no_such_tool', {})).statusCode).toBe(404);
    expect((await call(KEY_A, 'fixture_echo', { message: 'still served' })).statusCode).toBe(200);

    const { records } = await hub.deps.audit.list({ limit: 1000 });
    const executed = records.filter((r) => r.outcome === 'ok').map((r) => (r.args as { message: string }).message);
    expect(executed).toEqual(['still served', 'real call']);
    // Refused records: at most AUDIT_REFUSED_CAP of them, never a throttled one.
    const refused = records.filter((r) => r.outcome !== 'ok');
    expect(refused.length).toBeLessThanOrEqual(3);
    expect(refused.every((r) => r.error?.code !== 'rate_limited')).toBe(true);

    const metrics = (await hub.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${KEY_A}` } })).body;
    expect(metrics).toMatch(/omni_hub_refused_calls_throttled_total \d+/);
    expect(Number(/omni_hub_refused_calls_throttled_total (\d+)/.exec(metrics)![1])).toBe(40 - LIMIT + 1);
    expect(metrics).toContain('outcome="rate_limited"');
  });
});

describe('RefusalLimiter', () => {
  it('allows the budget per key per minute, says when to retry, and starts a new window after a minute', () => {
    let now = 1_000_000;
    const limiter = new RefusalLimiter(2, () => now);
    expect(limiter.take('key:a')).toBeNull();
    expect(limiter.take('key:a')).toBeNull();
    now += 15_000;
    const over = limiter.take('key:a');
    expect(over).toMatchObject({ code: 'rate_limited', httpStatus: 429, details: { limit: 2, window_s: 60, retry_after_s: 45 } });
    expect(limiter.take('key:b')).toBeNull();
    now += 45_000;
    expect(limiter.take('key:a')).toBeNull();
  });
});
