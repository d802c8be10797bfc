import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, startHubProcess } from '../helpers/spawn-hub.js';

const MAIN = path.join(ROOT, 'dist/main.js');
const built = existsSync(MAIN);
if (!built) console.warn(`skipping the production start test: ${MAIN} is missing (npm test builds it; or run npm run build)`);

/**
 * What the Docker runtime stage does, without Docker: package.json + lockfile + dist/ only, `npm ci --omit=dev`, then the
 * image's CMD. Catches a runtime import of a dev dependency and a start or shutdown that does not work in production mode.
 */
describe.skipIf(!built)('production start from a clean --omit=dev install', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'omni-hub-prod-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('installs, serves /healthz and /readyz, and exits 0 on SIGTERM', { timeout: 120_000 }, async () => {
    for (const f of ['package.json', 'package-lock.json']) cpSync(path.join(ROOT, f), path.join(dir, f));
    cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
    await promisify(execFile)('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: dir,
      env: { ...process.env, NODE_ENV: 'production' },
      timeout: 100_000,
    });
    expect(existsSync(path.join(dir, 'node_modules/typescript'))).toBe(false);
    expect(existsSync(path.join(dir, 'node_modules/vitest'))).toBe(false);

    const key = 'prod-start-key-0123456789abcdef';
    const hub = await startHubProcess({ NODE_ENV: 'production', MCP_API_KEY: key, LOG_LEVEL: 'warn' }, { cwd: dir, main: path.join(dir, 'dist/main.js') });
    try {
      const health = await fetch(`${hub.url}/healthz`);
      expect(health.status).toBe(200);
      const ready = await fetch(`${hub.url}/readyz`);
      expect(ready.status).toBe(200);
      const tools = await fetch(`${hub.url}/v1/tools`, { headers: { authorization: `Bearer ${key}` } });
      expect(tools.status).toBe(200);
      // The key came from the environment: nothing generated, nothing printed.
      expect(hub.stderr()).not.toContain('generated');
    } finally {
      const code = await hub.stop('SIGTERM');
      expect(code).toBe(0);
    }
  });
});
