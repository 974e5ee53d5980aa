// Joins claims, volumes, classes, pods and events in memory (a constant number of list
// calls), and explains Pending and Released states.
import type { KEvent, Node, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '../kube/types.js';
import { isTerminated } from '../workloads/pods.js';
import { bestMatch, claimClass, claimHasClass, mismatches, nearMisses, nodeAffinityMatches, requestedSize, shortModes } from './binder.js';

export const DEFAULT_CLASS = 'storageclass.kubernetes.io/is-default-class';

export interface PodUse {
  pod: string;
  node: string | null;
  workload: string | null;
}

export interface ClaimView {
  namespace: string;
  name: string;
  /** As `kubectl get pvc` shows it: Terminating once deletionTimestamp is set, else the phase. */
  status: string;
  phase: string | null;
  deletionTimestamp: string | null;
  finalizers: string[];
  requested: string | null;
  /** status.capacity, shown (as kubectl does) only once the claim names its volume. */
  capacity: string | null;
  /** spec.accessModes: what the claim asks for. */
  accessModes: string[];
  /** status.accessModes: what it got, shown (as kubectl's ACCESS MODES) only once the claim names its volume. */
  boundAccessModes: string[];
  storageClass: {
    /** The class the binder reads (beta annotation, then spec.storageClassName); null when the claim names none. */
    name: string | null;
    /** null when the user may not list StorageClasses, or the claim names no class. */
    exists: boolean | null;
    provisioner: string | null;
    reclaimPolicy: string | null;
    volumeBindingMode: string | null;
    isDefault: boolean;
  };
  /** status: as `kubectl get pv` shows it (Terminating once deleted); phase: status.phase. */
  volume: { name: string; status: string | null; phase: string | null; reclaimPolicy: string | null; capacity: string | null; volumeMode: string | null } | null;
  usedBy: PodUse[];
  nodes: string[];
  reason: string | null;
  /** Volumes that nearly fit a Pending claim, with why each does not. */
  nearMisses: { name: string; why: string[] }[];
  warnings: string[];
  created: string | null;
  lastWarning: string | null;
}

export { shortModes };

/** deploy/NAME for pods of a Deployment's ReplicaSet (named NAME-<pod-template-hash>), else kind/name. */
export function workloadOf(pod: Pod): string | null {
  const ref = pod.metadata?.ownerReferences?.find((o) => o.controller);
  if (!ref) return null;
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  if (ref.kind === 'ReplicaSet' && hash && ref.name.endsWith(`-${hash}`)) return `deploy/${ref.name.slice(0, -hash.length - 1)}`;
  const short: Record<string, string> = { ReplicaSet: 'rs', StatefulSet: 'sts', DaemonSet: 'ds', Job: 'job' };
  return `${short[ref.kind] ?? ref.kind.toLowerCase()}/${ref.name}`;
}

/** Claims a pod mounts, generic ephemeral volumes included (their claim is named POD-VOLUME). */
export function claimNamesOf(pod: Pod): string[] {
  return (pod.spec?.volumes ?? [])
    .map((v) => v.persistentVolumeClaim?.claimName ?? (v.ephemeral ? `${pod.metadata?.name}-${v.name}` : undefined))
    .filter((x): x is string => Boolean(x));
}

/**
 * What the join keeps of a pod while pods are read page by page: nothing when it has finished or
 * mounts no claim, else only the fields buildClaimViews reads (name, namespace, node, phase,
 * controller, pod-template-hash and the claim volumes), so memory follows the claims in use.
 */
export function claimUser(p: Pod): Pod | undefined {
  if (isTerminated(p) || claimNamesOf(p).length === 0) return undefined;
  const volumes = (p.spec?.volumes ?? [])
    .filter((v) => v.persistentVolumeClaim || v.ephemeral)
    .map((v) => ({
      name: v.name,
      ...(v.persistentVolumeClaim ? { persistentVolumeClaim: { claimName: v.persistentVolumeClaim.claimName } } : {}),
      ...(v.ephemeral ? { ephemeral: {} } : {}),
    }));
  const ref = p.metadata?.ownerReferences?.find((o) => o.controller);
  const hash = p.metadata?.labels?.['pod-template-hash'];
  return {
    metadata: {
      name: p.metadata?.name,
      namespace: p.metadata?.namespace,
      ...(hash !== undefined ? { labels: { 'pod-template-hash': hash } } : {}),
      ...(ref ? { ownerReferences: [{ apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid, controller: true }] } : {}),
    },
    spec: { nodeName: p.spec?.nodeName, volumes, containers: [] },
    status: { phase: p.status?.phase },
  };
}

export interface Inventory {
  claims: PersistentVolumeClaim[];
  volumes: PersistentVolume[];
  classes: StorageClass[];
  pods: Pod[];
  events: KEvent[];
  /** Only when a Pending claim waits for pre-created local volumes, and the user may list nodes. */
  nodes?: Node[];
  /** What RBAC hid from the user; reasons then say what cannot be told. */
  hidden?: { volumes?: boolean; classes?: boolean };
}

export function buildClaimViews(inv: Inventory): ClaimView[] {
  const classes = new Map(inv.classes.map((c) => [c.metadata!.name!, c]));
  // Several defaults: the newest wins, as in the volume controller (GetDefaultClass).
  const defaultClass = inv.classes
    .filter((c) => c.metadata?.annotations?.[DEFAULT_CLASS] === 'true')
    .sort((a, b) => (b.metadata?.creationTimestamp ?? '').localeCompare(a.metadata?.creationTimestamp ?? '') || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))[0];
  const volumes = new Map(inv.volumes.map((v) => [v.metadata!.name!, v]));
  const users = new Map<string, Pod[]>();
  for (const p of inv.pods) {
    if (isTerminated(p)) continue;
    for (const c of claimNamesOf(p)) {
      const k = `${p.metadata?.namespace}/${c}`;
      users.set(k, [...(users.get(k) ?? []), p]);
    }
  }
  const warnings = new Map<string, KEvent>();
  for (const e of inv.events) {
    if (e.type !== 'Warning' || e.involvedObject?.kind !== 'PersistentVolumeClaim') continue;
    const k = `${e.involvedObject.namespace}/${e.involvedObject.name}`;
    const prev = warnings.get(k);
    if (!prev || eventTime(e) >= eventTime(prev)) warnings.set(k, e);
  }
  return inv.claims.map((pvc) => {
    const ns = pvc.metadata!.namespace!;
    const name = pvc.metadata!.name!;
    const className = claimHasClass(pvc) ? claimClass(pvc) : null;
    const sc = className ? classes.get(className) : undefined;
    const pv = pvc.spec?.volumeName ? volumes.get(pvc.spec.volumeName) : undefined;
    const podsUsing = users.get(`${ns}/${name}`) ?? [];
    const nodes = [...new Set(podsUsing.map((p) => p.spec?.nodeName).filter((n): n is string => Boolean(n)))];
    const named = Boolean(pvc.spec?.volumeName);
    const deleting = pvc.metadata?.deletionTimestamp ?? null;
    const view: ClaimView = {
      namespace: ns,
      name,
      status: deleting ? 'Terminating' : (pvc.status?.phase ?? 'Unknown'),
      phase: pvc.status?.phase ?? null,
      deletionTimestamp: deleting,
      finalizers: pvc.metadata?.finalizers ?? [],
      requested: pvc.spec?.resources?.requests?.storage ?? null,
      capacity: named ? (pvc.status?.capacity?.storage ?? null) : null,
      boundAccessModes: named ? (pvc.status?.accessModes ?? []) : [],
      accessModes: pvc.spec?.accessModes ?? [],
      storageClass: {
        name: className,
        exists: inv.hidden?.classes || !className ? null : Boolean(sc),
        provisioner: sc?.provisioner ?? null,
        reclaimPolicy: sc?.reclaimPolicy ?? null,
        volumeBindingMode: sc?.volumeBindingMode ?? null,
        isDefault: sc?.metadata?.annotations?.[DEFAULT_CLASS] === 'true',
      },
      volume: pv
        ? {
            name: pv.metadata!.name!,
            status: pv.metadata?.deletionTimestamp ? 'Terminating' : (pv.status?.phase ?? null),
            phase: pv.status?.phase ?? null,
            reclaimPolicy: pv.spec?.persistentVolumeReclaimPolicy ?? null,
            capacity: pv.spec?.capacity?.storage ?? null,
            volumeMode: pv.spec?.volumeMode ?? null,
          }
        : pvc.spec?.volumeName
          ? { name: pvc.spec.volumeName, status: null, phase: null, reclaimPolicy: null, capacity: null, volumeMode: null }
          : null,
      usedBy: podsUsing.map((p) => ({ pod: p.metadata!.name!, node: p.spec?.nodeName ?? null, workload: workloadOf(p) })),
      nodes,
      reason: null,
      nearMisses: [],
      warnings: [],
      created: pvc.metadata?.creationTimestamp ?? null,
      lastWarning: null,
    };
    const ev = warnings.get(`${ns}/${name}`);
    if (ev) view.lastWarning = `${ev.reason}: ${ev.message}`;
    if (deleting) {
      view.reason = terminatingReason(view, podsUsing);
    } else if (view.phase === 'Pending') {
      const p = pendingReason(pvc, sc, defaultClass, podsUsing, inv, view.lastWarning);
      view.reason = p.reason;
      view.nearMisses = p.nearMisses;
    }
    if (pvc.spec?.volumeName && !pv && !inv.hidden?.volumes && view.phase !== 'Pending') view.warnings.push(`volume ${pvc.spec.volumeName} does not exist`);
    const modes = view.boundAccessModes.length ? view.boundAccessModes : view.accessModes;
    if ((modes.includes('ReadWriteOnce') || modes.includes('ReadWriteOncePod')) && nodes.length > 1) {
      view.warnings.push(`ReadWriteOnce but used by pods on ${nodes.length} nodes (${nodes.join(', ')}): only one node can mount it`);
    }
    return view;
  });
}

function eventTime(e: KEvent): string {
  return e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '';
}

const PVC_PROTECTION = 'kubernetes.io/pvc-protection';

/** Why a deleted claim is still there: kubectl shows Terminating; we also say who holds it. */
function terminatingReason(view: ClaimView, pods: Pod[]): string {
  const others = view.finalizers.filter((f) => f !== PVC_PROTECTION);
  const parts: string[] = [];
  if (view.finalizers.includes(PVC_PROTECTION)) {
    parts.push(
      pods.length
        ? `deleted, but pod${pods.length > 1 ? 's' : ''} ${pods.map((p) => p.metadata?.name).join(', ')} still use${pods.length > 1 ? '' : 's'} it (${PVC_PROTECTION}); it goes when they stop`
        : `deleted; waiting for the ${PVC_PROTECTION} finalizer to be removed`,
    );
  } else {
    parts.push('deleted');
  }
  if (others.length) parts.push(`waiting for finalizer${others.length > 1 ? 's' : ''} ${others.join(', ')}`);
  return parts.join('; ');
}

interface Pending {
  reason: string;
  nearMisses: { name: string; why: string[] }[];
}

/**
 * Why a claim is Pending, following the volume controller's order (syncUnboundClaim): a
 * volume asked for by name; else a volume that fits (the smallest, or one reserved for the
 * claim); else the default class is assigned to a claim without one; WaitForFirstConsumer
 * waits for a pod; a class provisions; without a class nothing does. Where nothing will
 * provide a volume, the volumes that nearly fit are named with why they do not.
 */
function pendingReason(
  pvc: PersistentVolumeClaim,
  sc: StorageClass | undefined,
  defaultClass: StorageClass | undefined,
  pods: Pod[],
  inv: Inventory,
  lastWarning: string | null,
): Pending {
  const suffix = lastWarning ? `; last warning: ${lastWarning}` : '';
  const cls = claimClass(pvc);
  const hidden = inv.hidden ?? {};
  const want = `size >= ${requestedSize(pvc)}, modes ${shortModes(pvc.spec?.accessModes ?? [])}${cls ? `, class "${cls}"` : ''}`;
  const none = { nearMisses: [] };

  const byName = pvc.spec?.volumeName;
  if (byName) {
    if (hidden.volumes) return { reason: `asks for volume ${byName}, which you may not read (list persistentvolumes is forbidden)${suffix}`, ...none };
    const v = inv.volumes.find((x) => x.metadata?.name === byName);
    if (!v) return { reason: `asks for volume ${byName}, which does not exist${suffix}`, ...none };
    const why = mismatches(v, pvc, { byName: true });
    if (why.length) return { reason: `asks for volume ${byName}, which does not fit: it ${why.join(', ')}${suffix}`, nearMisses: [{ name: byName, why }] };
    return { reason: `waiting for the volume controller to bind ${byName}${suffix}`, ...none };
  }

  const wffc = sc?.volumeBindingMode === 'WaitForFirstConsumer';
  if (!hidden.volumes && !wffc) {
    const fit = bestMatch(pvc, inv.volumes);
    if (fit) return { reason: `waiting for the volume controller to bind ${fit.metadata?.name}${suffix}`, ...none };
  }
  if (wffc) {
    if (pods.length === 0) return { reason: `StorageClass ${sc.metadata?.name} binds on first use (WaitForFirstConsumer): waiting for a pod to use the claim${suffix}`, ...none };
    const unscheduled = pods.filter((p) => !p.spec?.nodeName);
    if (unscheduled.length) {
      const waiting = `waiting for pod ${unscheduled[0].metadata?.name} to be scheduled (WaitForFirstConsumer)`;
      // Pre-created (local) volumes: the scheduler binds one that fits on the pod's node; say which could.
      if (sc.provisioner !== 'kubernetes.io/no-provisioner' || hidden.volumes) return { reason: `${waiting}${suffix}`, ...none };
      const fitting = inv.volumes.filter((v) => mismatches(v, pvc).length === 0);
      // With the nodes known, a volume whose node affinity matches no node is a near miss too.
      const nodes = inv.nodes;
      const usable = nodes ? fitting.filter((v) => nodes.some((n) => nodeAffinityMatches(v, n))) : fitting;
      const fits = usable.map((v) => v.metadata?.name);
      if (fits.length) return { reason: `${waiting}; fitting volumes: ${fits.join(', ')}${nodes ? '' : ' (the scheduler also checks their node affinity)'}${suffix}`, ...none };
      const stranded = fitting.map((v) => ({ name: v.metadata!.name!, why: ['has a node affinity that no node matches'] }));
      const near = stranded.length ? stranded : nearMisses(pvc, inv.volumes);
      const shown = near.slice(0, 3).map((n) => `${n.name} ${n.why.join(', ')}`);
      return { reason: `${waiting}; no PersistentVolume fits (${want})${shown.length ? `: ${shown.join('; ')}` : ''}${suffix}`, nearMisses: near };
    }
  }

  // Nothing fits: will anything provide a volume?
  let source: string;
  let provides = false;
  if (!claimHasClass(pvc)) {
    if (hidden.classes) source = 'the claim names no StorageClass (whether the cluster has a default one is hidden from you)';
    else if (defaultClass) {
      source = `the claim names no StorageClass; the volume controller assigns the default one, ${defaultClass.metadata?.name} (provisioner ${defaultClass.provisioner})`;
      provides = true;
    } else source = 'no StorageClass given and the cluster has no default StorageClass';
  } else if (cls === '') {
    source = 'storageClassName is "", so nothing provisions one';
  } else if (hidden.classes) {
    source = `StorageClass "${cls}" could not be checked (list storageclasses is forbidden)`;
  } else if (!sc) {
    source = `StorageClass "${cls}" does not exist, so nothing provisions one`;
  } else if (sc.provisioner === 'kubernetes.io/no-provisioner') {
    source = `StorageClass ${cls} has no provisioner (pre-created volumes only)`;
  } else {
    source = `waiting for provisioner ${sc.provisioner} to create a volume`;
    provides = true;
  }
  if (provides) return { reason: `${source}${suffix}`, ...none };
  if (hidden.volumes) return { reason: `${source}; whether a PersistentVolume fits is hidden from you (list persistentvolumes is forbidden)${suffix}`, ...none };
  const near = nearMisses(pvc, inv.volumes);
  if (!near.length) return { reason: `no PersistentVolume fits (${want}); ${source}${suffix}`, nearMisses: [] };
  const shown = near.slice(0, 3).map((n) => `${n.name} ${n.why.join(', ')}`);
  const more = near.length > 3 ? `; and ${near.length - 3} more` : '';
  return { reason: `no PersistentVolume fits (${want}): ${shown.join('; ')}${more}; ${source}${suffix}`, nearMisses: near };
}
