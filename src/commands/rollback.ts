import type { Command } from 'commander';
import type { Deps } from '../deps.js';
import type { Deployment, Pod, ReplicaSet, Service } from '../kube/types.js';
import type { Kube, DryRun } from '../kube/client.js';
import { addMutationOptions, addOutputOption, confirmOrAbort, connectFrom, dryRunOf, printerOf } from './common.js';
import { parseTimeout, preflight } from './flow.js';
import { dryRunSuffix, withKind, type Printer } from '../output/printer.js';
import { withProgress } from '../output/progress.js';
import { selectorToString } from '../util/labels.js';
import { R, pathOf, parseTarget } from '../kube/resources.js';
import { CliError, UsageError } from '../errors.js';
import {
  CHANGE_CAUSE,
  REVISION,
  ROLLBACK_ORIGIN,
  ROLLBACK_SKIPPED_ANNOTATIONS,
  answerLost,
  cleanTemplate,
  diffTemplates,
  missingRevision,
  renderDiff,
  revisionOfTemplate,
  revisionsOf,
  rollbackCause,
  templatesEqual,
  waitForRollout,
  type Revision,
} from '../workloads/rollout.js';
import { detachPod, isDetached } from '../workloads/detach.js';
import { controllerOf, extendedResources, formatResources, isReady } from '../workloads/pods.js';
import { checkContainers, describeImages, imagePatch, parseImages, withImages } from '../workloads/images.js';
import { deploymentName, parseKeep, parseRevision } from '../workloads/targets.js';

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
    // 1. Options, no I/O.
    const o = cmd.opts<Options & { yes?: boolean }>();
    const printer = printerOf(cmd);
    const format = printer.format;
    const dryRun = dryRunOf(cmd);
    const timeoutMs = parseTimeout(o.timeout);
    const toRevision = parseRevision(o.toRevision ?? '0', '--to-revision');
    const keep = o.keepForDebug === undefined || o.keepForDebug === false ? undefined : o.keepForDebug === true ? 'default' : parseKeep(o.keepForDebug);
    const { res, name } = target.includes('/') ? parseTarget(target, [R.deployments, R.replicasets]) : { res: R.deployments, name: deploymentName(target) };
    if (res === R.replicasets) {
      if (toRevision !== 0) throw new UsageError('--to-revision applies to Deployments; a ReplicaSet has no revisions: give CONTAINER=IMAGE');
      if (o.reason !== undefined)
        throw new UsageError('--reason applies to Deployments (it is recorded in the change-cause of the new revision); a ReplicaSet has no change-cause');
      const images = parseImages(assignments);
      const { kube, namespace } = await connectFrom(cmd, deps);
      // 2. Access pre-flight, before any read of the plan.
      if (dryRun !== 'client') await preflight(kube, 'rollback', namespace, (when) => when === 'replicaset');
      await rollbackReplicaSet(kube, deps, { namespace, name, images, keep, dryRun, timeoutMs, format, printer, yes: o.yes });
      return;
    }
    if (assignments.length) throw new UsageError(`CONTAINER=IMAGE arguments apply to rs/NAME; for a Deployment use --to-revision (or \`kubectl mlops ship\`)`);
    const { kube, namespace } = await connectFrom(cmd, deps);
    // 2. Access pre-flight, before any read of the plan.
    if (dryRun !== 'client') await preflight(kube, 'rollback', namespace, (when) => when === 'deployment' || (when === 'keep-for-debug' && keep !== undefined));
    await rollbackDeployment(kube, deps, { namespace, name, toRevision, reason: o.reason, keep, dryRun, timeoutMs, format, printer });
  });
}

async function rollbackDeployment(
  kube: Kube,
  deps: Deps,
  a: { namespace: string; name: string; toRevision: number; reason?: string; keep?: number | 'default'; dryRun: DryRun; timeoutMs: number; format: string; printer: Printer },
): Promise<void> {
  const path = pathOf(R.deployments, { namespace: a.namespace, name: a.name });
  const ns = ` -n ${a.namespace}`;
  const paused = () =>
    new CliError(`deployment/${a.name} is paused, and a paused Deployment does not roll back; resume it first: kubectl rollout resume deployment/${a.name} -n ${a.namespace}`);

  // 3. Plan: reads only; refusals before anything is written.
  const d = await kube.get<Deployment>(path);
  if (d.spec?.paused) throw paused();
  const revisions = await revisionsOf(kube, d);
  const currentRev = Number(d.metadata?.annotations?.[REVISION] ?? revisions.at(-1)?.revision ?? 0);
  const current = revisions.find((r) => r.revision === currentRev) ?? revisionOfTemplate(revisions, d.spec?.template);
  let target: Revision | undefined;
  // Re-running converges on the state a rollback produced: its revision got a new number, and
  // the revision it went back to keeps its old number only in the ReplicaSet's revision history.
  let already: string | undefined;
  if (a.toRevision === 0) {
    if (current?.origin && templatesEqual(d.spec?.template, current.rs.spec?.template)) {
      target = current;
      already = `deployment.apps/${a.name} is already at revision ${current.revision} (was ${current.origin.revision}), the result of a rollback; to go further back give --to-revision`;
    } else {
      target = [...revisions].reverse().find((r) => r.revision < currentRev);
      if (!target) throw new CliError(`deployment/${a.name} has no previous revision to roll back to; revisions: ${revisions.map((r) => r.revision).join(', ') || '(none)'}`);
    }
  } else {
    // A revision a rollback brought back has a new number; its old one still names it (kubectl: not found).
    target = revisions.find((r) => r.revision === a.toRevision) ?? revisions.find((r) => r.formerly.includes(a.toRevision));
    if (!target) throw missingRevision(a.toRevision, a.name, revisions);
    if (target.revision !== a.toRevision && templatesEqual(d.spec?.template, target.rs.spec?.template)) {
      already = `deployment.apps/${a.name} is already at revision ${target.revision} (was ${a.toRevision})`;
    }
  }
  const to = target;
  const { cause, origin } = rollbackCause(to, a.reason);
  if (!already && templatesEqual(d.spec?.template, to.rs.spec?.template)) already = `deployment.apps/${a.name} is already at revision ${to.revision} (its template matches)`;
  const keepPods = !already && a.keep !== undefined ? await podsToKeep(kube, a.namespace, current, a.keep === 'default' ? 1 : a.keep, `deployment/${a.name}`) : [];
  if (!already && a.format === 'table') {
    deps.out.write(
      `deployment.apps/${a.name}: rollback from revision ${currentRev} to ${to.revision} (change-cause "${cause}")${dryRunSuffix(a.dryRun)}\n${renderDiff(diffTemplates(d.spec?.template, to.rs.spec?.template))}`,
    );
    if (keepPods.length) deps.out.write(`  pods of revision ${currentRev} kept for debugging: ${keepPods.map((p) => p.metadata!.name).join(', ')}\n`);
  }
  if (a.dryRun === 'client' && !already) return;

  // 4. Apply. Detach first, so the kept pods are outside the ReplicaSet before the rollout scales it down.
  const services = keepPods.length ? (await kube.list<Service>(pathOf(R.services, { namespace: a.namespace }))).items : [];
  const kept: Pod[] = [];
  for (const p of keepPods) {
    kept.push((await detachPod(kube, a.namespace, p.metadata!.name!, { dryRun: a.dryRun, now: deps.now(), services })).pod);
    if (a.dryRun === 'none')
      deps.journal.wrote(`pod/${p.metadata!.name} detached from deployment/${a.name} for debugging (remove it: kubectl mlops debug-pod done ${p.metadata!.name}${ns})`);
  }

  let changed = false;
  let written: Deployment = d;
  if (!already) {
    // kubectl's rollback: the target's template, and its annotations except the Deployment's own.
    const r = await kube
      .patchGuarded<Deployment>(
        path,
        'json',
        (fresh) => {
          if (fresh.spec?.paused) throw paused();
          if (templatesEqual(fresh.spec?.template, to.rs.spec?.template)) return undefined;
          const annotations: Record<string, string> = {};
          for (const [k, v] of Object.entries(to.rs.metadata?.annotations ?? {})) if (!ROLLBACK_SKIPPED_ANNOTATIONS.has(k)) annotations[k] = v;
          for (const [k, v] of Object.entries(fresh.metadata?.annotations ?? {})) if (ROLLBACK_SKIPPED_ANNOTATIONS.has(k)) annotations[k] = v;
          annotations[CHANGE_CAUSE] = cause;
          annotations[ROLLBACK_ORIGIN] = origin;
          return [
            { op: 'replace', path: '/spec/template', value: cleanTemplate(to.rs.spec?.template) },
            { op: 'replace', path: '/metadata/annotations', value: annotations },
          ];
        },
        { dryRun: a.dryRun, known: d },
      )
      .catch((e: unknown) => {
        if (a.dryRun === 'none' && answerLost(e)) {
          deps.journal.wrote(`deployment.apps/${a.name} template set to revision ${to.revision}'s? sent, but the answer was lost: it may or may not be applied`);
          deps.journal.resume(`kubectl mlops rollback ${a.name} --to-revision ${to.revision}${ns}`);
        }
        throw e;
      });
    changed = r.changed;
    written = r.object;
    if (!r.changed) already = `deployment.apps/${a.name} is already at revision ${to.revision} (its template matches)`;
    else if (a.dryRun === 'none') {
      deps.journal.wrote(`deployment.apps/${a.name} template set to revision ${to.revision}'s (change-cause "${cause}")`);
      deps.journal.resume(`kubectl mlops rollback ${a.name} --to-revision ${to.revision}${ns}`);
      if (currentRev > 0) deps.journal.undo(`kubectl mlops rollback ${a.name} --to-revision ${currentRev}${ns}`);
    }
  }
  if (already) deps.err.write(`${already}; nothing to change${a.dryRun === 'none' ? ', verifying its rollout' : ''}\n`);
  if (a.dryRun !== 'none') {
    // kubectl rollout undo --dry-run says the skip too, with the dry-run suffix.
    if (already) {
      if (a.printer.structured) await a.printer.print(deps, { items: [withKind(d, 'Deployment', 'apps/v1')] });
      else if (a.format === 'name') deps.out.write(`deployment.apps/${a.name}\n`);
      else deps.out.write(`deployment.apps/${a.name} skipped rollback (current template already matches revision ${to.revision})${dryRunSuffix(a.dryRun)}\n`);
    } else if (a.dryRun === 'server' && changed && a.printer.structured) await a.printer.print(deps, { items: [withKind(written, 'Deployment', 'apps/v1')] });
    return;
  }

  // 5. Verify, also when nothing changed: the template rolling out is the one this rollback wrote.
  deps.journal.expect('rollout', `rollout of deployment.apps/${a.name} on revision ${to.revision}'s template`);
  const done = await withProgress(`waiting for deployment/${a.name} to roll back`, { stream: deps.err, enabled: a.format === 'table' || a.format === 'name' }, (update) =>
    waitForRollout(kube, a.namespace, a.name, {
      timeoutMs: a.timeoutMs,
      progress: update,
      signal: deps.signal,
      uid: d.metadata?.uid,
      verify: (now) => {
        if (templatesEqual(now.spec?.template, to.rs.spec?.template)) return undefined;
        deps.journal.superseded(`deployment.apps/${a.name} was changed since to run ${describeImages(now.spec?.template)}`);
        return `deployment/${a.name} was changed by someone else during the rollback: it now runs ${describeImages(now.spec?.template)}${now.metadata?.annotations?.[CHANGE_CAUSE] && now.metadata.annotations[CHANGE_CAUSE] !== cause ? ` (change-cause "${now.metadata.annotations[CHANGE_CAUSE]}")` : ''}, not revision ${to.revision}'s template; the rollback did not take effect (see \`kubectl mlops history ${a.name}${ns}\`)`;
      },
    }),
  );
  deps.journal.confirm('rollout');
  // 6. Report.
  if (a.printer.structured) await a.printer.print(deps, { items: [withKind(done.deployment, 'Deployment', 'apps/v1')] });
  else if (a.format === 'name') deps.out.write(`deployment.apps/${a.name}\n`);
  // kubectl rollout undo's words when the template already matched (polymorphichelpers/rollback.go).
  else if (!changed) deps.out.write(`deployment.apps/${a.name} skipped rollback (current template already matches revision ${to.revision})\n`);
  else deps.out.write(`deployment.apps/${a.name} rolled back to revision ${to.revision}\n`);
  reportKept(deps, a.namespace, kept);
}

/** The first N running pods of a revision's ReplicaSet (Ready first), refusing N larger than what runs. */
async function podsToKeep(kube: Kube, namespace: string, rev: Revision | undefined, n: number, what: string): Promise<Pod[]> {
  if (!rev) throw new CliError(`${what} has no current ReplicaSet to keep pods from`);
  const rs = rev.rs;
  const pods = (await kube.list<Pod>(pathOf(R.pods, { namespace }), { labelSelector: selectorToString(rs.spec!.selector) })).items
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
      `  kubectl logs ${kept[0].metadata?.name} -n ${namespace}`,
      `  kubectl mlops debug-pod done ${kept[0].metadata?.name} -n ${namespace}   # when finished`,
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
  a: {
    namespace: string;
    name: string;
    images: Map<string, string>;
    keep?: number | 'default';
    dryRun: DryRun;
    timeoutMs: number;
    format: string;
    printer: Printer;
    yes?: boolean;
  },
): Promise<void> {
  // 3. Plan: reads only; refusals before anything is written.
  const path = pathOf(R.replicasets, { namespace: a.namespace, name: a.name });
  const rs = await kube.get<ReplicaSet>(path);
  const owner = controllerOf(rs);
  if (owner?.kind === 'Deployment') {
    throw new UsageError(`replicaset/${a.name} is managed by deployment/${owner.name}, which would undo a change to it: use \`kubectl mlops rollback deploy/${owner.name}\``);
  }
  checkContainers(a.images, rs.spec?.template, `replicaset/${a.name}`);
  const next = withImages(rs.spec?.template, a.images);
  const diff = diffTemplates(rs.spec?.template, next);
  const selector = selectorToString(rs.spec!.selector);
  const podsPath = pathOf(R.pods, { namespace: a.namespace });
  const all = (await kube.list<Pod>(podsPath, { labelSelector: selector })).items.filter((p) => controllerOf(p)?.uid === rs.metadata?.uid && !p.metadata?.deletionTimestamp);
  const onNew = (p: Pod) => (p.spec?.containers ?? []).every((c) => !a.images.has(c.name) || a.images.get(c.name) === c.image);
  const old = all.filter((p) => !onNew(p)).sort((x, y) => Number(isReady(y)) - Number(isReady(x)) || (x.metadata!.name! < y.metadata!.name! ? -1 : 1));
  const keepN = a.keep === undefined ? 0 : a.keep === 'default' ? old.length : a.keep;
  if (keepN > old.length) throw new UsageError(`--keep-for-debug ${keepN} is more than the ${old.length} pod(s) of replicaset/${a.name} on the old template`);
  const keepPods = old.slice(0, keepN);
  const deletePods = old.slice(keepN);
  const nothingToDo = diff.length === 0 && old.length === 0;
  if (nothingToDo)
    deps.err.write(
      `replicaset.apps/${a.name} already runs ${[...a.images.values()].join(', ')} on every pod; nothing to change${a.dryRun === 'none' ? ', verifying its pods' : ''}\n`,
    );
  if (a.format === 'table' && !nothingToDo) {
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
  const again = `kubectl mlops rollback rs/${a.name} ${[...a.images].map(([c, i]) => `${c}=${i}`).join(' ')}${a.keep === undefined ? '' : a.keep === 'default' ? ' --keep-for-debug' : ` --keep-for-debug ${a.keep}`} -n ${a.namespace}`;
  const real = a.dryRun === 'none';
  // 4. Apply: the template first, then each old pod detached or deleted, each one journalled.
  if (diff.length) {
    await kube.patchGuarded<ReplicaSet>(path, 'strategic', (cur) => ({ spec: imagePatch(cur.spec?.template, a.images) }), { dryRun: a.dryRun, known: rs });
    if (real) {
      deps.journal.wrote(`replicaset.apps/${a.name} template set to ${describeImages(a.images)}`);
      // Re-running finishes the job: the pods still on the old template are detached or deleted then.
      deps.journal.resume(again);
      deps.journal.undo(`kubectl mlops rollback rs/${a.name} ${describeImages(rs.spec?.template).replace(/, /g, ' ')} -n ${a.namespace}`);
    }
  }
  const services = (await kube.list<Service>(pathOf(R.services, { namespace: a.namespace }))).items;
  const kept: Pod[] = [];
  const deleted: string[] = [];
  for (const p of keepPods) {
    kept.push((await detachPod(kube, a.namespace, p.metadata!.name!, { dryRun: a.dryRun, now: deps.now(), services })).pod);
    if (real) deps.journal.wrote(`pod/${p.metadata!.name} detached from replicaset/${a.name} for debugging`);
  }
  for (const p of deletePods) {
    await kube.delete(pathOf(R.pods, { namespace: a.namespace, name: p.metadata!.name! }), { uid: p.metadata?.uid, dryRun: a.dryRun });
    deleted.push(p.metadata!.name!);
    if (real) deps.journal.wrote(`pod/${p.metadata!.name} deleted (old template; the ReplicaSet replaces it)`);
  }
  if (a.dryRun === 'server') return;
  deps.journal.resume(again);
  // 5. Verify, also when nothing changed: every desired pod Ready on the new template.
  deps.journal.expect('rollout', `${rs.spec?.replicas ?? 1} Ready pods of replicaset.apps/${a.name} on ${describeImages(a.images)}`);
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
      {
        timeoutMs: a.timeoutMs,
        signal: deps.signal,
        onTimeout: (pods) =>
          `timed out waiting for replicaset/${a.name} to have ${desired} Ready pods on the new template (${pods.filter((p) => controllerOf(p)?.uid === rs.metadata?.uid && onNew(p) && isReady(p)).length} Ready); the kept pods stay detached`,
      },
    ),
  );
  deps.journal.confirm('rollout');
  if (a.format === 'name') deps.out.write(`replicaset.apps/${a.name}\n`);
  else if (a.printer.structured) await a.printer.print(deps, { items: [withKind(await kube.get<ReplicaSet>(path), 'ReplicaSet', 'apps/v1')] });
  else {
    deps.out.write(`replicaset.apps/${a.name} rolled back: ${desired}/${desired} Ready on ${[...a.images.values()].join(', ')}\n`);
    for (const d of deleted) deps.out.write(`pod/${d} deleted\n`);
  }
  reportKept(deps, a.namespace, kept);
}
