// Which extended resources count as GPUs, and how much of them a pod holds.
import type { Pod } from '../kube/types.js';
import { parseQuantity } from '../workloads/pods.js';

const NVIDIA = /^nvidia\.com\/(gpu(\.shared)?|mig-[\w.-]+)$/;
/** Resources that are amounts of one GPU rather than devices: shown, not added to device totals. */
const NOT_DEVICES = new Set(['gpu.intel.com/millicores', 'gpu.intel.com/memory.max']);

export function isGpuResource(name: string, extra: string[] = []): boolean {
  return extra.includes(name) || NVIDIA.test(name) || name === 'amd.com/gpu' || name.startsWith('gpu.intel.com/');
}

export function isGpuDriver(driver: string, extra: string[] = []): boolean {
  return extra.includes(driver) || /gpu/i.test(driver);
}

export const countsAsDevices = (name: string) => !NOT_DEVICES.has(name);

type ResourceList = Record<string, string | number> | undefined;

/**
 * Effective requests as the scheduler and `kubectl describe node` count them: app containers
 * and sidecars summed, each init container at its peak with the sidecars started before it,
 * the larger of the two, plus overhead. Limits stand in for missing requests, as the API
 * server defaults them.
 */
export function effectiveRequests(pod: Pod): Record<string, number> {
  const reqs = (c: { resources?: { requests?: ResourceList; limits?: ResourceList } }) => {
    const r: Record<string, number> = {};
    for (const [k, v] of Object.entries({ ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) })) r[k] = parseQuantity(v);
    return r;
  };
  const add = (a: Record<string, number>, b: Record<string, number>) => {
    for (const [k, v] of Object.entries(b)) a[k] = (a[k] ?? 0) + v;
  };
  const max = (a: Record<string, number>, b: Record<string, number>) => {
    for (const [k, v] of Object.entries(b)) a[k] = Math.max(a[k] ?? 0, v);
  };
  const total: Record<string, number> = {};
  for (const c of pod.spec?.containers ?? []) add(total, reqs(c));
  const sidecars: Record<string, number> = {};
  const initPeak: Record<string, number> = {};
  for (const c of pod.spec?.initContainers ?? []) {
    const r = reqs(c);
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
  add(total, Object.fromEntries(Object.entries((pod.spec?.overhead ?? {}) as Record<string, string>).map(([k, v]) => [k, parseQuantity(v)])));
  return total;
}

export function gpuRequests(pod: Pod, extra: string[]): Record<string, number> {
  return Object.fromEntries(Object.entries(effectiveRequests(pod)).filter(([k, v]) => v > 0 && isGpuResource(k, extra)));
}
