import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheckCommand } from '../../src/cli/check.js';
import type { ConnectionRow } from '../../src/connections.js';
import { sendJson, startFakeServer, type FakeServer } from '../helpers/fake-server.js';

/** Runs the check in-process with exactly this environment (nothing from process.env). */
async function check(env: Record<string, string>, argv: string[] = ['--json']) {
  let stdout = '';
  let stderr = '';
  const code = await runCheckCommand(argv, { DATA_DIR: mkdtempSync(path.join(tmpdir(), 'omni-hub-check-')), ...env }, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
  });
  return { code, stdout, stderr, rows: () => JSON.parse(stdout) as ConnectionRow[] };
}
const row = (rows: ConnectionRow[], system: string) => rows.find((r) => r.system === system)!;

const TOKEN = 'ghp_checkcommandtoken0123456789';

// GitHub's REST wire format: GET /user with the token answers the authenticated user; a bad token answers 401.
const githubUser = { login: 'octocat', id: 1, type: 'User', html_url: 'https://github.com/octocat' };
const badCredentials = { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' };

describe('npm run check (in-process)', () => {
  let github: FakeServer;
  let denied: FakeServer;
  let hanging: FakeServer;

  beforeAll(async () => {
    github = await startFakeServer((req, res) => {
      if (req.method === 'GET' && req.url === '/user') sendJson(res, 200, githubUser, { 'x-oauth-scopes': 'repo' });
      else sendJson(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    });
    denied = await startFakeServer((_req, res) => sendJson(res, 401, badCredentials));
    hanging = await startFakeServer(() => {
      // accepts the request and never answers
    });
  });
  afterAll(async () => {
    await Promise.all([github.close(), denied.close(), hanging.close()]);
  });

  it('on a fresh environment: embedded systems connect, the others name the variable to set', { timeout: 90_000 }, async () => {
    // A generous bound: the embedded database is created from scratch on this first probe.
    const { rows } = await check({}, ['--json', '--timeout', '60000']);
    const list = rows();
    expect(list.map((r) => r.system)).toEqual(['cloud_run', 'workspace', 'ai_ml', 'maps', 'docker', 'intelligence', 'github', 'chatgpt', 'connector']);
    for (const system of ['intelligence', 'connector']) {
      expect(row(list, system)).toMatchObject({ status: 'connected', label: '✓ Connected' });
    }
    for (const system of ['cloud_run', 'workspace', 'ai_ml', 'maps', 'github', 'chatgpt']) {
      const r = row(list, system);
      expect(r.status, system).toBe('needs');
      expect(r.variable, system).toBeTruthy();
      expect(r.label).toBe(`⊘ Needs ${r.variable}`);
    }
    expect(row(list, 'github').variable).toBe('GITHUB_TOKEN');
    expect(row(list, 'chatgpt').variable).toBe('CHATGPT_MCP_ENDPOINT');
    expect(row(list, 'maps').variable).toContain('GOOGLE_API_KEY');
    expect(row(list, 'cloud_run').variable).toMatch(/GOOGLE_/);
    if (!existsSync('/var/run/docker.sock')) expect(['failed', 'needs']).toContain(row(list, 'docker').status);
    for (const r of list) expect(r.tools, r.system).toBeGreaterThan(0);
  });

  it('GitHub answering GET /user is ✓ and the token was sent', async () => {
    const before = github.requests.length;
    const { code, rows } = await check({ TOOLSETS: 'github', GITHUB_TOKEN: TOKEN, GITHUB_API_URL: github.url });
    const sent = github.requests.slice(before);
    expect(sent.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /user']);
    expect(sent[0]!.headers.authorization).toMatch(new RegExp(`^(token|bearer) ${TOKEN}$`, 'i'));
    expect(rows()).toEqual([expect.objectContaining({ system: 'github', title: 'GitHub', tools: 3, status: 'connected', label: '✓ Connected' })]);
    expect(code).toBe(0);
  });

  it('GitHub answering 401 is ✗, the exit code is 1, and the token is not printed', async () => {
    const { code, rows, stdout } = await check({ TOOLSETS: 'github,chatgpt', GITHUB_TOKEN: TOKEN, GITHUB_API_URL: denied.url });
    const r = row(rows(), 'github');
    expect(r.status).toBe('failed');
    expect(r.label).toMatch(/^✗ Failed: .*401/);
    expect(stdout).not.toContain(TOKEN);
    // A system that only lacks configuration does not make the check fail; the failed one does.
    expect(row(rows(), 'chatgpt').status).toBe('needs');
    expect(code).toBe(1);
  });

  it('a GitHub endpoint that never answers is ✗ by timeout', async () => {
    const { code, rows } = await check({ TOOLSETS: 'github', GITHUB_TOKEN: TOKEN, GITHUB_API_URL: hanging.url }, ['--json', '--timeout=300']);
    expect(hanging.requests.map((r) => r.url)).toEqual(['/user']);
    expect(row(rows(), 'github').status).toBe('failed');
    expect(code).toBe(1);
  });

  it('ChatGPT Auto Builder endpoint that answers is ✓', async () => {
    const endpoint = await startFakeServer((_req, res) => sendJson(res, 404, { detail: 'Not Found' }));
    try {
      const { code, rows } = await check({ TOOLSETS: 'chatgpt', CHATGPT_MCP_ENDPOINT: `${endpoint.url}/v1/gpt` });
      expect(endpoint.requests.length).toBeGreaterThan(0);
      expect(row(rows(), 'chatgpt')).toMatchObject({ status: 'connected', label: '✓ Connected' });
      expect(code).toBe(0);
    } finally {
      await endpoint.close();
    }
  });

  it('prints an aligned table without --json', async () => {
    const { code, stdout } = await check({ TOOLSETS: 'github,chatgpt', GITHUB_TOKEN: TOKEN, GITHUB_API_URL: github.url }, []);
    expect(stdout.split('\n').slice(0, 4)).toEqual([
      'System                Tools  Status',
      '--------------------  -----  ----------------------------',
      'GitHub                    3  ✓ Connected',
      'ChatGPT Auto Builder      1  ⊘ Needs CHATGPT_MCP_ENDPOINT',
    ]);
    expect(stdout).toContain('1 connected, 1 need configuration, 0 failed');
    expect(code).toBe(0);
  });

  it('a bad environment is one line on stderr and exit code 1', async () => {
    const { code, stdout, stderr } = await check({ GOVERNANCE_MODE: 'loose' });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('GOVERNANCE_MODE');
  });

  it('rejects unknown arguments', async () => {
    const { code, stderr } = await check({}, ['--jsn']);
    expect(code).toBe(1);
    expect(stderr).toContain('--jsn');
  });
});
