// Pure joins for `gpus`: what nodes offer, what non-terminated pods request, which DRA devices
// claims hold, who waits and who wastes. No API access here; src/gpus/inventory.ts lists.
import type { KEvent, Node, Pod } from '../kube/types.js';
import { podStatus } from '../workloads/pods.js';
import { parseQuantity } from '../util/quantity.js';
import { countsAsDevices, gpuRequests, isGpuResource } from './resources.js';
import { claimAsks, claimDevices, draDevices, podClaimNames, type ResourceClaim, type ResourceSlice } from './dra.js';
import { isWaiting, podReadySince, waitingReason, wasteOf, workloadOfPod } from './pods.js';

export type { ResourceClaim, ResourceSlice } from './dra.js';

export interface Inventory {
  /** undefined: the user may not list nodes. */
  nodes?: Node[];
  /** Non-terminated pods; those of the whole cluster when podsCluster. */
  pods: Pod[];
  podsCluster: boolean;
  /** -l/--selector: the pods shown as holders and waiting (the server's answer); node totals still count every pod. */
  selected?: Pod[];
  /** FailedScheduling events, listed only when a waiting pod has no PodScheduled message. */
  events: KEvent[];
  /** undefined: DRA not served here, or slices hidden from the user. */
  slices?: ResourceSlice[];
  claims: ResourceClaim[];
}

export interface Scope {
  /** Holders and waiting pods of this namespace only; undefined = all namespaces. */
  namespace?: string;
  node?: string;
  now: Date;
  notReadyAfterMs: number;
  /** --resource: counted even when not GPU-like. */
  extra: string[];
}

export interface NodeResource {
  name: string;
  source: 'device-plugin' | 'dra';
  capacity: number;
  allocatable: number;
  inUse: number;
  free: number;
  /** From GPU feature discovery (or the AMD labeller) labels; null for DRA and unlabelled nodes. */
  product: string | null;
  memory: string | null;
}

export interface NodeView {
  name: string;
  ready: boolean;
  unschedulable: boolean;
  taints: string[];
  /** kubectl get nodes' STATUS (Ready, NotReady, Ready,SchedulingDisabled) plus Tainted. */
  state: string;
  /** nvidia.com/gpu.count: physical GPUs, which time-slicing replicas multiply. */
  count: number | null;
  replicas: number | null;
  resources: NodeResource[];
}

export type WasteReason = 'detached' | 'ttl-expired' | 'crash-loop' | 'not-ready' | 'unused-claim';

export interface Waste {
  reason: WasteReason;
  /** When it started: detached-at, or the Ready condition's last transition. */
  since: string | null;
  /** debug-pod's --ttl, as given. */
  ttl: string | null;
  /** Without relative times (stable -o json). */
  message: string;
}

export interface Holder {
  namespace: string;
  /** The pod, or for an allocated claim no pod reserves, null. */
  pod: string | null;
  claim: string | null;
  workload: string | null;
  node: string | null;
  resources: Record<string, number>;
  claims: string[];
  created: string | null;
  status: string;
  ready: boolean;
  wasted: Waste | null;
}

export interface Waiting {
  namespace: string;
  pod: string;
  workload: string | null;
  resources: Record<string, number>;
  claims: string[];
  created: string | null;
  reason: string;
}

export interface Summary {
  /** null when nodes are hidden from the user. */
  total: number | null;
  inUse: number;
  free: number | null;
  /** Free on nodes that are Ready and schedulable. */
  freeSchedulable: number | null;
  waiting: number;
  waitingPods: number;
  wasted: number;
  wastedHolders: number;
  resources: Record<string, { allocatable: number; inUse: number; free: number }>;
}

export interface Report {
  summary: Summary;
  nodes: NodeView[];
  holders: Holder[];
  waiting: Waiting[];
}

function nodeReady(n: Node): boolean {
  return (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** NoSchedule/NoExecute taints other than the one cordoning adds: they keep pods without a toleration away. */
function blockingTaints(n: Node): string[] {
  return (n.spec?.taints ?? [])
    .filter((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && t.key !== 'node.kubernetes.io/unschedulable')
    .map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`);
}

function labelInt(v: string | undefined): number | null {
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
}

/** GPU feature discovery labels are MiB; show Gi when whole. */
function memoryOf(mib: string | undefined): string | null {
  if (!mib || !/^\d+$/.test(mib)) return mib ?? null;
  const n = Number(mib);
  return n % 1024 === 0 ? `${n / 1024}Gi` : `${n}Mi`;
}

/** The model and memory of a resource from GPU feature discovery (NVIDIA) or the AMD node labeller. */
function modelOf(n: Node, resource: string): { product: string | null; memory: string | null } {
  const l = n.metadata?.labels ?? {};
  if (resource.startsWith('nvidia.com/mig-')) {
    // GFD's mixed MIG strategy labels each profile: nvidia.com/mig-1g.10gb.memory.
    const profile = resource.slice('nvidia.com/'.length);
    const p = l['nvidia.com/gpu.product'];
    return { product: p ? `${p} (${profile.slice(4)})` : null, memory: memoryOf(l[`nvidia.com/${profile}.memory`]) };
  }
  if (resource.startsWith('nvidia.com/')) return { product: l['nvidia.com/gpu.product'] ?? null, memory: memoryOf(l['nvidia.com/gpu.memory']) };
  if (resource.startsWith('amd.com/')) return { product: l['amd.com/gpu.product-name'] ?? l['amd.com/gpu.family'] ?? null, memory: l['amd.com/gpu.vram'] ?? null };
  return { product: null, memory: null };
}

export function nodeState(n: Node): { ready: boolean; unschedulable: boolean; taints: string[]; state: string } {
  const ready = nodeReady(n);
  const unschedulable = Boolean(n.spec?.unschedulable);
  const taints = blockingTaints(n);
  const state = [ready ? 'Ready' : 'NotReady', ...(unschedulable ? ['SchedulingDisabled'] : []), ...(taints.length ? ['Tainted'] : [])].join(',');
  return { ready, unschedulable, taints, state };
}

const sumOf = (r: Record<string, number>, only = countsAsDevices) => Object.entries(r).reduce((s, [k, v]) => s + (only(k) ? v : 0), 0);

export function buildReport(inv: Inventory, scope: Scope): Report {
  const { extra, now } = scope;
  const inScope = (ns: string | undefined) => !scope.namespace || ns === scope.namespace;
  const devices = draDevices(inv.slices ?? [], extra);
  const claimsByKey = new Map(inv.claims.map((c) => [`${c.metadata?.namespace}/${c.metadata?.name}`, c]));

  // In use per node: device-plugin requests of the pods there, DRA devices allocated to any claim.
  const used = new Map<string, Record<string, number>>();
  const use = (node: string, res: string, n: number) => {
    const m = used.get(node) ?? {};
    m[res] = (m[res] ?? 0) + n;
    used.set(node, m);
  };
  for (const p of inv.pods) {
    if (!p.spec?.nodeName) continue;
    for (const [k, v] of Object.entries(gpuRequests(p, extra))) use(p.spec.nodeName, k, v);
  }
  const allocatedKeys = new Set<string>();
  for (const c of inv.claims) for (const k of claimDevices(c, extra).keys) allocatedKeys.add(k);
  for (const k of allocatedKeys) {
    const d = devices.get(k);
    if (d?.node) use(d.node, d.driver, 1);
  }
  const draOffer = new Map<string, Record<string, number>>();
  for (const d of devices.values()) {
    if (!d.node) continue;
    const m = draOffer.get(d.node) ?? {};
    m[d.driver] = (m[d.driver] ?? 0) + 1;
    draOffer.set(d.node, m);
  }

  const nodes: NodeView[] = [];
  for (const n of inv.nodes ?? []) {
    const name = n.metadata!.name!;
    const cap = (n.status?.capacity ?? {}) as Record<string, string>;
    const alloc = n.status?.allocatable ?? cap;
    const resources: NodeResource[] = [];
    const names = [...new Set([...Object.keys(cap), ...Object.keys(alloc)])].filter((r) => isGpuResource(r, extra)).sort();
    for (const r of names) {
      const a = parseQuantity(alloc[r] ?? cap[r]);
      const u = used.get(name)?.[r] ?? 0;
      resources.push({ name: r, source: 'device-plugin', capacity: parseQuantity(cap[r] ?? alloc[r]), allocatable: a, inUse: u, free: Math.max(a - u, 0), ...modelOf(n, r) });
    }
    for (const [driver, count] of Object.entries(draOffer.get(name) ?? {}).sort()) {
      const u = used.get(name)?.[driver] ?? 0;
      resources.push({ name: driver, source: 'dra', capacity: count, allocatable: count, inUse: u, free: Math.max(count - u, 0), product: null, memory: null });
    }
    if (!resources.length) continue;
    const l = n.metadata?.labels ?? {};
    nodes.push({
      name,
      ...nodeState(n),
      count: labelInt(l['nvidia.com/gpu.count']),
      replicas: labelInt(l['nvidia.com/gpu.replicas']),
      resources,
    });
  }
  nodes.sort((a, b) => a.name.localeCompare(b.name));

  // Holders: pods on a node with GPU requests or GPU claims reserved for them.
  const claimHeld = new Map<string, { claim: string; byDriver: Record<string, number> }[]>();
  const holders: Holder[] = [];
  for (const c of inv.claims) {
    const { byDriver } = claimDevices(c, extra);
    if (!Object.keys(byDriver).length) continue;
    const ns = c.metadata?.namespace ?? '';
    const pods = (c.status?.reservedFor ?? []).filter((r) => r.resource === 'pods');
    for (const r of pods) {
      const k = `${ns}/${r.name}`;
      claimHeld.set(k, [...(claimHeld.get(k) ?? []), { claim: c.metadata!.name!, byDriver }]);
    }
    // A claim no pod uses has no pod labels for -l/--selector to match.
    if (!(c.status?.reservedFor ?? []).length && inScope(ns) && !inv.selected) {
      const firstKey = claimDevices(c, extra).keys[0];
      holders.push({
        namespace: ns,
        pod: null,
        claim: c.metadata!.name!,
        workload: null,
        node: (firstKey && devices.get(firstKey)?.node) || null,
        resources: byDriver,
        claims: [c.metadata!.name!],
        created: c.metadata?.creationTimestamp ?? null,
        status: 'Allocated',
        ready: false,
        wasted: { reason: 'unused-claim', since: null, ttl: null, message: 'allocated, but no pod uses the claim' },
      });
    }
  }
  const waiting: Waiting[] = [];
  for (const p of inv.selected ?? inv.pods) {
    const ns = p.metadata?.namespace ?? '';
    if (!inScope(ns)) continue;
    if (scope.node && p.spec?.nodeName !== scope.node) continue;
    const resources = gpuRequests(p, extra);
    const workload = workloadOfPod(p);
    if (isWaiting(p)) {
      const claims = podClaimNames(p);
      for (const cn of claims) {
        const c = claimsByKey.get(`${ns}/${cn}`);
        if (!c) continue;
        const got = claimDevices(c, extra).byDriver;
        for (const [k, v] of Object.entries(Object.keys(got).length ? got : claimAsks(c, extra))) resources[k] = (resources[k] ?? 0) + v;
      }
      if (!Object.keys(resources).length) continue;
      waiting.push({ namespace: ns, pod: p.metadata!.name!, workload, resources, claims, created: p.metadata?.creationTimestamp ?? null, reason: waitingReason(p, inv.events) });
      continue;
    }
    if (!p.spec?.nodeName) continue;
    const held = claimHeld.get(`${ns}/${p.metadata?.name}`) ?? [];
    for (const h of held) for (const [k, v] of Object.entries(h.byDriver)) resources[k] = (resources[k] ?? 0) + v;
    if (!Object.keys(resources).length) continue;
    holders.push({
      namespace: ns,
      pod: p.metadata!.name!,
      claim: null,
      workload,
      node: p.spec.nodeName,
      resources,
      claims: held.map((h) => h.claim),
      created: p.metadata?.creationTimestamp ?? null,
      status: podStatus(p),
      ready: podReadySince(p).ready,
      wasted: wasteOf(p, now, scope.notReadyAfterMs),
    });
  }
  const byName = (a: { namespace: string; pod: string | null; claim?: string | null }, b: typeof a) =>
    a.namespace.localeCompare(b.namespace) || (a.pod ?? a.claim ?? '').localeCompare(b.pod ?? b.claim ?? '');
  holders.sort(byName);
  waiting.sort(byName);
  if (scope.node) holders.splice(0, holders.length, ...holders.filter((h) => h.node === scope.node));

  const resources: Summary['resources'] = {};
  for (const n of nodes) {
    for (const r of n.resources) {
      const s = (resources[r.name] ??= { allocatable: 0, inUse: 0, free: 0 });
      s.allocatable += r.allocatable;
      s.inUse += r.inUse;
      s.free += r.free;
    }
  }
  const devicesOnly = (pick: (r: NodeResource) => number, ns = nodes) =>
    ns.reduce((s, n) => s + n.resources.filter((r) => countsAsDevices(r.name)).reduce((t, r) => t + pick(r), 0), 0);
  const visible = inv.nodes !== undefined;
  const wasted = holders.filter((h) => h.wasted);
  const summary: Summary = {
    total: visible ? devicesOnly((r) => r.allocatable) : null,
    inUse: visible ? devicesOnly((r) => r.inUse) : holders.reduce((s, h) => s + sumOf(h.resources), 0),
    free: visible ? devicesOnly((r) => r.free) : null,
    freeSchedulable: visible
      ? devicesOnly(
          (r) => r.free,
          nodes.filter((n) => n.ready && !n.unschedulable),
        )
      : null,
    waiting: waiting.reduce((s, w) => s + sumOf(w.resources), 0),
    waitingPods: waiting.length,
    wasted: wasted.reduce((s, h) => s + sumOf(h.resources), 0),
    wastedHolders: wasted.length,
    resources: Object.fromEntries(Object.entries(resources).sort(([a], [b]) => a.localeCompare(b))),
  };
  return { summary, nodes, holders, waiting };
}
