import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

interface Service {
  build?: string | { context: string };
  image?: string;
  environment?: Record<string, string>;
  healthcheck?: { test: string[] | string };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  ports?: string[];
  command?: string[];
}
const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const { hub, redis, postgres } = compose.services;

/** Compose variable interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, $$. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}/g, (whole, name: string | undefined, op: string | undefined, arg: string | undefined) => {
    if (whole === '$$') return '$';
    const v = env[name!];
    if (op === ':?' || op === '?') {
      if (v === undefined || (op === ':?' && v === '')) throw new Error(`required variable ${name}: ${arg}`);
      return v;
    }
    if (op === ':-') return v === undefined || v === '' ? arg! : v;
    if (op === '-') return v ?? arg!;
    return v ?? '';
  });
}

const hubEnv = (env: Record<string, string>) =>
  Object.fromEntries(Object.entries(hub!.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), env)]));

describe('docker-compose.yml', () => {
  it('runs the hub built from this directory with redis:7-alpine and postgres:16-alpine', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['hub', 'postgres', 'redis']);
    expect(typeof hub!.build === 'string' ? hub!.build : hub!.build?.context).toBe('.');
    expect(redis!.image).toBe('redis:7-alpine');
    expect(postgres!.image).toBe('postgres:16-alpine');
  });

  it('gives every service a health check and waits for healthy stores', () => {
    for (const [name, svc] of Object.entries(compose.services)) expect(svc.healthcheck?.test, name).toBeTruthy();
    expect(hub!.depends_on).toEqual({ redis: { condition: 'service_healthy' }, postgres: { condition: 'service_healthy' } });
    expect(JSON.stringify(redis!.healthcheck!.test)).toContain('redis-cli');
    expect(JSON.stringify(postgres!.healthcheck!.test)).toContain('pg_isready');
    // The hub's own check uses node (no curl in node:24-slim) on the port it listens on.
    const hubCheck = JSON.stringify(hub!.healthcheck!.test);
    expect(hubCheck).toContain('"node"');
    expect(hubCheck).toContain(`127.0.0.1:${hub!.environment!.PORT}/`);
  });

  it('keeps store data and hub data in named volumes', () => {
    const named = (svc: Service) => (svc.volumes ?? []).map((v) => v.split(':')[0]!);
    for (const v of [...named(hub!), ...named(redis!), ...named(postgres!)]) expect(Object.keys(compose.volumes)).toContain(v);
    expect(named(redis!).length).toBe(1);
    expect(named(postgres!).length).toBe(1);
    expect(postgres!.volumes![0]).toMatch(/:\/var\/lib\/postgresql\/data$/);
  });

  it('points the hub at the compose stores with the same credentials postgres is created with', () => {
    const env = hubEnv({ MCP_API_KEY: 'compose-test-key-0123456789' });
    expect(env.REDIS_URL).toBe('redis://redis:6379/0');
    const db = new URL(env.DATABASE_URL!);
    const pg = Object.fromEntries(Object.entries(postgres!.environment!).map(([k, v]) => [k, interpolate(String(v), {})]));
    expect(db.hostname).toBe('postgres');
    expect(db.username).toBe(pg.POSTGRES_USER);
    expect(db.password).toBe(pg.POSTGRES_PASSWORD);
    expect(db.pathname).toBe(`/${pg.POSTGRES_DB}`);
    // A password chosen in .env reaches both sides.
    expect(new URL(hubEnv({ MCP_API_KEY: 'x'.repeat(20), POSTGRES_PASSWORD: 's3cret' }).DATABASE_URL!).password).toBe('s3cret');
  });

  it('takes MCP_API_KEY from the environment and refuses to start without it', () => {
    expect(hub!.environment!.MCP_API_KEY).toMatch(/^\$\{MCP_API_KEY:\?/);
    expect(() => hubEnv({})).toThrow(/MCP_API_KEY/);
    // No secret literal is written in the file.
    for (const [k, v] of Object.entries(hub!.environment!)) {
      if (/KEY|TOKEN|SECRET/.test(k)) expect(String(v), k).toMatch(/^\$\{\w+:[-?]/);
    }
  });

  it('produces an environment the hub accepts', () => {
    const env = hubEnv({ MCP_API_KEY: 'compose-test-key-0123456789' });
    const config = loadConfig(env);
    expect(config.redisUrl).toBe('redis://redis:6379/0');
    expect(config.databaseUrl).toMatch(/^postgres:\/\/omnihub:/);
    expect(config.port).toBe(8080);
    expect(config.host).toBe('0.0.0.0');
    expect(config.apiKeyGenerated).toBe(false);
    // Unset optional credentials arrive as empty strings, which the hub treats as unset.
    expect(config.github.token).toBeUndefined();
    expect(config.publicUrl).toBeUndefined();
    const [, containerPort] = hub!.ports![0]!.split(/:(?=\d+$)/);
    expect(Number(containerPort)).toBe(config.port);
  });
});
