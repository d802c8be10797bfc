import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionRow } from '../../src/connections.js';
import { sendJson, startFakeServer, type FakeServer } from '../helpers/fake-server.js';
import { ROOT } from '../helpers/spawn-hub.js';

const CLI = path.join(ROOT, 'dist/cli/check.js');
const built = existsSync(CLI);
if (!built) console.warn(`skipping the check CLI process tests: ${CLI} is missing (npm test builds it; or run npm run build)`);

/** Runs `node dist/cli/check.js` as `npm run check` does, with only the given environment. */
function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH ?? '', DATA_DIR: mkdtempSync(path.join(tmpdir(), 'omni-hub-cli-')), ...env }, timeout: 60_000 },
      (_err, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

describe.skipIf(!built)('node dist/cli/check.js', () => {
  let github: FakeServer;
  const TOKEN = 'ghp_clitoken0123456789abcdef';

  beforeAll(async () => {
    github = await startFakeServer((req, res) => {
      if (req.url !== '/user') return sendJson(res, 404, { message: 'Not Found' });
      if (req.headers.authorization?.endsWith(TOKEN)) return sendJson(res, 200, { login: 'octocat', id: 1, type: 'User' });
      return sendJson(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
    });
  });
  afterAll(() => github.close());

  it('exits 0 with --json rows when configured systems connect and the rest only need configuration', async () => {
    const { code, stdout, stderr } = await runCli(['--json'], { TOOLSETS: 'github,chatgpt', GITHUB_TOKEN: TOKEN, GITHUB_API_URL: github.url });
    expect(stderr).toBe('');
    const rows = JSON.parse(stdout) as ConnectionRow[];
    expect(rows.map((r) => [r.system, r.status])).toEqual([
      ['github', 'connected'],
      ['chatgpt', 'needs'],
    ]);
    expect(code).toBe(0);
  });

  it('exits 1 and prints the table when a configured system fails', async () => {
    const { code, stdout } = await runCli([], { TOOLSETS: 'github', GITHUB_TOKEN: 'ghp_wrongtoken000000000000', GITHUB_API_URL: github.url });
    expect(stdout).toMatch(/^GitHub\s+3\s+✗ Failed: /m);
    expect(stdout).not.toContain('ghp_wrongtoken000000000000');
    expect(code).toBe(1);
  });

  it('exits 1 with one line on a bad environment', async () => {
    const { code, stdout, stderr } = await runCli([], { PORT: 'eighty' });
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([expect.stringContaining('PORT')]);
    expect(code).toBe(1);
  });
});
