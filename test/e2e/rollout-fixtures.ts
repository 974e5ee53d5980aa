// Shared set-up for the rollout e2e files: twin Deployments, kubectl as the oracle, and the
// end state of a Deployment reduced to what kubectl and the plugin must agree on.
import { inject } from 'vitest';
import type { Kube } from '../../src/kube/client.js';
import { R, pathOf } from '../../src/kube/resources.js';
import type { Deployment, ReplicaSet } from '../../src/kube/types.js';
import { cleanTemplate } from '../../src/workloads/rollout.js';
import { deployment, run, until, type Run } from './helpers.js';

export const IMG = (tag: string) => `registry.local/my-app:${tag}`;

/** kubectl (the machine's, v1.32) with the admin kubeconfig. */
export function kubectl(args: string[]): Promise<Run> {
  return run('kubectl', args, { env: { KUBECONFIG: inject('cluster').kubeconfig } });
}

export async function createDeployment(
  kube: Kube,
  ns: string,
  name: string,
  opts: { replicas?: number; image?: string; cause?: string; progressDeadlineSeconds?: number } = {},
): Promise<void> {
  const d = deployment(name, { replicas: opts.replicas ?? 2, image: opts.image ?? IMG('1.0') }) as ReturnType<typeof deployment> & {
    metadata: { annotations?: Record<string, string> };
    spec: { progressDeadlineSeconds?: number };
  };
  if (opts.cause) d.metadata.annotations = { 'kubernetes.io/change-cause': opts.cause };
  if (opts.progressDeadlineSeconds) d.spec.progressDeadlineSeconds = opts.progressDeadlineSeconds;
  await kube.create(pathOf(R.deployments, { namespace: ns }), d);
}

/** Waits (on the API, no sleeps) until the Deployment's rollout is complete, as `kubectl rollout status` judges it. */
export async function rolledOut(kube: Kube, ns: string, name: string): Promise<Deployment> {
  return until(
    async () => {
      const d = await kube.get<Deployment>(pathOf(R.deployments, { namespace: ns, name }));
      const s = d.status ?? {};
      const want = d.spec?.replicas ?? 1;
      return (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) && (s.updatedReplicas ?? 0) === want && (s.replicas ?? 0) === want && (s.availableReplicas ?? 0) === want
        ? d
        : undefined;
    },
    60_000,
    `deployment/${name} rolled out`,
  );
}

/** A template with the twin's own name replaced, so that twins compare equal; nulls (Go's `creationTimestamp: null` in kubectl's output) dropped. */
export function norm(v: unknown, name: string): unknown {
  return JSON.parse(JSON.stringify(v ?? null, (_k, x: unknown) => (x === null ? undefined : x)).replaceAll(name, 'TWIN')) as unknown;
}

export interface EndState {
  template: unknown;
  replicas: number | undefined;
  status: { replicas?: number; updatedReplicas?: number; readyReplicas?: number; availableReplicas?: number };
  conditions: { type: string; status: string; reason?: string }[];
  revision: string | undefined;
  revisions: { revision: number; formerly: string; template: unknown; replicas: number | undefined }[];
  causes: Record<number, string>;
}

/** What kubectl and the plugin must agree on: templates without pod-template-hash, revisions, replica counts, conditions; causes apart. */
export async function endState(kube: Kube, ns: string, name: string): Promise<EndState> {
  const d = await kube.get<Deployment>(pathOf(R.deployments, { namespace: ns, name }));
  const rss = (await kube.list<ReplicaSet>(pathOf(R.replicasets, { namespace: ns }))).items
    .filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.uid === d.metadata?.uid))
    .sort((a, b) => Number(a.metadata!.annotations!['deployment.kubernetes.io/revision']) - Number(b.metadata!.annotations!['deployment.kubernetes.io/revision']));
  const a = (rs: ReplicaSet, k: string) => rs.metadata?.annotations?.[k];
  return {
    template: norm(cleanTemplate(d.spec?.template), name),
    replicas: d.spec?.replicas,
    status: { replicas: d.status?.replicas, updatedReplicas: d.status?.updatedReplicas, readyReplicas: d.status?.readyReplicas, availableReplicas: d.status?.availableReplicas },
    conditions: (d.status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason })).sort((x, y) => x.type.localeCompare(y.type)),
    revision: d.metadata?.annotations?.['deployment.kubernetes.io/revision'],
    revisions: rss.map((rs) => ({
      revision: Number(a(rs, 'deployment.kubernetes.io/revision')),
      formerly: a(rs, 'deployment.kubernetes.io/revision-history') ?? '',
      template: norm(cleanTemplate(rs.spec?.template), name),
      replicas: rs.spec?.replicas,
    })),
    causes: Object.fromEntries(rss.map((rs) => [Number(a(rs, 'deployment.kubernetes.io/revision')), a(rs, 'kubernetes.io/change-cause') ?? ''])),
  };
}

/** The end states of the twins, once the controller has settled both (ReplicaSet annotations are copied a sync later). */
export async function twinStates(kube: Kube, ns: string, k: string, m: string, agree: (a: EndState, b: EndState) => boolean = sameButCauses): Promise<[EndState, EndState]> {
  let last: [EndState, EndState] | undefined;
  try {
    return await until(
      async () => {
        last = [await endState(kube, ns, k), await endState(kube, ns, m)];
        return agree(...last) ? last : undefined;
      },
      30_000,
      'the twins to agree',
    );
  } catch {
    // The caller's expect() shows the difference.
    return last!;
  }
}

export function sameButCauses(a: EndState, b: EndState): boolean {
  const strip = (s: EndState) => JSON.stringify({ ...s, causes: undefined });
  return strip(a) === strip(b);
}

/** `kubectl rollout history` as {revision: cause}. */
export function parseKubectlHistory(out: string): Record<number, string> {
  const rows: Record<number, string> = {};
  for (const line of out.split('\n')) {
    const m = /^(\d+)\s+(.*?)\s*$/.exec(line);
    if (m) rows[Number(m[1])] = m[2] === '<none>' ? '' : m[2]!;
  }
  return rows;
}
