import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, startHubProcess } from '../helpers/spawn-hub.js';
import { parseDockerfile } from './dockerfile-parser.js';

const MAIN = path.join(ROOT, 'dist/main.js');
const built = existsSync(MAIN);
if (!built) console.warn(`skipping the production start test: ${MAIN} is missing (npm test builds it; or run npm run build)`);

/**
 * The files the Dockerfile's runtime stage copies, as [source in this checkout, destination under the app dir].
 * `--from=<build stage> /app/x` is this checkout's own build output x (npm test builds it as the build stage would).
 */
function runtimeCopies(): Array<[string, string]> {
  const { stages } = parseDockerfile(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
  const runtime = stages.at(-1)!;
  const out: Array<[string, string]> = [];
  for (const inst of runtime.instructions.filter((i) => i.keyword === 'COPY')) {
    const words = inst.args.split(/\s+/);
    const fromBuild = words.some((w) => w.startsWith('--from='));
    const [dest, ...sources] = words.filter((w) => !w.startsWith('--')).reverse();
    for (const src of sources.reverse()) {
      const local = fromBuild ? src.replace(/^\/app\//, '') : src;
      const target = dest!.endsWith('/') ? path.join(dest!, path.basename(local)) : dest!;
      out.push([path.join(ROOT, local), target]);
    }
  }
  return out;
}

/**
 * What the image does, without Docker: the runtime stage's files only, `npm ci --omit=dev`, then the image's CMD.
 * Catches a runtime import of a dev dependency, a file the image forgets, and a start or shutdown that fails in production.
 */
describe.skipIf(!built)('production start from a clean --omit=dev install', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'omni-hub-prod-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('installs, serves /healthz and /readyz, and exits 0 on SIGTERM', { timeout: 120_000 }, async () => {
    const copies = runtimeCopies();
    expect(copies.map(([, to]) => to)).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', './dist']));
    for (const [from, to] of copies) cpSync(from, path.join(dir, to), { recursive: true });
    await promisify(execFile)('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: dir,
      env: { ...process.env, NODE_ENV: 'production' },
      timeout: 100_000,
    });
    expect(existsSync(path.join(dir, 'node_modules/typescript'))).toBe(false);
    expect(existsSync(path.join(dir, 'node_modules/vitest'))).toBe(false);

    const key = 'prod-start-key-0123456789abcdef';
    const hub = await startHubProcess({ NODE_ENV: 'production', MCP_API_KEY: key, LOG_LEVEL: 'warn' }, { cwd: dir, main: path.join(dir, 'dist/main.js') });
    let stopped = false;
    try {
      expect((await fetch(`${hub.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${hub.url}/readyz`)).status).toBe(200);
      const tools = await fetch(`${hub.url}/v1/tools`, { headers: { authorization: `Bearer ${key}` } });
      expect(tools.status).toBe(200);
      expect(((await tools.json()) as { tools: unknown[] }).tools.length).toBeGreaterThan(0);
      // The key came from the environment: nothing generated, nothing printed.
      expect(hub.stderr()).not.toContain('generated');
      stopped = true;
      expect(await hub.stop('SIGTERM')).toBe(0);
    } finally {
      if (!stopped) await hub.stop('SIGKILL');
    }
  });
});
