// Deployment revisions, template comparison and rollout waiting, shared by history, rollback and ship.
import type { Kube } from '../kube/client.js';
import type { Deployment, Pod, PodTemplateSpec, ReplicaSet } from '../kube/types.js';
import { R, pathOf } from '../kube/resources.js';
import { CliError, TimeoutError } from '../errors.js';
import { selectorToString, type LabelSelector } from '../util/labels.js';
import { controllerOf, isReady, podStatus } from './pods.js';

export const REVISION = 'deployment.kubernetes.io/revision';
export const CHANGE_CAUSE = 'kubernetes.io/change-cause';

export interface Revision {
  revision: number;
  rs: ReplicaSet;
  changeCause: string;
  images: string[];
  created: string;
  ready: number;
  desired: number;
}

/** One paginated list of the Deployment's ReplicaSets; the count of requests does not grow with revisions. */
export async function revisionsOf(kube: Kube, d: Deployment): Promise<Revision[]> {
  const ns = d.metadata!.namespace!;
  const l = await kube.list<ReplicaSet>(pathOf(R.replicasets, { namespace: ns }), { labelSelector: selectorToString(d.spec!.selector as LabelSelector) });
  return l.items
    .filter((rs) => controllerOf(rs)?.uid === d.metadata!.uid)
    .map((rs) => ({
      revision: Number(rs.metadata?.annotations?.[REVISION] ?? 0),
      rs,
      changeCause: rs.metadata?.annotations?.[CHANGE_CAUSE] ?? '',
      images: (rs.spec?.template?.spec?.containers ?? []).map((c) => c.image ?? ''),
      created: rs.metadata?.creationTimestamp ?? '',
      ready: rs.status?.readyReplicas ?? 0,
      desired: rs.spec?.replicas ?? 0,
    }))
    .sort((a, b) => a.revision - b.revision);
}

/** The pod template without the label the controller adds, for comparing revisions. */
export function cleanTemplate(t: PodTemplateSpec | undefined): PodTemplateSpec {
  const c = structuredClone(t ?? {}) as PodTemplateSpec;
  if (c.metadata?.labels) {
    delete c.metadata.labels['pod-template-hash'];
  }
  return c;
}

export function templatesEqual(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return stable(cleanTemplate(a)) === stable(cleanTemplate(b));
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Flattens a template into `path: value` pairs; containers, env, ports, mounts and volumes are keyed by name. */
export function flatten(v: unknown, prefix = '', out: Map<string, string> = new Map()): Map<string, string> {
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      const key = item && typeof item === 'object' && 'name' in item ? String((item as { name: unknown }).name) : String(i);
      flatten(item, `${prefix}[${key}]`, out);
    });
  } else if (v && typeof v === 'object') {
    for (const [k, val] of Object.entries(v)) {
      if (k === 'name' && prefix.endsWith(']')) continue;
      flatten(val, prefix ? `${prefix}.${k}` : k, out);
    }
  } else if (v !== undefined) {
    out.set(prefix, String(v));
  }
  return out;
}

export interface DiffLine {
  op: '+' | '-' | '~';
  path: string;
  from?: string;
  to?: string;
}

/** What changes from template a to b: images, env, resources, probes, volumes, anything. */
export function diffTemplates(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): DiffLine[] {
  const fa = flatten(cleanTemplate(a));
  const fb = flatten(cleanTemplate(b));
  const lines: DiffLine[] = [];
  for (const [k, v] of fa) {
    if (!fb.has(k)) lines.push({ op: '-', path: k, from: v });
    else if (fb.get(k) !== v) lines.push({ op: '~', path: k, from: v, to: fb.get(k) });
  }
  for (const [k, v] of fb) if (!fa.has(k)) lines.push({ op: '+', path: k, to: v });
  return lines.sort((x, y) => x.path.localeCompare(y.path));
}

export function renderDiff(lines: DiffLine[]): string {
  if (lines.length === 0) return '  (no differences)\n';
  return (
    lines
      .map((l) => {
        const p = l.path.replace(/^spec\./, '');
        if (l.op === '~') return `  ~ ${p}: ${l.from} -> ${l.to}`;
        if (l.op === '+') return `  + ${p}: ${l.to}`;
        return `  - ${p}: ${l.from}`;
      })
      .join('\n') + '\n'
  );
}

export interface RolloutResult {
  updated: number;
  desired: number;
}

/**
 * Watches the Deployment until the rollout completes (kubectl rollout status' rules), or fails
 * with ProgressDeadlineExceeded / the timeout, naming the pods that are not Ready and why.
 */
export async function waitForRollout(
  kube: Kube,
  namespace: string,
  name: string,
  opts: { timeoutMs: number; progress?: (t: string) => void; signal?: AbortSignal },
): Promise<RolloutResult> {
  try {
    return await kube.waitFor<Deployment, RolloutResult>(
      pathOf(R.deployments, { namespace }),
      { fieldSelector: `metadata.name=${name}` },
      (items) => {
        const d = items[0];
        if (!d) throw new CliError(`deployment/${name} was deleted during the rollout`);
        const st = d.status ?? {};
        const desired = d.spec?.replicas ?? 1;
        if ((st.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) {
          opts.progress?.(`waiting for deployment/${name} to observe the change`);
          return undefined;
        }
        const failed = st.conditions?.find((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded');
        if (failed) throw new RolloutFailed(`deployment/${name} exceeded its progress deadline: ${failed.message ?? ''}`.trim());
        const updated = st.updatedReplicas ?? 0;
        const total = st.replicas ?? 0;
        const available = st.availableReplicas ?? 0;
        const oldLeft = Math.max(total - updated, 0);
        opts.progress?.(`deployment/${name}: ${Math.min(st.readyReplicas ?? 0, updated)}/${desired} new Ready, ${oldLeft} old remaining`);
        if (updated >= desired && total <= updated && available >= updated) return { updated, desired };
        return undefined;
      },
      { timeoutMs: opts.timeoutMs, signal: opts.signal, onTimeout: () => `timed out after ${Math.round(opts.timeoutMs / 1000)}s waiting for deployment/${name} to roll out` },
    );
  } catch (e) {
    if (e instanceof TimeoutError || e instanceof RolloutFailed) {
      const why = await failingPods(kube, namespace, name);
      const text = `${e.message}${why ? `; pods not Ready: ${why}` : ''}`;
      throw e instanceof TimeoutError ? new TimeoutError(text) : new CliError(text);
    }
    throw e;
  }
}

class RolloutFailed extends CliError {}

async function failingPods(kube: Kube, namespace: string, name: string): Promise<string> {
  try {
    const d = await kube.get<Deployment>(pathOf(R.deployments, { namespace, name }));
    const pods = await kube.list<Pod>(pathOf(R.pods, { namespace }), { labelSelector: selectorToString(d.spec!.selector as LabelSelector) });
    return pods.items
      .filter((p) => !isReady(p))
      .map((p) => {
        const msg = p.status?.containerStatuses?.find((c) => c.state?.waiting)?.state?.waiting?.message;
        return `${p.metadata?.name} (${podStatus(p)}${msg ? `: ${msg}` : ''})`;
      })
      .join(', ');
  } catch {
    return '';
  }
}

/** Annotations kubectl keeps from the Deployment itself during a rollback. */
export const ROLLBACK_SKIPPED_ANNOTATIONS = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

/** Image references as the container runtime parses them (docker/distribution's grammar, simplified). */
const IMAGE_RE =
  /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

export function isValidImage(image: string): boolean {
  return image.length <= 4096 && IMAGE_RE.test(image);
}
