import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { testConfig } from '../helpers/config.js';
import { sweepExpiredApprovals } from '../../src/http/approvals.js';
import { keyId } from '../../src/http/auth.js';
import { AUTH, TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { answerApproval, openApprovalPage } from '../helpers/approval-page.js';
import { fixtureSystem } from '../helpers/fixture-system.js';

const call = (hub: TestHub, payload: object, tool = 'fixture_delete') =>
  hub.app.inject({ method: 'POST', url: `/v1/tools/${tool}`, headers: AUTH, payload });

const pathOf = (url: string) => new URL(url).pathname;

async function audit(hub: TestHub) {
  await hub.deps.audit.flush();
  return (await hub.deps.audit.list({ limit: 100, tool: 'fixture_delete' })).records;
}

describe('APPROVAL config', () => {
  it('defaults to a person for CRITICAL and the model elsewhere', () => {
    expect(testConfig().governance.approval).toEqual({ LOW: 'model', MEDIUM: 'model', HIGH: 'model', CRITICAL: 'person' });
    expect(testConfig().governance.approvalTtlMs).toBe(600_000);
  });
  it('takes one word for CRITICAL or a JSON object per level, and per-tool overrides', () => {
    expect(testConfig({ APPROVAL: 'model' }).governance.approval.CRITICAL).toBe('model');
    expect(testConfig({ APPROVAL: '{"HIGH":"person","CRITICAL":"off"}' }).governance.approval).toMatchObject({ HIGH: 'person', CRITICAL: 'off', LOW: 'model' });
    expect(testConfig({ GOVERNANCE_OVERRIDES: '{"fixture_delete":{"approval":"model"}}' }).governance.overrides.fixture_delete).toEqual({ approval: 'model' });
  });
  it('refuses bad values with one line naming the variable', () => {
    expect(() => testConfig({ APPROVAL: 'human' })).toThrow(ConfigError);
    expect(() => testConfig({ APPROVAL: 'human' })).toThrow(/^invalid APPROVAL: must be person, model, off or a JSON object/);
    expect(() => testConfig({ APPROVAL: '{"CRITICAL":"maybe"}' })).toThrow(/^invalid APPROVAL: APPROVAL: CRITICAL/);
    expect(() => testConfig({ GOVERNANCE_OVERRIDES: '{"x":{"approval":"yes"}}' })).toThrow(/^invalid GOVERNANCE_OVERRIDES: GOVERNANCE_OVERRIDES: x.approval/);
    expect(() => testConfig({ APPROVAL_TTL_S: '5' })).toThrow(/^invalid APPROVAL_TTL_S/);
  });
});

describe('approval by a person (APPROVAL=person, the default for CRITICAL)', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await testHub({}, { systems: [fixtureSystem] });
  });
  afterAll(() => hub.close());

  it('answers a CRITICAL REST call, even with confirm: true, with 428 approval_required and an approval URL', async () => {
    const res = await call(hub, { thing: 'prod-db', confirm: true });
    expect(res.statusCode).toBe(428);
    const error = res.json().error;
    expect(error).toMatchObject({ code: 'approval_required', action: 'delete the thing "prod-db"' });
    expect(error.approval_id).toMatch(/^apr_/);
    expect(error.approval_url).toBe(`http://localhost:80/approvals/${error.approval_id}`);
    expect(error.message).toContain(`"approval_id": "${error.approval_id}"`);
    expect(Date.parse(error.expires_at) - Date.now()).toBeGreaterThan(590_000);
    const [rec] = await audit(hub);
    expect(rec).toMatchObject({ outcome: 'denied_approval', error: { code: 'approval_required' }, principal: keyId(TEST_KEY) });
    expect(rec.quota).toBeUndefined();
  });

  it('shows the pending approval at GET /v1/approvals (bearer only) and on its page', async () => {
    const { approval_id: id, approval_url: url } = (await call(hub, { thing: 'listed' })).json().error;
    expect((await hub.app.inject({ method: 'GET', url: '/v1/approvals' })).statusCode).toBe(401);
    const list = (await hub.app.inject({ method: 'GET', url: '/v1/approvals', headers: AUTH })).json().approvals;
    expect(list.find((a: { id: string }) => a.id === id)).toMatchObject({
      tool: 'fixture_delete',
      level: 'CRITICAL',
      principal: keyId(TEST_KEY),
      transport: 'rest',
      action: 'delete the thing "listed"',
      args: { thing: 'listed' },
      url,
    });
    const page = await openApprovalPage(hub.app, pathOf(url));
    expect(page.status).toBe(200);
    expect(page.html).toContain('delete the thing &quot;listed&quot;');
    expect(page.html).toContain(keyId(TEST_KEY));
    expect(page.cookie).toMatch(/^omni_approval_csrf=/);
  });

  it('runs the approved call once; a replay needs a new approval', async () => {
    const first = (await call(hub, { thing: 'old-service' })).json().error;
    const answered = await answerApproval(hub.app, pathOf(first.approval_url), 'approve', TEST_KEY);
    expect(answered.statusCode).toBe(200);
    expect(answered.body).toContain('You approved this call');

    const run = await call(hub, { thing: 'old-service', approval_id: first.approval_id });
    expect(run.statusCode).toBe(200);
    expect(run.json()).toEqual({ deleted: 'old-service' });
    const [rec] = await audit(hub);
    expect(rec).toMatchObject({ outcome: 'ok', approved_by: { who: keyId(TEST_KEY), via: 'page', approval_id: first.approval_id } });
    expect(Date.parse(rec.approved_by!.at)).toBeLessThanOrEqual(Date.now());

    const replay = await call(hub, { thing: 'old-service', approval_id: first.approval_id });
    expect(replay.statusCode).toBe(428);
    expect(replay.json().error.message).toMatch(/unknown or was already used/);
    expect(replay.json().error.approval_id).not.toBe(first.approval_id);
    // The page of a used approval says so and offers no form.
    expect((await openApprovalPage(hub.app, pathOf(first.approval_url))).status).toBe(404);
  });

  it('does not run changed arguments on an approval; the approved call still can', async () => {
    const first = (await call(hub, { thing: 'a' })).json().error;
    await answerApproval(hub.app, pathOf(first.approval_url), 'approve', TEST_KEY);
    const changed = await call(hub, { thing: 'b', approval_id: first.approval_id });
    expect(changed.statusCode).toBe(428);
    expect(changed.json().error.message).toMatch(/other arguments/);
    // The gate's own fields (confirm, dry_run: false) are no part of what was approved.
    const same = await call(hub, { thing: 'a', confirm: true, approval_id: first.approval_id });
    expect(same.statusCode).toBe(200);
  });

  it('refuses a denied call with 403 approval_denied; the denial is audited with the operator', async () => {
    const first = (await call(hub, { thing: 'keep-me' })).json().error;
    const denied = await answerApproval(hub.app, pathOf(first.approval_url), 'deny', TEST_KEY);
    expect(denied.statusCode).toBe(200);
    expect(denied.body).toContain('You denied this call');
    const [decision] = await audit(hub);
    expect(decision).toMatchObject({ id: first.approval_id, outcome: 'denied_approval', error: { code: 'approval_denied' }, denied_by: { who: keyId(TEST_KEY), via: 'page' } });

    const refused = await call(hub, { thing: 'keep-me', approval_id: first.approval_id });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toMatchObject({ code: 'approval_denied', approval_id: first.approval_id });
    const [rec] = await audit(hub);
    expect(rec).toMatchObject({ outcome: 'denied_approval', denied_by: { who: keyId(TEST_KEY) } });
  });

  it('asks once per call: the same call again gets the same approval, until it is answered and used', async () => {
    const first = (await call(hub, { thing: 'twice' })).json().error;
    const again = (await call(hub, { thing: 'twice', confirm: true })).json().error;
    expect(again.approval_id).toBe(first.approval_id);
    expect(again.message).toMatch(/already waits for a person's approval/);
    await answerApproval(hub.app, pathOf(first.approval_url), 'approve', TEST_KEY);
    const approvedAgain = (await call(hub, { thing: 'twice' })).json().error;
    expect(approvedAgain).toMatchObject({ code: 'approval_required', approval_id: first.approval_id });
    expect(approvedAgain.message).toMatch(/already approved this call/);
    expect((await call(hub, { thing: 'twice', approval_id: first.approval_id })).statusCode).toBe(200);
    expect((await call(hub, { thing: 'twice' })).json().error.approval_id).not.toBe(first.approval_id);
  });

  it('does not answer while pending, and refuses a wrong key or a forged form', async () => {
    const first = (await call(hub, { thing: 'x' })).json().error;
    const pending = await call(hub, { thing: 'x', approval_id: first.approval_id });
    expect(pending.statusCode).toBe(428);
    expect(pending.json().error).toMatchObject({ approval_id: first.approval_id });
    expect(pending.json().error.message).toMatch(/not been answered yet/);

    expect((await answerApproval(hub.app, pathOf(first.approval_url), 'approve', 'wrong-key-0123456789')).statusCode).toBe(401);
    const page = await openApprovalPage(hub.app, pathOf(first.approval_url));
    const forged = await hub.app.inject({
      method: 'POST',
      url: pathOf(first.approval_url),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ csrf: page.csrf!, key: TEST_KEY, decision: 'approve' }).toString(),
    });
    expect(forged.statusCode).toBe(403);
    expect(forged.body).toContain('CSRF check failed');
    expect((await call(hub, { thing: 'x', approval_id: first.approval_id })).statusCode).toBe(428);
  });

  it('counts wrong keys in the failed-key limiter of the API: a blocked address is refused on the page too', async () => {
    const first = (await call(hub, { thing: 'guarded' })).json().error;
    const path = pathOf(first.approval_url);
    const remoteAddress = '192.0.2.31';
    const page = await hub.app.inject({ method: 'GET', url: path, remoteAddress });
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const cookie = String(page.headers['set-cookie']).split(';', 1)[0]!;
    const post = (key: string) =>
      hub.app.inject({
        method: 'POST',
        url: path,
        remoteAddress,
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        payload: new URLSearchParams({ csrf, key, decision: 'approve' }).toString(),
      });
    let status = 401;
    for (let i = 0; i < 40 && status === 401; i++) status = (await post(`wrong-key-${i}-0123456789`)).statusCode;
    expect(status).toBe(429);
    // The right key from that address waits too, and so does the API.
    expect((await post(TEST_KEY)).statusCode).toBe(429);
    expect((await hub.app.inject({ method: 'GET', url: '/v1/approvals', headers: AUTH, remoteAddress })).statusCode).toBe(429);
    expect((await call(hub, { thing: 'guarded', approval_id: first.approval_id })).statusCode).toBe(428);
  });

  it('audits approvals that expire unused, once', async () => {
    const first = (await call(hub, { thing: 'later' })).json().error;
    const later = Date.parse(first.expires_at) + 1;
    expect(await sweepExpiredApprovals(hub.deps, hub.app.log, hub.app.hub.registry, later)).toBeGreaterThanOrEqual(1);
    expect(await sweepExpiredApprovals(hub.deps, hub.app.log, hub.app.hub.registry, later)).toBe(0);
    const rec = (await audit(hub)).find((r) => r.id === first.approval_id);
    expect(rec).toMatchObject({ outcome: 'denied_approval', error: { code: 'approval_expired' }, args: { thing: 'later' } });
    expect((await call(hub, { thing: 'later', approval_id: first.approval_id })).statusCode).toBe(428);
  });

  it('states the policy at GET /v1/tools and GET /v1/governance', async () => {
    const tools = (await hub.app.inject({ method: 'GET', url: '/v1/tools', headers: AUTH })).json().tools as { name: string; approval?: string }[];
    expect(tools.find((t) => t.name === 'fixture_delete')?.approval).toBe('person');
    expect(tools.find((t) => t.name === 'fixture_echo')).not.toHaveProperty('approval');
    const governance = (await hub.app.inject({ method: 'GET', url: '/v1/governance', headers: AUTH })).json();
    expect(governance).toMatchObject({ approval: { CRITICAL: 'person', HIGH: 'model' }, approval_ttl_s: 600 });
  });

  it('filters the audit log by the new outcome', async () => {
    const res = await hub.app.inject({ method: 'GET', url: '/v1/audit?outcome=denied_approval', headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(res.json().records.length).toBeGreaterThan(0);
  });
});

describe('other approval policies', () => {
  it('APPROVAL=model restores confirm: true from the model', async () => {
    const hub = await testHub({ APPROVAL: 'model' }, { systems: [fixtureSystem] });
    try {
      expect((await call(hub, { thing: 't' })).json().error.code).toBe('confirmation_required');
      expect((await call(hub, { thing: 't', confirm: true })).json()).toEqual({ deleted: 't' });
    } finally {
      await hub.close();
    }
  });

  it('a per-tool override wins over the level, and off needs nothing', async () => {
    const hub = await testHub({ APPROVAL: 'model', GOVERNANCE_OVERRIDES: '{"fixture_delete":{"approval":"off"}}' }, { systems: [fixtureSystem] });
    try {
      expect((await call(hub, { thing: 't' })).json()).toEqual({ deleted: 't' });
    } finally {
      await hub.close();
    }
    const strict = await testHub({ APPROVAL: 'model', GOVERNANCE_OVERRIDES: '{"fixture_delete":{"approval":"person"}}' }, { systems: [fixtureSystem] });
    try {
      expect((await call(strict, { thing: 't', confirm: true })).json().error.code).toBe('approval_required');
    } finally {
      await strict.close();
    }
  });

  it('uses PUBLIC_URL for the approval URL', async () => {
    const hub = await testHub({ PUBLIC_URL: 'https://hub.example.com' }, { systems: [fixtureSystem] });
    try {
      const error = (await call(hub, { thing: 't' })).json().error;
      expect(error.approval_url).toBe(`https://hub.example.com/approvals/${error.approval_id}`);
    } finally {
      await hub.close();
    }
  });
});
