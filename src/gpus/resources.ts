// Which extended resources count as GPUs, and how much of them a pod holds.
import type { Pod } from '../kube/types.js';
import { effectiveRequests } from '../workloads/pods.js';

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

export function gpuRequests(pod: Pod, extra: string[]): Record<string, number> {
  return Object.fromEntries(Object.entries(effectiveRequests(pod)).filter(([k, v]) => v > 0 && isGpuResource(k, extra)));
}
