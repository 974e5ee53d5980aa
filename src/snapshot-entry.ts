// Entry of the native self-contained executable built with a V8 startup snapshot (see
// scripts/release.mjs): the bundle's modules are evaluated once, at build time, and each process
// starts from the heap they left. Everything per process (argv, env, stdio, signal handlers) is
// read inside main(), which runs only after deserialization.
import v8 from 'node:v8';
import { main } from './cli.js';
// Pure JavaScript that every command reaching the API server evaluates (kubeconfig parsing):
// evaluated here, it is part of the snapshot. Modules that open handles or load node:http(s)
// cannot be (V8 refuses to serialize their native state), so src/kube/ stays lazy.
import 'js-yaml';

v8.startupSnapshot.setDeserializeMainFunction(() => {
  void main();
});
