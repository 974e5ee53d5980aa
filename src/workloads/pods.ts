// Facts about pods that several commands read the same way kubectl shows them.
import type { Pod, Node } from '../kube/types.js';
import { parseQuantity } from '../util/quantity.js';

export const STANDARD_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage', 'pods']);

export function isReady(pod: Pod): boolean {
  return !pod.metadata?.deletionTimestamp && (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export function isTerminated(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** The STATUS column of `kubectl get pods`, simplified: a container's waiting/terminated reason wins. */
export function podStatus(pod: Pod): string {
  if (pod.metadata?.deletionTimestamp) return 'Terminating';
  for (const cs of pod.status?.containerStatuses ?? []) {
    if (cs.state?.waiting?.reason) return cs.state.waiting.reason;
    if (cs.state?.terminated?.reason) return cs.state.terminated.reason;
  }
  return pod.status?.reason ?? pod.status?.phase ?? 'Unknown';
}

export function restarts(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((n, cs) => n + (cs.restartCount ?? 0), 0);
}

export function controllerOf(obj: { metadata?: { ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[] } }) {
  return obj.metadata?.ownerReferences?.find((o) => o.controller);
}

/** Quantity → number (cores for cpu, bytes for memory, count otherwise). */
type ResourceList = Record<string, string | number> | undefined;

type Resources = { resources?: { requests?: ResourceList; limits?: ResourceList } };

/**
 * A pod's total as the scheduler, `kubectl describe node` and quota count it (component-helpers'
 * PodRequests/PodLimits): app containers and sidecars summed, each init container at its peak
 * with the sidecars started before it, the larger of the two, plus overhead.
 */
function podTotal(pod: Pod, of: (c: Resources) => ResourceList, overhead: 'all' | 'to-set'): Record<string, number> {
  const amounts = (c: Resources) => Object.fromEntries(Object.entries(of(c) ?? {}).map(([k, v]) => [k, parseQuantity(v)]));
  const add = (a: Record<string, number>, b: Record<string, number>) => {
    for (const [k, v] of Object.entries(b)) a[k] = (a[k] ?? 0) + v;
  };
  const max = (a: Record<string, number>, b: Record<string, number>) => {
    for (const [k, v] of Object.entries(b)) a[k] = Math.max(a[k] ?? 0, v);
  };
  const total: Record<string, number> = {};
  for (const c of pod.spec?.containers ?? []) add(total, amounts(c));
  const sidecars: Record<string, number> = {};
  const initPeak: Record<string, number> = {};
  for (const c of pod.spec?.initContainers ?? []) {
    const r = amounts(c);
    if (c.restartPolicy === 'Always') {
      add(total, r);
      add(sidecars, r);
      max(initPeak, sidecars);
    } else {
      const peak = { ...r };
      add(peak, sidecars);
      max(initPeak, peak);
    }
  }
  max(total, initPeak);
  for (const [k, v] of Object.entries((pod.spec?.overhead ?? {}) as Record<string, string>)) {
    // Overhead raises a limit only where one is set (PodLimits).
    if (overhead === 'all' || total[k]) total[k] = (total[k] ?? 0) + parseQuantity(v);
  }
  return total;
}

/** Requests; limits stand in for missing requests, as the API server defaults them. */
export function effectiveRequests(pod: Pod): Record<string, number> {
  return podTotal(pod, (c) => ({ ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) }), 'all');
}

export function effectiveLimits(pod: Pod): Record<string, number> {
  return podTotal(pod, (c) => c.resources?.limits, 'to-set');
}

/** Extended resources (GPUs and the like) a pod requests: anything beyond cpu, memory, storage and hugepages. */
export function extendedResources(pod: Pod): Record<string, number> {
  return Object.fromEntries(Object.entries(effectiveRequests(pod)).filter(([k, v]) => v > 0 && !STANDARD_RESOURCES.has(k) && !k.startsWith('hugepages-')));
}

/** Free amount of a resource per node: allocatable minus what running pods request. */
export function freeOnNodes(resource: string, nodes: Node[], pods: Pod[]): { node: string; free: number; allocatable: number }[] {
  return nodes
    .map((n) => {
      const allocatable = parseQuantity(n.status?.allocatable?.[resource]);
      const used = pods.filter((p) => p.spec?.nodeName === n.metadata?.name && !isTerminated(p)).reduce((s, p) => s + (effectiveRequests(p)[resource] ?? 0), 0);
      return { node: n.metadata?.name ?? '', free: allocatable - used, allocatable };
    })
    .filter((x) => x.allocatable > 0);
}

export function formatResources(r: Record<string, number>): string {
  return Object.entries(r)
    .map(([k, v]) => `${k}: ${Number.isInteger(v) ? v : v.toFixed(2)}`)
    .join(', ');
}
