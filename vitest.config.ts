import { defineConfig } from 'vitest/config';

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
