// Scale-to-zero bookkeeping: which workloads, their recorded counts and HPAs, their pods.
import { count } from '../util/words.js';
import type { Kube } from '../kube/client.js';
import type { HPA, KubeObject, Pod } from '../kube/types.js';
import { R, pathOf, type Resource } from '../kube/resources.js';
import { CliError, UsageError } from '../errors.js';
import { labelKeyProblem, labelValueProblem, selectorToString, type LabelSelector } from '../util/labels.js';
import { controllerOf, effectiveRequests } from './pods.js';

export const SCALED_LABEL = 'mlops.kubectl.io/scaled-to-zero';
export const SZ = {
  replicas: 'mlops.kubectl.io/recorded-replicas',
  at: 'mlops.kubectl.io/scaled-to-zero-at',
  hpa: 'mlops.kubectl.io/recorded-hpa',
} as const;

export const SCALABLE = [R.deployments, R.statefulsets, R.replicasets];

export interface Workload extends KubeObject {
  spec?: { replicas?: number; selector?: LabelSelector; [k: string]: unknown };
  status?: {
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    updatedReplicas?: number;
    observedGeneration?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

export interface Target {
  res: Resource;
  obj: Workload;
}

/** A parsed TARGET argument. */
export interface TargetRef {
  res: Resource;
  name: string;
}

/** deployment.apps/web → kubectl's singular `kind.group/name`. */
export function displayName(res: Resource, name: string | undefined): string {
  return `${res.kind.toLowerCase()}${res.group ? '.' + res.group : ''}/${name}`;
}

/** Resolves TARGET arguments or a selector into workloads; never ReplicaSets that a Deployment owns. */
export async function resolveTargets(kube: Kube, a: { targets: TargetRef[]; selector?: string; namespace: string; allNamespaces: boolean; labelOnly?: string }): Promise<Target[]> {
  const out: Target[] = [];
  if (a.targets.length) {
    const objs = await Promise.all(a.targets.map(({ res, name }) => kube.get<Workload>(pathOf(res, { namespace: a.namespace, name }))));
    a.targets.forEach(({ res, name }, i) => {
      const obj = objs[i];
      const owner = controllerOf(obj);
      if (res === R.replicasets && owner) {
        throw new CliError(
          `replicaset.apps/${name} is managed by ${owner.kind.toLowerCase()}/${owner.name}, which would scale it back: use ${owner.kind.toLowerCase()}/${owner.name}`,
        );
      }
      out.push({ res, obj });
    });
    return out;
  }
  const labelSelector = [a.selector, a.labelOnly].filter(Boolean).join(',');
  const ns = a.allNamespaces ? undefined : a.namespace;
  const lists = await Promise.all(SCALABLE.map((res) => kube.list<Workload>(pathOf(res, { namespace: ns }), { labelSelector })));
  SCALABLE.forEach((res, i) => {
    for (const obj of lists[i].items) {
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
    const r = effectiveRequests(p);
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

// ---------------------------------------------------------------------------------------------
// Plans: pure decisions from the object as read, so that a re-run converges and every refusal
// happens before the first write.

/** The recorded HPA as kept in the annotation (what `restore` re-creates). */
export interface HpaRecord {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: NonNullable<HPA['spec']>;
}

/** The HPA scale-to-zero --with-hpa recorded; one edited by hand into something else is refused by name, before any write. */
export function recordedHpa(obj: Workload): HpaRecord | undefined {
  const text = obj.metadata?.annotations?.[SZ.hpa];
  if (!text) return undefined;
  let rec: Partial<HpaRecord> | undefined;
  try {
    rec = JSON.parse(text) as Partial<HpaRecord>;
  } catch {
    rec = undefined;
  }
  const ref = rec?.spec?.scaleTargetRef;
  if (typeof rec?.metadata?.name !== 'string' || !rec.metadata.name || typeof ref?.name !== 'string' || typeof rec.spec?.maxReplicas !== 'number') {
    throw new CliError(
      `${displayNameOf(obj)}: its annotation ${SZ.hpa} is not an HPA as scale-to-zero --with-hpa records it (edited by hand?); fix it, or remove it to restore without the HPA`,
    );
  }
  return rec as HpaRecord;
}

/** The recorded HPA's name for listings: a record that does not read as one says so instead. */
export function recordedHpaName(obj: Workload): string | null {
  try {
    return recordedHpa(obj)?.metadata.name ?? null;
  } catch {
    return '<invalid record>';
  }
}

export function recordedReplicas(obj: Workload): number | undefined {
  const text = obj.metadata?.annotations?.[SZ.replicas];
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

export interface ScalePlan {
  /** spec.replicas as read. */
  from: number;
  /** The count `restore` will bring back. */
  recorded: number;
  /** 'scale': record and scale to 0 in one guarded write; 'already': at 0 with our record; 'unrecorded': at 0, nothing to record. */
  state: 'scale' | 'already' | 'unrecorded';
  /** What to do with an HPA that targets the workload. */
  hpa?: { name: string; min: number; max: number; action: 'left' | 'remove' };
  /** The merge patch (without the resourceVersion guard), or undefined when nothing is to be written. */
  patch?: object;
}

/**
 * One write records the count (and the HPA, with --with-hpa), labels the workload and sets
 * spec.replicas to 0, guarded by the resourceVersion it was computed on: there is no state in
 * which the workload is labelled but still running, or at zero without its record.
 */
export function planScaleToZero(obj: Workload, hpa: HPA | undefined, a: { withHpa: boolean; now: Date }): ScalePlan {
  const name = displayNameOf(obj);
  const from = obj.spec?.replicas ?? 1;
  const prior = recordedReplicas(obj);
  const labelled = obj.metadata?.labels?.[SCALED_LABEL] === 'true';
  let hpaPlan: ScalePlan['hpa'];
  if (hpa) {
    const min = hpa.spec?.minReplicas ?? 1;
    // The HPA controller leaves a target at 0 replicas alone (ScalingActive=False,
    // ScalingDisabled) unless minReplicas is 0 (the HPAScaleToZero gate): then it would scale it up.
    if (min === 0 && !a.withHpa) {
      throw new CliError(
        `${name} is scaled by HorizontalPodAutoscaler ${hpa.metadata?.name} with minReplicas 0, which stays active at zero replicas and would scale it back up; pass --with-hpa to record and remove it (restore re-creates it)`,
      );
    }
    hpaPlan = { name: hpa.metadata!.name!, min, max: hpa.spec?.maxReplicas ?? 0, action: a.withHpa ? 'remove' : 'left' };
  }
  const at = a.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const annotations: Record<string, string> = {};
  let state: ScalePlan['state'];
  let recorded: number;
  if (from > 0) {
    state = 'scale';
    recorded = from;
    annotations[SZ.replicas] = String(from);
    annotations[SZ.at] = at;
  } else if (prior !== undefined) {
    state = 'already';
    recorded = prior;
  } else {
    state = 'unrecorded';
    recorded = 0;
  }
  if (hpaPlan?.action === 'remove' && state !== 'unrecorded') {
    const rec = JSON.stringify(hpaRecord(hpa!));
    if (obj.metadata?.annotations?.[SZ.hpa] !== rec) annotations[SZ.hpa] = rec;
  }
  const needsLabel = state !== 'unrecorded' && !labelled;
  if (state === 'already' && !needsLabel && Object.keys(annotations).length === 0) return { from, recorded, state, hpa: hpaPlan };
  if (state === 'unrecorded') return { from, recorded, state, hpa: hpaPlan };
  const patch: { metadata: object; spec?: object } = { metadata: { labels: { [SCALED_LABEL]: 'true' }, annotations } };
  if (state === 'scale') patch.spec = { replicas: 0 };
  return { from, recorded, state, hpa: hpaPlan, patch };
}

export interface RestorePlan {
  /** 'restore': scale from 0 to `to`; 'resume': already at `to`, an earlier restore stopped before dropping the record; 'restored': no record, running. */
  state: 'restore' | 'resume' | 'restored';
  from: number;
  to: number;
  hpa?: HpaRecord;
}

/**
 * A recorded HPA whose name is taken now. By an HPA of this workload (someone re-created it):
 * left as it is, with a warning when its bounds differ from the record. By another workload's:
 * restoring would drop the record with nothing re-created, so it is refused unless --force.
 */
export function hpaClash(plan: RestorePlan, t: Target, hpas: HPA[]): { refuse: boolean; text: string; forced?: string } | undefined {
  const rec = plan.hpa;
  if (!rec || plan.state === 'restored') return undefined;
  const hpa = `horizontalpodautoscaler.autoscaling/${rec.metadata.name}`;
  // Another HPA scales the workload now: a second one would leave both unable to act (AmbiguousSelector).
  const own = hpas.find(
    (h) =>
      h.metadata?.namespace === t.obj.metadata?.namespace &&
      h.metadata?.name !== rec.metadata.name &&
      h.spec?.scaleTargetRef?.kind === t.res.kind &&
      h.spec?.scaleTargetRef?.name === t.obj.metadata?.name,
  );
  if (own)
    return {
      refuse: false,
      text: `horizontalpodautoscaler.autoscaling/${own.metadata?.name} scales ${displayNameOf(t.obj)} now: ${hpa} is not re-created beside it (two would stop each other) and its record is dropped`,
    };
  const taken = hpas.find((h) => h.metadata?.namespace === t.obj.metadata?.namespace && h.metadata?.name === rec.metadata.name);
  if (!taken) return undefined;
  const ref = taken.spec?.scaleTargetRef;
  if (ref?.kind === t.res.kind && ref?.name === t.obj.metadata?.name) {
    const bounds = (s: HPA['spec']) => `min ${s?.minReplicas ?? 1}, max ${s?.maxReplicas}`;
    if (bounds(taken.spec) === bounds(rec.spec)) return undefined;
    return { refuse: false, text: `${hpa} already exists (${bounds(taken.spec)}), not as recorded (${bounds(rec.spec)}): left as it is` };
  }
  const other = `${hpa} scales ${ref?.kind?.toLowerCase() ?? 'an unknown kind'}/${ref?.name ?? '?'}`;
  return {
    refuse: true,
    text: `${other}, so the HPA recorded for ${displayNameOf(t.obj)} cannot be re-created under its name: delete or rename that HPA, or pass --force to restore without it (its record is dropped)`,
    forced: `${other}: the HPA recorded for ${displayNameOf(t.obj)} is not re-created (--force) and its record is dropped`,
  };
}

/**
 * restore's rules (issue 14): never shrink or override a workload someone scaled since, unless
 * --force. `liveHpa`: an HPA targeting the workload now; once it runs, the count is its call.
 */
export function planRestore(obj: Workload, a: { force: boolean; liveHpa?: HPA }): RestorePlan {
  const name = displayNameOf(obj);
  const from = obj.spec?.replicas ?? 1;
  const recorded = recordedReplicas(obj);
  const hpa = recordedHpa(obj);
  if (recorded === undefined) {
    if (obj.metadata?.annotations?.[SZ.replicas] !== undefined) {
      throw new CliError(
        `${name} has an unreadable recorded replica count "${obj.metadata.annotations[SZ.replicas]}": scale it with kubectl scale and remove the annotation ${SZ.replicas}`,
      );
    }
    if (from > 0) return { state: 'restored', from, to: from };
    throw new CliError(`${name} is at 0 replicas with no recorded replica count (it was not scaled to zero by kubectl mlops); use kubectl scale instead`);
  }
  if (from === 0) return { state: 'restore', from, to: recorded, hpa };
  if (from === recorded) return { state: 'resume', from, to: recorded, hpa };
  // An earlier restore scaled it up and its HPA has since moved the count: nothing to override.
  if (a.liveHpa) return { state: 'resume', from, to: from, hpa };
  if (!a.force) {
    throw new CliError(
      `${name} runs ${count(from, 'replica')}, not 0 (${recorded} recorded): someone scaled it after scale-to-zero; pass --force to scale it to ${recorded} and drop the record`,
    );
  }
  return { state: 'restore', from, to: recorded, hpa };
}

/** The merge patch that drops the record (label and annotations). */
export const DROP_RECORD = { metadata: { labels: { [SCALED_LABEL]: null }, annotations: { [SZ.replicas]: null, [SZ.at]: null, [SZ.hpa]: null } } };

function displayNameOf(obj: Workload): string {
  const res = SCALABLE.find((r) => r.kind === obj.kind) ?? R.deployments;
  return displayName(res, obj.metadata?.name);
}

/**
 * What restore waits for, read from the workload's own status: `done` once `to` (or, with an
 * HPA in charge, the current spec) replicas are Ready; `terminal` for a state no wait will leave.
 */
export function restoreProgress(
  obj: Workload | undefined,
  a: { name: string; to: number; hpaInCharge: boolean },
): { done: true; ready: number } | { terminal: string; superseded?: string } | { ready: number; want: number } {
  // superseded: someone else's change that a resume (or an undo) would overwrite or cannot reach.
  if (!obj) return { terminal: `${a.name} was deleted while we waited for it to be Ready`, superseded: `${a.name} was deleted by someone else` };
  const spec = obj.spec?.replicas ?? 1;
  const st = obj.status ?? {};
  const ready = st.readyReplicas ?? 0;
  if (spec === 0)
    return { terminal: `someone scaled ${a.name} back to 0 while we waited for ${count(a.to, 'Ready replica')}`, superseded: `${a.name} was scaled back to 0 by someone else` };
  if (spec !== a.to && !a.hpaInCharge)
    return { terminal: `someone changed the replicas of ${a.name} to ${spec} while we waited (we set ${a.to})`, superseded: `${a.name} was scaled to ${spec} by someone else` };
  const progressing = st.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    return { terminal: `${a.name} exceeded its progress deadline with ${ready}/${spec} Ready: ${progressing.message ?? ''}`.trimEnd() };
  }
  const observed = (st.observedGeneration ?? 0) >= (obj.metadata?.generation ?? 0);
  if (observed && ready >= spec) return { done: true, ready };
  return { ready, want: spec };
}

/**
 * A label selector as `kubectl -l` takes it, checked client-side so that a typo is a usage
 * error (exit 2) before connecting: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a)`.
 */
export function parseSelector(text: string, flag = '-l/--selector'): string {
  if (text.trim() === '') throw new UsageError(`${flag} must not be empty`);
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  const bad = (why: string): never => {
    throw new UsageError(`invalid value "${text}" for ${flag}: ${why}`);
  };
  if (depth !== 0) bad('unbalanced parentheses');
  for (const raw of parts) {
    const p = raw.trim();
    if (!p) bad('empty requirement');
    let m: RegExpMatchArray | null;
    let key: string;
    let values: string[] = [];
    if ((m = p.match(/^!\s*([^\s=!(),]+)$/))) key = m[1]!;
    else if ((m = p.match(/^([^\s=!(),]+)\s*(==|=|!=)\s*([^\s=!(),]*)$/))) [key, values] = [m[1], [m[3]]];
    else if ((m = p.match(/^([^\s=!(),]+)\s+(in|notin)\s*\(([^()]*)\)$/))) [key, values] = [m[1], m[3].split(',').map((v) => v.trim())];
    else if ((m = p.match(/^([^\s=!(),]+)$/))) key = m[1]!;
    else return bad(`cannot parse "${p}"`);
    const kp = labelKeyProblem(key);
    if (kp) bad(`label key "${key}": ${kp}`);
    for (const v of values) {
      const vp = labelValueProblem(v);
      if (vp) bad(`label value "${v}": ${vp}`);
    }
  }
  return text;
}
