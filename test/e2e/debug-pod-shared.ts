// Small helpers the debug-pod e2e files share.
import { inject } from 'vitest';
import { run, until } from './helpers.js';
import { R, pathOf } from '../../src/kube/resources.js';
import type { Kube } from '../../src/kube/client.js';
import type { Deployment, Pod, ReplicaSet } from '../../src/kube/types.js';

export const kubectl = (args: string[]) => run('kubectl', args, { env: { KUBECONFIG: inject('cluster').kubeconfig } });
export const getPod = (kube: Kube, ns: string, name: string) => kube.getOptional<Pod>(pathOf(R.pods, { namespace: ns, name }));

/** Every Deployment and ReplicaSet of the namespace has reported its final status, so snapshots taken now stay stable. */
export async function settled(kube: Kube, ns: string): Promise<void> {
  await until(
    async () => {
      const [ds, rss] = await Promise.all([kube.list<Deployment>(pathOf(R.deployments, { namespace: ns })), kube.list<ReplicaSet>(pathOf(R.replicasets, { namespace: ns }))]);
      const dOk = ds.items.every((d) => {
        const st = d.status ?? {};
        const n = d.spec?.replicas;
        return (
          st.observedGeneration === d.metadata?.generation &&
          (st.readyReplicas ?? 0) === n &&
          (st.availableReplicas ?? 0) === n &&
          (st.updatedReplicas ?? 0) === n &&
          (st.replicas ?? 0) === n
        );
      });
      const rsOk = rss.items.every((rs) => {
        const st = rs.status ?? {};
        const n = rs.spec?.replicas;
        return st.observedGeneration === rs.metadata?.generation && (st.readyReplicas ?? 0) === n && (st.availableReplicas ?? 0) === n && st.replicas === n;
      });
      return dOk && rsOk;
    },
    60_000,
    `deployments and replicasets in ${ns} settled`,
  );
}
