// Pure joins for `gpus`: what nodes offer, what non-terminated pods request, which DRA devices
// claims hold, who waits and who wastes. No API access here; src/gpus/inventory.ts lists.
import type { KEvent, Node, Pod } from '../kube/types.js';
import { parseQuantity, podStatus, restarts } from '../workloads/pods.js';
import { workloadOf } from '../storage/model.js';
import { ANN, DEBUG_LABEL } from '../workloads/detach.js';
import { humanDuration, parseDuration } from '../util/duration.js';

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
  spec?: { devices?: { requests?: { name: string; exactly?: { deviceClassName?: string; count?: number; allocationMode?: string }; firstAvailable?: { deviceClassName?: string; count?: number }[] }[] } };
  status?: {
    allocation?: { devices?: { results?: { request: string; driver: string; pool: string; device: string }[] } };
    reservedFor?: { resource: string; name: string; uid: string; apiGroup?: string }[];
  };
}

export interface Inventory {
  /** undefined: the user may not list nodes. */
  nodes?: Node[];
  /** Non-terminated pods; those of the whole cluster when podsCluster. */
  pods: Pod[];
  podsCluster: boolean;
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
function claimDevices(c: ResourceClaim, extra: string[]): { keys: string[]; byDriver: Record<string, number> } {
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
function claimAsks(c: ResourceClaim, extra: string[]): Record<string, number> {
  const asks: Record<string, number> = {};
  for (const r of c.spec?.devices?.requests ?? []) {
    const e = r.exactly ?? r.firstAvailable?.[0];
    const cls = e?.deviceClassName;
    if (!cls || !isGpuDriver(cls, extra)) continue;
    asks[cls] = (asks[cls] ?? 0) + (e && 'allocationMode' in e && e.allocationMode === 'All' ? 1 : (e?.count ?? 1));
  }
  return asks;
}

function podClaimNames(p: Pod): string[] {
  const byStatus = new Map((p.status?.resourceClaimStatuses ?? []).map((s) => [s.name, s.resourceClaimName]));
  return (p.spec?.resourceClaims ?? []).map((rc) => rc.resourceClaimName ?? byStatus.get(rc.name)).filter((x): x is string => Boolean(x));
}

function podReadySince(p: Pod): { ready: boolean; since: string | undefined } {
  const c = (p.status?.conditions ?? []).find((x) => x.type === 'Ready');
  return { ready: c?.status === 'True' && !p.metadata?.deletionTimestamp, since: c?.lastTransitionTime ?? p.status?.startTime ?? p.metadata?.creationTimestamp };
}

/**
 * Why a holder wastes its GPUs, or null. Detached pods first: debug-pod's ledger says what
 * they were. The message has no relative times, so -o json stays the same from run to run;
 * wasteText adds them for the table.
 */
export function wasteOf(p: Pod, now: Date, notReadyAfterMs: number): Waste | null {
  const ann = p.metadata?.annotations ?? {};
  if (p.metadata?.labels?.[DEBUG_LABEL] === 'true') {
    const at = ann[ANN.detachedAt] ?? null;
    const ttl = ann[ANN.ttl] ?? null;
    const ttlMs = ttlOf(ttl);
    if (at && ttlMs !== undefined && now.getTime() >= Date.parse(at) + ttlMs) {
      return { reason: 'ttl-expired', since: at, ttl, message: `detached by debug-pod; its --ttl ${ttl} ran out` };
    }
    return { reason: 'detached', since: at, ttl, message: `detached by debug-pod (${ttl ? `--ttl ${ttl}` : 'no --ttl'})` };
  }
  const crash = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])].find((cs) => cs.state?.waiting?.reason === 'CrashLoopBackOff');
  if (crash) return { reason: 'crash-loop', since: null, ttl: null, message: `CrashLoopBackOff (${restarts(p)} restarts)` };
  const r = podReadySince(p);
  if (!r.ready && !p.metadata?.deletionTimestamp && r.since && now.getTime() - Date.parse(r.since) >= notReadyAfterMs) {
    return { reason: 'not-ready', since: r.since, ttl: null, message: `not Ready (${podStatus(p)})` };
  }
  return null;
}

function ttlOf(ttl: string | null): number | undefined {
  try {
    return ttl ? parseDuration(ttl, 'ttl') : undefined;
  } catch {
    return undefined;
  }
}

/** The WASTED column: the message with how long. */
export function wasteText(w: Waste, now: Date): string {
  const ago = (t: number) => humanDuration(now.getTime() - t);
  const since = w.since ? Date.parse(w.since) : undefined;
  if (since === undefined) return w.message;
  const ttlMs = ttlOf(w.ttl);
  switch (w.reason) {
    case 'ttl-expired':
      return `detached by debug-pod ${ago(since)} ago; its --ttl ${w.ttl} ran out ${ago(since + ttlMs!)} ago`;
    case 'detached':
      return `detached by debug-pod ${ago(since)} ago; ${ttlMs !== undefined ? `--ttl ${w.ttl}, ${humanDuration(since + ttlMs - now.getTime())} left` : 'no --ttl'}`;
    case 'not-ready':
      return `${w.message} for ${ago(since)}`;
    default:
      return w.message;
  }
}

function eventTime(e: KEvent): string {
  return (e.series as { lastObservedTime?: string } | undefined)?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '';
}

/** The scheduler's own words: the PodScheduled condition, else the latest FailedScheduling event. */
export function waitingReason(p: Pod, events: KEvent[]): string {
  const cond = (p.status?.conditions ?? []).find((c) => c.type === 'PodScheduled' && c.status !== 'True');
  if (cond?.reason === 'SchedulingGated') return `scheduling gated by ${(p.spec?.schedulingGates ?? []).map((g) => g.name).join(', ') || 'a gate'}`;
  if (cond?.message) return cond.message.trim();
  const mine = events
    .filter((e) => e.involvedObject?.uid === p.metadata?.uid || (e.involvedObject?.name === p.metadata?.name && e.involvedObject?.namespace === p.metadata?.namespace))
    .sort((a, b) => eventTime(a).localeCompare(eventTime(b)));
  const last = mine.at(-1);
  if (last?.message) return last.message.trim();
  const sched = p.spec?.schedulerName;
  if (sched && sched !== 'default-scheduler') return `no message from scheduler "${sched}" (spec.schedulerName); is it running?`;
  return 'not scheduled yet (no scheduler message)';
}

export function needsEvents(pods: Pod[], extra: string[]): boolean {
  return pods.some((p) => isWaiting(p) && Object.keys(gpuRequests(p, extra)).length + podClaimNames(p).length > 0 && !waitingMessage(p));
}

function isWaiting(p: Pod): boolean {
  return p.status?.phase === 'Pending' && !p.spec?.nodeName && !p.metadata?.deletionTimestamp;
}

function waitingMessage(p: Pod): string | undefined {
  const cond = (p.status?.conditions ?? []).find((c) => c.type === 'PodScheduled' && c.status !== 'True');
  return cond?.reason === 'SchedulingGated' ? 'gated' : cond?.message;
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
    const alloc = (n.status?.allocatable ?? cap) as Record<string, string>;
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
    if (!(c.status?.reservedFor ?? []).length && inScope(ns)) {
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
  for (const p of inv.pods) {
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
  const devicesOnly = (pick: (r: NodeResource) => number, ns = nodes) => ns.reduce((s, n) => s + n.resources.filter((r) => countsAsDevices(r.name)).reduce((t, r) => t + pick(r), 0), 0);
  const visible = inv.nodes !== undefined;
  const wasted = holders.filter((h) => h.wasted);
  const summary: Summary = {
    total: visible ? devicesOnly((r) => r.allocatable) : null,
    inUse: visible ? devicesOnly((r) => r.inUse) : holders.reduce((s, h) => s + sumOf(h.resources), 0),
    free: visible ? devicesOnly((r) => r.free) : null,
    freeSchedulable: visible ? devicesOnly((r) => r.free, nodes.filter((n) => n.ready && !n.unschedulable)) : null,
    waiting: waiting.reduce((s, w) => s + sumOf(w.resources), 0),
    waitingPods: waiting.length,
    wasted: wasted.reduce((s, h) => s + sumOf(h.resources), 0),
    wastedHolders: wasted.length,
    resources: Object.fromEntries(Object.entries(resources).sort(([a], [b]) => a.localeCompare(b))),
  };
  return { summary, nodes, holders, waiting };
}

/** deploy/x for a detached debug pod too: its ledger remembers what it was taken from. */
export function workloadOfPod(p: Pod): string | null {
  const ann = p.metadata?.annotations ?? {};
  if (p.metadata?.labels?.[DEBUG_LABEL] === 'true') {
    const from = ann[ANN.owner] ?? ann[ANN.detachedFrom];
    if (from) {
      const [kind = '', name = ''] = from.split('/');
      return `${{ Deployment: 'deploy', ReplicaSet: 'rs' }[kind] ?? kind.toLowerCase()}/${name}`;
    }
  }
  return workloadOf(p);
}

export interface FitRow {
  node: string;
  free: number;
  allocatable: number;
  /** Free plus what wasted holders there hold. */
  reclaimable: number;
  fits: boolean;
  /** Why the node is no candidate even with room: NotReady, SchedulingDisabled; or taints a pod must tolerate. */
  blocked: string | null;
  taints: string[];
  heldBy: { holder: string; count: number; wasted: boolean }[];
}

export interface Fit {
  resource: string;
  count: number;
  fits: boolean;
  nodes: FitRow[];
  largest: { node: string; free: number } | null;
}

/** Where one pod of `count` of `resource` fits now: Ready, schedulable nodes with enough free. */
export function fit(report: Report, resource: string, count: number): Fit {
  const rows: FitRow[] = [];
  for (const n of report.nodes) {
    const r = n.resources.find((x) => x.name === resource);
    if (!r) continue;
    const here = report.holders.filter((h) => h.node === n.name && (h.resources[resource] ?? 0) > 0);
    const heldBy = here.map((h) => ({ holder: h.pod ? `${h.namespace}/${h.pod}` : `${h.namespace}/claim/${h.claim}`, count: h.resources[resource]!, wasted: Boolean(h.wasted) }));
    const blocked = !n.ready ? 'NotReady' : n.unschedulable ? 'SchedulingDisabled' : null;
    const reclaimable = r.free + heldBy.filter((h) => h.wasted).reduce((s, h) => s + h.count, 0);
    rows.push({ node: n.name, free: r.free, allocatable: r.allocatable, reclaimable, fits: !blocked && r.free >= count, blocked, taints: n.taints, heldBy });
  }
  rows.sort((a, b) => Number(b.fits) - Number(a.fits) || b.free - a.free || a.node.localeCompare(b.node));
  const open = rows.filter((r) => !r.blocked);
  const largest = open.length ? open.reduce((m, r) => (r.free > m.free ? r : m), open[0]!) : null;
  return { resource, count, fits: rows.some((r) => r.fits), nodes: rows, largest: largest ? { node: largest.node, free: largest.free } : null };
}
