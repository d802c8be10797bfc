import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem, unconfiguredSystem } from '../helpers/fixture-system.js';

const call = (hub: TestHub, tool: string, payload: unknown, headers: Record<string, string> = {}) =>
  hub.app.inject({ method: 'POST', url: `/v1/tools/${tool}`, headers: { ...AUTH, ...headers }, payload: payload as object });

describe('REST callback route and pipeline', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await testHub(
      { GOVERNANCE_OVERRIDES: JSON.stringify({ fixture_echo: { limit: 3 }, fixture_fail: { enabled: false } }) },
      { systems: [fixtureSystem, unconfiguredSystem] },
    );
  });
  afterAll(() => hub.close());

  const audit = async (tool: string) => {
    await hub.deps.audit.flush();
    return (await hub.deps.audit.list({ limit: 100, tool })).records;
  };

  it('runs a tool and returns its JSON with RateLimit headers', async () => {
    const res = await call(hub, 'fixture_echo', { message: 'abc', repeat: 2, api_key: 'sk-secret-value' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ echo: 'ABCABC', length: 3 });
    expect(res.headers['ratelimit-limit']).toBe('3');
    expect(res.headers['ratelimit-remaining']).toBe('2');
    const [rec] = await audit('fixture_echo');
    expect(rec).toMatchObject({ tool: 'fixture_echo', outcome: 'ok', transport: 'rest', level: 'LOW', quota: { used: 1, limit: 3 } });
    expect(JSON.stringify(rec)).not.toContain('sk-secret-value');
  });

  it('lists each bad field with 400 invalid_arguments and uses no quota', async () => {
    const before = (await hub.app.inject({ method: 'GET', url: '/v1/governance', headers: AUTH })).json();
    const res = await call(hub, 'fixture_echo', { message: 42, repeat: 9, extra: true });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error.code).toBe('invalid_arguments');
    expect(body.error.issues.map((i: { field: string }) => i.field).sort()).toEqual(['extra', 'message', 'repeat']);
    const after = (await hub.app.inject({ method: 'GET', url: '/v1/governance', headers: AUTH })).json();
    const used = (g: { tools: { name: string; used: number }[] }) => g.tools.find((t) => t.name === 'fixture_echo')!.used;
    expect(used(after)).toBe(used(before));
    expect((await audit('fixture_echo'))[0]).toMatchObject({ outcome: 'invalid' });
  });

  it('refuses over quota with 429, Retry-After and RateLimit headers', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(hub, 'fixture_echo', { message: 'x' })).statusCode);
    const res = await call(hub, 'fixture_echo', { message: 'x' });
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    expect(res.statusCode).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.headers['ratelimit-remaining']).toBe('0');
    expect(res.json().error).toMatchObject({ code: 'quota_exceeded', limit: 3, window_s: 3600 });
    expect((await audit('fixture_echo'))[0]).toMatchObject({ outcome: 'denied_quota' });
  });

  it('refuses an undeclared field instead of dropping it (dry_run on a tool without one never runs it)', async () => {
    const res = await call(hub, 'fixture_needs_token', { dry_run: true });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'invalid_arguments', issues: [{ field: 'dry_run' }] });
  });

  it('returns binary content inline while it fits the GPT Actions body limit, and says so when it does not', async () => {
    const small = (await call(hub, 'fixture_media', { bytes: 300 })).json();
    expect(small.media).toEqual([{ type: 'audio', mimeType: 'audio/wav', data: Buffer.alloc(300, 7).toString('base64') }]);
    const big = await call(hub, 'fixture_media', { bytes: 150_000 });
    expect(big.statusCode).toBe(200);
    expect(big.body.length).toBeLessThan(100_000);
    expect(big.json()).toMatchObject({ bytes: 150_000, media_omitted: { items: [{ type: 'audio', base64_chars: 200_000 }] } });
    expect(big.json().media_omitted.reason).toContain('/mcp');
  });

  it('answers 404 for an unknown tool, naming it', async () => {
    const res = await call(hub, 'no_such_tool', {});
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({ code: 'unknown_tool', tool: 'no_such_tool' });
  });

  it('answers 403 for a disabled tool, 503 not_configured naming the variable', async () => {
    expect((await call(hub, 'fixture_fail', {})).json().error.code).toBe('tool_disabled');
    const res = await call(hub, 'fixture_needs_token', {});
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toMatchObject({ code: 'not_configured', variable: 'FIXTURE_TOKEN' });
  });

  it("needs a person's approval for CRITICAL tools (confirm: true alone is not enough); dry_run describes without quota", async () => {
    const refused = await call(hub, 'fixture_delete', { thing: 'db' });
    expect(refused.statusCode).toBe(428);
    expect(refused.json().error).toMatchObject({ code: 'approval_required', action: 'delete the thing "db"' });
    const dry = await call(hub, 'fixture_delete', { thing: 'db', dry_run: true });
    expect(dry.json()).toEqual({ dry_run: true, action: 'delete the thing "db"', level: 'CRITICAL', uses_quota: false });
    const confirmed = await call(hub, 'fixture_delete', { thing: 'db', confirm: true });
    expect(confirmed.statusCode).toBe(428);
    expect(confirmed.json().error.code).toBe('approval_required');
    const outcomes = (await audit('fixture_delete')).map((r) => r.outcome);
    expect(outcomes).toEqual(['denied_approval', 'ok', 'denied_approval']);
  });

  it('rejects malformed bodies with clear 4xx JSON', async () => {
    const bad = await hub.app.inject({ method: 'POST', url: '/v1/tools/fixture_echo', headers: { ...AUTH, 'content-type': 'application/json' }, payload: '{"message":' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_request');
    const text = await hub.app.inject({ method: 'POST', url: '/v1/tools/fixture_echo', headers: { ...AUTH, 'content-type': 'text/plain' }, payload: 'hi' });
    expect(text.statusCode).toBe(415);
    const big = await hub.app.inject({
      method: 'POST',
      url: '/v1/tools/fixture_echo',
      headers: { ...AUTH, 'content-type': 'application/json' },
      payload: JSON.stringify({ message: 'x'.repeat(10 * 1024 * 1024) }),
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('payload_too_large');
    const proto = await hub.app.inject({ method: 'POST', url: '/v1/tools/fixture_echo', headers: { ...AUTH, 'content-type': 'application/json' }, payload: '{"__proto__":{"x":1},"message":"a"}' });
    expect(proto.statusCode).toBe(400);
    const arr = await call(hub, 'fixture_needs_token', [1, 2]);
    expect(arr.statusCode).toBe(400);
  });

  it('maps adapter failures to 502 with the upstream status', async () => {
    const h = await testHub({}, { systems: [fixtureSystem] });
    try {
      const res = await call(h, 'fixture_fail', { reason: 'boom' });
      expect(res.statusCode).toBe(502);
      expect(res.json().error).toMatchObject({ code: 'upstream_error', upstream_status: 503, message: 'upstream said: boom' });
    } finally {
      await h.close();
    }
  });

  it('serves the catalog, governance and audit routes', async () => {
    const tools = (await hub.app.inject({ method: 'GET', url: '/v1/tools', headers: AUTH })).json().tools;
    const echo = tools.find((t: { name: string }) => t.name === 'fixture_echo');
    expect(echo).toMatchObject({ system: 'connector', level: 'LOW', limit: 3, configured: true, enabled: true });
    expect(echo.input_schema.properties.message.type).toBe('string');
    expect(tools.find((t: { name: string }) => t.name === 'fixture_needs_token')).toMatchObject({ configured: false, needs: 'FIXTURE_TOKEN' });

    const gov = (await hub.app.inject({ method: 'GET', url: '/v1/governance', headers: AUTH })).json();
    expect(gov).toMatchObject({ mode: 'enforce', scope: 'global', failure_policy: 'closed-for-high', levels: { LOW: 1000 } });
    expect(gov.tools.find((t: { name: string }) => t.name === 'fixture_fail')).toMatchObject({ enabled: false });

    const page = (await hub.app.inject({ method: 'GET', url: '/v1/audit?limit=2', headers: AUTH })).json();
    expect(page.records).toHaveLength(2);
    expect(page.next_cursor).toBeTruthy();
    const bad = await hub.app.inject({ method: 'GET', url: '/v1/audit?limit=5000', headers: AUTH });
    expect(bad.statusCode).toBe(400);
  });
});
