import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { announceSkip } from '../helpers/docker-real.js';

/** Compose itself (v2 plugin or Debian's docker-compose v1) reads docker-compose.yml; no engine is needed for `config`. */

const ROOT = path.resolve(import.meta.dirname, '../..');

function findCompose(): string[] | undefined {
  for (const cmd of [['docker', 'compose'], ['docker-compose']]) {
    const r = spawnSync(cmd[0], [...cmd.slice(1), 'version'], { encoding: 'utf8' });
    if (r.status === 0) return cmd;
  }
  return undefined;
}

const compose = findCompose();
const skipReason = compose ? undefined : 'neither `docker compose` nor `docker-compose` is installed (.ci/run installs docker-compose)';
announceSkip('docker compose config', skipReason);

function config(env: Record<string, string>) {
  // A clean environment: only what Compose needs plus the variables under test (no .env file in a clone).
  const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };
  return spawnSync(compose![0], [...compose!.slice(1), '-f', 'docker-compose.yml', '--project-directory', ROOT, 'config'], {
    cwd: ROOT,
    env: { ...base, ...env },
    encoding: 'utf8',
  });
}

describe.skipIf(skipReason)(`docker-compose.yml read by ${compose?.join(' ') ?? 'Compose'}${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  it('is accepted, with the key and the stores interpolated', () => {
    const r = config({ MCP_API_KEY: 'compose-cli-key-0123456789', POSTGRES_PASSWORD: 'pw-under-test' });
    expect(r.stderr).not.toMatch(/invalid|error/i);
    expect(r.status).toBe(0);
    const resolved = parse(r.stdout) as { services: Record<string, { environment: Record<string, string> }> };
    expect(Object.keys(resolved.services).sort()).toEqual(['hub', 'postgres', 'redis']);
    expect(resolved.services.hub.environment).toMatchObject({
      MCP_API_KEY: 'compose-cli-key-0123456789',
      DATABASE_URL: 'postgres://omnihub:pw-under-test@postgres:5432/omnihub',
      REDIS_URL: 'redis://redis:6379/0',
    });
  });

  it('refuses to resolve without MCP_API_KEY, naming it', () => {
    const r = config({});
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('MCP_API_KEY');
  });
});
