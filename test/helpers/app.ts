import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import { testConfig } from './config.js';
import { createDeps } from '../../src/deps-factory.js';
import type { HubDeps } from '../../src/deps.js';

export const TEST_KEY = 'test-key-0123456789abcdef';
export const AUTH = { authorization: `Bearer ${TEST_KEY}` };

export interface TestHub {
  app: FastifyInstance;
  config: Config;
  deps: HubDeps;
  close(): Promise<void>;
}

/** A hub on embedded defaults (memory quotas, SQLite in a temp dir) driven with app.inject(). */
export async function testHub(env: Record<string, string> = {}, options: AppOptions = {}): Promise<TestHub> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'omni-hub-test-'));
  const config = testConfig({ DATA_DIR: dataDir, ...env });
  const deps = await createDeps(config, pino({ level: 'silent' }));
  const app = await buildApp(config, deps, options);
  await app.ready();
  return {
    app,
    config,
    deps,
    async close() {
      await app.close();
      await deps.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Waits until /readyz answers 200 (e.g. the Redis connection is up), at most `timeoutMs`; false if it never did. */
export async function untilReady(hub: TestHub, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await hub.app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** JSON-RPC POST headers a Streamable HTTP client sends. */
export const MCP_HEADERS = {
  ...AUTH,
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};
