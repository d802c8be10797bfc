import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config.js';
import { testConfig } from '../../helpers/config.js';
import { system } from '../../../src/adapters/cloud_run/index.js';
import { clearGoogleTokenCache } from '../../../src/adapters/google/credentials.js';
import type { ToolDefinition } from '../../../src/tools/types.js';
import type { HubDeps } from '../../../src/deps.js';
import { failure, runTool, toolContext } from '../../helpers/context.js';
import { startFakeCloudRun, type FakeCloudRun, type Json } from '../../fakes/cloud-run.js';
import { startFakeGoogleToken, type FakeGoogleToken } from '../../fakes/google-token.js';

const tool = (name: string): ToolDefinition => system.tools.find((t) => t.name === name)!;
const deploy = tool('google_cloud_run_deploy');
const list = tool('google_cloud_run_list');
const describeTool = tool('google_cloud_run_describe');
const del = tool('google_cloud_run_delete');

const TOKEN = 'ya29.cloud-run-test';
const PARENT = 'projects/demo-project/locations/us-central1';
let run: FakeCloudRun;
let tokens: FakeGoogleToken;

beforeAll(async () => {
  tokens = await startFakeGoogleToken();
  run = await startFakeCloudRun({ acceptToken: (t) => t === TOKEN || tokens.isValidToken(t) });
});
afterAll(async () => {
  await run.close();
  await tokens.close();
});
beforeEach(() => {
  run.state.services.clear();
  run.state.policies.clear();
  run.state.operations.clear();
  run.state.requests.length = 0;
  run.state.failures.length = 0;
  run.state.operationPolls = 1;
  run.state.failNextOperation = undefined;
  tokens.grants.length = 0;
});
afterEach(() => clearGoogleTokenCache());

function config(env: Record<string, string> = {}): Config {
  return testConfig({ GOOGLE_OAUTH_TOKEN: TOKEN, GOOGLE_CLOUD_PROJECT: 'demo-project', GOOGLE_API_BASE_URL: run.url, ...env });
}

async function call(t: ToolDefinition, args: Record<string, unknown>, cfg = config(), overrides = {}) {
  return runTool(t, args, toolContext(cfg, overrides));
}

const requestsTo = (method: string, pathPart: string) => run.state.requests.filter((r) => r.method === method && r.url.includes(pathPart));
const body = (r: { body: string }) => JSON.parse(r.body) as Json;

describe('google_cloud_run_deploy', () => {
  it('creates a service, makes it public and waits for the operation', async () => {
    const out = await call(deploy, {
      service_name: 'web',
      image_uri: 'us-docker.pkg.dev/demo-project/apps/web:1',
      env_vars: { MODE: 'prod', SECRET_THING: 'hunter2' },
      cpu: '2',
      memory: '1Gi',
      min_instances: 1,
      max_instances: 5,
      port: 9000,
      allow_unauthenticated: true,
      labels: { team: 'web' },
      confirm: true,
    });

    const [create] = requestsTo('POST', `/v2/${PARENT}/services?`);
    expect(create!.url).toBe(`/v2/${PARENT}/services?serviceId=web&$alt=json%3Benum-encoding=int`);
    expect(create!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    // The library's REST transport (not gRPC) with the routing header for the location.
    expect(String(create!.headers['x-goog-api-client'])).toMatch(/\brest\//);
    expect(create!.headers['x-goog-request-params']).toBe('location=us-central1');
    expect(body(create!)).toMatchObject({
      labels: { team: 'web' },
      template: {
        containers: [
          {
            image: 'us-docker.pkg.dev/demo-project/apps/web:1',
            env: [
              { name: 'MODE', value: 'prod' },
              { name: 'SECRET_THING', value: 'hunter2' },
            ],
            resources: { limits: { cpu: '2', memory: '1Gi' } },
            ports: [{ containerPort: 9000 }],
          },
        ],
        scaling: { minInstanceCount: 1, maxInstanceCount: 5 },
      },
    });
    const [setIam] = requestsTo('POST', ':setIamPolicy');
    expect(body(setIam!).policy).toMatchObject({ bindings: [{ role: 'roles/run.invoker', members: ['allUsers'] }] });
    expect(requestsTo('GET', '/operations/')).toHaveLength(1);

    expect(out).toMatchObject({ status: 'ready', action: 'created', service_name: 'web', project: 'demo-project', region: 'us-central1', public: true });
    expect(out.url).toMatch(/^https:\/\/web-[0-9a-f]+-uc\.a\.run\.app$/);
    expect(out.latest_revision).toMatch(/^web-00001-/);
    expect(out.operation).toMatch(new RegExp(`^${PARENT}/operations/`));
    const service = out.service as Json;
    expect(service).toMatchObject({ state: 'ready', image: 'us-docker.pkg.dev/demo-project/apps/web:1', cpu: '2', memory: '1Gi', port: 9000, min_instances: 1, max_instances: 5, env_var_names: ['MODE', 'SECRET_THING'] });
    expect(service.terminal_condition).toMatchObject({ type: 'Ready', state: 'SUCCEEDED' });
    expect(JSON.stringify(out)).not.toContain('hunter2');
    expect(run.state.policies.get(`${PARENT}/services/web`)!.bindings).toEqual([{ role: 'roles/run.invoker', members: ['allUsers'] }]);
  });

  it('updates an existing service: new image, merged env, kept settings, public access removed', async () => {
    await call(deploy, { service_name: 'api', image_uri: 'gcr.io/demo-project/api:1', env_vars: { A: '1', B: '2' }, memory: '512Mi', allow_unauthenticated: true, confirm: true });
    run.state.requests.length = 0;

    const out = await call(deploy, { service_name: 'api', image_uri: 'gcr.io/demo-project/api:2', env_vars: { B: 'changed', C: '3' }, allow_unauthenticated: false, confirm: true });

    expect(requestsTo('POST', '/services?')).toHaveLength(0);
    const [patch] = requestsTo('PATCH', `/v2/${PARENT}/services/api?`);
    // The resource name travels in the URL (REST transcoding of service.name), the rest in the body.
    const sent = body(patch!) as { etag: string; template: { revision?: string; containers: Json[] }; conditions?: unknown; uri?: unknown };
    expect(sent.etag).toBeTruthy();
    expect(sent.conditions).toBeUndefined();
    expect(sent.uri).toBeUndefined();
    expect(sent.template.revision ?? '').toBe('');
    expect(sent.template.containers[0]).toMatchObject({
      image: 'gcr.io/demo-project/api:2',
      env: [
        { name: 'A', value: '1' },
        { name: 'B', value: 'changed' },
        { name: 'C', value: '3' },
      ],
      resources: { limits: { memory: '512Mi' } },
    });
    expect(out).toMatchObject({ status: 'ready', action: 'updated', public: false });
    expect(out.latest_revision).toMatch(/^api-00002-/);
    expect(run.state.policies.get(`${PARENT}/services/api`)!.bindings).toEqual([]);
  });

  it('reports each poll of the operation as progress when the caller asked for it', async () => {
    run.state.operationPolls = 2;
    const updates: { progress: number; message?: string }[] = [];
    const out = await call(deploy, { service_name: 'prog', image_uri: 'gcr.io/demo-project/prog:1', confirm: true }, config(), { progress: (p: { progress: number; message?: string }) => updates.push(p) });
    expect(out).toMatchObject({ status: 'ready' });
    expect(updates.at(-1)).toEqual({ progress: updates.length, message: 'the Cloud Run operation finished' });
  });

  it('answers status "running" past the deadline, and describe follows the operation', async () => {
    run.state.operationPolls = 1000;
    // Less time left than the adapter's safety margin: it must not wait at all.
    const out = await call(deploy, { service_name: 'slow', image_uri: 'gcr.io/demo-project/slow:1', confirm: true }, config(), { deadline: Date.now() + 500 });
    expect(out).toMatchObject({ status: 'running', action: 'created', service_name: 'slow' });
    expect(requestsTo('GET', '/operations/')).toHaveLength(0);

    const op = run.state.operations.get(String(out.operation))!;
    const pending = await call(describeTool, { service_name: 'slow', operation: out.operation });
    expect(pending).toMatchObject({ exists: true, state: 'reconciling', reconciling: true, operation: { name: out.operation, done: false } });

    op.pollsLeft = 1;
    const done = await call(describeTool, { service_name: 'slow', operation: out.operation });
    expect(done).toMatchObject({ state: 'ready', operation: { done: true } });
    expect(done.latest_ready_revision).toMatch(/^slow-00001-/);
  });

  it('reports a failed rollout as upstream_error with the operation error', async () => {
    run.state.failNextOperation = { code: 9, message: 'The user-provided container failed to start and listen on the port defined provided by the PORT=8080 environment variable.' };
    const err = await failure(call(deploy, { service_name: 'broken', image_uri: 'gcr.io/demo-project/broken:1', confirm: true }));
    expect(err.code).toBe('upstream_error');
    expect(err.message).toContain('failed to start and listen');
    expect(err.details).toMatchObject({ upstream_code: 'FAILED_PRECONDITION', upstream_status: 400 });
    expect(String(err.details.operation)).toMatch(/\/operations\//);
  });

  it('keeps the deployment result when the IAM change is refused', async () => {
    run.state.failures.push({ method: 'POST', path: /:setIamPolicy$/, status: 400, rpcStatus: 'FAILED_PRECONDITION', message: "One or more users named in the policy do not belong to a permitted customer." });
    const out = await call(deploy, { service_name: 'orgpolicy', image_uri: 'gcr.io/demo-project/x:1', allow_unauthenticated: true, confirm: true });
    expect(out.status).toBe('ready');
    expect(out.public).toBeUndefined();
    expect((out.warnings as string[])[0]).toContain('permitted customer');
  });

  it('maps create errors and does not retry writes', async () => {
    run.state.failures.push({ method: 'POST', path: /\/services$/, status: 403, rpcStatus: 'PERMISSION_DENIED', message: "Permission 'run.services.create' denied on resource" });
    const denied = await failure(call(deploy, { service_name: 'nope', image_uri: 'gcr.io/demo-project/x:1', confirm: true }));
    expect(denied).toMatchObject({ code: 'upstream_error', details: { upstream_status: 403, upstream_code: 'PERMISSION_DENIED' } });
    expect(denied.message).toBe("PERMISSION_DENIED: Permission 'run.services.create' denied on resource");

    run.state.failures.push({ method: 'POST', path: /\/services$/, status: 503, rpcStatus: 'UNAVAILABLE', message: 'backend unavailable' });
    run.state.requests.length = 0;
    const unavailable = await failure(call(deploy, { service_name: 'nope', image_uri: 'gcr.io/demo-project/x:1', confirm: true }));
    expect(unavailable.details).toMatchObject({ upstream_status: 503, upstream_code: 'UNAVAILABLE' });
    expect(requestsTo('POST', '/services?')).toHaveLength(1);
  });

  it('falls back to update when the service appears between read and create (409 ALREADY_EXISTS)', async () => {
    await call(deploy, { service_name: 'race', image_uri: 'gcr.io/demo-project/race:1', confirm: true });
    // The first read says "missing" (as if the other writer had not finished yet), the create then collides.
    run.state.failures.push({ method: 'GET', path: /\/services\/race$/, status: 404, rpcStatus: 'NOT_FOUND', message: 'not yet' });
    const out = await call(deploy, { service_name: 'race', image_uri: 'gcr.io/demo-project/race:2', confirm: true });
    expect(out).toMatchObject({ status: 'ready', action: 'updated' });
    expect(run.state.services.get(`${PARENT}/services/race`)!.generation).toBe('2');
  });

  it('requires a project from the arguments or GOOGLE_CLOUD_PROJECT', async () => {
    const err = await failure(call(deploy, { service_name: 'web', image_uri: 'x', confirm: true }, testConfig({ GOOGLE_OAUTH_TOKEN: TOKEN, GOOGLE_API_BASE_URL: run.url })));
    expect(err).toMatchObject({ code: 'not_configured', details: { variable: 'GOOGLE_CLOUD_PROJECT' } });
    const out = await call(deploy, { service_name: 'web', image_uri: 'gcr.io/other-project/web:1', project_id: 'other-project', region: 'europe-west1', confirm: true });
    expect(out).toMatchObject({ project: 'other-project', region: 'europe-west1' });
    expect(run.state.services.has('projects/other-project/locations/europe-west1/services/web')).toBe(true);
  });

  it('validates its arguments and describes the action for the confirmation step', () => {
    expect(deploy.input.safeParse({ service_name: 'Bad_Name', image_uri: 'x' }).success).toBe(false);
    expect(deploy.input.safeParse({ service_name: 'ok', image_uri: 'x', memory: '1GB' }).success).toBe(false);
    expect(deploy.input.safeParse({ service_name: 'ok', image_uri: 'x', env_vars: { 'BAD-NAME': 'v' } }).success).toBe(false);
    expect('dry_run' in deploy.input.shape && 'confirm' in deploy.input.shape).toBe(true);
    const text = deploy.describeAction!(deploy.input.parse({ service_name: 'web', image_uri: 'gcr.io/p/web:1', allow_unauthenticated: true, memory: '1Gi' }), config());
    expect(text).toBe('Deploy image gcr.io/p/web:1 to Cloud Run service "web" in project demo-project, region us-central1 (created if missing, otherwise a new revision): memory 1Gi, public (allUsers may invoke)');
    expect(deploy.level).toBe('CRITICAL');
  });
});

describe('google_cloud_run_list', () => {
  beforeEach(async () => {
    run.state.operationPolls = 0;
    for (const [name, labels] of [['alpha-web', { team: 'web' }], ['beta-api', { team: 'api' }], ['gamma-web', { team: 'web', tier: 'gold' }]] as const) {
      await call(deploy, { service_name: name, image_uri: `gcr.io/demo-project/${name}:1`, labels, confirm: true });
    }
    await call(deploy, { service_name: 'delta', image_uri: 'gcr.io/demo-project/delta:1', region: 'europe-west1', confirm: true });
    run.state.requests.length = 0;
  });

  it('pages with page_size and page_token', async () => {
    const first = await call(list, { page_size: 2 });
    expect(requestsTo('GET', `/v2/${PARENT}/services?`)[0]!.url).toContain('pageSize=2');
    expect((first.services as Json[]).map((s) => s.name)).toEqual(['alpha-web', 'beta-api']);
    expect(first).toMatchObject({ project: 'demo-project', region: 'us-central1', count: 2 });
    expect(first.next_page_token).toBeTruthy();
    const second = await call(list, { page_size: 2, page_token: first.next_page_token });
    expect((second.services as Json[]).map((s) => s.name)).toEqual(['gamma-web']);
    expect(second.next_page_token).toBeUndefined();
    expect((second.services as Json[])[0]).toMatchObject({ state: 'ready', image: 'gcr.io/demo-project/gamma-web:1', labels: { team: 'web', tier: 'gold' } });
    expect(list.output!.safeParse(second).success).toBe(true);
  });

  it('filters by name and label, and lists every region with "-"', async () => {
    const byName = await call(list, { name_contains: 'web' });
    expect((byName.services as Json[]).map((s) => s.name)).toEqual(['alpha-web', 'gamma-web']);
    const byLabel = await call(list, { label: 'tier=gold' });
    expect((byLabel.services as Json[]).map((s) => s.name)).toEqual(['gamma-web']);
    const byKey = await call(list, { label: 'team' });
    expect(byKey.count).toBe(3);
    const all = await call(list, { region: '-' });
    expect((all.services as Json[]).map((s) => `${s.name}@${s.region}`)).toContain('delta@europe-west1');
    expect(all.count).toBe(4);
  });

  it('pages through filtered results without losing matches', async () => {
    const seen: string[] = [];
    let token: unknown;
    for (let i = 0; i < 5; i += 1) {
      const page = await call(list, { page_size: 1, name_contains: 'web', ...(token ? { page_token: token } : {}) });
      seen.push(...(page.services as Json[]).map((s) => String(s.name)));
      token = page.next_page_token;
      if (!token) break;
    }
    expect(seen).toEqual(['alpha-web', 'gamma-web']);
    expect(token).toBeUndefined();
  });

  it('retries reads on 429 and 5xx, then reports the upstream error', async () => {
    run.state.failures.push({ method: 'GET', path: /\/services$/, status: 429, rpcStatus: 'RESOURCE_EXHAUSTED', message: 'Quota exceeded', times: 2 });
    const ok = await call(list, {});
    expect(ok.count).toBe(3);
    expect(requestsTo('GET', '/services?')).toHaveLength(3);

    run.state.requests.length = 0;
    run.state.failures.push({ method: 'GET', path: /\/services$/, status: 500, rpcStatus: 'INTERNAL', message: 'Internal error encountered.', times: 3 });
    const err = await failure(call(list, {}));
    expect(err).toMatchObject({ code: 'upstream_error', message: 'INTERNAL: Internal error encountered.', details: { upstream_status: 500, upstream_code: 'INTERNAL' } });
    expect(requestsTo('GET', '/services?')).toHaveLength(3);
  });

  it('maps an unreachable API to upstream_error (network) and an exhausted budget to timeout', async () => {
    const closed = await startFakeCloudRun();
    const url = closed.url;
    await closed.close();
    const err = await failure(call(list, {}, config({ GOOGLE_API_BASE_URL: url })));
    expect(err).toMatchObject({ code: 'upstream_error', details: { network: true } });
    expect(err.message).toContain('cannot reach the Cloud Run API');

    const timedOut = await failure(call(list, {}, config(), { signal: AbortSignal.abort() }));
    expect(timedOut.code).toBe('timeout');
  });

  it('maps 403 PERMISSION_DENIED without retrying', async () => {
    run.state.failures.push({ method: 'GET', path: /\/services$/, status: 403, rpcStatus: 'PERMISSION_DENIED', message: "Permission 'run.services.list' denied" });
    const err = await failure(call(list, {}));
    expect(err.details).toMatchObject({ upstream_status: 403, upstream_code: 'PERMISSION_DENIED' });
    expect(requestsTo('GET', '/services?')).toHaveLength(1);
  });
});

describe('google_cloud_run_describe', () => {
  it('returns url, revision, image, traffic, conditions and last modifier', async () => {
    run.state.operationPolls = 0;
    await call(deploy, { service_name: 'shop', image_uri: 'gcr.io/demo-project/shop:7', confirm: true });
    const out = await call(describeTool, { service_name: 'shop' });
    expect(requestsTo('GET', `/v2/${PARENT}/services/shop?`)).not.toHaveLength(0);
    expect(out).toMatchObject({
      exists: true,
      name: 'shop',
      state: 'ready',
      image: 'gcr.io/demo-project/shop:7',
      ingress: 'ALL',
      traffic: [{ type: 'LATEST', percent: 100 }],
      terminal_condition: { type: 'Ready', state: 'SUCCEEDED' },
      last_modifier: 'hub@test-project.iam.gserviceaccount.com',
    });
    expect(out.url).toMatch(/^https:\/\/shop-/);
    expect(out.latest_ready_revision).toMatch(/^shop-00001-/);
    expect((out.conditions as Json[]).map((c) => c.type)).toEqual(['RoutesReady', 'ConfigurationsReady']);
  });

  it('is not_found for a missing service', async () => {
    const err = await failure(call(describeTool, { service_name: 'ghost' }));
    expect(err).toMatchObject({ code: 'not_found', details: { upstream_status: 404, upstream_code: 'NOT_FOUND' } });
  });
});

describe('google_cloud_run_delete', () => {
  it('deletes and waits for the operation', async () => {
    await call(deploy, { service_name: 'tmp', image_uri: 'gcr.io/demo-project/tmp:1', confirm: true });
    run.state.requests.length = 0;
    const out = await call(del, { service_name: 'tmp', confirm: true });
    expect(requestsTo('DELETE', `/v2/${PARENT}/services/tmp?`)).toHaveLength(1);
    expect(requestsTo('GET', '/operations/')).toHaveLength(1);
    expect(out).toMatchObject({ status: 'deleted', service_name: 'tmp', project: 'demo-project', region: 'us-central1' });
    expect(run.state.services.has(`${PARENT}/services/tmp`)).toBe(false);
    const after = await call(describeTool, { service_name: 'tmp', operation: out.operation });
    expect(after).toMatchObject({ exists: false, operation: { done: true } });
  });

  it('is not_found for a missing service and describes its action', async () => {
    const err = await failure(call(del, { service_name: 'ghost', confirm: true }));
    expect(err).toMatchObject({ code: 'not_found', details: { upstream_status: 404 } });
    expect(del.describeAction!(del.input.parse({ service_name: 'web', region: 'europe-west1' }), config())).toBe(
      'Delete Cloud Run service "web" in project demo-project, region europe-west1 with all its revisions (its URL stops serving)',
    );
  });
});

describe('credentials through the client library', () => {
  it('uses a service-account key: JWT grant at token_uri, one token reused across calls', async () => {
    const cfg = config({ GOOGLE_OAUTH_TOKEN: '', GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify(tokens.createKey()) });
    await call(deploy, { service_name: 'sa-web', image_uri: 'gcr.io/demo-project/sa:1', confirm: true }, cfg);
    await call(list, {}, cfg);
    expect(tokens.grants).toHaveLength(1);
    expect(tokens.grants[0]!.scope).toBe('https://www.googleapis.com/auth/cloud-platform');
    const bearers = new Set(run.state.requests.map((r) => r.headers.authorization));
    expect([...bearers]).toEqual([`Bearer ${tokens.grants[0]!.access_token}`]);
  });

  it('maps a rejected token to auth_error naming the source', async () => {
    const err = await failure(call(list, {}, config({ GOOGLE_OAUTH_TOKEN: 'ya29.revoked' })));
    expect(err.code).toBe('auth_error');
    expect(err.message).toContain('GOOGLE_OAUTH_TOKEN');
    expect(err.message).not.toContain('ya29.revoked');
    expect(err.details).toMatchObject({ upstream_status: 401, upstream_code: 'UNAUTHENTICATED' });
  });

  it('maps a refused service-account key to auth_error before any API call', async () => {
    tokens.refuseWith = 'invalid_grant';
    try {
      const err = await failure(call(list, {}, config({ GOOGLE_OAUTH_TOKEN: '', GOOGLE_SERVICE_ACCOUNT_JSON: JSON.stringify(tokens.createKey()) })));
      expect(err.code).toBe('auth_error');
      expect(err.message).toContain('GOOGLE_SERVICE_ACCOUNT_JSON');
      expect(run.state.requests).toHaveLength(0);
    } finally {
      tokens.refuseWith = undefined;
    }
  });
});

describe('system', () => {
  const deps = {} as HubDeps;
  it('names the missing variables', async () => {
    expect(system.missingConfig(testConfig())).toBe('GOOGLE_OAUTH_TOKEN or GOOGLE_SERVICE_ACCOUNT_JSON');
    expect(system.missingConfig(config())).toBeNull();
    expect(await system.check(testConfig(), deps, AbortSignal.timeout(5000))).toEqual({ state: 'needs', variable: 'GOOGLE_OAUTH_TOKEN or GOOGLE_SERVICE_ACCOUNT_JSON' });
    expect(await system.check(testConfig({ GOOGLE_OAUTH_TOKEN: TOKEN }), deps, AbortSignal.timeout(5000))).toEqual({ state: 'needs', variable: 'GOOGLE_CLOUD_PROJECT' });
  });

  it('check() probes the API with a one-item list', async () => {
    const ok = await system.check(config(), deps, AbortSignal.timeout(5000));
    expect(ok.state).toBe('connected');
    expect(requestsTo('GET', `/v2/${PARENT}/services?`)[0]!.url).toContain('pageSize=1');
    const bad = await system.check(config({ GOOGLE_OAUTH_TOKEN: 'ya29.revoked' }), deps, AbortSignal.timeout(5000));
    expect(bad).toMatchObject({ state: 'failed' });
    expect(bad.state === 'failed' && bad.reason).toContain('auth_error');
  });

  it('declares the four tools with the catalog levels and annotations', () => {
    expect(system.tools.map((t) => [t.name, t.level])).toEqual([
      ['google_cloud_run_deploy', 'CRITICAL'],
      ['google_cloud_run_list', 'MEDIUM'],
      ['google_cloud_run_describe', 'LOW'],
      ['google_cloud_run_delete', 'CRITICAL'],
    ]);
    expect(list.annotations.readOnlyHint && describeTool.annotations.readOnlyHint).toBe(true);
    expect(del.annotations.destructiveHint && deploy.annotations.destructiveHint).toBe(true);
    for (const t of system.tools) {
      expect(t.description.length).toBeLessThanOrEqual(300);
      for (const [field, schema] of Object.entries(t.input.shape)) expect((schema as { description?: string }).description, `${t.name}.${field}`).toBeTruthy();
    }
  });
});
