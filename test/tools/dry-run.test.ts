import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEMS } from '../../src/adapters/index.js';
import { system as workspace } from '../../src/adapters/google_workspace/index.js';
import { startFakeWorkspace, type FakeWorkspace } from '../fakes/google-workspace.js';
import { AUTH, testHub, type TestHub } from '../helpers/app.js';
import { fixtureSystem } from '../helpers/fixture-system.js';

/** Dry runs are one pipeline step for every tool that offers dry_run: no quota, no upstream call, audited as dry_run. */
describe('dry runs', () => {
  let fake: FakeWorkspace;
  let hub: TestHub;
  beforeAll(async () => {
    fake = await startFakeWorkspace({ acceptToken: (t) => t === 'ya29.dry' });
    // A budget of zero: anything that takes quota is refused, so a dry run that answers 200 provably used none.
    hub = await testHub(
      {
        GOOGLE_OAUTH_TOKEN: 'ya29.dry',
        GOOGLE_API_BASE_URL: fake.url,
        GOVERNANCE_OVERRIDES: JSON.stringify({ google_gmail_send: { limit: 0 }, fixture_delete: { limit: 0 } }),
      },
      { systems: [workspace, fixtureSystem] },
    );
  });
  afterAll(async () => {
    await hub?.close();
    await fake?.close();
  });

  const post = (tool: string, payload: Record<string, unknown>) =>
    hub.app.inject({ method: 'POST', url: `/v1/tools/${tool}`, headers: { ...AUTH, 'content-type': 'application/json' }, payload });

  async function lastAudit(tool: string) {
    await hub.deps.audit.flush();
    const res = await hub.app.inject({ method: 'GET', url: `/v1/audit?tool=${tool}&limit=1`, headers: AUTH });
    return res.json().records[0];
  }

  it('google_gmail_send dry_run previews the message without quota or an upstream call', async () => {
    const res = await post('google_gmail_send', { to: ['ana@example.com'], subject: 'Preview', text: 'Hello', dry_run: true });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'dry_run', recipients: 1, message: expect.stringContaining('To: ana@example.com') });
    expect(fake.requests).toHaveLength(0);
    expect(await lastAudit('google_gmail_send')).toMatchObject({ outcome: 'ok', dry_run: true });
    expect((await lastAudit('google_gmail_send')).quota).toBeUndefined();

    // The real send takes quota (zero here), so it is refused: the dry run above did not go through that step.
    const real = await post('google_gmail_send', { to: ['ana@example.com'], subject: 'Real', text: 'Hello' });
    expect(real.statusCode).toBe(429);
    expect(fake.state.sent).toHaveLength(0);
  });

  it("a CRITICAL tool previews with its action line, and still needs a person's approval to act", async () => {
    const dry = await post('fixture_delete', { thing: 'db', dry_run: true });
    expect(dry.statusCode).toBe(200);
    expect(dry.json()).toMatchObject({ dry_run: true, action: 'delete the thing "db"', uses_quota: false });
    expect(await lastAudit('fixture_delete')).toMatchObject({ outcome: 'ok', dry_run: true });
    const unconfirmed = await post('fixture_delete', { thing: 'db' });
    expect(unconfirmed.statusCode).toBe(428);
    expect(unconfirmed.json().error.code).toBe('approval_required');
  });

  it('a bad argument in a dry run is still invalid_arguments', async () => {
    const res = await post('google_gmail_send', { to: ['not-an-address'], subject: 'x', text: 'y', dry_run: true });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_arguments');
  });

  it('every built-in tool: dry_run offered exactly where the pipeline can answer it, operation where it can follow up', () => {
    const tools = SYSTEMS.flatMap((system) => system.tools);
    const declares = (t: (typeof tools)[number], field: string) => Object.hasOwn(t.input.shape, field);
    expect(tools.filter((t) => declares(t, 'dry_run')).map((t) => t.name)).toContain('google_gmail_send');
    for (const t of tools) {
      // A dry_run the pipeline cannot answer would reach run() and take quota; a preview without the field is dead code.
      expect({ tool: t.name, previews: t.preview !== undefined || t.describeAction !== undefined }).toEqual({ tool: t.name, previews: declares(t, 'dry_run') });
      if (t.longRunning) expect({ tool: t.name, operation: declares(t, 'operation') }).toEqual({ tool: t.name, operation: true });
    }
    expect(tools.filter((t) => t.longRunning).map((t) => t.name).sort()).toEqual(['docker_build', 'docker_pull', 'docker_push']);
  });
});
