import { describe, expect, it } from 'vitest';
import { testConfig } from './helpers/config.js';
import { formatConnectionTable, runConnectionChecks, summarize, type ConnectionRow } from '../src/connections.js';
import type { HubDeps } from '../src/deps.js';
import type { ConnectionStatus, SystemDefinition, SystemId } from '../src/tools/types.js';
import { sendJson, startFakeServer } from './helpers/fake-server.js';

// runConnectionChecks only hands deps to check(); these systems do not use them.
const deps = {} as HubDeps;

function system(id: SystemId, title: string, parts: Partial<Pick<SystemDefinition, 'missingConfig' | 'check'>>): SystemDefinition {
  return {
    id,
    title,
    tools: [],
    missingConfig: parts.missingConfig ?? (() => null),
    check: parts.check ?? (async () => ({ state: 'connected' })),
  };
}

describe('runConnectionChecks', () => {
  it('reports a missing variable as needs without probing', async () => {
    let probed = false;
    const rows = await runConnectionChecks(testConfig(), deps, [
      system('github', 'GitHub', {
        missingConfig: () => 'GITHUB_TOKEN',
        check: async () => {
          probed = true;
          return { state: 'connected' };
        },
      }),
    ]);
    expect(probed).toBe(false);
    expect(rows).toEqual([
      { system: 'github', title: 'GitHub', tools: 0, status: 'needs', detail: 'set GITHUB_TOKEN', variable: 'GITHUB_TOKEN', label: '⊘ Needs GITHUB_TOKEN' },
    ]);
  });

  it('probes configured systems over HTTP and labels connected and failed rows', async () => {
    const fake = await startFakeServer((req, res) => {
      if (req.url === '/ok') sendJson(res, 200, { ok: true });
      else sendJson(res, 401, { message: 'Bad credentials' });
    });
    try {
      const probe = (path: string) => async (_c: unknown, _d: unknown, signal: AbortSignal): Promise<ConnectionStatus> => {
        const res = await fetch(`${fake.url}${path}`, { signal });
        const body = (await res.json()) as { message?: string };
        return res.ok ? { state: 'connected', detail: `HTTP ${res.status}` } : { state: 'failed', reason: `HTTP ${res.status}: ${body.message}` };
      };
      const rows = await runConnectionChecks(testConfig(), deps, [
        system('maps', 'Google Maps', { check: probe('/ok') }),
        system('github', 'GitHub', { check: probe('/denied') }),
      ]);
      expect(fake.requests.map((r) => r.url).sort()).toEqual(['/denied', '/ok']);
      expect(rows.map((r) => [r.system, r.status, r.label])).toEqual([
        ['maps', 'connected', '✓ Connected'],
        ['github', 'failed', '✗ Failed: HTTP 401: Bad credentials'],
      ]);
      expect(rows[0]!.detail).toBe('HTTP 200');
    } finally {
      await fake.close();
    }
  });

  it('turns a thrown error into a failed row with a short reason', async () => {
    const rows = await runConnectionChecks(testConfig(), deps, [
      system('docker', 'Docker', {
        check: async () => {
          throw Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' });
        },
      }),
    ]);
    expect(rows[0]!.status).toBe('failed');
    expect(rows[0]!.label).toBe('✗ Failed: connect ENOENT /var/run/docker.sock');
  });

  it('names the network error code of a probe that cannot connect', async () => {
    const closed = await startFakeServer(() => {});
    const url = closed.url;
    await closed.close();
    const rows = await runConnectionChecks(testConfig(), deps, [
      system('github', 'GitHub', {
        check: async (_c, _d, signal) => {
          await fetch(url, { signal });
          return { state: 'connected' };
        },
      }),
    ]);
    expect(rows[0]!.label).toBe('✗ Failed: fetch failed (ECONNREFUSED)');
  });

  it('fails a probe that never answers, even one that ignores its abort signal', async () => {
    const fake = await startFakeServer(() => {
      // never answers
    });
    try {
      let sawAbort = false;
      const rows = await runConnectionChecks(
        testConfig(),
        deps,
        [
          system('chatgpt', 'ChatGPT Auto Builder', {
            check: async (_c, _d, signal) => {
              signal.addEventListener('abort', () => (sawAbort = true));
              await fetch(`${fake.url}/hang`, { signal });
              return { state: 'connected' };
            },
          }),
          system('ai_ml', 'Google AI/ML', { check: () => new Promise<ConnectionStatus>(() => {}) }),
        ],
        { timeoutMs: 200 },
      );
      expect(rows.map((r) => r.label)).toEqual(['✗ Failed: no answer within 200 ms', '✗ Failed: no answer within 200 ms']);
      expect(sawAbort).toBe(true);
      expect(fake.requests.map((r) => r.url)).toEqual(['/hang']);
    } finally {
      await fake.close();
    }
  });

  it('never puts a configured secret into a reason or detail', async () => {
    const config = testConfig({
      GITHUB_TOKEN: 'ghp_secretsecretsecret123',
      DATABASE_URL: 'postgres://hub:pa55w0rd-db@127.0.0.1:5432/x',
      CHATGPT_MCP_TOKEN: 'chatgpt-token-xyz-987',
    });
    const rows = await runConnectionChecks(config, deps, [
      system('github', 'GitHub', { check: async () => ({ state: 'failed', reason: 'token ghp_secretsecretsecret123 was refused' }) }),
      system('intelligence', 'Intelligence', {
        check: async () => {
          throw new Error('cannot connect to postgres://hub:pa55w0rd-db@127.0.0.1:5432/x');
        },
      }),
      system('chatgpt', 'ChatGPT', { check: async () => ({ state: 'connected', detail: 'using chatgpt-token-xyz-987' }) }),
      system('maps', 'Maps', { check: async () => ({ state: 'failed', reason: 'GET https://user:other-pass@example.test/x failed' }) }),
    ]);
    const text = JSON.stringify(rows);
    for (const secret of ['ghp_secretsecretsecret123', 'pa55w0rd-db', 'chatgpt-token-xyz-987', 'other-pass', 'test-key-0123456789abcdef']) {
      expect(text).not.toContain(secret);
    }
    expect(rows[0]!.label).toBe('✗ Failed: token [REDACTED] was refused');
    expect(rows[3]!.detail).toBe('GET https://[REDACTED]@example.test/x failed');
  });

  it('keeps reasons to one short line', async () => {
    const rows = await runConnectionChecks(testConfig(), deps, [
      system('github', 'GitHub', { check: async () => ({ state: 'failed', reason: `line one\nline two ${'x'.repeat(500)}` }) }),
    ]);
    expect(rows[0]!.detail.startsWith('line one line two')).toBe(true);
    expect(rows[0]!.detail.length).toBeLessThanOrEqual(200);
    expect(rows[0]!.detail).not.toContain('\n');
  });

  it('reports a check that answers needs (e.g. a credential found missing at probe time)', async () => {
    const rows = await runConnectionChecks(testConfig(), deps, [
      system('chatgpt', 'ChatGPT', { check: async () => ({ state: 'needs', variable: 'CHATGPT_MCP_ENDPOINT' }) }),
    ]);
    expect(rows[0]).toMatchObject({ status: 'needs', variable: 'CHATGPT_MCP_ENDPOINT', label: '⊘ Needs CHATGPT_MCP_ENDPOINT' });
  });
});

describe('formatConnectionTable', () => {
  const rows: ConnectionRow[] = [
    { system: 'cloud_run', title: 'Google Cloud Run', tools: 4, status: 'needs', detail: 'set X', variable: 'GOOGLE_OAUTH_TOKEN', label: '⊘ Needs GOOGLE_OAUTH_TOKEN' },
    { system: 'ai_ml', title: 'Google AI/ML', tools: 12, status: 'connected', detail: 'ok', label: '✓ Connected' },
    { system: 'docker', title: 'Docker', tools: 10, status: 'failed', detail: 'no socket', label: '✗ Failed: no socket' },
  ];

  it('aligns the columns and ends with a summary', () => {
    const text = formatConnectionTable(rows);
    expect(text).toBe(
      [
        'System            Tools  Status',
        '----------------  -----  --------------------------',
        'Google Cloud Run      4  ⊘ Needs GOOGLE_OAUTH_TOKEN',
        'Google AI/ML         12  ✓ Connected',
        'Docker               10  ✗ Failed: no socket',
        '',
        '1 connected, 1 need configuration, 1 failed',
        '',
      ].join('\n'),
    );
    expect(summarize(rows)).toEqual({ connected: 1, needs: 1, failed: 1 });
  });
});
