// The e2e files that must not overlap one another (one fills the fake nodes' GPUs and adds
// nodes, others assert where a GPU pod fits or see another file's node come and go) run
// here one after another, on a control plane of their own, while the other files share the
// first in parallel. One file, not a project of non-parallel files: vitest runs such a
// project only after every other project has finished.
// One of them alone: npx vitest run test/e2e/serial.test.ts -t gpus.serial
import { afterAll, describe } from 'vitest';
import { deleteCreatedNamespaces } from './helpers.js';

const FILES = ['gpus', 'debug-pod', 'debug-pod-safety', 'rollout', 'scale', 'scale-matrix', 'tty'];

for (const f of FILES) {
  describe(`${f}.serial`, async () => {
    // Each file's namespaces are gone before the next file starts: their pods would still hold GPUs.
    afterAll(() => deleteCreatedNamespaces({ wait: true }));
    await import(`./${f}.serial.ts`);
  });
}
