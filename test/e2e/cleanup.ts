// Each test file deletes the namespaces it made, so files do not compete for the fake
// nodes' GPUs and the control plane stays small.
import { afterAll } from 'vitest';
import { deleteCreatedNamespaces } from './helpers.js';

afterAll(() => deleteCreatedNamespaces());
