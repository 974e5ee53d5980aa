import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The serial e2e file (test/e2e/serial.test.ts) is the longest: it starts first, so it is not
// the last thing running.
class SerialFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const serial = (f: TestSpecification) => f.moduleId.endsWith('serial.test.ts');
    return [...sorted.filter(serial), ...sorted.filter((f) => !serial(f))];
  }
}

const e2e = {
  pool: 'threads' as const,
  environment: 'node',
  globalSetup: ['test/e2e/global-setup.ts'],
  setupFiles: ['test/e2e/cleanup.ts'],
  testTimeout: 180_000,
  hookTimeout: 180_000,
};

// Projects of the same group share one pool, so they state the same maxWorkers: the serial
// file plus three others at a time. Most of an e2e file's time is spent waiting on
// controllers, not on CPU.
const maxWorkers = 4;

export default defineConfig({
  test: {
    // Worker threads end cleanly; forked workers were held open by keep-alive sockets.
    pool: 'threads',
    sequence: { sequencer: SerialFirst },
    projects: [
      {
        test: {
          name: 'unit',
          pool: 'threads',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // They share two cores with the control planes and the e2e files: a test that takes
          // 1 s alone (doctor's 50 access reviews through nock) can take ten times that here.
          testTimeout: 30_000,
          maxWorkers,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...e2e,
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          exclude: ['test/e2e/serial.test.ts'],
          // One control plane shared by several files at once: every file works in its own namespaces.
          maxWorkers,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...e2e,
          // test/e2e/*.serial.ts, one after another in one file, on a control plane of its own.
          name: 'e2e-serial',
          include: ['test/e2e/serial.test.ts'],
          maxWorkers,
          sequence: { groupOrder: 0 },
        },
      },
    ],
  },
});
