import { defineConfig } from 'vitest/config';

// e2e files that use the fake nodes' GPUs (one fills a node and adds nodes, others assert where a
// GPU pod fits) or that would see another file's node come and go (a DaemonSet's pods): they
// run one by one on a control plane of their own (each project's global setup starts one),
// at the same time as the other files share the first.
const SERIAL_E2E = [
  'test/e2e/gpus.test.ts',
  'test/e2e/debug-pod.test.ts',
  'test/e2e/debug-pod-safety.test.ts',
  'test/e2e/rollout.test.ts',
  'test/e2e/scale.test.ts',
  'test/e2e/scale-matrix.test.ts',
  'test/e2e/tty.test.ts',
];

const e2e = {
  pool: 'threads' as const,
  environment: 'node',
  globalSetup: ['test/e2e/global-setup.ts'],
  setupFiles: ['test/e2e/cleanup.ts'],
  testTimeout: 180_000,
  hookTimeout: 180_000,
};

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
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...e2e,
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          exclude: SERIAL_E2E,
          // One control plane shared by several files at once: every file works in its own
          // namespaces, and most of a test's time is spent waiting on controllers, not on CPU.
          fileParallelism: true,
          maxWorkers: 3,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...e2e,
          name: 'e2e-serial',
          include: SERIAL_E2E,
          fileParallelism: false,
          sequence: { groupOrder: 0 },
        },
      },
    ],
  },
});
