import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { system } from '../../../src/adapters/cloud_run/index.js';
import { clearGoogleTokenCache } from '../../../src/adapters/google/credentials.js';
import { AUTH, TEST_KEY, testHub, type TestHub } from '../../helpers/app.js';
import { answerApproval } from '../../helpers/approval-page.js';
import { startFakeCloudRun, type FakeCloudRun } from '../../fakes/cloud-run.js';

/** The Cloud Run tools through the hub's REST callback route and pipeline (dry_run → approval → deploy → delete). */
describe('Cloud Run through POST /v1/tools/{name}', () => {
  let run: FakeCloudRun;
  let hub: TestHub;

  beforeAll(async () => {
    run = await startFakeCloudRun({ acceptToken: (t) => t === 'ya29.rest-route' });
    hub = await testHub({ GOOGLE_OAUTH_TOKEN: 'ya29.rest-route', GOOGLE_CLOUD_PROJECT: 'demo-project', GOOGLE_API_BASE_URL: run.url }, { systems: [system] });
  });
  afterAll(async () => {
    await hub?.close();
    await run?.close();
    clearGoogleTokenCache();
  });

  const post = (tool: string, payload: Record<string, unknown>) =>
    hub.app.inject({ method: 'POST', url: `/v1/tools/${tool}`, headers: { ...AUTH, 'content-type': 'application/json' }, payload });

  /** What a GPT Action sees: approval_required, then (once a person approved on the page) the same call with the id. */
  const approved = async (tool: string, args: Record<string, unknown>) => {
    const asked = await post(tool, args);
    expect(asked.statusCode).toBe(428);
    const id = String(asked.json().error.approval_id);
    expect((await answerApproval(hub.app, `/approvals/${id}`, 'approve', TEST_KEY)).statusCode).toBe(200);
    return post(tool, { ...args, approval_id: id });
  };

  it("previews, refuses without a person's approval, deploys, describes and deletes", async () => {
    const args = { service_name: 'hello', image_uri: 'us-docker.pkg.dev/cloudrun/container/hello', allow_unauthenticated: true };

    const preview = await post('google_cloud_run_deploy', { ...args, dry_run: true });
    expect(preview.statusCode).toBe(200);
    expect(preview.body).toContain('Deploy image us-docker.pkg.dev/cloudrun/container/hello to Cloud Run service \\"hello\\"');
    expect(run.state.requests).toHaveLength(0);

    const refused = await post('google_cloud_run_deploy', { ...args, confirm: true });
    expect(refused.statusCode).toBe(428);
    expect(refused.json().error).toMatchObject({ code: 'approval_required', action: expect.stringContaining('Deploy image') });
    expect(run.state.requests).toHaveLength(0);

    const deployed = await approved('google_cloud_run_deploy', args);
    expect(deployed.statusCode).toBe(200);
    expect(deployed.body).toMatch(/"status":"ready"/);
    expect(deployed.body).toMatch(/"url":"https:\/\/hello-/);
    expect(run.state.services.has('projects/demo-project/locations/us-central1/services/hello')).toBe(true);

    const described = await post('google_cloud_run_describe', { service_name: 'hello' });
    expect(described.statusCode).toBe(200);
    expect(described.body).toMatch(/"latest_ready_revision":"hello-00001-/);

    const missing = await post('google_cloud_run_describe', { service_name: 'ghost' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({ code: 'not_found', upstream_status: 404 });

    const bad = await post('google_cloud_run_deploy', { service_name: 'Bad Name', image_uri: 'x', confirm: true });
    expect(bad.statusCode).toBe(400);

    const deleted = await approved('google_cloud_run_delete', { service_name: 'hello' });
    expect(deleted.statusCode).toBe(200);
    expect(deleted.body).toMatch(/"status":"deleted"/);
    expect(run.state.services.size).toBe(0);
  });

  it('answers 502 upstream_error with the upstream status on a denied call', async () => {
    run.state.failures.push({ method: 'GET', path: /\/services$/, status: 403, rpcStatus: 'PERMISSION_DENIED', message: "Permission 'run.services.list' denied on resource" });
    const res = await post('google_cloud_run_list', {});
    expect(res.statusCode).toBe(502);
    expect(res.json().error).toMatchObject({ code: 'upstream_error', upstream_status: 403, upstream_code: 'PERMISSION_DENIED' });
  });
});
