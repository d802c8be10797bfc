import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, TEST_KEY, testHub, type TestHub } from '../helpers/app.js';
import { answerApproval } from '../helpers/approval-page.js';
import { startFakeAutoBuilder, type FakeAutoBuilder } from '../fakes/autobuilder.js';
import { startFakeCloudRun, type FakeCloudRun } from '../fakes/cloud-run.js';
import { startFakeDockerEngine, type FakeDockerEngine } from '../fakes/docker-engine.js';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github.js';
import { startFakeWorkspace, type FakeWorkspace } from '../fakes/google-workspace.js';

type Result = { isError?: boolean; structuredContent?: Record<string, unknown>; content: { type: string; text?: string }[] };

const errorOf = (r: Result) => JSON.parse(r.content[0]!.text!).error as { code: string; [k: string]: unknown };

/**
 * The guide's first pipeline through the MCP endpoint, against local fakes of GitHub, the Docker Engine and the Cloud
 * Run Admin API: create repo → commit files → build → push → deploy (confirmed). Each step is governed and audited.
 */
describe('pipeline: code → GitHub → Docker → Cloud Run, over MCP', () => {
  let github: FakeGitHub;
  let docker: FakeDockerEngine;
  let run: FakeCloudRun;
  let hub: TestHub;
  let client: Client;

  beforeAll(async () => {
    github = await startFakeGitHub();
    docker = await startFakeDockerEngine();
    run = await startFakeCloudRun({ operationPolls: 1 });
    hub = await testHub({
      GITHUB_TOKEN: github.state.token,
      GITHUB_API_URL: github.url,
      DOCKER_HOST: docker.url,
      GOOGLE_OAUTH_TOKEN: 'ya29.e2e-token',
      GOOGLE_API_BASE_URL: run.url,
      GOOGLE_CLOUD_PROJECT: 'e2e-project',
    });
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = hub.app.server.address() as { port: number };
    client = new Client({ name: 'pipeline', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), { requestInit: { headers: AUTH } }));
  });
  afterAll(async () => {
    await client?.close();
    await hub?.close();
    await Promise.all([github?.close(), docker?.close(), run?.close()]);
  });

  const call = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as Result;

  it('runs every step, governed and audited', async () => {
    const repo = await call('github_create_repository', { name: 'hello-api', description: 'generated' });
    expect(repo.isError, JSON.stringify(repo)).toBeFalsy();
    expect(repo.structuredContent).toMatchObject({ full_name: 'octo-dev/hello-api', private: true });

    const commit = await call('github_commit_files', {
      owner: 'octo-dev',
      repo: 'hello-api',
      message: 'Add service',
      files: [
        { path: 'Dockerfile', content: 'FROM node:24-slim\nCOPY server.js .\nCMD ["node","server.js"]\n' },
        { path: 'server.js', content: 'require("http").createServer((q,s)=>s.end("hi")).listen(process.env.PORT)\n' },
      ],
    });
    expect(commit.isError, JSON.stringify(commit)).toBeFalsy();
    expect(github.filesAt('octo-dev/hello-api', 'main')).toMatchObject({ Dockerfile: expect.stringContaining('FROM node'), 'server.js': expect.any(String) });

    const image = 'us-central1-docker.pkg.dev/e2e-project/apps/hello-api:v1';
    // github.com's address literal: the hub resolves remote hosts and refuses non-public ones; this machine has no DNS.
    const build = await call('docker_build', { remote: 'https://140.82.121.3/octo-dev/hello-api.git', tags: [image] });
    expect(build.isError, JSON.stringify(build)).toBeFalsy();
    expect(build.structuredContent).toMatchObject({ status: 'built', tags: [image] });

    const push = await call('docker_push', { image });
    expect(push.isError, JSON.stringify(push)).toBeFalsy();
    expect(push.structuredContent).toMatchObject({ status: 'pushed' });
    expect(docker.state.pushes.map((p) => `${p.name}:${p.tag}`)).toContain(image);

    // The model's confirm alone does not deploy: a person approves the exact call on the hub's approval page.
    const unapproved = await call('google_cloud_run_deploy', { service_name: 'hello-api', image_uri: image, confirm: true });
    expect(unapproved.isError).toBe(true);
    const asked = errorOf(unapproved);
    expect(asked.code).toBe('approval_required');
    expect((await answerApproval(hub.app, `/approvals/${String(asked.approval_id)}`, 'approve', TEST_KEY)).statusCode).toBe(200);

    const deploy = await call('google_cloud_run_deploy', { service_name: 'hello-api', image_uri: image, approval_id: asked.approval_id });
    expect(deploy.isError, JSON.stringify(deploy)).toBeFalsy();
    expect(JSON.stringify(deploy.structuredContent)).toContain('hello-api');
    expect([...run.state.services.keys()]).toContain('projects/e2e-project/locations/us-central1/services/hello-api');

    await hub.deps.audit.flush();
    const { records } = await hub.deps.audit.list({ limit: 20 });
    const steps = records.map((r) => `${r.tool}:${r.outcome}`).reverse();
    expect(steps).toEqual([
      'github_create_repository:ok',
      'github_commit_files:ok',
      'docker_build:ok',
      'docker_push:ok',
      'google_cloud_run_deploy:denied_approval',
      'google_cloud_run_deploy:ok',
    ]);
    for (const r of records) expect(r.transport).toBe('mcp');
    expect(records.find((r) => r.tool === 'google_cloud_run_deploy' && r.outcome === 'ok')!.quota).toMatchObject({ used: 1, limit: 10 });
  });
});

describe('Cloud Run over MCP: deploy → list → describe → delete, and the CRITICAL quota', () => {
  let run: FakeCloudRun;
  let hub: TestHub;
  let client: Client;

  beforeAll(async () => {
    run = await startFakeCloudRun({ operationPolls: 0 });
    // APPROVAL=model: this suite is about the Cloud Run calls and their quota, so the model's confirm: true acts.
    hub = await testHub({ GOOGLE_OAUTH_TOKEN: 'ya29.e2e-token', GOOGLE_API_BASE_URL: run.url, GOOGLE_CLOUD_PROJECT: 'p1', APPROVAL: 'model' });
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = hub.app.server.address() as { port: number };
    client = new Client({ name: 'cloud-run', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), { requestInit: { headers: AUTH } }));
  });
  afterAll(async () => {
    await client?.close();
    await hub?.close();
    await run?.close();
  });

  const call = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as Result;

  it('deploys, lists, describes and deletes a service', async () => {
    const image = 'us-docker.pkg.dev/cloudrun/container/hello';
    const dry = await call('google_cloud_run_deploy', { service_name: 'svc-a', image_uri: image, dry_run: true });
    expect(dry.structuredContent).toMatchObject({ dry_run: true, uses_quota: false });
    expect(run.state.services.size).toBe(0);

    const deployed = await call('google_cloud_run_deploy', { service_name: 'svc-a', image_uri: image, confirm: true });
    expect(deployed.isError, JSON.stringify(deployed)).toBeFalsy();

    const list = await call('google_cloud_run_list', {});
    expect(JSON.stringify(list.structuredContent)).toContain('svc-a');

    const described = await call('google_cloud_run_describe', { service_name: 'svc-a' });
    expect(described.isError, JSON.stringify(described)).toBeFalsy();
    expect(String((described.structuredContent as { url?: string }).url)).toMatch(/^https:\/\//);

    const deleted = await call('google_cloud_run_delete', { service_name: 'svc-a', confirm: true });
    expect(deleted.isError, JSON.stringify(deleted)).toBeFalsy();
    expect(run.state.services.size).toBe(0);
  });

  it('refuses the 11th confirmed deploy in an hour with quota_exceeded', async () => {
    const image = 'us-docker.pkg.dev/cloudrun/container/hello';
    const results: Result[] = [];
    // One deploy already ran in the previous test: nine more fit, the next is refused.
    for (let i = 0; i < 10; i++) results.push(await call('google_cloud_run_deploy', { service_name: `svc-${i}`, image_uri: image, confirm: true }));
    expect(results.slice(0, 9).every((r) => !r.isError)).toBe(true);
    const refused = results[9]!;
    expect(refused.isError).toBe(true);
    expect(errorOf(refused)).toMatchObject({ code: 'quota_exceeded', limit: 10, window_s: 3600 });
    expect(Number(errorOf(refused).retry_after_s)).toBeGreaterThan(0);
    expect(run.state.services.has('projects/p1/locations/us-central1/services/svc-9')).toBe(false);
  });
});

/**
 * The guide's second pipeline over MCP against local fakes: Intelligence query → Auto Builder analyse → Sheets write →
 * Gmail send, then the asynchronous callback lands in the store and `search`/`fetch` find it.
 */
describe('pipeline: Intelligence → Auto Builder → Sheets → Gmail, over MCP', () => {
  let workspace: FakeWorkspace;
  let builder: FakeAutoBuilder;
  let hub: TestHub;
  let client: Client;

  beforeAll(async () => {
    workspace = await startFakeWorkspace();
    builder = await startFakeAutoBuilder();
    hub = await testHub({
      GOOGLE_OAUTH_TOKEN: 'ya29.e2e-token',
      GOOGLE_API_BASE_URL: workspace.url,
      CHATGPT_MCP_ENDPOINT: builder.url,
    });
    await hub.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = hub.app.server.address() as { port: number };
    client = new Client({ name: 'analytics', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), { requestInit: { headers: AUTH } }));
  });
  afterAll(async () => {
    await client?.close();
    await hub?.close();
    await Promise.all([workspace?.close(), builder?.close()]);
  });

  const call = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as Result;

  it('queries, analyses, writes the report and mails the summary', async () => {
    for (const [title, text] of [
      ['Q3 latency review', 'p99 latency of the checkout service rose 40% after the October release'],
      ['Q3 cost review', 'Cloud Run spend fell 12% after min instances were lowered'],
    ]) {
      expect((await call('intelligence_ingest', { title, text, tags: ['q3'] })).isError).toBeFalsy();
    }
    const query = await call('intelligence_query', { query: 'latency', tags: ['q3'] });
    const hits = (query.structuredContent as { hits: { id: string; title: string }[] }).hits;
    expect(hits[0]!.title).toBe('Q3 latency review');

    builder.mode = { kind: 'success', result: { summary: 'Latency regressed after the October release; roll back the cache change.' } };
    const analysis = await call('chatgpt_auto_builder_execute', { command: 'Analyse these findings', context: { findings: hits } });
    expect(analysis.isError, JSON.stringify(analysis)).toBeFalsy();
    const summary = ((analysis.structuredContent as { result: { summary: string } }).result).summary;
    expect(builder.executes()[0]).toMatchObject({ command: 'Analyse these findings', context: { findings: [{ title: 'Q3 latency review' }] } });

    workspace.state.sheets['report-sheet-1'] = { Sheet1: [] };
    const sheet = await call('google_sheets_write', {
      spreadsheet_id: 'report-sheet-1',
      range: 'Sheet1!A1',
      mode: 'update',
      values: [['Finding', 'Analysis'], [hits[0]!.title, summary]],
    });
    expect(sheet.isError, JSON.stringify(sheet)).toBeFalsy();
    expect(workspace.state.sheets['report-sheet-1']?.Sheet1?.[1]).toEqual(['Q3 latency review', summary]);

    const mail = await call('google_gmail_send', { to: ['lead@example.com'], subject: 'Q3 analysis — résumé', text: summary });
    expect(mail.isError, JSON.stringify(mail)).toBeFalsy();
    expect(workspace.state.sent).toHaveLength(1);
    expect(workspace.state.sent[0]!.text).toContain('roll back the cache change');
    expect(workspace.state.sent[0]!.headers.subject).toBe('Q3 analysis — résumé');

    await hub.deps.audit.flush();
    const { records } = await hub.deps.audit.list({ limit: 10 });
    expect(records.map((r) => `${r.tool}:${r.outcome}`).reverse().slice(-4)).toEqual([
      'intelligence_query:ok',
      'chatgpt_auto_builder_execute:ok',
      'google_sheets_write:ok',
      'google_gmail_send:ok',
    ]);
  });
});
