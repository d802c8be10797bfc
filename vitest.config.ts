import { configDefaults, defineConfig } from 'vitest/config';
import { unsupportedNodeMessage } from './src/node-version.js';

// The tests run on the Node the hub requires (the embedded store needs `node:sqlite`): an older one stops here.
const unsupported = unsupportedNodeMessage(process.version);
if (unsupported) {
  process.stderr.write(`${unsupported}\n`);
  process.exit(1);
}

/**
 * The suites that start containers on the real Docker Engine (they skip without DOCKER_TEST_HOST). A container's
 * start and stop add and remove network interfaces, and Chromium fails a navigation under way at that moment with
 * net::ERR_NETWORK_CHANGED: so these run after every other file, never beside a browser test.
 */
export const ENGINE_SUITES = [
  'test/adapters/docker/docker-engine-contract.test.ts',
  'test/container/**/*.test.ts',
  'test/deploy/compose-cli.test.ts',
  'test/mcp/tasks-docker.test.ts',
  'test/reliability/tracing-stores.test.ts',
];

/** What every test file runs with. */
export const shared = {
  testTimeout: 30_000,
  hookTimeout: 60_000,
  pool: 'forks',
  // Suites that touch the shared Redis/Postgres use their own key prefixes/schemas, so files may run in parallel.
  fileParallelism: true,
  maxWorkers: 2,
} as const;

export default defineConfig({
  test: {
    ...shared,
    projects: [
      { extends: true, test: { name: 'hub', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...ENGINE_SUITES] } },
      { extends: true, test: { name: 'docker-engine', include: ENGINE_SUITES, sequence: { groupOrder: 1 } } },
    ],
  },
});
