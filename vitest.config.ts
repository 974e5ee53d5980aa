import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Worker threads end cleanly; forked workers were held open by keep-alive sockets.
    pool: 'threads',
    projects: [
      {
        test: {
          name: 'unit',
          pool: 'threads',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'e2e',
          pool: 'threads',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/e2e/global-setup.ts'],
          setupFiles: ['test/e2e/cleanup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // One control plane on 2 cores: run files one by one, tests within a file in order.
          fileParallelism: false,
        },
      },
    ],
  },
});
