import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { system } from '../../../src/adapters/github/index.js';
import { githubCommitFiles } from '../../../src/adapters/github/tools-commit.js';
import { githubGetContents } from '../../../src/adapters/github/tools-contents.js';
import { githubCreateRepository } from '../../../src/adapters/github/tools-repos.js';
import { testConfig } from '../../helpers/config.js';
import { startFakeGitHub, type FakeGitHub } from '../../fakes/github.js';
import { failure, runTool, toolContext } from '../../helpers/context.js';

let gh: FakeGitHub;
let ctx: ReturnType<typeof toolContext>;
const lastRequest = () => gh.requests[gh.requests.length - 1];

beforeAll(async () => {
  gh = await startFakeGitHub();
  ctx = toolContext(testConfig({ GITHUB_TOKEN: gh.state.token, GITHUB_API_URL: gh.url }));
  gh.seedRepo('octo-dev/site', { 'README.md': '# site\n', 'src/app.ts': 'export const x = 1;\n', 'logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]) });
  gh.seedRepo('octo-dev/blank', {}, { empty: true });
});
afterAll(() => gh.close());
beforeEach(() => {
  gh.state.rateLimit = undefined;
});

describe('github_create_repository', () => {
  it('creates a private, initialised repository for the user by default', async () => {
    const res = await runTool(githubCreateRepository, { name: 'svc-one', description: 'A service' }, ctx);
    expect(lastRequest()).toMatchObject({ method: 'POST', url: '/user/repos' });
    expect(lastRequest().headers.authorization).toBe(`token ${gh.state.token}`);
    expect(JSON.parse(lastRequest().body)).toEqual({ name: 'svc-one', description: 'A service', private: true, auto_init: true });
    expect(res).toEqual({
      id: expect.any(Number),
      full_name: 'octo-dev/svc-one',
      owner: 'octo-dev',
      private: true,
      default_branch: 'main',
      html_url: 'https://github.com/octo-dev/svc-one',
      clone_url: 'https://github.com/octo-dev/svc-one.git',
      ssh_url: 'git@github.com:octo-dev/svc-one.git',
    });
    expect(githubCreateRepository.output!.parse(res)).toBeTruthy();
  });

  it('creates in an organization when org is given', async () => {
    const res = await runTool(githubCreateRepository, { name: 'platform', org: 'acme', private: false }, ctx);
    expect(lastRequest().url).toBe('/orgs/acme/repos');
    expect(res).toMatchObject({ full_name: 'acme/platform', private: false });
  });

  it('passes GitHub 422 message and errors for a taken name', async () => {
    const err = await failure(runTool(githubCreateRepository, { name: 'svc-one' }, ctx));
    expect(err.code).toBe('upstream_error');
    expect(err.message).toContain('Repository creation failed.');
    expect(err.details).toMatchObject({
      upstream_status: 422,
      errors: [{ resource: 'Repository', code: 'custom', field: 'name', message: 'name already exists on this account' }],
    });
  });

  it('answers upstream_error with GitHub\'s message for an unknown org (404)', async () => {
    const err = await failure(runTool(githubCreateRepository, { name: 'x', org: 'nobody' }, ctx));
    expect(err).toMatchObject({ code: 'upstream_error', details: { upstream_status: 404, upstream_message: 'Not Found' } });
  });
});

describe('github_commit_files', () => {
  it('commits several files and a deletion in ONE commit via the Git Data API', async () => {
    const before = gh.requests.length;
    const res = await runTool(
      githubCommitFiles,
      {
        owner: 'octo-dev',
        repo: 'site',
        message: 'Add server',
        files: [
          { path: 'src/server.ts', content: 'console.log("up");\n' },
          { path: 'bin/run.sh', content: Buffer.from('#!/bin/sh\necho run\n').toString('base64'), encoding: 'base64', executable: true },
        ],
        deletions: ['README.md'],
        author: { name: 'Hub Bot', email: 'bot@example.com' },
      },
      ctx,
    );
    const calls = gh.requests.slice(before).map((r) => `${r.method} ${r.url}`);
    expect(calls).toEqual([
      'GET /repos/octo-dev/site',
      'GET /repos/octo-dev/site/git/ref/heads%2Fmain',
      expect.stringMatching(/^GET \/repos\/octo-dev\/site\/git\/commits\/[0-9a-f]{40}$/),
      'POST /repos/octo-dev/site/git/blobs',
      'POST /repos/octo-dev/site/git/blobs',
      'POST /repos/octo-dev/site/git/trees',
      'POST /repos/octo-dev/site/git/commits',
      'PATCH /repos/octo-dev/site/git/refs/heads%2Fmain',
    ]);
    const tree = JSON.parse(gh.requests[before + 5].body) as { base_tree: string; tree: unknown[] };
    expect(tree.base_tree).toMatch(/^[0-9a-f]{40}$/);
    expect(tree.tree).toEqual([
      { path: 'src/server.ts', mode: '100644', type: 'blob', sha: expect.any(String) },
      { path: 'bin/run.sh', mode: '100755', type: 'blob', sha: expect.any(String) },
      { path: 'README.md', mode: '100644', type: 'blob', sha: null },
    ]);
    expect(JSON.parse(gh.requests[before + 7].body)).toEqual({ sha: res.commit_sha, force: false });
    expect(gh.filesAt('octo-dev/site', 'main')).toEqual({
      'src/app.ts': 'export const x = 1;\n',
      'src/server.ts': 'console.log("up");\n',
      'bin/run.sh': '#!/bin/sh\necho run\n',
      'logo.png': expect.any(String),
    });
    expect(res).toMatchObject({ branch: 'main', created_branch: false, files_written: ['src/server.ts', 'bin/run.sh'], files_deleted: ['README.md'] });
    expect(githubCommitFiles.output!.parse(res)).toBeTruthy();
    const commit = gh.state.repos.get('octo-dev/site')!.commits.get(res.commit_sha as string)!;
    expect(commit).toMatchObject({ message: 'Add server', parents: [res.parent_sha], author: { name: 'Hub Bot', email: 'bot@example.com' } });
  });

  it('creates a missing branch from the default branch when asked', async () => {
    const res = await runTool(
      githubCommitFiles,
      { owner: 'octo-dev', repo: 'site', branch: 'feature/docs', create_branch: true, message: 'Docs', files: [{ path: 'docs/a.md', content: 'A' }] },
      ctx,
    );
    expect(lastRequest()).toMatchObject({ method: 'POST', url: '/repos/octo-dev/site/git/refs' });
    expect(JSON.parse(lastRequest().body)).toEqual({ ref: 'refs/heads/feature/docs', sha: res.commit_sha });
    expect(res).toMatchObject({ branch: 'feature/docs', created_branch: true });
    expect(gh.filesAt('octo-dev/site', 'feature/docs')['docs/a.md']).toBe('A');
    expect(gh.filesAt('octo-dev/site', 'main')['docs/a.md']).toBeUndefined();
  });

  it('refuses a missing branch without create_branch', async () => {
    const err = await failure(runTool(githubCommitFiles, { owner: 'octo-dev', repo: 'site', branch: 'nope', message: 'm', files: [{ path: 'a', content: 'b' }] }, ctx));
    expect(err.code).toBe('not_found');
    expect(err.message).toContain('create_branch');
  });

  it('explains an empty repository (409)', async () => {
    const err = await failure(runTool(githubCommitFiles, { owner: 'octo-dev', repo: 'blank', branch: 'main', message: 'm', files: [{ path: 'a', content: 'b' }] }, ctx));
    expect(err.code).toBe('upstream_error');
    expect(err.message).toContain('auto_init');
  });

  it('passes a 422 from GitHub (deleting a path that does not exist)', async () => {
    const err = await failure(runTool(githubCommitFiles, { owner: 'octo-dev', repo: 'site', message: 'm', deletions: ['ghost.txt'] }, ctx));
    expect(err).toMatchObject({ code: 'upstream_error', details: { upstream_status: 422, upstream_message: 'GitRPC::BadObjectState' } });
  });

  it('validates paths and requires at least one change', () => {
    const base = { owner: 'octo-dev', repo: 'site', message: 'm' };
    expect(() => githubCommitFiles.input.parse(base)).toThrow();
    for (const path of ['../x', '/abs', 'a//b', '.git/config', 'a/../b']) {
      expect(() => githubCommitFiles.input.parse({ ...base, files: [{ path, content: 'x' }] }), path).toThrow();
    }
  });
});

describe('github_get_contents', () => {
  it('reads a text file decoded as UTF-8', async () => {
    const res = await runTool(githubGetContents, { owner: 'octo-dev', repo: 'site', path: 'src/app.ts' }, ctx);
    expect(lastRequest().url).toBe('/repos/octo-dev/site/contents/src%2Fapp.ts');
    expect(res).toMatchObject({ type: 'file', path: 'src/app.ts', encoding: 'utf-8', content: 'export const x = 1;\n', truncated: false, size: 20 });
  });

  it('returns a binary file as base64', async () => {
    const res = await runTool(githubGetContents, { owner: 'octo-dev', repo: 'site', path: 'logo.png' }, ctx);
    expect(res).toMatchObject({ encoding: 'base64', content: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]).toString('base64') });
  });

  it('caps large files at max_bytes and says so', async () => {
    gh.seedRepo('octo-dev/big', { 'big.txt': 'é'.repeat(30_000) });
    const res = await runTool(githubGetContents, { owner: 'octo-dev', repo: 'big', path: 'big.txt', max_bytes: 1001 }, ctx);
    expect(res.truncated).toBe(true);
    expect(res.content).toBe('é'.repeat(500));
  });

  it('lists a directory at a ref', async () => {
    const res = await runTool(githubGetContents, { owner: 'octo-dev', repo: 'site', path: 'docs', ref: 'feature/docs' }, ctx);
    expect(new URL(lastRequest().url, 'http://x').searchParams.get('ref')).toBe('feature/docs');
    expect(res).toMatchObject({ type: 'dir', count: 1, entries: [{ name: 'a.md', path: 'docs/a.md', type: 'file', size: 1 }] });
  });

  it('lists the root by default', async () => {
    const res = await runTool(githubGetContents, { owner: 'octo-dev', repo: 'site' }, ctx);
    expect((res.entries as { name: string }[]).map((e) => e.name)).toEqual(['bin', 'logo.png', 'src']);
  });

  it('answers upstream_error with GitHub\'s 404 message', async () => {
    const err = await failure(runTool(githubGetContents, { owner: 'octo-dev', repo: 'site', path: 'missing.txt' }, ctx));
    expect(err).toMatchObject({ code: 'upstream_error', details: { upstream_status: 404, upstream_message: 'Not Found' } });
  });
});

describe('GitHub errors and configuration', () => {
  it('maps 401 to auth_error naming GITHUB_TOKEN', async () => {
    const bad = toolContext(testConfig({ GITHUB_TOKEN: 'ghp_wrong', GITHUB_API_URL: gh.url }));
    const err = await failure(runTool(githubGetContents, { owner: 'octo-dev', repo: 'site' }, bad));
    expect(err.code).toBe('auth_error');
    expect(err.message).toContain('GITHUB_TOKEN');
    expect(err.details).toMatchObject({ upstream_status: 401, upstream_message: 'Bad credentials' });
  });

  it('maps the primary rate limit to upstream_error with reset_at and retry_after_s', async () => {
    gh.state.rateLimit = 'primary';
    const err = await failure(runTool(githubGetContents, { owner: 'octo-dev', repo: 'site' }, ctx));
    expect(err.code).toBe('upstream_error');
    expect(err.details).toMatchObject({ upstream_status: 403, rate_limited: true });
    expect(err.details.retry_after_s).toBeGreaterThan(500);
    expect(Date.parse(err.details.reset_at as string)).toBeGreaterThan(Date.now());
  });

  it('maps a secondary rate limit using retry-after', async () => {
    gh.state.rateLimit = 'secondary';
    const err = await failure(runTool(githubCreateRepository, { name: 'later' }, ctx));
    expect(err.details).toMatchObject({ rate_limited: true, retry_after_s: 45 });
    expect(err.message).toContain('secondary rate limit');
  });

  it('serves a GitHub Enterprise base URL (/api/v3)', async () => {
    const ghe = toolContext(testConfig({ GITHUB_TOKEN: gh.state.token, GITHUB_API_URL: `${gh.url}/api/v3` }));
    await runTool(githubGetContents, { owner: 'octo-dev', repo: 'site', path: 'src/app.ts' }, ghe);
    expect(lastRequest().url).toBe('/api/v3/repos/octo-dev/site/contents/src%2Fapp.ts');
  });

  it('names GITHUB_TOKEN when unset and not_configured if a tool runs anyway', async () => {
    const none = testConfig({});
    expect(system.missingConfig(none)).toBe('GITHUB_TOKEN');
    expect(system.missingConfig(ctx.config)).toBeNull();
    const err = await failure(runTool(githubGetContents, { owner: 'a', repo: 'b' }, toolContext(none)));
    expect(err).toMatchObject({ code: 'not_configured', details: { variable: 'GITHUB_TOKEN' } });
  });

  it('reports an unreachable API naming GITHUB_API_URL', async () => {
    const off = toolContext(testConfig({ GITHUB_TOKEN: 'x', GITHUB_API_URL: 'http://127.0.0.1:1' }));
    const err = await failure(runTool(githubGetContents, { owner: 'a', repo: 'b' }, off));
    expect(err).toMatchObject({ code: 'upstream_error', details: { variable: 'GITHUB_API_URL' } });
  });

  it('check() calls GET /user and reports the login and token scopes', async () => {
    const status = await system.check(ctx.config, ctx.services, AbortSignal.timeout(5000));
    expect(lastRequest().url).toBe('/user');
    expect(status).toEqual({ state: 'connected', detail: 'as octo-dev; scopes: repo, workflow' });
    const bad = testConfig({ GITHUB_TOKEN: 'ghp_wrong', GITHUB_API_URL: gh.url });
    const failed = await system.check(bad, ctx.services, AbortSignal.timeout(5000));
    expect(failed.state).toBe('failed');
    expect((failed as { reason: string }).reason).toContain('GITHUB_TOKEN');
  });

  it('lists the three tools with the catalog levels', () => {
    expect(system.tools.map((t) => [t.name, t.level])).toEqual([
      ['github_create_repository', 'HIGH'],
      ['github_commit_files', 'MEDIUM'],
      ['github_get_contents', 'LOW'],
    ]);
  });
});
