// Deployment revisions, template comparison and rollout waiting, shared by history, rollback and ship.
import type { Kube } from '../kube/client.js';
import type { Deployment, Pod, PodTemplateSpec, ReplicaSet } from '../kube/types.js';
import { R, pathOf } from '../kube/resources.js';
import { CliError, TimeoutError, UnreachableError } from '../errors.js';
import { selectorToString } from '../util/labels.js';
import { controllerOf, isReady, podStatus } from './pods.js';

export const REVISION = 'deployment.kubernetes.io/revision';
export const CHANGE_CAUSE = 'kubernetes.io/change-cause';
/** The revisions an old ReplicaSet had before a rollback brought it back (the deployment controller keeps them). */
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
/**
 * Where a rollback's change-cause came from: {"revision", "cause", "recorded", "replicaSet"}. The
 * controller copies it to the ReplicaSet with the change-cause; it counts only on the ReplicaSet
 * the rollback brought back, and while its change-cause is still the one recorded with it (a
 * later `kubectl set image` copies it to a new ReplicaSet, `kubectl annotate` makes it stale).
 * It lets a rollback to a rollback name the original cause instead of nesting causes.
 */
export const ROLLBACK_ORIGIN = 'mlops.kubectl.io/rollback-origin';

export interface Revision {
  revision: number;
  rs: ReplicaSet;
  changeCause: string;
  /** Set when this revision is the product of a plugin rollback: the revision it went back to and that revision's own cause. */
  origin?: { revision: number; cause: string };
  /** Earlier numbers of this revision (it was brought back by a rollback). */
  formerly: number[];
  images: string[];
  created: string;
  ready: number;
  desired: number;
}

/** One paginated list of the Deployment's ReplicaSets; the count of requests does not grow with revisions. */
export async function revisionsOf(kube: Kube, d: Deployment): Promise<Revision[]> {
  const ns = d.metadata!.namespace!;
  const l = await kube.list<ReplicaSet>(pathOf(R.replicasets, { namespace: ns }), { labelSelector: selectorToString(d.spec!.selector) });
  return l.items
    .filter((rs) => controllerOf(rs)?.uid === d.metadata!.uid)
    .map((rs) => ({
      revision: Number(rs.metadata?.annotations?.[REVISION] ?? 0),
      rs,
      changeCause: rs.metadata?.annotations?.[CHANGE_CAUSE] ?? '',
      origin: originOf(rs.metadata),
      formerly: (rs.metadata?.annotations?.[REVISION_HISTORY] ?? '')
        .split(',')
        .filter((x) => /^\d+$/.test(x))
        .map(Number),
      images: (rs.spec?.template?.spec?.containers ?? []).map((c) => c.image ?? ''),
      created: rs.metadata?.creationTimestamp ?? '',
      ready: rs.status?.readyReplicas ?? 0,
      desired: rs.spec?.replicas ?? 0,
    }))
    .sort((a, b) => a.revision - b.revision);
}

export function originOf(meta: { name?: string; annotations?: Record<string, string> } | undefined): Revision['origin'] {
  const annotations = meta?.annotations;
  const raw = annotations?.[ROLLBACK_ORIGIN];
  if (!raw) return undefined;
  try {
    const o = JSON.parse(raw) as { revision?: unknown; cause?: unknown; recorded?: unknown; replicaSet?: unknown };
    if (typeof o.revision !== 'number' || typeof o.cause !== 'string' || o.recorded !== annotations?.[CHANGE_CAUSE] || o.replicaSet !== meta?.name) return undefined;
    return { revision: o.revision, cause: o.cause };
  } catch {
    return undefined;
  }
}

/** A revision's own cause: for the product of a rollback, the cause of the revision it went back to. */
export function originalCause(r: Revision): string {
  return r.origin ? r.origin.cause : r.changeCause;
}

/**
 * The change-cause of a rollback to `target` and its origin annotation. It names the target
 * revision and that revision's original cause, never a cause of a cause (issue 16 item 3).
 */
export function rollbackCause(target: Revision, reason?: string): { cause: string; origin: string } {
  const original = originalCause(target);
  const cause = `rollback to revision ${target.revision}${original ? ` ("${original}")` : ''}${reason ? `: ${reason}` : ''}`;
  return { cause, origin: JSON.stringify({ revision: target.revision, cause: original, recorded: cause, replicaSet: target.rs.metadata?.name }) };
}

/** The revision whose ReplicaSet runs the template, if any. */
export function revisionOfTemplate(revisions: Revision[], t: PodTemplateSpec | undefined): Revision | undefined {
  return [...revisions].reverse().find((r) => templatesEqual(r.rs.spec?.template, t));
}

export function missingRevision(n: number, name: string, revisions: Revision[]): CliError {
  const now = revisions.find((r) => r.formerly.includes(n));
  return new CliError(
    now
      ? `revision ${n} of deployment/${name} is now revision ${now.revision} (a rollback brought it back): use --to-revision ${now.revision}`
      : `revision ${n} not found for deployment/${name}; revisions: ${revisions.map((r) => r.revision).join(', ') || '(none)'}`,
  );
}

/** The pod template without the label the controller adds, for comparing revisions. */
export function cleanTemplate(t: PodTemplateSpec | undefined): PodTemplateSpec {
  const c = structuredClone<PodTemplateSpec>(t ?? {});
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
    // Only scalars are left here (objects and arrays were walked above).
    out.set(prefix, typeof v === 'string' ? v : JSON.stringify(v));
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
  /** The Deployment as it was when the rollout completed. */
  deployment: Deployment;
}

/** A terminal state of a rollout: waiting longer cannot help (exit 1 at once, as `kubectl rollout status`). */
export class RolloutFailed extends CliError {}

/**
 * One look at a Deployment with `kubectl rollout status`' rules (DeploymentStatusViewer in
 * k8s.io/kubectl): nothing counts before the controller has observed the latest generation;
 * then Progressing=False/ProgressDeadlineExceeded fails, and the rollout is complete when
 * every desired replica is updated, no old replica is left and every updated one is available.
 * A paused Deployment never progresses, so it is reported at once (kubectl waits).
 */
export function rolloutStatus(d: Deployment): { done: boolean; text: string } {
  const name = d.metadata?.name ?? '';
  const st = d.status ?? {};
  if ((d.metadata?.generation ?? 0) > (st.observedGeneration ?? 0)) return { done: false, text: `waiting for deployment/${name} to observe the change` };
  const cond = st.conditions?.find((c) => c.type === 'Progressing');
  if (cond?.reason === 'ProgressDeadlineExceeded') {
    throw new RolloutFailed(
      `deployment/${name} exceeded its progress deadline (${d.spec?.progressDeadlineSeconds ?? 600}s)${cond.message ? `: ${cond.message.replace(/\.$/, '')}` : ''}`,
    );
  }
  const desired = d.spec?.replicas ?? 1;
  const updated = st.updatedReplicas ?? 0;
  const total = st.replicas ?? 0;
  const available = st.availableReplicas ?? 0;
  const text =
    updated < desired
      ? `deployment/${name}: ${updated} of ${desired} new replicas updated`
      : total > updated
        ? `deployment/${name}: ${total - updated} old replicas pending termination`
        : available < updated
          ? `deployment/${name}: ${available} of ${updated} updated replicas available`
          : `deployment/${name} successfully rolled out`;
  const done = updated >= desired && total <= updated && available >= updated;
  if (!done && d.spec?.paused) {
    throw new RolloutFailed(
      `deployment/${name} is paused, so its rollout cannot progress (${text.replace(`deployment/${name}: `, '')}); resume it: kubectl rollout resume deployment/${name} -n ${d.metadata?.namespace}`,
    );
  }
  return { done, text };
}

/**
 * Watches the Deployment until the rollout completes, or fails at once on a terminal state
 * (progress deadline, paused, deleted or replaced, or `verify` saying the template rolling out
 * is not the one the command wrote), or times out stating the current state. Failures name
 * the pods that are not Ready and why.
 */
export async function waitForRollout(
  kube: Kube,
  namespace: string,
  name: string,
  opts: { timeoutMs: number; progress?: (t: string) => void; signal?: AbortSignal; uid?: string; verify?: (d: Deployment) => string | undefined },
): Promise<RolloutResult> {
  let last: Deployment | undefined;
  try {
    return await kube.waitFor<Deployment, RolloutResult>(
      pathOf(R.deployments, { namespace }),
      { fieldSelector: `metadata.name=${name}` },
      (items) => {
        const d = items[0];
        if (!d || (opts.uid && d.metadata?.uid !== opts.uid)) throw new CliError(`deployment/${name} was ${d ? 'deleted and created again' : 'deleted'} during the rollout`);
        last = d;
        const changed = opts.verify?.(d);
        if (changed) throw new CliError(changed);
        const s = rolloutStatus(d);
        opts.progress?.(s.text);
        return s.done ? { updated: d.status?.updatedReplicas ?? 0, desired: d.spec?.replicas ?? 1, deployment: d } : undefined;
      },
      {
        timeoutMs: opts.timeoutMs,
        signal: opts.signal,
        onTimeout: (items, listed) => {
          const d = items[0];
          let now = '';
          try {
            now = d ? rolloutStatus(d).text.replace(`deployment/${name}: `, '') : listed ? 'deleted' : 'its state not read yet';
          } catch (e) {
            now = (e as Error).message;
          }
          return `timed out after ${formatMs(opts.timeoutMs)} waiting for deployment/${name} to roll out (${now})`;
        },
      },
    );
  } catch (e) {
    if (last && (e instanceof TimeoutError || e instanceof RolloutFailed)) {
      const why = await failingPods(kube, last);
      const text = `${e.message}${why ? `; pods not Ready: ${why}` : ''}`;
      throw e instanceof TimeoutError ? new TimeoutError(text) : new RolloutFailed(text);
    }
    throw e;
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The pods of the Deployment that are not Ready, with the reason the kubelet gives. */
async function failingPods(kube: Kube, d: Deployment): Promise<string> {
  try {
    const pods = await kube.list<Pod>(pathOf(R.pods, { namespace: d.metadata!.namespace! }), { labelSelector: selectorToString(d.spec!.selector) });
    return pods.items
      .filter((p) => !isReady(p) && !p.metadata?.deletionTimestamp)
      .map((p) => {
        const msg = p.status?.containerStatuses?.find((c) => c.state?.waiting)?.state?.waiting?.message;
        return `${p.metadata?.name} (${podStatus(p)}${msg ? `: ${msg}` : ''})`;
      })
      .join(', ');
  } catch {
    // Naming the pods is a courtesy; the failure itself is already known.
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

/**
 * A write whose answer was lost (connection reset, request timeout) may have been applied:
 * the journal must say so rather than "nothing was written". A refused connection never
 * reached the server.
 */
export function answerLost(e: unknown): boolean {
  return (e instanceof UnreachableError && !/connection refused/.test(e.message)) || e instanceof TimeoutError;
}
