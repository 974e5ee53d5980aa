// resource.k8s.io/v1: devices drivers publish in ResourceSlices, and the claims allocated them.
import type { Pod } from '../kube/types.js';
import { isGpuDriver } from './resources.js';

// resource.k8s.io/v1 objects, only the fields read here.
export interface ResourceSlice {
  metadata?: { name?: string };
  spec?: {
    driver: string;
    nodeName?: string;
    allNodes?: boolean;
    pool: { name: string; generation: number; resourceSliceCount?: number };
    devices?: { name: string; nodeName?: string }[];
  };
}

export interface ResourceClaim {
  metadata?: { name?: string; namespace?: string; uid?: string; creationTimestamp?: string };
  spec?: {
    devices?: {
      requests?: {
        name: string;
        exactly?: { deviceClassName?: string; count?: number; allocationMode?: string };
        firstAvailable?: { deviceClassName?: string; count?: number }[];
      }[];
    };
  };
  status?: {
    allocation?: { devices?: { results?: { request: string; driver: string; pool: string; device: string }[] } };
    reservedFor?: { resource: string; name: string; uid: string; apiGroup?: string }[];
  };
}

const deviceKey = (driver: string, pool: string, device: string) => `${driver}/${pool}/${device}`;

/** Devices of the current generation of each pool, keyed driver/pool/device, with their node. */
export function draDevices(slices: ResourceSlice[], extra: string[]): Map<string, { driver: string; node: string | null }> {
  const newest = new Map<string, number>();
  for (const s of slices) {
    if (!s.spec) continue;
    const k = `${s.spec.driver}/${s.spec.pool.name}`;
    newest.set(k, Math.max(newest.get(k) ?? -Infinity, s.spec.pool.generation));
  }
  const out = new Map<string, { driver: string; node: string | null }>();
  for (const s of slices) {
    const sp = s.spec;
    if (!sp || !isGpuDriver(sp.driver, extra) || newest.get(`${sp.driver}/${sp.pool.name}`) !== sp.pool.generation) continue;
    for (const d of sp.devices ?? []) out.set(deviceKey(sp.driver, sp.pool.name, d.name), { driver: sp.driver, node: d.nodeName ?? sp.nodeName ?? null });
  }
  return out;
}

/** GPU devices a claim was allocated, per driver. */
export function claimDevices(c: ResourceClaim, extra: string[]): { keys: string[]; byDriver: Record<string, number> } {
  const keys: string[] = [];
  const byDriver: Record<string, number> = {};
  for (const r of c.status?.allocation?.devices?.results ?? []) {
    if (!isGpuDriver(r.driver, extra)) continue;
    keys.push(deviceKey(r.driver, r.pool, r.device));
    byDriver[r.driver] = (byDriver[r.driver] ?? 0) + 1;
  }
  return { keys, byDriver };
}

/** Devices an unallocated claim asks for, by device class (a GPU-like class name counts). */
export function claimAsks(c: ResourceClaim, extra: string[]): Record<string, number> {
  const asks: Record<string, number> = {};
  for (const r of c.spec?.devices?.requests ?? []) {
    const e = r.exactly ?? r.firstAvailable?.[0];
    const cls = e?.deviceClassName;
    if (!cls || !isGpuDriver(cls, extra)) continue;
    asks[cls] = (asks[cls] ?? 0) + (e && 'allocationMode' in e && e.allocationMode === 'All' ? 1 : (e?.count ?? 1));
  }
  return asks;
}

export function podClaimNames(p: Pod): string[] {
  const byStatus = new Map((p.status?.resourceClaimStatuses ?? []).map((s) => [s.name, s.resourceClaimName]));
  return (p.spec?.resourceClaims ?? []).map((rc) => rc.resourceClaimName ?? byStatus.get(rc.name)).filter((x): x is string => Boolean(x));
}
