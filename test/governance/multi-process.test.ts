import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys, REDIS_URL, testConnection, warnIfNoRedis } from '../helpers/redis.js';
import type { RedisConnection } from '../../src/redis/connection.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

interface WorkerResult {
  allowed: number;
  refused: number;
  errors: string[];
  errorCount: number;
}

/**
 * N separate Node processes (each its own ioredis connection, as N hub replicas) hammer one key at once: the Lua
 * script must admit exactly the limit in total. The workers run plain JS, so the store is compiled first.
 */
warnIfNoRedis('the multi-process Redis quota test');
describe.skipIf(!REDIS_URL)('redis quota store across processes', () => {
  const prefix = `omni:test:multi:${randomUUID()}:`;
  let compiled: string;
  let admin: RedisConnection;

  beforeAll(() => {
    // Under node_modules so the compiled files resolve ioredis like the sources do.
    const cache = path.join(root, 'node_modules', '.cache');
    mkdirSync(cache, { recursive: true });
    compiled = mkdtempSync(path.join(cache, 'omni-hub-governance-'));
    execFileSync(process.execPath, [
      path.join(root, 'node_modules/typescript/bin/tsc'),
      '--outDir', compiled, '--rootDir', path.join(root, 'src'),
      '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--strict', '--skipLibCheck', '--types', 'node',
      path.join(root, 'src/governance/redis-quota-store.ts'),
      path.join(root, 'src/redis/connection.ts'),
    ], { cwd: root, stdio: 'pipe' });
    admin = testConnection().acquire();
  });

  afterAll(async () => {
    rmSync(compiled, { recursive: true, force: true });
    await deleteKeys(admin, `${prefix}*`);
    await admin.release();
  });

  it('4 processes × 1,000 concurrent take() with limit 250 admit exactly 250', async () => {
    const workers = Array.from({ length: 4 }, () =>
      spawn(process.execPath, [path.join(here, 'quota-worker.mjs'), compiled, REDIS_URL!, prefix, 'shared', '250', '1000'], {
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    const lines = workers.map((w) => {
      let out = '';
      let err = '';
      w.stdout.on('data', (d: Buffer) => (out += d));
      w.stderr.on('data', (d: Buffer) => (err += d));
      return {
        ready: new Promise<void>((resolve, reject) => {
          w.stdout.on('data', () => out.includes('ready\n') && resolve());
          w.once('exit', (code) => reject(new Error(`worker exited early (${code}): ${err}`)));
        }),
        done: new Promise<WorkerResult>((resolve, reject) => {
          w.once('exit', (code) => {
            if (code !== 0) return reject(new Error(`worker failed (${code}): ${err}`));
            resolve(JSON.parse(out.split('\n').filter(Boolean).at(-1)!) as WorkerResult);
          });
        }),
      };
    });
    await Promise.all(lines.map((l) => l.ready));
    for (const w of workers) w.stdin.end('go\n');
    const results = await Promise.all(lines.map((l) => l.done));

    expect(results.map((r) => r.errorCount)).toEqual([0, 0, 0, 0]);
    expect(results.reduce((n, r) => n + r.allowed, 0)).toBe(250);
    expect(results.reduce((n, r) => n + r.refused, 0)).toBe(3_750);
    expect(await admin.client.zcard(`${prefix}shared`)).toBe(250);
  });
});
