// The relabel-to-debug trick: take a pod out of its controller's selector in one guarded patch,
// leaving a ledger in annotations so `debug-pod list/done` and humans can tell what happened.
import type { Kube, DryRun } from '../kube/client.js';
import type { Pod, ReplicaSet, Deployment, Service } from '../kube/types.js';
import { R, pathOf } from '../kube/resources.js';
import { CliError } from '../errors.js';
import { mapSelectorMatches, selectorMatches, selectorToString, type LabelSelector } from '../util/labels.js';
import { controllerOf, isReady, podStatus } from './pods.js';

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
  owner?: { kind: string; name: string; selector: LabelSelector };
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
  const ns = pod.metadata!.namespace!;
  const ref = controllerOf(pod)!;
  const rs = await kube.get<ReplicaSet>(pathOf(R.replicasets, { namespace: ns, name: ref.name }));
  const c: Controller = {
    kind: 'ReplicaSet',
    name: rs.metadata!.name!,
    uid: rs.metadata!.uid!,
    selector: rs.spec!.selector as LabelSelector,
    replicas: rs.spec?.replicas ?? 1,
  };
  const up = controllerOf(rs);
  if (up?.kind === 'Deployment') {
    const d = await kube.getOptional<Deployment>(pathOf(R.deployments, { namespace: ns, name: up.name }));
    if (d) c.owner = { kind: 'Deployment', name: up.name, selector: d.spec!.selector as LabelSelector };
  }
  return c;
}

/** Label keys whose change breaks `selector`, best first: user-facing keys before pod-template-hash. */
function breakingChange(selector: LabelSelector, labels: Record<string, string>): Record<string, string | undefined> | undefined {
  const keys = Object.keys(selector.matchLabels ?? {}).sort((a, b) => Number(a === 'pod-template-hash') - Number(b === 'pod-template-hash'));
  if (keys.length) return { [keys[0]!]: debugValue(selector.matchLabels![keys[0]!]!) };
  for (const r of selector.matchExpressions ?? []) {
    if (r.operator === 'In' && labels[r.key] !== undefined) return { [r.key]: debugValue(labels[r.key]!) };
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
      const key = Object.keys(svc.spec!.selector!)[0]!;
      labels = apply(labels, { [key]: debugValue(svc.spec!.selector![key]!) });
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

/**
 * Reads the pod, refuses unsafe cases, plans and applies the patch. A 409 (the pod changed
 * under us) re-reads and re-plans, a bounded number of times.
 */
export async function detachPod(
  kube: Kube,
  namespace: string,
  name: string,
  opts: { label?: [string, string]; isolate?: boolean; ttl?: string; dryRun: DryRun; now: Date; services?: Service[]; beforePatch?: (r: DetachResult) => Promise<void> },
): Promise<DetachResult> {
  const podPath = pathOf(R.pods, { namespace, name });
  let result: DetachResult | undefined;
  // On a 409 (the pod changed under us) the plan is made again from the fresh pod.
  const r = await kube.patchGuarded<Pod>(
    podPath,
    'merge',
    async (pod) => {
      result = undefined;
      if (isDetached(pod)) return undefined;
      const why = refusal(pod);
      if (why) throw new CliError(why);
      const controller = await resolveController(kube, pod);
      const services = opts.services ?? (await kube.list<Service>(pathOf(R.services, { namespace }))).items;
      const plan = planDetach(pod, controller, services, opts);
      result = { pod, controller, plan, alreadyDetached: false };
      await opts.beforePatch?.(result);
      return detachPatch(pod, controller, plan, opts.now, opts.ttl);
    },
    { dryRun: opts.dryRun, attempts: 3 },
  );
  if (!result) return { pod: r.current, controller: ledgerController(r.current), alreadyDetached: true };
  return { ...result, pod: opts.dryRun === 'client' ? simulate(r.current, r.body as object) : r.object };
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

export function ledgerController(pod: Pod): Controller {
  const [kind = '', name = ''] = (pod.metadata?.annotations?.[ANN.detachedFrom] ?? '/').split('/');
  return { kind, name, uid: '', selector: {}, replicas: 0 };
}

export interface Verification {
  released: boolean;
  replacements: string[];
  ready: number;
  desired: number;
}

/**
 * Waits, by watching, until the controller has let go of the pod and is back at its desired
 * number of Ready pods, at least one of them new. On timeout says exactly what state is left.
 */
export async function verifyDetached(
  kube: Kube,
  namespace: string,
  podName: string,
  controller: Controller,
  opts: { timeoutMs: number; since: Date; progress?: (text: string) => void; signal?: AbortSignal },
): Promise<Verification> {
  const podsPath = pathOf(R.pods, { namespace });
  const started = Date.now();
  await kube.waitFor<Pod, true>(
    podsPath,
    { fieldSelector: `metadata.name=${podName}` },
    (pods) => {
      const p = pods[0];
      if (!p) throw new CliError(`pod/${podName} disappeared while waiting for ${controller.kind} ${controller.name} to release it`);
      return p.metadata?.ownerReferences?.some((o) => o.uid === controller.uid) ? undefined : true;
    },
    {
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
      onTimeout: () => `timed out waiting for ${controller.kind} ${controller.name} to release pod/${podName}; its labels are already changed (see its annotations to undo)`,
    },
  );
  opts.progress?.(`released by ${controller.kind} ${controller.name}; waiting for a Ready replacement`);
  const remaining = Math.max(opts.timeoutMs - (Date.now() - started), 1000);
  const sinceMs = opts.since.getTime() - 1000;
  const owned = (p: Pod) => p.metadata?.ownerReferences?.some((o) => o.uid === controller.uid) && p.metadata?.name !== podName;
  return kube.waitFor<Pod, Verification>(
      podsPath,
      { labelSelector: selectorToString(controller.selector) },
      (pods) => {
        const mine = pods.filter((p) => owned(p) && !p.metadata?.deletionTimestamp);
        const ready = mine.filter(isReady);
        const fresh = mine.filter((p) => Date.parse(p.metadata?.creationTimestamp ?? '') >= sinceMs);
        opts.progress?.(`waiting for ${controller.kind} ${controller.name}: ${ready.length}/${controller.replicas} Ready, ${fresh.length} new`);
        if (ready.length >= controller.replicas && (fresh.length > 0 || controller.replicas === 0) && fresh.every(isReady)) {
          return { released: true, replacements: fresh.map((p) => p.metadata!.name!), ready: ready.length, desired: controller.replicas };
        }
        return undefined;
      },
      {
        timeoutMs: remaining,
        signal: opts.signal,
        onTimeout: (pods) => {
          const mine = pods.filter(owned);
          const notReady = mine.filter((p) => !isReady(p)).map((p) => `${p.metadata?.name} (${podStatus(p)})`);
          return (
            `timed out waiting for ${controller.kind} ${controller.name} to have ${controller.replicas} Ready pods: ` +
            `${mine.filter(isReady).length} Ready${notReady.length ? `, not ready: ${notReady.join(', ')}` : ''}. ` +
            `pod/${podName} is detached and still running; remove it with \`kubectl mlops debug-pod done ${podName} -n ${namespace}\``
          );
        },
      },
    );
}
