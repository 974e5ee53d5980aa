// kubectl as the oracle: a differential scenario runs kubectl on twin A and the plugin on twin
// B, reads both end states the same way, and the test compares them (and the exit codes).
//
// API (three functions):
//   kubectl(args, opts?)    runs the machine's kubectl against the test cluster (admin
//                           kubeconfig unless opts.kubeconfig); resolves to { code, out, err }.
//   twins({ oracle, plugin, state })
//                           runs oracle() (kubectl on twin A) and plugin() (the plugin on twin B)
//                           one after the other, then state('a') and state('b'); resolves to
//                           { a: { run, state }, b: { run, state } }. The caller asserts
//                           equality, and says in one line wherever the plugin differs on purpose.
//   sameOutcome(a, b)       'ok' | 'failed' for each run: kubectl's usage errors exit 1 where the
//                           plugin's exit 2, so compare success and failure, not the number.
//
// Example:
//   const t = await twins({
//     oracle: () => kubectl(['create', 'configmap', 'a', '--from-literal', 'k=v', '-n', ns]),
//     plugin: () => mlops(['config', 'b', '--from-literal', 'k=v', '-n', ns]),
//     state: (twin) => kube.getOptional(`/api/v1/namespaces/${ns}/configmaps/${twin}`).then((c) => c?.data),
//   });
//   expect(t.b.state).toEqual(t.a.state);
import { inject } from 'vitest';
import { run, type Run } from './helpers.js';

export function kubectl(args: string[], opts: { kubeconfig?: string; env?: Record<string, string>; input?: string } = {}): Promise<Run> {
  return run('kubectl', args, { env: { KUBECONFIG: opts.kubeconfig ?? inject('cluster').kubeconfig, ...opts.env }, input: opts.input });
}

export interface TwinResult<T> {
  run: Run;
  state: T;
}

export async function twins<T>(s: {
  oracle: () => Promise<Run>;
  plugin: () => Promise<Run>;
  state: (twin: 'a' | 'b') => Promise<T>;
}): Promise<{ a: TwinResult<T>; b: TwinResult<T> }> {
  const ra = await s.oracle();
  const rb = await s.plugin();
  return { a: { run: ra, state: await s.state('a') }, b: { run: rb, state: await s.state('b') } };
}

export function sameOutcome(a: Run, b: Run): [string, string] {
  const c = (r: Run) => (r.code === 0 ? 'ok' : 'failed');
  return [c(a), c(b)];
}
