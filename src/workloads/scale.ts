// Scale-to-zero bookkeeping: which workloads, their recorded counts and HPAs, their pods.
import type { Kube } from '../kube/client.js';
import type { HPA, KubeObject, Pod } from '../kube/types.js';
import { R, pathOf, parseTarget, type Resource } from '../kube/resources.js';
import { CliError } from '../errors.js';
import { selectorToString, type LabelSelector } from '../util/labels.js';
import { controllerOf, podRequests } from './pods.js';

export const SCALED_LABEL = 'mlops.kubectl.io/scaled-to-zero';
export const SZ = {
  replicas: 'mlops.kubectl.io/recorded-replicas',
  at: 'mlops.kubectl.io/scaled-to-zero-at',
  hpa: 'mlops.kubectl.io/recorded-hpa',
} as const;

export const SCALABLE = [R.deployments, R.statefulsets, R.replicasets];

export interface Workload extends KubeObject {
  spec?: { replicas?: number; selector?: LabelSelector; [k: string]: unknown };
  status?: { replicas?: number; readyReplicas?: number; availableReplicas?: number; updatedReplicas?: number; observedGeneration?: number };
}

export interface Target {
  res: Resource;
  obj: Workload;
}

/** deployment.apps/web → kubectl's singular `kind.group/name`. */
export function displayName(res: Resource, name: string | undefined): string {
  return `${res.kind.toLowerCase()}${res.group ? '.' + res.group : ''}/${name}`;
}

/** Resolves TARGET arguments or a selector into workloads; never ReplicaSets that a Deployment owns. */
export async function resolveTargets(
  kube: Kube,
  a: { targets: string[]; selector?: string; namespace: string; allNamespaces: boolean; labelOnly?: string },
): Promise<Target[]> {
  if (a.targets.length && a.selector) throw new CliError('give TARGETs or -l/--selector, not both');
  if (!a.targets.length && !a.selector && !a.labelOnly) throw new CliError('give at least one TARGET (deploy/NAME, rs/NAME, sts/NAME) or -l/--selector');
  const out: Target[] = [];
  if (a.targets.length) {
    const parsed = a.targets.map((t) => parseTarget(t, SCALABLE));
    for (const { res, name } of parsed) {
      const obj = await kube.get<Workload>(pathOf(res, { namespace: a.namespace, name }));
      const owner = controllerOf(obj);
      if (res === R.replicasets && owner?.kind === 'Deployment') {
        throw new CliError(`replicaset/${name} is managed by deployment/${owner.name}, which would scale it back: use deploy/${owner.name}`);
      }
      out.push({ res, obj });
    }
    return out;
  }
  const labelSelector = [a.selector, a.labelOnly].filter(Boolean).join(',');
  const ns = a.allNamespaces ? undefined : a.namespace;
  const lists = await Promise.all(SCALABLE.map((res) => kube.list<Workload>(pathOf(res, { namespace: ns }), { labelSelector })));
  SCALABLE.forEach((res, i) => {
    for (const obj of lists[i]!.items) {
      if (res === R.replicasets && controllerOf(obj)) continue;
      out.push({ res, obj });
    }
  });
  return out;
}

export async function hpasFor(kube: Kube, namespace: string | undefined): Promise<HPA[]> {
  return (await kube.list<HPA>(pathOf(R.hpas, { namespace }))).items;
}

export function hpaOf(hpas: HPA[], t: Target): HPA | undefined {
  return hpas.find(
    (h) => h.metadata?.namespace === t.obj.metadata?.namespace && h.spec?.scaleTargetRef?.kind === t.res.kind && h.spec?.scaleTargetRef?.name === t.obj.metadata?.name,
  );
}

/** The HPA as it can be re-created: spec plus labels and annotations, nothing server-set. */
export function hpaRecord(h: HPA): object {
  return { metadata: { name: h.metadata?.name, labels: h.metadata?.labels, annotations: h.metadata?.annotations }, spec: h.spec };
}

export async function podsOf(kube: Kube, t: Target): Promise<Pod[]> {
  const sel = selectorToString(t.obj.spec?.selector);
  if (!sel) return [];
  return (await kube.list<Pod>(pathOf(R.pods, { namespace: t.obj.metadata?.namespace }), { labelSelector: sel })).items;
}

export interface Freed {
  pods: number;
  cpu: number;
  memoryBytes: number;
  gpus: number;
}

export function freedBy(pods: Pod[]): Freed {
  const f: Freed = { pods: pods.length, cpu: 0, memoryBytes: 0, gpus: 0 };
  for (const p of pods) {
    const r = podRequests(p);
    f.cpu += r.cpu ?? 0;
    f.memoryBytes += r.memory ?? 0;
    f.gpus += r['nvidia.com/gpu'] ?? 0;
  }
  return f;
}

export function formatFreed(f: Freed): string {
  const mem = f.memoryBytes >= 1024 ** 3 ? `${+(f.memoryBytes / 1024 ** 3).toFixed(2)}Gi` : `${Math.round(f.memoryBytes / 1024 ** 2)}Mi`;
  const cpu = f.cpu < 1 ? `${Math.round(f.cpu * 1000)}m` : `${+f.cpu.toFixed(2)}`;
  return `${f.pods} pod(s), cpu ${cpu}, memory ${mem}, nvidia.com/gpu ${f.gpus}`;
}

const SERVER_SET = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'ownerReferences'];

/** The manifest `kubectl apply -f` needs to bring the workload back as it was before scaling. */
export function cleanManifest(t: Target, replicas: number): object {
  const o = structuredClone(t.obj) as Workload & { status?: unknown };
  delete o.status;
  const meta = (o.metadata ?? {}) as Record<string, unknown>;
  for (const k of SERVER_SET) delete meta[k];
  const ann = { ...((meta.annotations as Record<string, string>) ?? {}) };
  for (const k of [...Object.values(SZ), 'deployment.kubernetes.io/revision', 'kubectl.kubernetes.io/last-applied-configuration']) delete ann[k];
  meta.annotations = Object.keys(ann).length ? ann : undefined;
  const labels = { ...((meta.labels as Record<string, string>) ?? {}) };
  delete labels[SCALED_LABEL];
  meta.labels = Object.keys(labels).length ? labels : undefined;
  return { apiVersion: t.res.group ? `${t.res.group}/${t.res.version}` : t.res.version, kind: t.res.kind, metadata: meta, spec: { ...o.spec, replicas } };
}
