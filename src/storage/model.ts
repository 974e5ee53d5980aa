// Joins claims, volumes, classes, pods and events in memory (a constant number of list
// calls), and explains Pending and Released states.
import type { KEvent, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '../kube/types.js';
import { isTerminated, parseQuantity } from '../workloads/pods.js';

export const DEFAULT_CLASS = 'storageclass.kubernetes.io/is-default-class';

export interface PodUse {
  pod: string;
  node: string | null;
  workload: string | null;
}

export interface ClaimView {
  namespace: string;
  name: string;
  status: string;
  requested: string | null;
  capacity: string | null;
  accessModes: string[];
  storageClass: {
    name: string | null;
    /** null when the user may not list StorageClasses. */
    exists: boolean | null;
    provisioner: string | null;
    reclaimPolicy: string | null;
    volumeBindingMode: string | null;
    isDefault: boolean;
  };
  volume: { name: string; phase: string | null; reclaimPolicy: string | null; capacity: string | null; volumeMode: string | null } | null;
  usedBy: PodUse[];
  nodes: string[];
  reason: string | null;
  warnings: string[];
  created: string | null;
  lastWarning: string | null;
}

const SHORT_MODES: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };
export const shortModes = (modes: string[]) => modes.map((m) => SHORT_MODES[m] ?? m).join(',');

/** deploy/NAME for pods of a Deployment's ReplicaSet (named NAME-<pod-template-hash>), else kind/name. */
export function workloadOf(pod: Pod): string | null {
  const ref = pod.metadata?.ownerReferences?.find((o) => o.controller);
  if (!ref) return null;
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  if (ref.kind === 'ReplicaSet' && hash && ref.name.endsWith(`-${hash}`)) return `deploy/${ref.name.slice(0, -hash.length - 1)}`;
  const short: Record<string, string> = { ReplicaSet: 'rs', StatefulSet: 'sts', DaemonSet: 'ds', Job: 'job' };
  return `${short[ref.kind] ?? ref.kind.toLowerCase()}/${ref.name}`;
}

export function claimNamesOf(pod: Pod): string[] {
  return (pod.spec?.volumes ?? []).map((v) => v.persistentVolumeClaim?.claimName).filter((x): x is string => Boolean(x));
}

export interface Inventory {
  claims: PersistentVolumeClaim[];
  volumes: PersistentVolume[];
  classes: StorageClass[];
  pods: Pod[];
  events: KEvent[];
  /** What RBAC hid from the user; reasons then say what cannot be told. */
  hidden?: { volumes?: boolean; classes?: boolean };
}

export function buildClaimViews(inv: Inventory): ClaimView[] {
  const classes = new Map(inv.classes.map((c) => [c.metadata!.name!, c]));
  const defaultClass = inv.classes.find((c) => c.metadata?.annotations?.[DEFAULT_CLASS] === 'true');
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
    const scName = pvc.spec?.storageClassName ?? null;
    const effectiveClass = scName === null ? (defaultClass?.metadata?.name ?? null) : scName;
    const sc = effectiveClass ? classes.get(effectiveClass) : undefined;
    const pv = pvc.spec?.volumeName ? volumes.get(pvc.spec.volumeName) : undefined;
    const podsUsing = users.get(`${ns}/${name}`) ?? [];
    const nodes = [...new Set(podsUsing.map((p) => p.spec?.nodeName).filter((n): n is string => Boolean(n)))];
    const modes = pvc.spec?.accessModes ?? [];
    const view: ClaimView = {
      namespace: ns,
      name,
      status: pvc.status?.phase ?? 'Unknown',
      requested: (pvc.spec?.resources?.requests as Record<string, string> | undefined)?.storage ?? null,
      capacity: (pvc.status?.capacity as Record<string, string> | undefined)?.storage ?? null,
      accessModes: modes,
      storageClass: {
        name: effectiveClass,
        exists: inv.hidden?.classes ? null : Boolean(sc),
        provisioner: sc?.provisioner ?? null,
        reclaimPolicy: sc?.reclaimPolicy ?? null,
        volumeBindingMode: sc?.volumeBindingMode ?? null,
        isDefault: sc?.metadata?.annotations?.[DEFAULT_CLASS] === 'true',
      },
      volume: pv
        ? {
            name: pv.metadata!.name!,
            phase: pv.status?.phase ?? null,
            reclaimPolicy: pv.spec?.persistentVolumeReclaimPolicy ?? null,
            capacity: (pv.spec?.capacity as Record<string, string> | undefined)?.storage ?? null,
            volumeMode: pv.spec?.volumeMode ?? null,
          }
        : pvc.spec?.volumeName
          ? { name: pvc.spec.volumeName, phase: null, reclaimPolicy: null, capacity: null, volumeMode: null }
          : null,
      usedBy: podsUsing.map((p) => ({ pod: p.metadata!.name!, node: p.spec?.nodeName ?? null, workload: workloadOf(p) })),
      nodes,
      reason: null,
      warnings: [],
      created: pvc.metadata?.creationTimestamp ?? null,
      lastWarning: null,
    };
    const ev = warnings.get(`${ns}/${name}`);
    if (ev) view.lastWarning = `${ev.reason}: ${ev.message}`;
    if (view.status === 'Pending') {
      view.reason =
        inv.hidden?.classes || inv.hidden?.volumes
          ? `Pending; the reason needs ${[inv.hidden.classes && 'StorageClasses', inv.hidden.volumes && 'PersistentVolumes'].filter(Boolean).join(' and ')}, which you may not list${view.lastWarning ? `; last warning: ${view.lastWarning}` : ''}`
          : pendingReason(pvc, scName, sc, defaultClass, podsUsing, inv.volumes, view.lastWarning);
    }
    if (pvc.spec?.volumeName && !pv && !inv.hidden?.volumes) view.warnings.push(`volume ${pvc.spec.volumeName} does not exist`);
    if ((modes.includes('ReadWriteOnce') || modes.includes('ReadWriteOncePod')) && nodes.length > 1) {
      view.warnings.push(`ReadWriteOnce but used by pods on ${nodes.length} nodes (${nodes.join(', ')}): only one node can mount it`);
    }
    return view;
  });
}

function eventTime(e: KEvent): string {
  return e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '';
}

function pendingReason(
  pvc: PersistentVolumeClaim,
  scName: string | null,
  sc: StorageClass | undefined,
  defaultClass: StorageClass | undefined,
  pods: Pod[],
  volumes: PersistentVolume[],
  lastWarning: string | null,
): string {
  const suffix = lastWarning ? `; last warning: ${lastWarning}` : '';
  const matching = matchingVolumes(pvc, scName ?? '', volumes);
  if (scName === null && !defaultClass) return `no StorageClass given and the cluster has no default StorageClass${matching.length ? '' : '; no Available PV matches either'}${suffix}`;
  if (scName === '') {
    return matching.length ? `waiting for the volume controller to bind ${matching[0]!.metadata?.name}${suffix}` : `no Available PV without a class matches (size >= ${req(pvc)}, modes ${shortModes(pvc.spec?.accessModes ?? [])})${suffix}`;
  }
  if (!sc) {
    return matching.length
      ? `waiting for the volume controller to bind ${matching[0]!.metadata?.name}${suffix}`
      : `StorageClass "${scName ?? defaultClass?.metadata?.name}" does not exist, and no Available PV of that class matches (size >= ${req(pvc)}, modes ${shortModes(pvc.spec?.accessModes ?? [])})${suffix}`;
  }
  if (sc.volumeBindingMode === 'WaitForFirstConsumer') {
    if (pods.length === 0) return `StorageClass ${sc.metadata?.name} binds on first use (WaitForFirstConsumer): waiting for a pod to use the claim${suffix}`;
    const unscheduled = pods.filter((p) => !p.spec?.nodeName);
    if (unscheduled.length) return `waiting for pod ${unscheduled[0]!.metadata?.name} to be scheduled (WaitForFirstConsumer)${suffix}`;
  }
  if (sc.provisioner === 'kubernetes.io/no-provisioner') {
    return `StorageClass ${sc.metadata?.name} has no provisioner and no Available PV matches (size >= ${req(pvc)}, modes ${shortModes(pvc.spec?.accessModes ?? [])})${suffix}`;
  }
  return `waiting for provisioner ${sc.provisioner} to create a volume${suffix}`;
}

function req(pvc: PersistentVolumeClaim): string {
  return (pvc.spec?.resources?.requests as Record<string, string> | undefined)?.storage ?? '0';
}

export function matchingVolumes(pvc: PersistentVolumeClaim, className: string, volumes: PersistentVolume[]): PersistentVolume[] {
  const need = parseQuantity(req(pvc));
  const modes = pvc.spec?.accessModes ?? [];
  return volumes.filter(
    (v) =>
      v.status?.phase === 'Available' &&
      (v.spec?.storageClassName ?? '') === className &&
      parseQuantity((v.spec?.capacity as Record<string, string> | undefined)?.storage) >= need &&
      modes.every((m) => (v.spec?.accessModes ?? []).includes(m)),
  );
}
