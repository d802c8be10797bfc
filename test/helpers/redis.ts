import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
export { freePort } from './spawn-hub.js';
import { RedisConnection, type RedisConnectionOptions } from '../../src/redis/connection.js';

export const REDIS_URL = process.env.REDIS_URL;

/** Call at the top of a suite gated on REDIS_URL, so a skipped run says why. */
export function warnIfNoRedis(suite: string): void {
  if (!REDIS_URL) console.warn(`REDIS_URL is not set: skipping ${suite}`);
}

/** A connection for tests; commands get a generous bound because the CI machine is shared. */
export function testConnection(url = REDIS_URL!, options: Partial<RedisConnectionOptions> = {}): RedisConnection {
  return new RedisConnection({ url, commandTimeoutMs: 2_000, ...options });
}

export async function deleteKeys(connection: RedisConnection, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await connection.client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    if (keys.length) await connection.client.del(...keys);
  } while (cursor !== '0');
}

/**
 * An admin connection for the enclosing describe block, for inspecting keys directly: opened before its tests, and
 * afterwards every key under `prefix` is deleted and the connection released.
 */
export function useRedisAdmin(prefix: string): { readonly client: Redis } {
  let admin: RedisConnection | undefined;
  beforeAll(async () => {
    admin = testConnection().acquire();
    await admin.waitUntilReady(5_000);
  });
  afterAll(async () => {
    if (!admin) return;
    await deleteKeys(admin, `${prefix}*`);
    await admin.release();
  });
  return {
    get client() {
      if (!admin) throw new Error('the Redis admin connection is open only inside the tests');
      return admin.client;
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `condition` every 50 ms; resolves with the time it took, rejects after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
  return Date.now() - started;
}

/**
 * A throw-away redis-server on `port` that the outage tests can kill and restart: without persistence, or with
 * `aofDir` an append-only file fsynced on every write, from which a restart in the same directory loads its data.
 */
export async function startRedisServer(port: number, options: { aofDir?: string } = {}): Promise<ChildProcess> {
  const persistence = options.aofDir ? ['--dir', options.aofDir, '--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence], {
    stdio: 'ignore',
  });
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    if (await canConnect(port)) return child;
    if (Date.now() - started > 10_000) throw new Error('redis-server did not start');
    await sleep(50);
  }
}

export function stopRedisServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
