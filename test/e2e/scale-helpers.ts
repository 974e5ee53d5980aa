// Shared pieces of the scale-to-zero/restore e2e files: workloads held by a finalizer (so a
// wait lasts until the test lets go), HPAs, and kubectl run on the same cluster as the oracle.
import { inject } from 'vitest';
import type { Kube } from '../../src/kube/client.js';
import { R, pathOf } from '../../src/kube/resources.js';
import type { Deployment, HPA, Pod, ReplicaSet } from '../../src/kube/types.js';
import { deployment, run, until, waitReady, type Run } from './helpers.js';

export const HOLD = 'mlops.test/hold';

/** kubectl v1.32 against the local server (admin). */
export function kubectl(args: string[]): Promise<Run> {
  return run('kubectl', args, { env: { KUBECONFIG: inject('cluster').kubeconfig } });
}

export const dPath = (ns: string, name: string) => pathOf(R.deployments, { namespace: ns, name });

/** A Ready Deployment; `hold` puts a finalizer on its pods so they stay Terminating until released. */
export async function readyDeployment(
  kube: Kube,
  ns: string,
  name: string,
  opts: { replicas?: number; hold?: boolean; image?: string; labels?: Record<string, string>; progressDeadlineSeconds?: number } = {},
): Promise<Deployment> {
  const d = deployment(name, { replicas: opts.replicas ?? 2, image: opts.image });
  if (opts.hold) (d.spec.template.metadata as Record<string, unknown>).finalizers = [HOLD];
  if (opts.labels) (d.metadata as Record<string, unknown>).labels = opts.labels;
  if (opts.progressDeadlineSeconds) (d.spec as Record<string, unknown>).progressDeadlineSeconds = opts.progressDeadlineSeconds;
  await kube.create(pathOf(R.deployments, { namespace: ns }), d);
  if (opts.image?.includes(':fail')) return kube.get<Deployment>(dPath(ns, name));
  await waitReady(kube, ns, `app=${name}`, opts.replicas ?? 2);
  return settled(kube, ns, name, opts.replicas ?? 2);
}

/**
 * Waits until a Deployment is settled at n replicas as `kubectl rollout status` sees it, with
 * exactly n pods, so that later snapshots catch only what a command did.
 */
export async function settled(kube: Kube, ns: string, name: string, n: number): Promise<Deployment> {
  return until(
    async () => {
      const now = await kube.get<Deployment>(dPath(ns, name));
      const st = now.status ?? {};
      const done =
        (st.observedGeneration ?? 0) >= (now.metadata?.generation ?? 0) &&
        (st.availableReplicas ?? 0) === n &&
        (st.updatedReplicas ?? 0) === n &&
        (st.readyReplicas ?? 0) === n &&
        (st.replicas ?? 0) === n;
      const progressed = st.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'NewReplicaSetAvailable');
      return done && progressed && (await podCount(kube, ns, `app=${name}`)) === n ? now : undefined;
    },
    60_000,
    `deployment ${ns}/${name} settled at ${n}`,
  );
}

/** Lets pods held by HOLD go (so they finish terminating and the namespace can be deleted). */
export async function release(kube: Kube, ns: string, selector: string): Promise<void> {
  const pods = (await kube.list<Pod>(pathOf(R.pods, { namespace: ns }), { labelSelector: selector })).items;
  await Promise.all(
    pods
      .filter((p) => p.metadata?.finalizers?.includes(HOLD))
      .map((p) => kube.patch(pathOf(R.pods, { namespace: ns, name: p.metadata!.name! }), { metadata: { finalizers: null } }, 'merge').catch(() => undefined)),
  );
}

export async function podCount(kube: Kube, ns: string, selector: string): Promise<number> {
  return (await kube.list<Pod>(pathOf(R.pods, { namespace: ns }), { labelSelector: selector })).items.length;
}

export async function replicaSets(kube: Kube, ns: string, selector: string): Promise<ReplicaSet[]> {
  return (await kube.list<ReplicaSet>(pathOf(R.replicasets, { namespace: ns }), { labelSelector: selector })).items;
}

export function hpaFor(name: string, min: number, max: number) {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: min,
      maxReplicas: max,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
    },
  };
}

type Condition = { type: string; status: string; reason?: string };

/** Waits until the HPA controller reports this ScalingActive condition (it syncs every 15 s). */
export async function hpaScalingActive(kube: Kube, ns: string, name: string, want: (c: Condition | undefined) => boolean): Promise<HPA> {
  return until(
    async () => {
      const h = await kube.get<HPA>(pathOf(R.hpas, { namespace: ns, name }));
      const c = (h.status?.conditions as Condition[] | undefined)?.find((x) => x.type === 'ScalingActive');
      return want(c) ? h : undefined;
    },
    90_000,
    `HPA ${ns}/${name} condition`,
  );
}

export const scalingDisabled = (c: Condition | undefined) => c?.status === 'False' && c.reason === 'ScalingDisabled';
