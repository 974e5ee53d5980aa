// Wires a ConfigMap or Secret into a workload's pod template (envFrom or a volume), and stamps
// it so the workload rolls out when the data changes (kubernetes#22368).
// The stamp is the source object's uid and resourceVersion as written, never a digest of the
// data: a hash of a Secret's values on a pod template (readable by anyone who can read
// Deployments or ReplicaSets) lets a low-entropy value be guessed offline. A uid differs
// between namespaces and between re-creations, so identical Secrets get different stamps.
import { createHash } from 'node:crypto';
import type { Kube, DryRun } from '../kube/client.js';
import type { Container, PodTemplateSpec } from '../kube/types.js';
import { R, pathOf, parseTarget, type Resource } from '../kube/resources.js';
import { UsageError } from '../errors.js';
import { CHANGE_CAUSE } from '../workloads/rollout.js';
import { displayName } from '../workloads/scale.js';

export type SourceKind = 'configmap' | 'secret';

export interface WireOptions {
  target: string;
  container?: string;
  as: 'env' | 'volume';
  mountPath?: string;
  prefix?: string;
  noRestart?: boolean;
}

/** WireOptions with the workload already parsed from `target` (the engine never parses CLI text). */
export interface WireTarget extends WireOptions {
  res: Resource;
  workload: string;
}

/** What the source object is, as written: the stamp and the change-cause are made of this. */
export interface SourceVersion {
  uid: string;
  resourceVersion: string;
}

export function stampOf(v: SourceVersion): string {
  return `${v.uid}/${v.resourceVersion}`;
}

function annotationKey(prefix: string, kind: SourceKind, name: string): string {
  const base = `${prefix}-${kind === 'configmap' ? 'cm' : 'secret'}-${name}`;
  // The hash only shortens the object's name, which is not secret.
  const short = base.length <= 63 ? base : `${base.slice(0, 54)}-${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
  return `mlops.kubectl.io/${short.replace(/[^-A-Za-z0-9_.]/g, '-').replace(/[-_.]+$/, '')}`;
}

export function stampKey(kind: SourceKind, name: string): string {
  return annotationKey('stamp', kind, name);
}

/** Earlier versions stamped a sha256 of the data here; a wire removes it. */
export function legacyChecksumKey(kind: SourceKind, name: string): string {
  return annotationKey('checksum', kind, name);
}

export function parseWireTarget(text: string): { res: Resource; name: string } {
  return parseTarget(text, [R.deployments, R.statefulsets, R.daemonsets], '--wire');
}

interface Workload {
  metadata?: { resourceVersion?: string; name?: string };
  spec?: { template?: PodTemplateSpec };
}

export interface WirePlan {
  patch?: object;
  changes: string[];
}

/**
 * Pure: what to add to the template; no patch when everything is already in place. `source`
 * undefined means the source is not written yet (client dry run, or validation before the
 * write): the plan then says a new stamp will be set.
 */
export function planWire(w: Workload, kind: SourceKind, name: string, source: SourceVersion | undefined, o: WireOptions): WirePlan {
  const t = w.spec?.template;
  const containers = t?.spec?.containers ?? [];
  let chosen: Container[];
  if (o.container) {
    const c = containers.find((x) => x.name === o.container);
    if (!c) throw new UsageError(`container "${o.container}" (--container) not found in ${o.target}; containers: ${containers.map((x) => x.name).join(', ')}`);
    chosen = [c];
  } else if (containers.length === 1) {
    chosen = containers;
  } else {
    throw new UsageError(`${o.target} has ${containers.length} containers (${containers.map((x) => x.name).join(', ')}): pick one with --container`);
  }
  const changes: string[] = [];
  const patchContainers: Record<string, unknown>[] = [];
  const volumes: Record<string, unknown>[] = [];
  const volName = `${kind === 'configmap' ? 'cm' : 'secret'}-${name}`.slice(0, 63).replace(/[-.]+$/, '');
  if (o.as === 'env') {
    for (const c of chosen) {
      const refKey = kind === 'configmap' ? 'configMapRef' : 'secretRef';
      const has = (c.envFrom ?? []).some((e) => (e as Record<string, { name?: string } | undefined>)[refKey]?.name === name);
      if (!has) {
        const entry: Record<string, unknown> = { [refKey]: { name } };
        if (o.prefix) entry.prefix = o.prefix;
        // envFrom has no merge key: send the whole list.
        patchContainers.push({ name: c.name, envFrom: [...(c.envFrom ?? []), entry] });
        changes.push(`envFrom ${kind}/${name} in container ${c.name}`);
      }
    }
  } else {
    const mountPath = o.mountPath ?? `/etc/${kind === 'configmap' ? 'config' : 'secrets'}/${name}`;
    const hasVol = (t?.spec?.volumes ?? []).some((v) => (kind === 'configmap' ? v.configMap?.name === name : v.secret?.secretName === name));
    const existing = (t?.spec?.volumes ?? []).find((v) => (kind === 'configmap' ? v.configMap?.name === name : v.secret?.secretName === name));
    const vName = existing?.name ?? volName;
    if (!hasVol) {
      volumes.push(kind === 'configmap' ? { name: vName, configMap: { name } } : { name: vName, secret: { secretName: name } });
      changes.push(`volume ${vName} from ${kind}/${name}`);
    }
    for (const c of chosen) {
      if (!(c.volumeMounts ?? []).some((m) => m.name === vName)) {
        patchContainers.push({ name: c.name, volumeMounts: [{ name: vName, mountPath, readOnly: true }] });
        changes.push(`mount ${vName} at ${mountPath} in container ${c.name}`);
      }
    }
  }
  const key = stampKey(kind, name);
  const legacy = legacyChecksumKey(kind, name);
  const annotations: Record<string, string | null> = {};
  const stamp = source ? stampOf(source) : undefined;
  let stamped = false;
  if (!o.noRestart && (!stamp || t?.metadata?.annotations?.[key] !== stamp)) {
    if (stamp) annotations[key] = stamp;
    stamped = true;
    changes.push(`stamp ${kind}/${name} ${source ? `resourceVersion ${source.resourceVersion}` : '(its new resourceVersion)'} (pods restart when the data changes)`);
  }
  if (t?.metadata?.annotations?.[legacy] !== undefined) {
    annotations[legacy] = null;
    changes.push(`remove the data checksum of earlier versions (${legacy})`);
  }
  if (changes.length === 0) return { changes };
  const spec: Record<string, unknown> = {};
  if (patchContainers.length) spec.containers = patchContainers;
  if (volumes.length) spec.volumes = volumes;
  const template: Record<string, unknown> = { spec };
  if (Object.keys(annotations).length) template.metadata = { annotations };
  const cause = `kubectl mlops: ${kind}/${name} ${stamped && source ? `resourceVersion ${source.resourceVersion}` : 'wired'}`;
  return {
    changes,
    patch: { metadata: { annotations: { [CHANGE_CAUSE]: cause } }, spec: { template } },
  };
}

/** Patches the workload, planned on a fresh read and guarded by its resourceVersion. */
export async function wire(kube: Kube, namespace: string, kind: SourceKind, name: string, source: SourceVersion | undefined, o: WireTarget, dryRun: DryRun) {
  const { res, workload: wname } = o;
  const path = pathOf(res, { namespace, name: wname });
  let plan: WirePlan = { changes: [] };
  await kube.patchGuarded<Workload>(
    path,
    'strategic',
    (w) => {
      plan = planWire(w, kind, name, source, o);
      return plan.patch;
    },
    { dryRun },
  );
  return { res, name: wname, display: displayName(res, wname), ...plan };
}
