// The relabel-to-debug trick: take a pod out of its controller's selector in one guarded patch,
// leaving a ledger in annotations so `debug-pod list/done` and humans can tell what happened.
import { count } from '../util/words.js';
import type { Kube, DryRun } from '../kube/client.js';
import type * as k from '@kubernetes/client-node';
import type { Pod, PodTemplateSpec, ReplicaSet, Deployment, Service, Wire } from '../kube/types.js';
import { R, pathOf } from '../kube/resources.js';
import { ApiError, CliError, ExitCode } from '../errors.js';
import { MAX_TIMER_MS } from '../util/validate.js';
import { mapSelectorMatches, selectorMatches, selectorToString, type LabelSelector } from '../util/labels.js';
import { controllerOf, effectiveLimits, effectiveRequests, isReady, podStatus, STANDARD_RESOURCES } from './pods.js';
import { parseQuantity } from '../util/quantity.js';
import { allInOrder } from '../util/settle.js';

export type ResourceQuota = Wire<k.V1ResourceQuota>;

export const DEBUG_LABEL = 'mlops.kubectl.io/debug';
export const ANN = {
  originalLabels: 'mlops.kubectl.io/original-labels',
  detachedFrom: 'mlops.kubectl.io/detached-from',
  owner: 'mlops.kubectl.io/detached-from-owner',
  detachedAt: 'mlops.kubectl.io/detached-at',
  ttl: 'mlops.kubectl.io/ttl',
  isolatedFrom: 'mlops.kubectl.io/isolated-from-services',
} as const;

export interface Controller {
  kind: string;
  name: string;
  uid: string;
  selector: LabelSelector;
  replicas: number;
  /** The Deployment above a ReplicaSet, when there is one. */
  owner?: { kind: string; name: string; selector: LabelSelector; replicas?: number; paused?: boolean };
  /** The ReplicaSet's ReplicaFailure condition, when it is set. */
  failure?: { reason: string; message: string; at: string };
  /** The ReplicaSet's pod template: what a replacement is made of (the pod may differ, e.g. by an old LimitRange's defaults). */
  template?: PodTemplateSpec;
}

export interface LabelChange {
  key: string;
  from: string | undefined;
  to: string | undefined;
}

export interface DetachPlan {
  labels: Record<string, string>;
  changes: LabelChange[];
  /** Services that still select the pod after the change (it keeps receiving their traffic). */
  stillServing: Service[];
  /** Services the pod was taken out of (--isolate). */
  isolated: Service[];
}

export function isDetached(pod: Pod): boolean {
  return pod.metadata?.labels?.[DEBUG_LABEL] === 'true';
}

/** Why detaching this pod is unsafe or meaningless, with what to do instead; undefined if it is fine. */
export function refusal(pod: Pod): string | undefined {
  const name = pod.metadata?.name;
  if (pod.metadata?.deletionTimestamp) return `pod/${name} is being deleted (since ${pod.metadata.deletionTimestamp}); there is nothing left to detach`;
  const ref = controllerOf(pod);
  if (!ref) {
    return `pod/${name} has no controller, so no replacement would be created: debug it in place, or use \`kubectl debug pod/${name} --copy-to=${name}-debug\``;
  }
  switch (ref.kind) {
    case 'ReplicaSet':
      return undefined;
    case 'StatefulSet':
      return `pod/${name} belongs to StatefulSet ${ref.name}, whose replacement would need the same name and volumes: use \`kubectl debug pod/${name} --copy-to=${name}-debug\` instead`;
    case 'DaemonSet':
      return `pod/${name} belongs to DaemonSet ${ref.name}, which runs exactly one pod per node: the replacement could not run beside it; use \`kubectl debug pod/${name} --copy-to=${name}-debug\` instead`;
    case 'Job':
      return `pod/${name} belongs to Job ${ref.name}, which counts completions, not replicas: detaching would start another attempt; use \`kubectl debug pod/${name} --copy-to=${name}-debug\` instead`;
    default:
      return `pod/${name} is controlled by ${ref.kind} ${ref.name}, which debug-pod does not know how to detach from (only ReplicaSets and Deployments)`;
  }
}

export async function resolveController(kube: Kube, pod: Pod): Promise<Controller> {
  return controllerFrom(kube, pod.metadata!.namespace!, controllerOf(pod)!.name);
}

/** The ReplicaSet by name, with the Deployment above it and what decides whether it can replace a pod. */
export async function controllerFrom(kube: Kube, namespace: string, rsName: string): Promise<Controller> {
  const rs = await kube.get<ReplicaSet>(pathOf(R.replicasets, { namespace, name: rsName }));
  const c: Controller = {
    kind: 'ReplicaSet',
    name: rs.metadata!.name!,
    uid: rs.metadata!.uid!,
    selector: rs.spec!.selector,
    replicas: rs.spec?.replicas ?? 1,
    failure: replicaFailure(rs),
    template: rs.spec?.template,
  };
  const up = controllerOf(rs);
  if (up?.kind === 'Deployment') {
    const d = await kube.getOptional<Deployment>(pathOf(R.deployments, { namespace, name: up.name }));
    if (d) c.owner = { kind: 'Deployment', name: up.name, selector: d.spec!.selector, replicas: d.spec?.replicas ?? 1, paused: Boolean(d.spec?.paused) };
  }
  return c;
}

/** The ReplicaSet controller's own report that it cannot create pods (FailedCreate: quota, admission, ...). */
export function replicaFailure(rs: ReplicaSet): Controller['failure'] {
  const c = rs.status?.conditions?.find((x) => x.type === 'ReplicaFailure' && x.status === 'True');
  return c ? { reason: c.reason ?? 'ReplicaFailure', message: c.message ?? '', at: c.lastTransitionTime ?? '' } : undefined;
}

/** Label keys whose change breaks `selector`, best first: user-facing keys before pod-template-hash. */
function breakingChange(selector: LabelSelector, labels: Record<string, string>): Record<string, string | undefined> | undefined {
  const keys = Object.keys(selector.matchLabels ?? {}).sort((a, b) => Number(a === 'pod-template-hash') - Number(b === 'pod-template-hash'));
  if (keys.length) return { [keys[0]]: debugValue(selector.matchLabels![keys[0]]) };
  for (const r of selector.matchExpressions ?? []) {
    if (r.operator === 'In' && labels[r.key] !== undefined) return { [r.key]: debugValue(labels[r.key]) };
    if (r.operator === 'Exists') return { [r.key]: undefined };
  }
  return undefined;
}

function debugValue(v: string): string {
  const base = v.slice(0, 63 - '-debug'.length).replace(/[-_.]+$/, '');
  return `${base}-debug`;
}

function apply(labels: Record<string, string>, change: Record<string, string | undefined>): Record<string, string> {
  const out = { ...labels };
  for (const [k, v] of Object.entries(change)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** Pure: decide the new labels. Throws a CliError naming the selector when it cannot be broken. */
export function planDetach(pod: Pod, controller: Controller, services: Service[], opts: { label?: [string, string]; isolate?: boolean }): DetachPlan {
  const original = pod.metadata?.labels ?? {};
  let labels: Record<string, string>;
  const sel = `${controller.kind} ${controller.name}'s selector (${selectorToString(controller.selector)})`;
  if (opts.label) {
    labels = apply(original, { [opts.label[0]]: opts.label[1] });
    if (selectorMatches(controller.selector, labels)) {
      throw new CliError(`--label ${opts.label.join('=')} does not take pod/${pod.metadata?.name} out of ${sel}: choose a key the selector uses`);
    }
  } else {
    const change = breakingChange(controller.selector, original);
    if (!change) {
      throw new CliError(`cannot break ${sel} by relabelling: it only uses NotIn/DoesNotExist; pass --label KEY=VALUE to choose the change`);
    }
    labels = apply(original, change);
  }
  if (controller.owner && selectorMatches(controller.owner.selector, labels)) {
    // The Deployment would count the pod again; break its selector too.
    const change = breakingChange(controller.owner.selector, labels);
    if (!change) throw new CliError(`cannot break Deployment ${controller.owner.name}'s selector by relabelling; pass --label KEY=VALUE`);
    labels = apply(labels, change);
  }
  if (selectorMatches(controller.selector, labels)) throw new CliError(`the new labels still match ${sel}; pass --label KEY=VALUE`);

  const isolated: Service[] = [];
  if (opts.isolate) {
    for (const svc of services) {
      if (!mapSelectorMatches(svc.spec?.selector, labels)) continue;
      const key = Object.keys(svc.spec!.selector!)[0];
      labels = apply(labels, { [key]: debugValue(svc.spec!.selector![key]) });
      isolated.push(svc);
    }
  }
  labels[DEBUG_LABEL] = 'true';
  const stillServing = services.filter((s) => mapSelectorMatches(s.spec?.selector, labels));
  const keys = new Set([...Object.keys(original), ...Object.keys(labels)]);
  const changes: LabelChange[] = [...keys].filter((k) => original[k] !== labels[k]).map((k) => ({ key: k, from: original[k], to: labels[k] }));
  return { labels, changes, stillServing, isolated };
}

/** The one patch: labels and ledger annotations (Kube.patchGuarded adds the resourceVersion guard). */
export function detachPatch(pod: Pod, controller: Controller, plan: DetachPlan, now: Date, ttl?: string): object {
  const labels: Record<string, string | null> = {};
  for (const c of plan.changes) labels[c.key] = c.to ?? null;
  const annotations: Record<string, string> = {
    [ANN.originalLabels]: JSON.stringify(pod.metadata?.labels ?? {}),
    [ANN.detachedFrom]: `${controller.kind}/${controller.name}`,
    [ANN.detachedAt]: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  if (controller.owner) annotations[ANN.owner] = `${controller.owner.kind}/${controller.owner.name}`;
  if (ttl) annotations[ANN.ttl] = ttl;
  if (plan.isolated.length) annotations[ANN.isolatedFrom] = plan.isolated.map((s) => s.metadata?.name).join(',');
  return { metadata: { labels, annotations } };
}

export interface DetachResult {
  pod: Pod;
  controller: Controller;
  plan?: DetachPlan;
  alreadyDetached: boolean;
}

/** What the plan step found: a pod to detach, or one already detached (by debug-pod, or relabelled by hand). */
export type Planned =
  | { state: 'attached'; pod: Pod; controller: Controller; plan: DetachPlan; services: Service[]; blockers: string[]; siblings?: string[] }
  | { state: 'detached'; pod: Pod; controller: Controller; byHand: boolean; since?: Date };

/**
 * Reads only: the pod, its ReplicaSet (and Deployment), the Services and, with
 * `checkReplacement`, the ResourceQuotas that decide whether a replacement can be created.
 * Refuses pods that cannot be detached. A pod that is already detached is planned as such,
 * with the ReplicaSet it was detached from, so the caller verifies instead of writing.
 */
export async function planDetachment(
  kube: Kube,
  namespace: string,
  name: string,
  opts: { label?: [string, string]; isolate?: boolean; services?: Service[]; checkReplacement?: boolean },
): Promise<Planned> {
  const pod = await kube.get<Pod>(pathOf(R.pods, { namespace, name }));
  if (isDetached(pod)) {
    const [kind, rsName] = (pod.metadata?.annotations?.[ANN.detachedFrom] ?? '').split('/');
    if (kind !== 'ReplicaSet' || !rsName) {
      throw new CliError(
        `pod/${name} carries ${DEBUG_LABEL}=true but no ${ANN.detachedFrom} annotation, so there is no ReplicaSet to verify; delete it with \`kubectl mlops debug-pod done ${name} -n ${namespace}\``,
      );
    }
    const at = Date.parse(pod.metadata?.annotations?.[ANN.detachedAt] ?? '');
    return { state: 'detached', pod, controller: await controllerOfDetached(kube, namespace, name, rsName), byHand: false, since: Number.isNaN(at) ? undefined : new Date(at) };
  }
  if (!pod.metadata?.deletionTimestamp && !controllerOf(pod)) {
    const rs = relabelledFrom(pod, (await kube.list<ReplicaSet>(pathOf(R.replicasets, { namespace }))).items);
    if (rs) return { state: 'detached', pod, controller: await controllerOfDetached(kube, namespace, name, rs.metadata!.name!), byHand: true };
  }
  const why = refusal(pod);
  if (why) throw new CliError(why);
  const controller = await resolveController(kube, pod);
  const [services, quotas, siblings] = await allInOrder([
    opts.services ?? kube.list<Service>(pathOf(R.services, { namespace })).then((l) => l.items),
    opts.checkReplacement ? kube.list<ResourceQuota>(pathOf(RESOURCE_QUOTAS, { namespace })).then((l) => l.items) : [],
    // The ReplicaSet's pods before the patch: any other is the replacement (timestamps have second precision).
    opts.checkReplacement
      ? kube
          .list<Pod>(pathOf(R.pods, { namespace }), { labelSelector: selectorToString(controller.selector) })
          .then((l) => l.items.filter((p) => controllerOf(p)?.uid === controller.uid).map((p) => p.metadata!.name!))
      : undefined,
  ]);
  const plan = planDetach(pod, controller, services, opts);
  return {
    state: 'attached',
    pod,
    controller,
    plan,
    services,
    blockers: opts.checkReplacement ? replacementBlockers(replacementOf(pod, controller), controller, quotas) : [],
    siblings,
  };
}

async function controllerOfDetached(kube: Kube, namespace: string, pod: string, rsName: string): Promise<Controller> {
  try {
    return await controllerFrom(kube, namespace, rsName);
  } catch (e) {
    if (e instanceof ApiError && e.notFound) {
      throw new CliError(
        `pod/${pod} was detached from replicaset/${rsName}, which no longer exists: there is no replacement to verify; delete the pod with \`kubectl mlops debug-pod done ${pod} -n ${namespace}\``,
      );
    }
    throw e;
  }
}

export const RESOURCE_QUOTAS = { ...R.pods, kind: 'ResourceQuota', plural: 'resourcequotas', aliases: ['resourcequota', 'resourcequotas', 'quota'] };

/**
 * The ReplicaSet a pod without a controller was taken from by hand (`kubectl label pod X
 * app=other --overwrite`): it still carries that ReplicaSet's pod-template-hash, or its name
 * is the ReplicaSet's name plus the random suffix, while no longer matching its selector.
 */
export function relabelledFrom(pod: Pod, replicaSets: ReplicaSet[]): ReplicaSet | undefined {
  if (controllerOf(pod) || isDetached(pod)) return undefined;
  const labels = pod.metadata?.labels ?? {};
  const name = pod.metadata?.name ?? '';
  const hash = labels['pod-template-hash'];
  return replicaSets.find((rs) => {
    if (rs.metadata?.namespace && pod.metadata?.namespace && rs.metadata.namespace !== pod.metadata.namespace) return false;
    const sel = rs.spec?.selector;
    if (!sel || selectorMatches(sel, labels)) return false;
    const rsHash = sel.matchLabels?.['pod-template-hash'] ?? rs.metadata?.labels?.['pod-template-hash'];
    return (hash !== undefined && hash === rsHash) || new RegExp(`^${rs.metadata!.name!.replace(/\./g, '\\.')}-[a-z0-9]{5}$`).test(name);
  });
}

/** The key of `findDetached`'s byHand map. */
export function podKey(p: Pod): string {
  return `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
}

/**
 * `debug-pod list`: pods detached by debug-pod and pods relabelled by hand (their ReplicaSet
 * by podKey), among the pods `labelSelector` selects; without permission to list ReplicaSets,
 * only the former (replicaSetsHidden).
 *
 * Every pod has to be read (a pod relabelled by hand carries no marker a selector could find),
 * so both lists are read page by page and only the answer is kept: detached pods whole (they
 * are printed), ReplicaSets reduced to what the match reads, and pods without a controller
 * only until the ReplicaSets are known (they usually are long before the pods end).
 */
export async function findDetached(
  kube: Kube,
  namespace: string | undefined,
  labelSelector?: string,
): Promise<{ items: Pod[]; byHand: Map<string, ReplicaSet>; replicaSetsHidden: boolean }> {
  let items: Pod[] = [];
  let byHand = new Map<string, ReplicaSet>();
  let waiting: Pod[] = [];
  let rss: ReplicaSet[] | undefined;
  let hidden = false;
  const match = (p: Pod, known: ReplicaSet[]) => {
    const rs = relabelledFrom(p, known);
    if (rs) {
      items.push(p);
      byHand.set(podKey(p), rs);
    }
  };
  // ReplicaSets are read only once a pod without a controller turns up: where there is none
  // (`-l mlops.kubectl.io/debug=true`, most namespaces) the answer costs the pod pages alone.
  let replicaSetsRead: Promise<void> | undefined;
  const readReplicaSets = () => {
    if (replicaSetsRead) return;
    replicaSetsRead = kube
      .listFoldIfAllowed<ReplicaSet, ReplicaSet[]>(
        pathOf(R.replicasets, { namespace }),
        {},
        () => [],
        (kept, page) => {
          for (const rs of page) kept.push(matchedBy(rs));
        },
      )
      .then((l) => {
        hidden = !l;
        rss = l?.value ?? [];
        for (const p of waiting) match(p, rss);
        waiting = [];
      });
    // Awaited after the pods; a failure meanwhile must not count as unhandled.
    replicaSetsRead.catch(() => undefined);
  };
  const readPods = kube.listFold<Pod, null>(
    pathOf(R.pods, { namespace }),
    { labelSelector },
    () => {
      // (Again) from the first page: what earlier pages gave belongs to an abandoned snapshot.
      items = [];
      byHand = new Map();
      waiting = [];
      return null;
    },
    (_, page) => {
      for (const p of page) {
        if (isDetached(p)) items.push(p);
        else if (!hidden && !p.metadata?.deletionTimestamp && !controllerOf(p)) {
          if (rss) match(p, rss);
          else {
            waiting.push(p);
            readReplicaSets();
          }
        }
      }
    },
  );
  await readPods;
  await replicaSetsRead;
  return { items, byHand, replicaSetsHidden: hidden };
}

/** A ReplicaSet reduced to what relabelledFrom and `debug-pod list` read of it. */
function matchedBy(rs: ReplicaSet): ReplicaSet {
  const up = controllerOf(rs);
  const hash = rs.metadata?.labels?.['pod-template-hash'];
  return {
    metadata: {
      name: rs.metadata?.name,
      namespace: rs.metadata?.namespace,
      ...(hash !== undefined ? { labels: { 'pod-template-hash': hash } } : {}),
      ...(up ? { ownerReferences: [up] } : {}),
    },
    spec: rs.spec?.selector ? { selector: rs.spec.selector } : undefined,
  } as ReplicaSet;
}

/**
 * The pod the ReplicaSet would create now, as quota admission sees it: its template, with each
 * container's missing requests taken from its limits (the API server's defaulting). A
 * LimitRange's defaults are not applied (not read): where they would fill in a cpu or memory
 * request a quota tracks, the must-specify rule refuses, so an error stays on the safe side.
 */
export function replacementOf(pod: Pod, c: Controller): Pod {
  if (!c.template?.spec) return pod;
  const defaulted = <C extends { resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> } }>(x: C): C =>
    x.resources?.limits ? { ...x, resources: { ...x.resources, requests: { ...x.resources.limits, ...(x.resources.requests ?? {}) } } } : x;
  const spec = c.template.spec;
  return {
    metadata: { ...c.template.metadata, namespace: pod.metadata?.namespace },
    spec: { ...spec, containers: spec.containers.map(defaulted), initContainers: spec.initContainers?.map(defaulted) },
  };
}

/** Why the ReplicaSet would not create (or keep) a replacement for `pod`; empty when nothing stands in the way. */
export function replacementBlockers(pod: Pod, c: Controller, quotas: ResourceQuota[]): string[] {
  const out: string[] = [];
  if (c.replicas === 0) out.push(`replicaset/${c.name} is at 0 replicas, so it creates no replacement`);
  if (c.owner?.replicas === 0) out.push(`deployment/${c.owner.name} is scaled to 0, so replicaset/${c.name} keeps no replacement`);
  if (c.failure) out.push(`replicaset/${c.name} already fails to create pods (${c.failure.reason}: ${c.failure.message})`);
  for (const q of quotas) {
    const why = quotaRefusal(pod, q);
    if (why) out.push(why);
  }
  return out;
}

/**
 * What one more pod like `pod` counts against a ResourceQuota, by quota key, as the quota
 * admission counts it (kubernetes pkg/quota/v1/evaluator/core/pods.go podComputeUsageHelper).
 */
export function quotaUsage(pod: Pod): Record<string, number> {
  const req = effectiveRequests(pod);
  const lim = effectiveLimits(pod);
  const out: Record<string, number> = { pods: 1, 'count/pods': 1 };
  for (const k of ['cpu', 'memory', 'ephemeral-storage']) {
    if (k in req) out[k] = out[`requests.${k}`] = req[k];
    if (k in lim) out[`limits.${k}`] = lim[k];
  }
  for (const [k, v] of Object.entries(req)) {
    if (k.startsWith('hugepages-')) out[k] = out[`requests.${k}`] = v;
    else if (!STANDARD_RESOURCES.has(k) && k.includes('/')) out[`requests.${k}`] = v;
  }
  return out;
}

/** Whether a ResourceQuota's scopes take in a pod like `pod` (all of them must; podMatchesScopeFunc). */
export function quotaScopeMatches(pod: Pod, q: ResourceQuota): boolean {
  const selectors = [
    ...(q.spec?.scopes ?? []).map((scopeName) => ({ scopeName, operator: 'Exists', values: [] as string[] })),
    ...(q.spec?.scopeSelector?.matchExpressions ?? []).map((e) => ({ scopeName: e.scopeName, operator: e.operator, values: e.values ?? [] })),
  ];
  const deadline = pod.spec?.activeDeadlineSeconds;
  const terminating = deadline !== undefined && deadline !== null && deadline >= 0;
  const priorityClass = pod.spec?.priorityClassName ?? '';
  return selectors.every((s) => {
    switch (s.scopeName) {
      case 'Terminating':
        return terminating;
      case 'NotTerminating':
        return !terminating;
      case 'BestEffort':
        return isBestEffort(pod);
      case 'NotBestEffort':
        return !isBestEffort(pod);
      case 'PriorityClass':
        // A label selector over {PriorityClass: name}: NotIn and DoesNotExist also take a pod without one.
        if (s.operator === 'Exists') return priorityClass !== '';
        if (s.operator === 'DoesNotExist') return priorityClass === '';
        if (s.operator === 'In') return priorityClass !== '' && s.values.includes(priorityClass);
        if (s.operator === 'NotIn') return priorityClass === '' || !s.values.includes(priorityClass);
        return false;
      case 'CrossNamespacePodAffinity':
        return usesCrossNamespaceAffinity(pod);
      default:
        return false;
    }
  });
}

/** QoS BestEffort: no container (init ones included) requests or limits cpu or memory. */
function isBestEffort(pod: Pod): boolean {
  if (pod.status?.qosClass) return pod.status.qosClass === 'BestEffort';
  return [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].every((c) =>
    [c.resources?.requests, c.resources?.limits].every((l) => !['cpu', 'memory'].some((k) => parseQuantity(l?.[k]) > 0)),
  );
}

function usesCrossNamespaceAffinity(pod: Pod): boolean {
  type Term = { namespaces?: string[]; namespaceSelector?: unknown };
  const cross = (t: Term | undefined) => Boolean(t && ((t.namespaces?.length ?? 0) > 0 || t.namespaceSelector));
  const a = pod.spec?.affinity;
  return [a?.podAffinity, a?.podAntiAffinity].some(
    (x) =>
      (x?.requiredDuringSchedulingIgnoredDuringExecution ?? []).some((t) => cross(t)) ||
      (x?.preferredDuringSchedulingIgnoredDuringExecution ?? []).some((w) => cross(w.podAffinityTerm)),
  );
}

// A quota on cpu or memory makes every container state that request or limit (the API
// server's backward-compatibility rule, podEvaluator.Constraints), even a quota added later.
const MUST_SPECIFY: Record<string, (c: Resources) => unknown> = {
  cpu: (c) => c.resources?.requests?.cpu,
  'requests.cpu': (c) => c.resources?.requests?.cpu,
  memory: (c) => c.resources?.requests?.memory,
  'requests.memory': (c) => c.resources?.requests?.memory,
  'limits.cpu': (c) => c.resources?.limits?.cpu,
  'limits.memory': (c) => c.resources?.limits?.memory,
};
type Resources = { name: string; resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> } };

function missingForQuota(pod: Pod, hard: string[]): string | undefined {
  if (pod.spec?.resources?.requests || pod.spec?.resources?.limits) return undefined;
  const containers: Resources[] = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  const out = hard
    .filter((k) => k in MUST_SPECIFY)
    .sort()
    .map(
      (k) =>
        [
          k,
          containers
            .filter((c) => MUST_SPECIFY[k](c) === undefined)
            .map((c) => c.name)
            .sort(),
        ] as const,
    )
    .filter(([, names]) => names.length > 0)
    .map(([k, names]) => `${k} for: ${names.join(',')}`);
  return out.length ? out.join('; ') : undefined;
}

/** The quota that would refuse one more such pod, with its used/hard numbers. */
export function quotaRefusal(pod: Pod, q: ResourceQuota): string | undefined {
  if (!quotaScopeMatches(pod, q)) return undefined;
  const hard = (q.status?.hard ?? {}) as Record<string, string>;
  const used = (q.status?.used ?? {}) as Record<string, string>;
  const missing = missingForQuota(pod, Object.keys(hard));
  if (missing) return `resourcequota/${q.metadata?.name} would refuse it (must specify ${missing})`;
  const need = quotaUsage(pod);
  const over: string[] = [];
  for (const [k, h] of Object.entries(hard)) {
    const n = need[k];
    if (n === undefined) continue;
    if (parseQuantity(used[k] ?? '0') + n > parseQuantity(h) * (1 + 1e-9)) over.push(`${k}: ${used[k] ?? '0'}/${h} used, a replacement needs ${showQuantity(k, n)}`);
  }
  return over.length ? `resourcequota/${q.metadata?.name} would refuse it (${over.join('; ')})` : undefined;
}

function showQuantity(key: string, n: number): string {
  if (/cpu$/.test(key)) return Number.isInteger(n) ? String(n) : `${Math.round(n * 1000)}m`;
  if (/(memory|storage)$/.test(key)) return n % 1024 ** 2 === 0 ? `${n / 1024 ** 2}Mi` : String(n);
  return String(n);
}

/**
 * The one guarded patch. A 409 (the pod changed under us) re-plans from the fresh pod; a pod
 * that someone else detached meanwhile is reported as already detached, not patched again.
 */
export async function applyDetach(
  kube: Kube,
  planned: Extract<Planned, { state: 'attached' }>,
  opts: { label?: [string, string]; isolate?: boolean; ttl?: string; dryRun: DryRun; now: Date },
): Promise<DetachResult & { plan: DetachPlan }> {
  const { controller, services } = planned;
  const name = planned.pod.metadata!.name!;
  let plan = planned.plan;
  const r = await kube.patchGuarded<Pod>(
    pathOf(R.pods, { namespace: planned.pod.metadata!.namespace!, name }),
    'merge',
    (pod) => {
      if (isDetached(pod)) return undefined;
      const why = refusal(pod);
      if (why) throw new CliError(why);
      if (controllerOf(pod)?.uid !== controller.uid) throw new CliError(`pod/${name} changed its controller while being detached; nothing was changed, run the command again`);
      plan = planDetach(pod, controller, services, opts);
      return detachPatch(pod, controller, plan, opts.now, opts.ttl);
    },
    { dryRun: opts.dryRun, attempts: 3, known: planned.pod },
  );
  if (!r.changed) return { pod: r.current, controller, plan, alreadyDetached: true };
  return { pod: opts.dryRun === 'client' ? simulate(r.current, r.body as object) : r.object, controller, plan, alreadyDetached: false };
}

/** Plan and apply in one step, for callers without a pre-flight of their own (rollback --keep-for-debug). */
export async function detachPod(
  kube: Kube,
  namespace: string,
  name: string,
  opts: { label?: [string, string]; isolate?: boolean; ttl?: string; dryRun: DryRun; now: Date; services?: Service[]; beforePatch?: (r: DetachResult) => Promise<void> },
): Promise<DetachResult> {
  const planned = await planDetachment(kube, namespace, name, opts);
  if (planned.state === 'detached') return { pod: planned.pod, controller: planned.controller, alreadyDetached: true };
  await opts.beforePatch?.({ pod: planned.pod, controller: planned.controller, plan: planned.plan, alreadyDetached: false });
  return applyDetach(kube, planned, opts);
}

function simulate(pod: Pod, body: object): Pod {
  const b = body as { metadata: { labels: Record<string, string | null>; annotations: Record<string, string> } };
  const labels: Record<string, string> = { ...(pod.metadata?.labels ?? {}) };
  for (const [k, v] of Object.entries(b.metadata.labels)) {
    if (v === null) delete labels[k];
    else labels[k] = v;
  }
  return { ...pod, metadata: { ...pod.metadata, labels, annotations: { ...(pod.metadata?.annotations ?? {}), ...b.metadata.annotations } } };
}

/** The selector keys a detached pod no longer matches, as `key=value` (its detachment, for messages). */
export function detachedLabels(pod: Pod, c: Controller): string {
  const labels = pod.metadata?.labels ?? {};
  const keys = Object.keys(c.selector.matchLabels ?? {}).filter((k) => labels[k] !== c.selector.matchLabels![k]);
  return keys.map((k) => (labels[k] === undefined ? `${k} removed` : `${k}=${labels[k]}`)).join(',') || '<none>';
}

/** kubectl label arguments that put back what `changes` changed (the undo of a detach). */
export function relabelArgs(changes: LabelChange[]): string {
  return changes.map((c) => (c.from === undefined ? `${c.key}-` : `${c.key}=${c.from}`)).join(' ');
}

export interface Verification {
  released: boolean;
  replacements: string[];
  ready: number;
  desired: number;
}

/**
 * Waits, by watching, until the controller has let go of the pod and is back at its desired
 * number of Ready pods, at least one of them created since `since` (when given). Beside it a
 * watch on the ReplicaSet ends the wait at once on a terminal condition: the ReplicaSet
 * deleted, scaled below the count it had, or reporting ReplicaFailure (FailedCreate, e.g. a
 * quota) since `since`. On timeout says exactly what state is left.
 */
export async function verifyDetached(
  kube: Kube,
  namespace: string,
  podName: string,
  controller: Controller,
  opts: { timeoutMs: number; since?: Date; siblings?: string[]; progress?: (text: string) => void; signal?: AbortSignal; onReleased?: () => void },
): Promise<Verification> {
  const podsPath = pathOf(R.pods, { namespace });
  const rsName = `replicaset/${controller.name}`;
  // The API server's timestamps have second precision.
  const sinceMs = opts.since ? Math.floor(opts.since.getTime() / 1000) * 1000 : undefined;
  let desired = controller.replicas;
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;

  const terminal = kube.waitFor<ReplicaSet, Verification>(
    pathOf(R.replicasets, { namespace }),
    { fieldSelector: `metadata.name=${controller.name}` },
    ([rs]) => {
      if (!rs || rs.metadata?.uid !== controller.uid)
        throw new CliError(`${rsName} was deleted while waiting for it to replace pod/${podName}; pod/${podName} is detached and still running`);
      const n = rs.spec?.replicas ?? 1;
      if (n < controller.replicas) {
        throw new CliError(
          `${rsName} was scaled from ${controller.replicas} to ${count(n, 'replica')} by someone else${controller.owner ? ` (deployment/${controller.owner.name})` : ''} while waiting for it to replace pod/${podName}; pod/${podName} is detached and still running`,
        );
      }
      desired = n;
      const f = replicaFailure(rs);
      if (f && (sinceMs === undefined || Date.parse(f.at) >= sinceMs)) {
        throw new CliError(`${rsName} cannot create a replacement for pod/${podName}: ${f.reason}: ${f.message}`);
      }
      return undefined;
    },
    { timeoutMs: MAX_TIMER_MS, signal, onTimeout: () => `stopped watching ${rsName}` },
  );
  terminal.catch(() => undefined);

  const main = async (): Promise<Verification> => {
    const started = Date.now();
    await kube.waitFor<Pod, true>(
      podsPath,
      { fieldSelector: `metadata.name=${podName}` },
      ([p]) => {
        if (!p) throw new CliError(`pod/${podName} was deleted by someone else while waiting for ${rsName} to release it`);
        return p.metadata?.ownerReferences?.some((o) => o.uid === controller.uid) ? undefined : true;
      },
      {
        timeoutMs: opts.timeoutMs,
        signal,
        onTimeout: () => `timed out waiting for ${rsName} to release pod/${podName}; its labels are already changed (see its annotations to undo)`,
      },
    );
    // The ReplicaSet watch may have ended the wait meanwhile; a wait started on an aborted signal would never end.
    if (signal.aborted) throw new CliError('interrupted', ExitCode.ABORTED);
    opts.onReleased?.();
    opts.progress?.(`released by ${rsName}; waiting for a Ready replacement`);
    const remaining = Math.max(opts.timeoutMs - (Date.now() - started), 1000);
    const owned = (p: Pod) => p.metadata?.ownerReferences?.some((o) => o.uid === controller.uid) && p.metadata?.name !== podName;
    // The detached pod no longer matches the ReplicaSet's selector: its deletion by someone
    // else is watched beside, by name, and ends the wait too.
    const podGone = kube.waitFor<Pod, Verification>(
      podsPath,
      { fieldSelector: `metadata.name=${podName}` },
      ([p]) => {
        if (!p || p.metadata?.deletionTimestamp) throw new CliError(`pod/${podName} was deleted by someone else while waiting for ${rsName} to replace it`);
        return undefined;
      },
      { timeoutMs: MAX_TIMER_MS, signal, onTimeout: () => `stopped watching pod/${podName}` },
    );
    podGone.catch(() => undefined);
    const replaced = kube.waitFor<Pod, Verification>(
      podsPath,
      { labelSelector: selectorToString(controller.selector) },
      (pods) => {
        const mine = pods.filter((p) => owned(p) && !p.metadata?.deletionTimestamp);
        const ready = mine.filter(isReady);
        const fresh = mine.filter((p) =>
          opts.siblings ? !opts.siblings.includes(p.metadata!.name!) : sinceMs === undefined || Date.parse(p.metadata?.creationTimestamp ?? '') >= sinceMs,
        );
        opts.progress?.(`waiting for ${rsName}: ${ready.length}/${desired} Ready, ${fresh.length} new`);
        // Its own pods at the desired count is the goal: once the pod is released they are the
        // others, so a first run waits for a new one; a ReplicaSet scaled down since the detach
        // (a re-run) may need none, and waiting for one would never end.
        if (ready.length >= desired && fresh.every(isReady)) {
          return { released: true, replacements: fresh.filter(isReady).map((p) => p.metadata!.name!), ready: ready.length, desired };
        }
        return undefined;
      },
      {
        timeoutMs: remaining,
        signal,
        onTimeout: (pods) => {
          const mine = pods.filter((p) => owned(p) && !p.metadata?.deletionTimestamp);
          const notReady = mine.filter((p) => !isReady(p)).map((p) => `${p.metadata?.name} (${podStatus(p)})`);
          return (
            `timed out waiting for ${rsName} to have ${count(desired, 'Ready pod')}: ` +
            `${mine.filter(isReady).length} Ready${notReady.length ? `, not ready: ${notReady.join(', ')}` : ''}. ` +
            `pod/${podName} is detached and still running; remove it with \`kubectl mlops debug-pod done ${podName} -n ${namespace}\``
          );
        },
      },
    );
    return Promise.race([podGone, replaced]);
  };
  try {
    return await Promise.race([terminal, main()]);
  } finally {
    stop.abort();
  }
}
