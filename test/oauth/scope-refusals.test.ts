import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';
import { obtainTokens } from './helpers.js';

const LIMIT = 3;

/**
 * A call the OAuth scope guard refuses never reaches invoke(), but it is recorded by the pipeline as any refusal:
 * one audit record with the tool's level and redacted arguments, one metric, and the key's budget of refused calls
 * (REFUSED_CALLS_PER_MINUTE), past which it is answered 429 rate_limited and not audited.
 */
describe('OAuth scope refusals go through the pipeline record', () => {
  let hub: TestHub;
  let base: string;
  beforeAll(async () => {
    hub = await testHub({ MCP_SESSION_MODE: 'stateless', REFUSED_CALLS_PER_MINUTE: String(LIMIT) }, { systems: [fixtureSystem] });
    await hub.app.listen({ host: '127.0.0.1', port: 0 });
    const addr = hub.app.server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterAll(() => hub?.close());

  it('audits each refusal once with redacted arguments, then answers 429 past the budget without auditing', async () => {
    const { access } = await obtainTokens(base, TEST_KEY, 'tools:low');
    const rest = () =>
      fetch(`${base}/v1/tools/fixture_fail`, {
        method: 'POST',
        headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json' },
        body: JSON.stringify({ api_key: 'sk-live-should-not-be-kept' }),
      });
    const mcp = () =>
      fetch(`${base}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'fixture_fail', arguments: {} } }),
      });

    const answers = [await rest(), await mcp(), await rest(), await mcp(), await rest()];
    expect(answers.map((a) => a.status)).toEqual([403, 403, 403, 429, 429]);
    const overMcp = (await answers[3]!.json()) as { id: number; error: { message: string } };
    expect(overMcp.id).toBe(9);
    expect(overMcp.error.message).toContain('REFUSED_CALLS_PER_MINUTE');
    const overRest = answers[4]!;
    expect(Number(overRest.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await overRest.json()) as { error: { code: string } }).error.code).toBe('rate_limited');

    await hub.deps.audit.flush();
    const { records } = await hub.deps.audit.list({ limit: 50 });
    expect(records.map((r) => [r.outcome, r.transport, r.level, r.system, r.error?.code])).toEqual([
      ['denied_scope', 'rest', 'MEDIUM', 'connector', 'insufficient_scope'],
      ['denied_scope', 'mcp', 'MEDIUM', 'connector', 'insufficient_scope'],
      ['denied_scope', 'rest', 'MEDIUM', 'connector', 'insufficient_scope'],
    ]);
    expect(records[0]!.args).toEqual({ api_key: '[REDACTED]' });
    expect(records.every((r) => r.principal.startsWith('oauth:c_'))).toBe(true);

    const metrics = (await hub.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TEST_KEY}` } })).body;
    expect(metrics).toMatch(/omni_hub_refused_calls_throttled_total 2\b/);
  });
});
