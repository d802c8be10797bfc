import { defineConfig } from 'vitest/config';
import { unsupportedNodeMessage } from './src/node-version.js';

// The tests run on the Node the hub requires (the embedded store needs `node:sqlite`): an older one stops here.
const unsupported = unsupportedNodeMessage(process.version);
if (unsupported) {
  process.stderr.write(`${unsupported}\n`);
  process.exit(1);
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Suites that touch the shared Redis/Postgres use their own key prefixes/schemas, so files may run in parallel.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
