// Each test file deletes the namespaces it made, so files do not compete for the fake
// nodes' GPUs and the control plane stays small.
import { afterAll } from 'vitest';
import { adminKube, createdNamespaces } from './helpers.js';
import { R, pathOf } from '../../src/kube/resources.js';

afterAll(async () => {
  const kube = adminKube();
  await Promise.all(createdNamespaces.splice(0).map((ns) => kube.delete(pathOf(R.namespaces, { name: ns })).catch(() => undefined)));
});
