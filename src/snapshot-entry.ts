// Entry of the native self-contained executable built with a V8 startup snapshot (see
// scripts/release.mjs): the bundle's modules are evaluated once, at build time, and each process
// starts from the heap they left. Everything per process (argv, env, stdio, signal handlers) is
// read inside main(), which runs only after deserialization.
import v8 from 'node:v8';
import { Writable } from 'node:stream';
import { main, run } from './cli.js';
import { Journal } from './commands/flow.js';
// Pure JavaScript that every command reaching the API server evaluates (kubeconfig parsing):
// evaluated here, it is part of the snapshot. Modules that open handles or load node:http(s)
// cannot be (V8 refuses to serialize their native state), so src/kube/ stays lazy.
import 'js-yaml';

// One `--help` against throwaway deps (no process state, no network) compiles the program
// building and help rendering that every start runs, so the snapshot holds their bytecode.
const discard = () => new Writable({ write: (_c, _e, cb) => cb() });
void run(['--help'], {
  out: discard(),
  err: discard(),
  env: {},
  now: () => new Date(0),
  stdinIsTTY: false,
  confirm: async () => false,
  connect: async () => {
    throw new Error('no connection while building the snapshot');
  },
  sleep: async () => undefined,
  signal: new AbortController().signal,
  version: '0.0.0',
  journal: new Journal(),
});

v8.startupSnapshot.setDeserializeMainFunction(() => {
  void main();
});
