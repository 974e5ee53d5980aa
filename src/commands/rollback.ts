import type { Command } from 'commander';
import type { Deps } from '../deps.js';
import type { Deployment, Pod, ReplicaSet, Service } from '../kube/types.js';
import type { Kube, DryRun } from '../kube/client.js';
import { addMutationOptions, addOutputOption, confirmOrAbort, connectFrom, dryRunOf, printerOf } from './common.js';
import { dryRunSuffix, withKind, type Printer } from '../output/printer.js';
import { withProgress } from '../output/progress.js';
import { parseDuration } from '../util/duration.js';
import { selectorToString, type LabelSelector } from '../util/labels.js';
import { R, pathOf, parseTarget } from '../kube/resources.js';
import { CliError, UsageError } from '../errors.js';
import {
  CHANGE_CAUSE,
  REVISION,
  ROLLBACK_SKIPPED_ANNOTATIONS,
  cleanTemplate,
  diffTemplates,
  renderDiff,
  revisionsOf,
  templatesEqual,
  waitForRollout,
  type Revision,
} from '../workloads/rollout.js';
import { detachPod, isDetached } from '../workloads/detach.js';
import { controllerOf, extendedResources, formatResources, isReady } from '../workloads/pods.js';
import { missingRevision, parseRevision } from './history.js';
import { checkContainers, imagePatch, parseImages, withImages } from './ship.js';

interface Options {
  toRevision?: string;
  reason?: string;
  timeout: string;
  keepForDebug?: string | boolean;
}

export function register(program: Command, deps: Deps): void {
  const cmd = program
    .command('rollback')
    .description('roll a Deployment back to an earlier revision (or a ReplicaSet to given images), optionally keeping the bad pods for debugging')
    .argument('<target>', 'deploy/NAME (or NAME), or rs/NAME')
    .argument('[container=image...]', 'for rs/NAME: the good images, by container name')
    .option('--to-revision <n>', 'the revision to go back to (default 0 = the previous one)', '0')
    .option('--reason <text>', 'why, recorded in the change-cause of the new revision')
    .option('--timeout <duration>', 'how long to wait for the rollout', '5m')
    .option('--keep-for-debug [n]', 'detach pods of the bad revision so they survive for debugging (deploy: default 1; rs: default all)');
  addOutputOption(cmd, ['table', 'json', 'yaml', 'name']);
  addMutationOptions(cmd);
  cmd.action(async (target: string, assignments: string[]) => {
    const o = cmd.opts() as Options & { yes?: boolean };
    const printer = printerOf(cmd);
    const format = printer.format;
    const dryRun = dryRunOf(cmd);
    const timeoutMs = parseDuration(o.timeout, '--timeout');
    const toRevision = parseRevision(o.toRevision ?? '0', '--to-revision');
    const keep = o.keepForDebug === undefined || o.keepForDebug === false ? undefined : o.keepForDebug === true ? 'default' : parseKeep(o.keepForDebug);
    const { res, name } = target.includes('/') ? parseTarget(target, [R.deployments, R.replicasets]) : { res: R.deployments, name: target };
    if (res === R.replicasets) {
      if (o.toRevision !== '0') throw new UsageError('--to-revision applies to Deployments; a ReplicaSet has no revisions: give CONTAINER=IMAGE');
      const images = parseImages(assignments);
      const { kube, namespace } = await connectFrom(cmd, deps);
      await rollbackReplicaSet(kube, deps, { namespace, name, images, keep, dryRun, timeoutMs, format, printer, yes: o.yes });
      return;
    }
    if (assignments.length) throw new UsageError(`CONTAINER=IMAGE arguments apply to rs/NAME; for a Deployment use --to-revision (or \`kubectl mlops ship\`)`);
    const { kube, namespace } = await connectFrom(cmd, deps);
    await rollbackDeployment(kube, deps, { namespace, name, toRevision, reason: o.reason, keep, dryRun, timeoutMs, format, printer });
  });
}

function parseKeep(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`invalid value "${v}" for --keep-for-debug: want a positive number of pods`);
  return Number(v);
}

async function rollbackDeployment(
  kube: Kube,
  deps: Deps,
  a: { namespace: string; name: string; toRevision: number; reason?: string; keep?: number | 'default'; dryRun: DryRun; timeoutMs: number; format: string; printer: Printer },
): Promise<void> {
  const path = pathOf(R.deployments, { namespace: a.namespace, name: a.name });
  const paused = () => new CliError(`deployment/${a.name} is paused, and a paused Deployment does not roll back; resume it first: kubectl rollout resume deployment/${a.name} -n ${a.namespace}`);
  const d = await kube.get<Deployment>(path);
  if (d.spec?.paused) throw paused();
  const revisions = await revisionsOf(kube, d);
  const currentRev = Number(d.metadata?.annotations?.[REVISION] ?? revisions.at(-1)?.revision ?? 0);
  let target: Revision | undefined;
  if (a.toRevision === 0) {
    target = [...revisions].reverse().find((r) => r.revision < currentRev);
    if (!target) throw new CliError(`deployment/${a.name} has no previous revision to roll back to; revisions: ${revisions.map((r) => r.revision).join(', ') || '(none)'}`);
  } else {
    target = revisions.find((r) => r.revision === a.toRevision);
    if (!target) throw missingRevision(a.toRevision, a.name, revisions);
  }
  const alreadyThere = () => {
    deps.err.write(`deployment.apps/${a.name} is already at revision ${target.revision} (its template matches); nothing changed\n`);
    if (a.format === 'name') deps.out.write(`deployment.apps/${a.name}\n`);
  };
  if (templatesEqual(d.spec?.template, target.rs.spec?.template)) return alreadyThere();
  const cause = `rollback to revision ${target.revision}${target.changeCause ? ` ("${target.changeCause}")` : ''}${a.reason ? `: ${a.reason}` : ''}`;
  const current = revisions.find((r) => r.revision === currentRev);
  const keepPods = a.keep !== undefined ? await podsToKeep(kube, a.namespace, current, a.keep === 'default' ? 1 : a.keep, `deployment/${a.name}`) : [];
  if (a.format === 'table') {
    deps.out.write(`deployment.apps/${a.name}: rollback from revision ${currentRev} to ${target.revision} (change-cause "${cause}")${dryRunSuffix(a.dryRun)}\n${renderDiff(diffTemplates(d.spec?.template, target.rs.spec?.template))}`);
    if (keepPods.length) deps.out.write(`  pods of revision ${currentRev} kept for debugging: ${keepPods.map((p) => p.metadata!.name).join(', ')}\n`);
  }
  if (a.dryRun === 'client') return;

  // Detach first, so the kept pods are outside the ReplicaSet before the rollout scales it down.
  const services = keepPods.length ? (await kube.list<Service>(pathOf(R.services, { namespace: a.namespace }))).items : [];
  const kept: Pod[] = [];
  for (const p of keepPods) kept.push((await detachPod(kube, a.namespace, p.metadata!.name!, { dryRun: a.dryRun, now: deps.now(), services })).pod);

  let r;
  try {
    // kubectl's rollback: the target's template, and its annotations except the Deployment's own.
    r = await kube.patchGuarded<Deployment>(
      path,
      'json',
      (fresh) => {
        if (fresh.spec?.paused) throw paused();
        if (templatesEqual(fresh.spec?.template, target.rs.spec?.template)) return undefined;
        const annotations: Record<string, string> = {};
        for (const [k, v] of Object.entries(target.rs.metadata?.annotations ?? {})) if (!ROLLBACK_SKIPPED_ANNOTATIONS.has(k)) annotations[k] = v;
        for (const [k, v] of Object.entries(fresh.metadata?.annotations ?? {})) if (ROLLBACK_SKIPPED_ANNOTATIONS.has(k)) annotations[k] = v;
        annotations[CHANGE_CAUSE] = cause;
        return [
          { op: 'replace', path: '/spec/template', value: cleanTemplate(target.rs.spec?.template) },
          { op: 'replace', path: '/metadata/annotations', value: annotations },
        ];
      },
      { dryRun: a.dryRun, known: d },
    );
  } catch (e) {
    if (kept.length) deps.err.write(`Warning: pods ${kept.map((p) => p.metadata?.name).join(', ')} were already detached for debugging; remove them with \`kubectl mlops debug-pod done POD\`\n`);
    throw e;
  }
  if (!r.changed) return alreadyThere();
  if (a.dryRun === 'server') {
    if (a.printer.structured) await a.printer.print(deps, { items: [withKind(r.object, 'Deployment', 'apps/v1')] });
    return;
  }
  await withProgress(`waiting for deployment/${a.name} to roll back`, { stream: deps.err, enabled: a.format === 'table' || a.format === 'name' }, (update) =>
    waitForRollout(kube, a.namespace, a.name, { timeoutMs: a.timeoutMs, progress: update, signal: deps.signal }),
  );
  if (a.printer.structured) await a.printer.print(deps, { items: [withKind(await kube.get<Deployment>(path), 'Deployment', 'apps/v1')] });
  else if (a.format === 'name') deps.out.write(`deployment.apps/${a.name}\n`);
  else deps.out.write(`deployment.apps/${a.name} rolled back to revision ${target.revision}\n`);
  reportKept(deps, a.namespace, kept);
}

/** The first N running pods of a revision's ReplicaSet (Ready first), refusing N larger than what runs. */
async function podsToKeep(kube: Kube, namespace: string, rev: Revision | undefined, n: number, what: string): Promise<Pod[]> {
  if (!rev) throw new CliError(`${what} has no current ReplicaSet to keep pods from`);
  const rs = rev.rs;
  const pods = (await kube.list<Pod>(pathOf(R.pods, { namespace }), { labelSelector: selectorToString(rs.spec!.selector as LabelSelector) })).items
    .filter((p) => controllerOf(p)?.uid === rs.metadata?.uid && !p.metadata?.deletionTimestamp && !isDetached(p))
    .sort((x, y) => Number(isReady(y)) - Number(isReady(x)) || (x.metadata!.name! < y.metadata!.name! ? -1 : 1));
  if (n > pods.length) throw new UsageError(`--keep-for-debug ${n} is more than the ${pods.length} pod(s) ${what} runs on its current revision`);
  return pods.slice(0, n);
}

function reportKept(deps: Deps, namespace: string, kept: Pod[]): void {
  if (!kept.length) return;
  const gpus: Record<string, number> = {};
  for (const p of kept) for (const [k, v] of Object.entries(extendedResources(p))) gpus[k] = (gpus[k] ?? 0) + v;
  for (const p of kept) deps.out.write(`pod/${p.metadata?.name} kept for debugging\n`);
  deps.err.write(
    [
      ...(Object.keys(gpus).length ? [`Warning: the kept pods still hold ${formatResources(gpus)} until \`debug-pod done\``] : []),
      'Next steps:',
      `  kubectl mlops debug-pod list -n ${namespace}`,
      `  kubectl logs ${kept[0]!.metadata?.name} -n ${namespace}`,
      `  kubectl mlops debug-pod done ${kept[0]!.metadata?.name} -n ${namespace}   # when finished`,
      '',
    ].join('\n'),
  );
}

/**
 * The tutorial's relabel-to-debug rollback for a bare ReplicaSet: set the good images, then
 * detach the pods on the old template (all, or N; the rest are deleted so they are replaced).
 */
async function rollbackReplicaSet(
  kube: Kube,
  deps: Deps,
  a: { namespace: string; name: string; images: Map<string, string>; keep?: number | 'default'; dryRun: DryRun; timeoutMs: number; format: string; printer: Printer; yes?: boolean },
): Promise<void> {
  const path = pathOf(R.replicasets, { namespace: a.namespace, name: a.name });
  const rs = await kube.get<ReplicaSet>(path);
  const owner = controllerOf(rs);
  if (owner?.kind === 'Deployment') {
    throw new UsageError(`replicaset/${a.name} is managed by deployment/${owner.name}, which would undo a change to it: use \`kubectl mlops rollback deploy/${owner.name}\``);
  }
  checkContainers(a.images, rs.spec?.template, `replicaset/${a.name}`);
  const next = withImages(rs.spec?.template, a.images);
  const diff = diffTemplates(rs.spec?.template, next);
  const selector = selectorToString(rs.spec!.selector as LabelSelector);
  const podsPath = pathOf(R.pods, { namespace: a.namespace });
  const all = (await kube.list<Pod>(podsPath, { labelSelector: selector })).items.filter(
    (p) => controllerOf(p)?.uid === rs.metadata?.uid && !p.metadata?.deletionTimestamp,
  );
  const onNew = (p: Pod) => (p.spec?.containers ?? []).every((c) => !a.images.has(c.name) || a.images.get(c.name) === c.image);
  const old = all.filter((p) => !onNew(p)).sort((x, y) => Number(isReady(y)) - Number(isReady(x)) || (x.metadata!.name! < y.metadata!.name! ? -1 : 1));
  const keepN = a.keep === undefined ? 0 : a.keep === 'default' ? old.length : a.keep;
  if (keepN > old.length) throw new UsageError(`--keep-for-debug ${keepN} is more than the ${old.length} pod(s) of replicaset/${a.name} on the old template`);
  const keepPods = old.slice(0, keepN);
  const deletePods = old.slice(keepN);
  if (diff.length === 0 && old.length === 0) {
    deps.err.write(`replicaset.apps/${a.name} already runs ${[...a.images.values()].join(', ')} on every pod; nothing changed\n`);
    return;
  }
  if (a.format === 'table') {
    deps.out.write(
      `replicaset.apps/${a.name}: rollback to ${[...a.images].map(([c, i]) => `${c}=${i}`).join(', ')}${dryRunSuffix(a.dryRun)}\n` +
        renderDiff(diff) +
        `  pods to keep for debugging: ${keepPods.map((p) => p.metadata!.name).join(', ') || '(none)'}\n` +
        `  pods to delete (replaced by the ReplicaSet): ${deletePods.map((p) => p.metadata!.name).join(', ') || '(none)'}\n`,
    );
  }
  if (a.dryRun === 'client') return;
  if (deletePods.length && a.dryRun === 'none') {
    await confirmOrAbort(deps, a.yes, `Delete ${deletePods.length} pod(s) of replicaset/${a.name} on the old template?`, 'deleting the old pods');
  }
  if (diff.length) {
    await kube.patchGuarded<ReplicaSet>(path, 'strategic', (cur) => ({ spec: imagePatch(cur.spec?.template, a.images) }), { dryRun: a.dryRun, known: rs });
  }
  const services = (await kube.list<Service>(pathOf(R.services, { namespace: a.namespace }))).items;
  const kept: Pod[] = [];
  const deleted: string[] = [];
  try {
    for (const p of keepPods) kept.push((await detachPod(kube, a.namespace, p.metadata!.name!, { dryRun: a.dryRun, now: deps.now(), services })).pod);
    for (const p of deletePods) {
      await kube.delete(pathOf(R.pods, { namespace: a.namespace, name: p.metadata!.name! }), { uid: p.metadata?.uid, dryRun: a.dryRun });
      deleted.push(p.metadata!.name!);
    }
  } catch (e) {
    deps.err.write(
      `Warning: the template of replicaset/${a.name} is already changed; detached so far: ${kept.map((p) => p.metadata?.name).join(', ') || '(none)'}; deleted so far: ${deleted.join(', ') || '(none)'}. Re-run the same command to finish.\n`,
    );
    throw e;
  }
  if (a.dryRun === 'server') return;
  const desired = rs.spec?.replicas ?? 1;
  await withProgress(`waiting for replicaset/${a.name}`, { stream: deps.err, enabled: a.format === 'table' || a.format === 'name' }, (update) =>
    kube.waitFor<Pod, true>(
      podsPath,
      { labelSelector: selector },
      (pods) => {
        const good = pods.filter((p) => controllerOf(p)?.uid === rs.metadata?.uid && onNew(p) && isReady(p));
        update(`replicaset/${a.name}: ${good.length}/${desired} Ready on the new template`);
        return good.length >= desired ? true : undefined;
      },
      { timeoutMs: a.timeoutMs, signal: deps.signal, onTimeout: (pods) => `timed out waiting for replicaset/${a.name} to have ${desired} Ready pods on the new template (${pods.filter((p) => controllerOf(p)?.uid === rs.metadata?.uid && onNew(p) && isReady(p)).length} Ready); the kept pods stay detached` },
    ),
  );
  if (a.format === 'name') deps.out.write(`replicaset.apps/${a.name}\n`);
  else if (a.printer.structured) await a.printer.print(deps, { items: [withKind(await kube.get<ReplicaSet>(path), 'ReplicaSet', 'apps/v1')] });
  else {
    deps.out.write(`replicaset.apps/${a.name} rolled back: ${desired}/${desired} Ready on ${[...a.images.values()].join(', ')}\n`);
    for (const d of deleted) deps.out.write(`pod/${d} deleted\n`);
  }
  reportKept(deps, a.namespace, kept);
}
