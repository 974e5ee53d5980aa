// debug-pod, list, done: the relabel-to-debug routine in the command shape of flow.ts
// (options → plan → preflight → apply → verify → report).
import type { Command } from 'commander';
import type { Deps } from '../deps.js';
import type { Pod, Node, ReplicaSet } from '../kube/types.js';
import type { DryRun } from '../kube/client.js';
import {
  addDryRunOption,
  addMutationOptions,
  addOutputOption,
  addSelectorOption,
  addWatchOptions,
  allNamespacesOption,
  confirmOrAbort,
  connectFrom,
  dryRunOf,
  printerOf,
} from './common.js';
import { parseTimeout, preflight } from './flow.js';
import { dryRunSuffix, withKind, type Column, type PrintSpec, type Printer } from '../output/printer.js';
import { watchList } from '../output/watch.js';
import { withProgress } from '../output/progress.js';
import { parseDuration, parseStoredDuration, age, humanDuration } from '../util/duration.js';
import { parseLabelAssignment } from '../util/labels.js';
import { R, nameOf, pathOf } from '../kube/resources.js';
import { CliError, UsageError } from '../errors.js';
import {
  ANN,
  DEBUG_LABEL,
  applyDetach,
  detachedLabels,
  findDetached,
  isDetached,
  planDetachment,
  podKey,
  relabelArgs,
  relabelledFrom,
  replacementBlockers,
  verifyDetached,
  type DetachResult,
  type Planned,
} from '../workloads/detach.js';
import { controllerOf, extendedResources, formatResources, freeOnNodes, podStatus, restarts } from '../workloads/pods.js';
import type { Kube } from '../kube/client.js';
import { allInOrder } from '../util/settle.js';

export function register(program: Command, deps: Deps): void {
  const cmd = program
    .command('debug-pod')
    .description('detach a misbehaving pod from its ReplicaSet for debugging while a replacement keeps users served')
    .argument('<pod>', 'the pod to detach (NAME or pod/NAME)')
    .option('--label <key=value>', 'the selector label to change (default: the first selector key, value suffixed with -debug)')
    .option('--isolate', 'also take the pod out of every Service that still selects it')
    .option('--timeout <duration>', 'how long to wait for the replacement to be Ready', '2m')
    .option('--ttl <duration>', 'how long the debug pod is meant to live; `debug-pod list` shows it as EXPIRED afterwards')
    .option('--logs <lines>', "print the last N lines of the detached pod's logs")
    .option('--force', 'detach even when no replacement can be created (a quota, a ReplicaSet or Deployment at 0 replicas)');
  addOutputOption(cmd, ['table', 'json', 'yaml', 'name']);
  addDryRunOption(cmd);
  cmd.action(async (podArg: string) => detach(cmd, deps, detachOptions(cmd, podArg)));

  const list = cmd.command('list').description('list pods detached for debugging (also pods relabelled by hand with kubectl label)');
  allNamespacesOption(list);
  addOutputOption(list, ['table', 'wide', 'json', 'yaml', 'name'], { list: true });
  addSelectorOption(list);
  addWatchOptions(list);
  list.action(async () => listDetached(list, deps));

  const done = cmd
    .command('done')
    .description('delete a detached debug pod, or with --expired every one past its --ttl')
    .argument('[pod]', 'the detached pod')
    .option('--expired', 'delete the detached pods whose --ttl has passed')
    .option('--timeout <duration>', 'how long to wait for the pod to be gone', '2m');
  allNamespacesOption(done);
  addMutationOptions(done);
  // As kubectl delete: -o name prints pod/NAME per deleted pod, nothing else.
  addOutputOption(done, ['table', 'name']);
  done.action(async (podArg: string | undefined) => {
    // 1. Options, no I/O.
    const o = done.opts<{ expired?: boolean; allNamespaces?: boolean; yes?: boolean; timeout: string }>();
    if (o.expired && podArg) throw new UsageError('give a POD or --expired, not both');
    if (!o.expired && !podArg) throw new UsageError('give the POD to delete, or --expired');
    if (o.allNamespaces && !o.expired) throw new UsageError('-A/--all-namespaces is used with --expired');
    const opts = { dryRun: dryRunOf(done), yes: o.yes, timeoutMs: parseTimeout(o.timeout), names: printerOf(done).format === 'name' };
    if (o.expired) return finishExpired(done, deps, Boolean(o.allNamespaces), opts);
    return finish(done, deps, nameOf(podArg!, R.pods, 'POD'), opts);
  });
}

interface DetachOptions {
  podName: string;
  label?: [string, string];
  isolate: boolean;
  timeoutMs: number;
  ttl?: string;
  logLines?: number;
  force: boolean;
  printer: Printer;
  dryRun: DryRun;
}

/** Step 1: every flag parsed and validated, no I/O, so usage errors exit 2 before connecting. */
function detachOptions(cmd: Command, podArg: string): DetachOptions {
  const o = cmd.opts<{ label?: string; isolate?: boolean; timeout: string; ttl?: string; logs?: string; force?: boolean }>();
  if (o.ttl !== undefined && parseDuration(o.ttl, '--ttl') <= 0) throw new UsageError(`invalid value "${o.ttl}" for --ttl: want a positive duration such as 1h or 24h`);
  const logLines = o.logs === undefined ? undefined : Number(o.logs);
  if (logLines !== undefined && (!/^\d+$/.test(o.logs!) || !Number.isSafeInteger(logLines) || logLines <= 0))
    throw new UsageError(`invalid value "${o.logs}" for --logs: want a positive number of lines`);
  const label = o.label === undefined ? undefined : parseLabelAssignment(o.label, '--label');
  if (label?.[0] === DEBUG_LABEL)
    throw new UsageError(`invalid value "${o.label}" for --label: ${DEBUG_LABEL} is the marker debug-pod sets itself; choose a key of the ReplicaSet's selector`);
  return {
    podName: nameOf(podArg, R.pods, 'POD'),
    label,
    isolate: Boolean(o.isolate),
    timeoutMs: parseTimeout(o.timeout),
    ttl: o.ttl,
    logLines,
    force: Boolean(o.force),
    printer: printerOf(cmd),
    dryRun: dryRunOf(cmd),
  };
}

async function detach(cmd: Command, deps: Deps, o: DetachOptions): Promise<void> {
  const { podName, printer } = o;
  const format = printer.format;
  const { kube, namespace } = await connectFrom(cmd, deps);
  const started = deps.now();
  const warn = (s: string) => deps.err.write(`Warning: ${s}\n`);
  const again = `kubectl mlops debug-pod ${podName} -n ${namespace}`;

  // 2. Plan: reads only; every refusal happens here, before anything is written.
  const planned = await planDetachment(kube, namespace, podName, { label: o.label, isolate: o.isolate, checkReplacement: true });
  if (planned.state === 'detached') return verifyAlreadyDetached(kube, deps, namespace, o, planned);
  const { controller, plan } = planned;
  const from = `${controller.kind.toLowerCase()}/${controller.name}`;
  if (planned.blockers.length) {
    const why = `no replacement can be created for pod/${podName}: ${planned.blockers.join('; ')}`;
    if (!o.force) throw new CliError(`${why}; nothing was changed (pass --force to detach it anyway)`);
    warn(`${why}; detaching anyway (--force)`);
  }
  await reportGpus(kube, planned.pod, warn);

  // 3. Preflight: every declared verb, before the first write.
  if (o.dryRun !== 'client') await preflight(kube, 'debug-pod', namespace, (when) => when === 'logs' && o.logLines !== undefined);

  // 4. Apply: one guarded patch, journaled.
  const result = await applyDetach(kube, planned, { label: o.label, isolate: o.isolate, ttl: o.ttl, dryRun: o.dryRun, now: started });
  if (result.alreadyDetached) {
    // Someone detached it between the plan and the patch: verify what they left.
    const now = await planDetachment(kube, namespace, podName, {});
    if (now.state !== 'detached') throw new CliError(`pod/${podName} changed while being detached; nothing was changed, run the command again`);
    return verifyAlreadyDetached(kube, deps, namespace, o, now);
  }
  const changes = result.plan.changes.map((c) => `${c.key}: ${c.from ?? '<none>'} -> ${c.to ?? '<removed>'}`).join(', ');
  if (o.dryRun !== 'none') {
    if (format === 'table') {
      deps.out.write(
        `pod/${podName} would be detached from ${from}${dryRunSuffix(o.dryRun)}\n  labels: ${changes}\n  annotations: ${ANN.originalLabels}, ${ANN.detachedFrom}, ${ANN.detachedAt}\n`,
      );
    } else await printPod(deps, printer, result.pod, '');
    return;
  }
  deps.journal.wrote(`pod/${podName} relabelled (${changes}), detached from ${from}`);
  deps.journal.resume(again);
  deps.journal.undo(`kubectl label pod ${podName} -n ${namespace} --overwrite ${relabelArgs(result.plan.changes)}   # ${from} adopts it back and removes one extra pod`);
  for (const svc of plan.stillServing) {
    warn(
      `pod/${podName} still receives traffic from service/${svc.metadata?.name} (selector ${Object.entries(svc.spec?.selector ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}); pass --isolate to take it out`,
    );
  }
  for (const svc of result.plan.isolated) deps.err.write(`pod/${podName} taken out of service/${svc.metadata?.name}\n`);

  // 5. Verify: released by the ReplicaSet, and a Ready replacement.
  deps.journal.expect('released', `${from} released pod/${podName} (ownerReference removed)`);
  deps.journal.expect('replacement', `${from} back at ${controller.replicas} Ready with a new replacement`);
  const v = await withProgress(
    `waiting for ${from} to release pod/${podName} and to have a Ready replacement`,
    { stream: deps.err, enabled: format === 'table' || format === 'name' },
    (update) =>
      verifyDetached(kube, namespace, podName, controller, {
        timeoutMs: o.timeoutMs,
        since: started,
        siblings: planned.siblings,
        progress: update,
        signal: deps.signal,
        onReleased: () => deps.journal.confirm('released'),
      }),
  );
  deps.journal.confirm('replacement', `${from} has ${v.ready}/${v.desired} Ready (replacement: ${v.replacements.map((r) => `pod/${r}`).join(', ') || 'none needed'})`);

  // 6. Report.
  if (format === 'table') {
    deps.out.write(`pod/${podName} detached from ${from}\n`);
    deps.err.write(
      [
        `  labels changed: ${changes}`,
        `  ownerReference released: yes`,
        `  replacement: ${v.replacements.map((r) => `pod/${r}`).join(', ')} Ready; ${from} has ${v.ready}/${v.desired} Ready`,
        `Next steps:`,
        `  kubectl logs ${podName} -n ${namespace}`,
        `  kubectl exec -it ${podName} -n ${namespace} -- sh`,
        `  kubectl mlops debug-pod done ${podName} -n ${namespace}   # delete it when finished`,
        '',
      ].join('\n'),
    );
  } else {
    // Only json/yaml need the pod as it is now (ownerReference released).
    const after = format === 'name' ? result.pod : ((await kube.getOptional<Pod>(pathOf(R.pods, { namespace, name: podName }))) ?? result.pod);
    await printPod(deps, printer, after, `pod/${podName}`);
  }
  if (o.logLines) await printLogs(kube, deps, namespace, podName, o.logLines);
}

/**
 * A re-run (or a pod relabelled by hand): nothing to write, but the promise is the same, a
 * Ready replacement, so it is verified (waiting up to --timeout) rather than assumed.
 * A different --label would be a second detachment of the same pod: refused.
 */
async function verifyAlreadyDetached(kube: Kube, deps: Deps, namespace: string, o: DetachOptions, planned: Extract<Planned, { state: 'detached' }>): Promise<void> {
  const { podName, printer } = o;
  const format = printer.format;
  const { controller, pod } = planned;
  const from = `${controller.kind.toLowerCase()}/${controller.name}`;
  const how = planned.byHand
    ? `relabelled by hand (${detachedLabels(pod, controller)})`
    : `since ${pod.metadata?.annotations?.[ANN.detachedAt] ?? 'unknown'}, ${detachedLabels(pod, controller)}`;
  if (o.label && pod.metadata?.labels?.[o.label[0]] !== o.label[1]) {
    throw new CliError(
      `pod/${podName} is already detached from ${from} (${how}); --label ${o.label.join('=')} would detach it a second time: run \`kubectl mlops debug-pod done ${podName} -n ${namespace}\` first, or leave out --label`,
    );
  }
  const blockers = replacementBlockers(pod, controller, []);
  if (blockers.length && !o.force) throw new CliError(`pod/${podName} is already detached from ${from} (${how}), but ${blockers.join('; ')}`);
  deps.err.write(`pod/${podName} is already detached from ${from} (${how}); ${o.dryRun === 'none' ? 'verifying its replacement' : 'nothing would change'}\n`);
  if (o.dryRun !== 'none') {
    await printPod(deps, printer, pod, `pod/${podName} already detached`);
    return;
  }
  const v = await withProgress(`verifying that ${from} replaced pod/${podName}`, { stream: deps.err, enabled: format === 'table' || format === 'name' }, (update) =>
    verifyDetached(kube, namespace, podName, controller, { timeoutMs: o.timeoutMs, since: planned.since, progress: update, signal: deps.signal }),
  );
  const replacement = v.replacements.length ? `${v.replacements.map((r) => `pod/${r}`).join(', ')} Ready` : 'none needed';
  deps.err.write(`  replacement: ${replacement}; ${from} has ${v.ready}/${v.desired} Ready\n`);
  await printPod(deps, printer, pod, `pod/${podName} already detached`);
  if (o.logLines) await printLogs(kube, deps, namespace, podName, o.logLines);
}

async function printPod(deps: Deps, printer: Printer, pod: Pod, line: string): Promise<void> {
  if (!printer.human) await printer.print(deps, { items: [withKind(pod, 'Pod', 'v1')] });
  else if (line) deps.out.write(line + '\n');
}

async function printLogs(kube: Kube, deps: Deps, namespace: string, podName: string, lines: number): Promise<void> {
  try {
    const text = await kube.request<string>('GET', pathOf(R.pods, { namespace, name: podName, subresource: 'log' }), { query: { tailLines: lines }, text: true });
    deps.err.write(`--- last ${lines} log lines of pod/${podName} ---\n`);
    deps.out.write(text.endsWith('\n') || !text ? text : text + '\n');
  } catch (e) {
    deps.err.write(`Warning: could not read the logs of pod/${podName}: ${(e as Error).message}\n`);
  }
}

/** Extended resources the replacement will need again, and where they are free. */
async function reportGpus(kube: Kube, pod: Pod, warn: (s: string) => void): Promise<void> {
  const ext = extendedResources(pod);
  if (Object.keys(ext).length === 0) return;
  const [nodes, pods] = await allInOrder([
    kube.listIfAllowed<Node>(pathOf(R.nodes)),
    kube.listIfAllowed<Pod>(pathOf(R.pods), { fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' }),
  ]);
  if (!nodes || !pods) {
    // Namespaced users may not see nodes; the warning matters more than the free count.
    warn(
      `pod/${pod.metadata?.name} holds ${formatResources(ext)} and keeps it while detached; the replacement needs the same again (you may not list ${!nodes ? 'nodes' : 'pods in all namespaces'}, so where it is free is unknown)`,
    );
    return;
  }
  for (const [res, amount] of Object.entries(ext)) {
    const free = freeOnNodes(res, nodes.items, pods.items);
    const fits = free.filter((f) => f.free >= amount);
    warn(
      `pod/${pod.metadata?.name} holds ${formatResources({ [res]: amount })} and keeps it while detached; the replacement needs the same again: ` +
        (fits.length
          ? `free on ${fits.map((f) => `${f.node} (${f.free}/${f.allocatable})`).join(', ')}`
          : `no node has ${amount} free, so the replacement will stay Pending until this pod is deleted`),
    );
  }
}

async function listDetached(cmd: Command, deps: Deps): Promise<void> {
  const printer = printerOf(cmd);
  const o = cmd.opts<{ selector?: string; watch?: boolean; watchOnly?: boolean }>();
  const all = Boolean(cmd.opts().allNamespaces);
  const { kube, namespace } = await connectFrom(cmd, deps);
  const path = pathOf(R.pods, { namespace: all ? undefined : namespace });
  const labelSelector = [`${DEBUG_LABEL}=true`, o.selector].filter(Boolean).join(',');
  // Pods relabelled by hand carry no marker: found among all pods (with -l) and their ReplicaSets.
  let byHand = new Map<string, ReplicaSet>();
  let warned = false;
  const list = async () => {
    const found = await findDetached(kube, all ? undefined : namespace, o.selector);
    byHand = found.byHand;
    if (found.replicaSetsHidden && !warned) deps.err.write(`Warning: you may not list replicasets, so pods relabelled by hand are not shown\n`);
    warned = true;
    return found.items.map((p) => withKind(p, 'Pod', 'v1'));
  };
  let now = deps.now();
  const ttlState = (p: Pod) => {
    const left = ttlLeft(p, now);
    if (left === undefined) return '<none>';
    return left <= 0 ? 'EXPIRED' : `${humanDuration(left)} left`;
  };
  const sorted = (items: Pod[]) =>
    items.sort((a, b) => (a.metadata?.namespace ?? '').localeCompare(b.metadata?.namespace ?? '') || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const cols: Column<Pod>[] = [
    ...(all ? [{ header: 'NAMESPACE', value: (p: Pod) => p.metadata?.namespace }] : []),
    { header: 'NAME', value: (p: Pod) => p.metadata?.name },
    {
      header: 'DETACHED-FROM',
      value: (p: Pod) =>
        byHand.has(podKey(p))
          ? handFrom(byHand.get(podKey(p))!)
          : (p.metadata?.annotations?.[ANN.owner] ?? p.metadata?.annotations?.[ANN.detachedFrom] ?? '<unknown>').replace(/^(\w+)\//, (_, k: string) => `${k.toLowerCase()}/`),
    },
    { header: 'AGE', value: (p: Pod) => age(p.metadata?.annotations?.[ANN.detachedAt] ?? p.metadata?.creationTimestamp, now) },
    { header: 'NODE', value: (p: Pod) => p.spec?.nodeName ?? '<none>' },
    { header: 'STATUS', value: (p: Pod) => podStatus(p) },
    { header: 'RESTARTS', value: (p: Pod) => restarts(p) },
    { header: 'GPUS', value: (p: Pod) => extendedResources(p)['nvidia.com/gpu'] ?? 0 },
    { header: 'TTL', value: (p: Pod) => ttlState(p) },
    {
      header: 'REPLICASET',
      value: (p: Pod) => (byHand.has(podKey(p)) ? byHand.get(podKey(p))!.metadata?.name : (p.metadata?.annotations?.[ANN.detachedFrom]?.replace(/^\w+\//, '') ?? '<none>')),
      wide: true,
    },
  ];
  const spec = (items: Pod[]): PrintSpec<Pod> => (
    (now = deps.now()),
    {
      items: sorted(items),
      // -o json|yaml: a v1 List of the pods, as `kubectl get pods -o json` prints.
      data: (pods) => ({ apiVersion: 'v1', items: pods, kind: 'List', metadata: { resourceVersion: '' } }),
      columns: cols,
      empty: all ? 'No detached debug pods found.' : `No detached debug pods found in ${namespace} namespace.`,
    }
  );
  if (o.watch || o.watchOnly) {
    // The watch follows the marker label: pods relabelled by hand are in the first list only.
    const io = { out: deps.out, err: deps.err };
    const rowOf = (p: unknown) => withKind(p as Pod, 'Pod', 'v1');
    return watchList({ kube, path, labelSelector, rows: list, rowOf, spec, printer, io, watchOnly: Boolean(o.watchOnly), signal: deps.signal });
  }
  await printer.print(deps, spec(await list()));
}

/** DETACHED-FROM of a pod relabelled by hand: the Deployment (or ReplicaSet) it was taken from. */
function handFrom(rs: ReplicaSet): string {
  const up = controllerOf(rs);
  return `${up ? `${up.kind.toLowerCase()}/${up.name}` : `replicaset/${rs.metadata?.name}`} (relabelled by hand)`;
}

/** Milliseconds until a detached pod's --ttl runs out (negative when past), or undefined without a ttl. */
function ttlLeft(p: Pod, now: Date): number | undefined {
  const ttl = p.metadata?.annotations?.[ANN.ttl];
  const at = p.metadata?.annotations?.[ANN.detachedAt];
  const ms = parseStoredDuration(ttl);
  if (ms === undefined || !at) return undefined;
  return Date.parse(at) + ms - now.getTime();
}

/** Cleans up what nobody cleans up (kubernetes#55559): detached pods past their --ttl. */
async function finishExpired(cmd: Command, deps: Deps, all: boolean, o: DoneOptions): Promise<void> {
  const { kube, namespace } = await connectFrom(cmd, deps);
  // 2. Plan.
  const { items } = await kube.list<Pod>(pathOf(R.pods, { namespace: all ? undefined : namespace }), { labelSelector: `${DEBUG_LABEL}=true` });
  const now = deps.now();
  const expired = items.filter((p) => (ttlLeft(p, now) ?? 1) <= 0 && !p.metadata?.deletionTimestamp);
  if (expired.length === 0) {
    deps.err.write(`No expired debug pods${all ? '' : ` in ${namespace} namespace`}.\n`);
    return;
  }
  // 3. Preflight (per namespace the pods are in).
  if (o.dryRun !== 'client') for (const ns of new Set(expired.map((p) => p.metadata!.namespace!))) await preflight(kube, 'debug-pod done', ns);
  const names = expired.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`);
  if (o.dryRun === 'none') await confirmOrAbort(deps, o.yes, `Delete ${expired.length} expired debug pod(s): ${names.join(', ')}?`, 'deleting the expired debug pods');
  // 4. Apply.
  const gpus: Record<string, number> = {};
  for (const p of expired) {
    if (o.dryRun !== 'client') await kube.delete(pathOf(R.pods, { namespace: p.metadata?.namespace, name: p.metadata?.name }), { uid: p.metadata?.uid, dryRun: o.dryRun });
    if (o.dryRun === 'none') deps.journal.wrote(`pod/${p.metadata?.name} in ${p.metadata?.namespace} deleted`);
    for (const [k, v] of Object.entries(extendedResources(p))) gpus[k] = (gpus[k] ?? 0) + v;
    deps.out.write(deletedLine(p.metadata!.name!, o));
  }
  if (o.dryRun !== 'none') return;
  deps.journal.resume(`kubectl mlops debug-pod done --expired${all ? ' -A' : ` -n ${namespace}`}`);
  // 5. Verify: gone, as `kubectl delete` waits for.
  for (const p of expired) await waitGone(kube, deps, p, o.timeoutMs);
  if (Object.keys(gpus).length) deps.err.write(`freed ${formatResources(gpus)}\n`);
}

interface DoneOptions {
  dryRun: DryRun;
  yes?: boolean;
  timeoutMs: number;
  /** -o name. */
  names: boolean;
}

/** kubectl delete's line: `pod "x" deleted`, or `pod/x` with -o name (no dry-run suffix there either). */
function deletedLine(name: string, o: DoneOptions): string {
  return o.names ? `pod/${name}\n` : `pod "${name}" deleted${dryRunSuffix(o.dryRun)}\n`;
}

async function finish(cmd: Command, deps: Deps, podName: string, o: DoneOptions): Promise<void> {
  const { kube, namespace } = await connectFrom(cmd, deps);
  // 2. Plan: only a pod detached by debug-pod, or relabelled by hand from a ReplicaSet.
  const path = pathOf(R.pods, { namespace, name: podName });
  const pod = await kube.get<Pod>(path);
  if (!isDetached(pod)) {
    const rs = controllerOf(pod) ? undefined : relabelledFrom(pod, (await kube.list<ReplicaSet>(pathOf(R.replicasets, { namespace }))).items);
    if (!rs) {
      throw new CliError(`pod/${podName} is not a detached debug pod (no ${DEBUG_LABEL}=true label, and not relabelled by hand out of a ReplicaSet); refusing to delete it`);
    }
    deps.err.write(`pod/${podName} was relabelled by hand out of replicaset/${rs.metadata?.name}\n`);
  }
  if (pod.metadata?.deletionTimestamp) {
    // A re-run after Ctrl-C or a timeout: converge on "gone".
    deps.err.write(`pod/${podName} is already being deleted\n`);
    if (o.dryRun === 'none') await waitGone(kube, deps, pod, o.timeoutMs);
    deps.out.write(deletedLine(podName, o));
    return;
  }
  // 3. Preflight.
  if (o.dryRun !== 'client') await preflight(kube, 'debug-pod done', namespace, (when) => when === 'relabelled-by-hand' && !isDetached(pod));
  if (o.dryRun === 'none') await confirmOrAbort(deps, o.yes, `Delete detached debug pod ${namespace}/${podName}?`, `deleting pod/${podName}`);
  // 4. Apply.
  if (o.dryRun !== 'client') await kube.delete(path, { uid: pod.metadata?.uid, dryRun: o.dryRun });
  if (o.dryRun !== 'none') {
    deps.out.write(deletedLine(podName, o));
    return;
  }
  deps.journal.wrote(`pod/${podName} deleted (uid ${pod.metadata?.uid})`);
  deps.journal.resume(`kubectl mlops debug-pod done ${podName} -n ${namespace}`);
  // 5. Verify.
  await waitGone(kube, deps, pod, o.timeoutMs);
  deps.out.write(deletedLine(podName, o));
  const gpus = extendedResources(pod);
  if (Object.keys(gpus).length) deps.err.write(`freed ${formatResources(gpus)}\n`);
}

/** Waits until the pod (this uid) is gone, as `kubectl delete` does. */
async function waitGone(kube: Kube, deps: Deps, pod: Pod, timeoutMs: number): Promise<void> {
  const name = pod.metadata!.name!;
  const key = `gone-${pod.metadata?.namespace}/${name}`;
  deps.journal.expect(key, `pod/${name} gone`);
  await withProgress(`waiting for pod/${name} to be gone`, { stream: deps.err, enabled: true }, () =>
    kube.waitFor<Pod, true>(
      pathOf(R.pods, { namespace: pod.metadata!.namespace! }),
      { fieldSelector: `metadata.name=${name}` },
      ([p]) => (!p || p.metadata?.uid !== pod.metadata?.uid ? true : undefined),
      { timeoutMs, signal: deps.signal, onTimeout: ([p]) => `timed out waiting for pod/${name} to be gone: it is ${p ? podStatus(p) : 'gone'}` },
    ),
  );
  deps.journal.confirm(key);
}

export type { DetachResult };
