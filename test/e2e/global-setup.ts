// One real control plane per test run (etcd, kube-apiserver, controller-manager, scheduler,
// fake kubelet). Builds the binaries first when the cache is empty; fails loudly without Go.
import type { TestProject } from 'vitest/node';
// @ts-expect-error plain ESM script shared with `npm run cluster:up`
import { startCluster } from '../../scripts/cluster/cluster.mjs';

export interface ClusterInfo {
  kubeconfig: string;
  restrictedKubeconfig: string;
  server: string;
  workDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ClusterInfo;
  }
}

export default async function setup(project: TestProject) {
  const started = Date.now();
  const c = await startCluster({ auditLog: true, log: (m: string) => process.stderr.write(m + '\n') });
  process.stderr.write(`[e2e] control plane up in ${((Date.now() - started) / 1000).toFixed(1)}s at ${c.server} (logs: ${c.workDir})\n`);
  project.provide('cluster', { kubeconfig: c.kubeconfig, restrictedKubeconfig: c.restrictedKubeconfig, server: c.server, workDir: c.workDir });
  const stop = () => c.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return async () => {
    stop();
  };
}
