import type { Command } from 'commander';
import type { Deps } from '../deps.js';
import type { Pod, Node } from '../kube/types.js';
import { addMutationOptions, addOutputOption, addSelectorOption, addWatchOptions, allNamespacesOption, confirmOrAbort, connectFrom, dryRunOf, printerOf } from './common.js';
import { dryRunSuffix, withKind, type Column, type PrintSpec, type Printer } from '../output/printer.js';
import { watchList } from '../output/watch.js';
import { withProgress } from '../output/progress.js';
import { parseDuration, age, humanDuration } from '../util/duration.js';
import { parseLabelAssignment } from '../util/labels.js';
import { R, nameOf, pathOf } from '../kube/resources.js';
import { CliError, UsageError } from '../errors.js';
import { ANN, DEBUG_LABEL, detachPod, isDetached, verifyDetached, type DetachResult } from '../workloads/detach.js';
import { extendedResources, formatResources, freeOnNodes, podStatus, restarts } from '../workloads/pods.js';
import type { Kube } from '../kube/client.js';

export function register(program: Command, deps: Deps): void {
  const cmd = program
    .command('debug-pod')
    .description('detach a misbehaving pod from its ReplicaSet for debugging while a replacement keeps users served')
    .argument('<pod>', 'the pod to detach (NAME or pod/NAME)')
    .option('--label <key=value>', 'the selector label to change (default: the first selector key, value suffixed with -debug)')
    .option('--isolate', 'also take the pod out of every Service that still selects it')
    .option('--timeout <duration>', 'how long to wait for the replacement to be Ready', '2m')
    .option('--ttl <duration>', 'how long the debug pod is meant to live; `debug-pod list` shows it as EXPIRED afterwards')
    .option('--logs <lines>', 'print the last N lines of the detached pod\'s logs');
  addOutputOption(cmd, ['table', 'json', 'yaml', 'name']);
  addMutationOptions(cmd);
  cmd.action(async (podName: string) => detach(cmd, deps, nameOf(podName, R.pods, 'POD')));

  const list = cmd.command('list').description('list pods detached for debugging');
  allNamespacesOption(list);
  addOutputOption(list, ['table', 'wide', 'json', 'yaml', 'name'], { list: true });
  addSelectorOption(list);
  addWatchOptions(list);
  list.action(async () => listDetached(list, deps));

  const done = cmd
    .command('done')
    .description('delete a detached debug pod, or with --expired every one past its --ttl')
    .argument('[pod]', 'the detached pod')
    .option('--expired', 'delete the detached pods whose --ttl has passed');
  allNamespacesOption(done);
  addMutationOptions(done);
  done.action(async (podName: string | undefined) => {
    const o = done.opts() as { expired?: boolean; allNamespaces?: boolean };
    if (o.expired && podName) throw new UsageError('give a POD or --expired, not both');
    if (!o.expired && !podName) throw new UsageError('give the POD to delete, or --expired');
    if (o.allNamespaces && !o.expired) throw new UsageError('-A/--all-namespaces is used with --expired');
    if (o.expired) return finishExpired(done, deps, Boolean(o.allNamespaces));
    return finish(done, deps, nameOf(podName!, R.pods, 'POD'));
  });
}

async function detach(cmd: Command, deps: Deps, podName: string): Promise<void> {
  const o = cmd.opts() as { label?: string; isolate?: boolean; timeout: string; ttl?: string; logs?: string };
  const printer = printerOf(cmd);
  const format = printer.format;
  const dryRun = dryRunOf(cmd);
  const timeoutMs = parseDuration(o.timeout, '--timeout');
  if (o.ttl) parseDuration(o.ttl, '--ttl');
  const label = o.label ? parseLabelAssignment(o.label, '--label') : undefined;
  const logLines = o.logs === undefined ? undefined : Number(o.logs);
  if (logLines !== undefined && (!Number.isInteger(logLines) || logLines <= 0)) throw new UsageError(`invalid value "${o.logs}" for --logs: want a positive number of lines`);
  const { kube, namespace } = await connectFrom(cmd, deps);
  const started = deps.now();
  const warn = (s: string) => deps.err.write(`Warning: ${s}\n`);

  const result = await detachPod(kube, namespace, podName, {
    label,
    isolate: o.isolate,
    ttl: o.ttl,
    dryRun,
    now: started,
    beforePatch: async (r) => {
      await reportGpus(kube, r.pod, warn);
    },
  });

  if (result.alreadyDetached) {
    deps.err.write(`pod/${podName} is already detached from ${result.controller.kind.toLowerCase()}/${result.controller.name} (since ${result.pod.metadata?.annotations?.[ANN.detachedAt] ?? 'unknown'}); nothing changed\n`);
    await printPod(deps, printer, result.pod, `pod/${podName} already detached`);
    return;
  }
  const plan = result.plan!;
  const from = `${result.controller.kind.toLowerCase()}/${result.controller.name}`;
  const changes = plan.changes.map((c) => `${c.key}: ${c.from ?? '<none>'} -> ${c.to ?? '<removed>'}`).join(', ');
  if (dryRun !== 'none') {
    if (format === 'table') {
      deps.out.write(`pod/${podName} would be detached from ${from}${dryRunSuffix(dryRun)}\n  labels: ${changes}\n  annotations: ${ANN.originalLabels}, ${ANN.detachedFrom}, ${ANN.detachedAt}\n`);
    } else await printPod(deps, printer, result.pod, '');
    return;
  }
  for (const svc of plan.stillServing) {
    warn(`pod/${podName} still receives traffic from service/${svc.metadata?.name} (selector ${Object.entries(svc.spec?.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',')}); pass --isolate to take it out`);
  }
  for (const svc of plan.isolated) deps.err.write(`pod/${podName} taken out of service/${svc.metadata?.name}\n`);

  const v = await withProgress(`detached pod/${podName}; waiting for ${from} to release it`, { stream: deps.err, enabled: format === 'table' || format === 'name' }, (update) =>
    verifyDetached(kube, namespace, podName, result.controller, { timeoutMs, since: started, progress: update, signal: deps.signal }),
  );
  if (format === 'table') {
    deps.out.write(`pod/${podName} detached from ${from}\n`);
    deps.err.write(
      [
        `  labels changed: ${changes}`,
        `  ownerReference released: yes`,
        `  replacement: ${v.replacements.map((r) => `pod/${r}`).join(', ')} Ready; ${result.controller.kind.toLowerCase()}/${result.controller.name} has ${v.ready}/${v.desired} Ready`,
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
  if (logLines) await printLogs(kube, deps, namespace, podName, logLines);
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
  const [nodes, pods] = await Promise.all([
    kube.listIfAllowed<Node>(pathOf(R.nodes)),
    kube.listIfAllowed<Pod>(pathOf(R.pods), { fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' }),
  ]);
  if (!nodes || !pods) {
    // Namespaced users may not see nodes; the warning matters more than the free count.
    warn(`pod/${pod.metadata?.name} holds ${formatResources(ext)} and keeps it while detached; the replacement needs the same again (you may not list ${!nodes ? 'nodes' : 'pods in all namespaces'}, so where it is free is unknown)`);
    return;
  }
  for (const [res, amount] of Object.entries(ext)) {
    const free = freeOnNodes(res, nodes.items, pods.items);
    const fits = free.filter((f) => f.free >= amount);
    warn(
      `pod/${pod.metadata?.name} holds ${formatResources({ [res]: amount })} and keeps it while detached; the replacement needs the same again: ` +
        (fits.length ? `free on ${fits.map((f) => `${f.node} (${f.free}/${f.allocatable})`).join(', ')}` : `no node has ${amount} free, so the replacement will stay Pending until this pod is deleted`),
    );
  }
}

async function listDetached(cmd: Command, deps: Deps): Promise<void> {
  const printer = printerOf(cmd);
  const o = cmd.opts() as { selector?: string; watch?: boolean; watchOnly?: boolean };
  const all = Boolean(cmd.opts().allNamespaces);
  const { kube, namespace } = await connectFrom(cmd, deps);
  const path = pathOf(R.pods, { namespace: all ? undefined : namespace });
  const labelSelector = [`${DEBUG_LABEL}=true`, o.selector].filter(Boolean).join(',');
  const list = async () => {
  const { items } = await kube.list<Pod>(path, { labelSelector });
  return items.map((p) => withKind(p, 'Pod', 'v1'));
  };
  let now = deps.now();
  const ttlState = (p: Pod) => {
    const left = ttlLeft(p, now);
    if (left === undefined) return '<none>';
    return left <= 0 ? 'EXPIRED' : `${humanDuration(left)} left`;
  };
  const sorted = (items: Pod[]) => items.sort((a, b) => (a.metadata?.namespace ?? '').localeCompare(b.metadata?.namespace ?? '') || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const cols: Column<Pod>[] = [
    ...(all ? [{ header: 'NAMESPACE', value: (p: Pod) => p.metadata?.namespace }] : []),
    { header: 'NAME', value: (p: Pod) => p.metadata?.name },
    { header: 'DETACHED-FROM', value: (p: Pod) => (p.metadata?.annotations?.[ANN.owner] ?? p.metadata?.annotations?.[ANN.detachedFrom] ?? '<unknown>').replace(/^(\w+)\//, (_, k: string) => `${k.toLowerCase()}/`) },
    { header: 'AGE', value: (p: Pod) => age(p.metadata?.annotations?.[ANN.detachedAt] ?? p.metadata?.creationTimestamp, now) },
    { header: 'NODE', value: (p: Pod) => p.spec?.nodeName ?? '<none>' },
    { header: 'STATUS', value: (p: Pod) => podStatus(p) },
    { header: 'RESTARTS', value: (p: Pod) => restarts(p) },
    { header: 'GPUS', value: (p: Pod) => extendedResources(p)['nvidia.com/gpu'] ?? 0 },
    { header: 'TTL', value: (p: Pod) => ttlState(p) },
    { header: 'REPLICASET', value: (p: Pod) => p.metadata?.annotations?.[ANN.detachedFrom] ?? '<none>', wide: true },
  ];
  const spec = (items: Pod[]): PrintSpec<Pod> => ((now = deps.now()), {
    items: sorted(items),
    // -o json|yaml: a v1 List of the pods, as `kubectl get pods -o json` prints.
    data: (pods) => ({ apiVersion: 'v1', items: pods, kind: 'List', metadata: { resourceVersion: '' } }),
    columns: cols,
    empty: all ? 'No detached debug pods found.' : `No detached debug pods found in ${namespace} namespace.`,
  });
  if (o.watch || o.watchOnly) {
    const key = (p: Pod) => `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
    const io = { out: deps.out, err: deps.err };
    const rowOf = (p: unknown) => withKind(p as Pod, 'Pod', 'v1');
    return watchList({ kube, path, labelSelector, rows: list, rowOf, key, spec, printer, io, watchOnly: Boolean(o.watchOnly), signal: deps.signal });
  }
  await printer.print(deps, spec(await list()));
}

/** Milliseconds until a detached pod's --ttl runs out (negative when past), or undefined without a ttl. */
function ttlLeft(p: Pod, now: Date): number | undefined {
  const ttl = p.metadata?.annotations?.[ANN.ttl];
  const at = p.metadata?.annotations?.[ANN.detachedAt];
  if (!ttl || !at) return undefined;
  try {
    return Date.parse(at) + parseDuration(ttl, 'ttl') - now.getTime();
  } catch {
    return undefined;
  }
}

/** Cleans up what nobody cleans up (kubernetes#55559): detached pods past their --ttl. */
async function finishExpired(cmd: Command, deps: Deps, all: boolean): Promise<void> {
  const dryRun = dryRunOf(cmd);
  const { kube, namespace } = await connectFrom(cmd, deps);
  const { items } = await kube.list<Pod>(pathOf(R.pods, { namespace: all ? undefined : namespace }), { labelSelector: `${DEBUG_LABEL}=true` });
  const now = deps.now();
  const expired = items.filter((p) => (ttlLeft(p, now) ?? 1) <= 0 && !p.metadata?.deletionTimestamp);
  if (expired.length === 0) {
    deps.err.write(`No expired debug pods${all ? '' : ` in ${namespace} namespace`}.\n`);
    return;
  }
  const names = expired.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`);
  if (dryRun === 'none') await confirmOrAbort(deps, cmd.opts().yes, `Delete ${expired.length} expired debug pod(s): ${names.join(', ')}?`, 'deleting the expired debug pods');
  const gpus: Record<string, number> = {};
  for (const p of expired) {
    if (dryRun !== 'client') await kube.delete(pathOf(R.pods, { namespace: p.metadata?.namespace, name: p.metadata?.name }), { uid: p.metadata?.uid, dryRun });
    for (const [k, v] of Object.entries(extendedResources(p))) gpus[k] = (gpus[k] ?? 0) + v;
    deps.out.write(`pod "${p.metadata?.name}" deleted${dryRunSuffix(dryRun)}\n`);
  }
  if (Object.keys(gpus).length && dryRun === 'none') deps.err.write(`freed ${formatResources(gpus)}\n`);
}

async function finish(cmd: Command, deps: Deps, podName: string): Promise<void> {
  const dryRun = dryRunOf(cmd);
  const { kube, namespace } = await connectFrom(cmd, deps);
  const path = pathOf(R.pods, { namespace, name: podName });
  const pod = await kube.get<Pod>(path);
  if (!isDetached(pod)) {
    throw new CliError(`pod/${podName} is not a detached debug pod (no ${DEBUG_LABEL}=true label); refusing to delete it`);
  }
  if (dryRun === 'client') {
    deps.out.write(`pod "${podName}" deleted${dryRunSuffix(dryRun)}\n`);
    return;
  }
  if (dryRun === 'none') await confirmOrAbort(deps, cmd.opts().yes, `Delete detached debug pod ${namespace}/${podName}?`, `deleting pod/${podName}`);
  await kube.delete(path, { uid: pod.metadata?.uid, dryRun });
  const gpus = extendedResources(pod);
  deps.out.write(`pod "${podName}" deleted${dryRunSuffix(dryRun)}\n`);
  if (Object.keys(gpus).length && dryRun === 'none') deps.err.write(`freed ${formatResources(gpus)}\n`);
}

export type { DetachResult };
