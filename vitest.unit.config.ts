import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';
import { shared } from './vitest.config.js';

/**
 * `npm run test:unit`: the tests that start no process (no hub, no stdio upstream, no redis-server, no browser, no
 * Docker) and need no Redis or PostgreSQL. Which files those are is read from the files themselves, so a new test is
 * placed without a list to keep: a file that spawns a process, or uses a helper that does, is left to `npm test`;
 * suites gated on REDIS_URL / DATABASE_URL see them unset and skip (the Intelligence store tests then run on the
 * embedded SQLite store only). In-process fakes (test/fakes/) and `app.inject` are fine: they are the unit tests' tools.
 */
const STARTS_A_PROCESS =
  /node:child_process|helpers\/spawn-hub\.js|upstreams\/helpers\.js|stdioHostile|stdioEverything|startEverythingHttp|startHostileHttp|startRedisServer|helpers\/chromium\.js|helpers\/docker-real\.js|conformance|['"`/]dist\//;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(file);
    return entry.name.endsWith('.test.ts') ? [file] : [];
  });
}

const processTests = testFiles('test').filter((file) => STARTS_A_PROCESS.test(readFileSync(file, 'utf8')));

export default defineConfig({
  test: {
    ...shared,
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...processTests],
    env: { REDIS_URL: '', DATABASE_URL: '' },
  },
});
