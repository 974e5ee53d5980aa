import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { Deps } from '../deps.js';
import type { Kube, DryRun } from '../kube/client.js';
import type { Pod } from '../kube/types.js';
import { addDryRunOption, addMutationOptions, addOutputOption, addWatchOptions, allNamespacesOption, confirmOrAbort, connectFrom, dryRunOf, printerOf } from './common.js';
import { dryRunSuffix, parseTimeout, preflight } from './flow.js';
import type { OutputKind, PrintSpec, Printer } from '../output/printer.js';
import { watchList } from '../output/watch.js';
import { withProgress } from '../output/progress.js';
import { age } from '../util/duration.js';
import { R, parseTarget, pathOf } from '../kube/resources.js';
import { ApiError, CliError, TimeoutError, UsageError } from '../errors.js';
import { controllerOf, podStatus } from '../workloads/pods.js';
import { selectorToString } from '../util/labels.js';
import {
  DROP_RECORD,
  SCALABLE,
  SCALED_LABEL,
  SZ,
  cleanManifest,
  displayName,
  formatFreed,
  freedBy,
  hpaClash,
  hpaOf,
  hpasFor,
  parseSelector,
  planRestore,
  planScaleToZero,
  recordedHpaName,
  podsOf,
  resolveTargets,
  restoreProgress,
  type Freed,
  type RestorePlan,
  type ScalePlan,
  type Target,
  type TargetRef,
  type Workload,
} from '../workloads/scale.js';
import { count } from '../util/words.js';

const FORMATS = ['table', 'json', 'yaml', 'name'] as const;
type Format = OutputKind;

export interface ScaleOptions {
  targets: TargetRef[];
  selector?: string;
  allNamespaces: boolean;
  list: boolean;
  /** With --list: -w (the list, then a line per change) or --watch-only. */
  watch?: 'watch' | 'only';
  timeoutMs: number;
  withHpa: boolean;
  delete: boolean;
  /** Absolute path; its folder was checked to be writable. */
  save?: string;
  yes: boolean;
  format: Format;
  dryRun: DryRun;
}

export interface RestoreOptions {
  targets: TargetRef[];
  selector?: string;
  all: boolean;
  allNamespaces: boolean;
  timeoutMs: number;
  force: boolean;
  format: Format;
  dryRun: DryRun;
}

export function register(program: Command, deps: Deps): void {
  const cmd = program
    .command('scale-to-zero')
    .description('scale workloads to zero gracefully, recording their replica count (and HPA) so `restore` brings them back')
    .argument('[targets...]', 'deploy/NAME, rs/NAME or sts/NAME')
    .option('-l, --selector <selector>', 'every Deployment, StatefulSet and standalone ReplicaSet matching this label selector')
    .option('--timeout <duration>', 'how long to wait for the pods to be gone', '5m')
    .option('--with-hpa', 'record and remove a HorizontalPodAutoscaler that targets the workload (restore re-creates it); by default the HPA stays, inactive at zero replicas')
    .option('--delete', "delete the workload once its pods are gone (the tutorial's graceful deletion)")
    .option('--save <file>', 'with --delete: first write the manifest, cleaned for `kubectl apply -f`')
    .option('--list', 'list workloads scaled to zero by this plugin');
  allNamespacesOption(cmd);
  addOutputOption(cmd, FORMATS, { list: true });
  addMutationOptions(cmd);
  addWatchOptions(cmd);
  cmd.action(async (args: string[]) => {
    // 1. Options: no I/O but the --save folder check; usage errors exit 2 before connecting.
    const printer = printerOf(cmd);
    const o = scaleOptions(args, cmd.opts(), printer.format, dryRunOf(cmd));
    const { kube, namespace } = await connectFrom(cmd, deps);
    if (o.list) return listScaled(kube, deps, { namespace, all: o.allNamespaces, printer, selector: o.selector, watch: o.watch });

    // 2. Plan (reads only): every refusal happens here, before anything is written.
    const found = await resolveTargets(kube, { targets: o.targets, selector: o.selector, namespace, allNamespaces: o.allNamespaces });
    if (found.length === 0) {
      throw new CliError(`no Deployments, StatefulSets or standalone ReplicaSets match -l ${o.selector} ${o.allNamespaces ? 'in any namespace' : `in namespace ${namespace}`}`);
    }
    const hpas = await hpasFor(kube, o.allNamespaces ? undefined : namespace);
    const plans = found.map((t) => ({ t, hpa: hpaOf(hpas, t), plan: planScaleToZero(t.obj, hpaOf(hpas, t), { withHpa: o.withHpa, now: deps.now() }) }));
    const podsBefore = await Promise.all(found.map((t) => podsOf(kube, t)));
    for (const t of found) {
      const st = t.obj.status ?? {};
      if (t.res === R.deployments && (t.obj.spec?.replicas ?? 0) > 0 && (st.updatedReplicas ?? 0) < (t.obj.spec?.replicas ?? 0)) {
        deps.err.write(`Warning: ${nameOf(t)} is mid-rollout (${st.updatedReplicas ?? 0}/${t.obj.spec?.replicas} updated); scaling to zero stops the rollout too\n`);
      }
    }

    // 3. Preflight: the verbs of the kinds and flags in use, before the first write.
    const kinds = new Set(found.map((t) => t.res.plural));
    if (o.dryRun !== 'client') {
      const active = (when: string) => needActive(when, { kinds, listsAll: o.selector !== undefined, delete: o.delete, hpa: plans.some((p) => p.plan.hpa?.action === 'remove') });
      await Promise.all(namespacesOf(found).map((n) => preflight(kube, 'scale-to-zero', n, active)));
    }
    if (o.delete && o.dryRun === 'none') {
      await confirmOrAbort(deps, o.yes, `Scale to zero and then DELETE ${found.map((t) => nameOf(t)).join(', ')}?`, 'deleting the workloads');
    }

    // 4. Apply: the manifest first (nothing in the cluster changed if the disk is full), then one guarded write per workload.
    const j = deps.journal;
    const ns = o.allNamespaces ? undefined : namespace;
    j.resume(scaleCommand(o, found, ns));
    if (o.save && o.dryRun === 'none') {
      const yaml = await import('js-yaml');
      fs.writeFileSync(o.save, plans.map((p) => yaml.dump(cleanManifest(p.t, p.plan.recorded), { noRefs: true, lineWidth: -1 })).join('---\n'));
      j.wrote(`${plans.length} manifest(s) saved to ${o.save}`);
    }
    const scaled: Target[] = [];
    for (const p of plans) {
      if (p.plan.patch && o.dryRun !== 'client') {
        const w = await kube.patchGuarded<Workload>(
          pathOfTarget(p.t),
          'merge',
          (fresh) => {
            // Someone changed it between our read and our write: plan again on what is there now.
            p.plan = planScaleToZero(fresh, p.hpa, { withHpa: o.withHpa, now: deps.now() });
            return p.plan.patch;
          },
          { dryRun: o.dryRun, known: p.t.obj },
        );
        if (o.dryRun === 'none' && w.changed) {
          j.wrote(`${nameOf(p.t)} ${p.plan.state === 'scale' ? `scaled to 0 (${p.plan.recorded} recorded)` : `record updated (${p.plan.recorded} recorded)`}`);
          scaled.push(p.t);
          j.undo(restoreCommand(scaled));
        }
      }
      if (p.plan.hpa?.action === 'remove' && p.hpa && p.plan.state !== 'unrecorded' && o.dryRun !== 'client') {
        // Removed only once recorded; the uid precondition never deletes an HPA someone re-created meanwhile.
        await deleteIfPresent(kube, pathOf(R.hpas, { namespace: p.hpa.metadata!.namespace, name: p.plan.hpa.name }), { dryRun: o.dryRun, uid: p.hpa.metadata?.uid });
        if (o.dryRun === 'none') j.wrote(`horizontalpodautoscaler.autoscaling/${p.plan.hpa.name} deleted (recorded on ${nameOf(p.t)})`);
      }
    }

    // 5. Verify: always, also for workloads that were already at zero.
    if (o.dryRun === 'none') {
      const deadline = deps.now().getTime() + o.timeoutMs;
      const label = `waiting for the pods of ${found.map(nameOf).join(', ')} to be gone`;
      await withProgress(label, { stream: deps.err, enabled: o.format === 'table' || o.format === 'name' }, async (update) => {
        for (const p of plans) {
          const key = `gone:${p.t.obj.metadata?.namespace}/${nameOf(p.t)}`;
          j.expect(key, `the pods of ${nameOf(p.t)} gone and it stays at 0 replicas`);
          await waitPodsGone(kube, deps, p.t, { deadline, recorded: p.plan.recorded, update });
          j.confirm(key);
        }
      });
      if (o.delete) {
        for (const p of plans) {
          await deleteIfPresent(kube, pathOfTarget(p.t), { uid: p.t.obj.metadata?.uid });
          j.wrote(`${nameOf(p.t)} deleted`);
          // restore cannot bring back a deleted workload; the saved manifest can.
          j.undo(o.save ? `kubectl apply -f ${quote(o.save)}${ns ? ` -n ${ns}` : ''}` : 'none for the deleted workloads (no --save)');
        }
      }
    }

    // 6. Report.
    for (const p of plans) {
      if (p.plan.hpa?.action === 'left') {
        deps.err.write(
          `horizontalpodautoscaler.autoscaling/${p.plan.hpa.name} (min ${p.plan.hpa.min}, max ${p.plan.hpa.max}) stays: it is inactive while ${nameOf(p.t)} is at 0 replicas and resumes after restore\n`,
        );
      }
    }
    const results = plans.map((p, i) => ({
      target: nameOf(p.t),
      namespace: p.t.obj.metadata?.namespace ?? '',
      state: p.plan.state,
      recorded: p.plan.recorded,
      hpa: p.plan.hpa ? { name: p.plan.hpa.name, action: p.plan.hpa.action === 'remove' ? 'recorded and removed' : 'left in place' } : undefined,
      freed: p.plan.state === 'scale' ? freedBy(podsBefore[i].filter((x) => !x.metadata?.deletionTimestamp)) : freedBy([]),
      deleted: o.delete && o.dryRun === 'none',
    }));
    const total = results.reduce<Freed>(
      (s, r) => ({ pods: s.pods + r.freed.pods, cpu: s.cpu + r.freed.cpu, memoryBytes: s.memoryBytes + r.freed.memoryBytes, gpus: s.gpus + r.freed.gpus }),
      { pods: 0, cpu: 0, memoryBytes: 0, gpus: 0 },
    );
    if (printer.structured) {
      await printer.print(deps, { items: results, data: (workloads) => ({ dryRun: o.dryRun, workloads, freed: total }) });
      return;
    }
    for (const r of results) {
      if (o.format === 'name') deps.out.write(`${r.target}\n`);
      else
        deps.out.write(
          `${r.target} ${scaledText(r.state, r.recorded, r.deleted)}${r.hpa?.action === 'recorded and removed' ? `, hpa ${r.hpa.name} recorded and removed)` : ')'}${dryRunSuffix(o.dryRun)}\n`,
        );
    }
    if (o.format === 'table') deps.out.write(`freed: ${formatFreed(total)}${dryRunSuffix(o.dryRun)}\n`);
  });

  const restore = program
    .command('restore')
    .description('scale workloads back to the replica count recorded by scale-to-zero, and re-create a recorded HPA')
    .argument('[targets...]', 'deploy/NAME, rs/NAME or sts/NAME')
    .option('-l, --selector <selector>', 'restore the workloads scaled to zero by this plugin that match this label selector')
    .option('--all', 'restore every workload scaled to zero by this plugin in the namespace (with -A: in every namespace)')
    .option('--force', 'restore to the recorded count even when someone has scaled the workload since (it is not at 0)')
    .option('--timeout <duration>', 'how long to wait for the pods to be Ready', '5m');
  allNamespacesOption(restore);
  addOutputOption(restore, FORMATS);
  // restore never asks, so it has no --yes.
  addDryRunOption(restore);
  restore.action(async (args: string[]) => {
    // 1. Options.
    const printer = printerOf(restore);
    const o = restoreOptions(args, restore.opts(), printer.format, dryRunOf(restore));

    // 2. Plan (reads only): refusals for every workload before the first write.
    const { kube, namespace } = await connectFrom(restore, deps);
    const found = await resolveTargets(kube, {
      targets: o.targets,
      selector: o.selector,
      namespace,
      allNamespaces: o.allNamespaces,
      labelOnly: o.targets.length ? undefined : `${SCALED_LABEL}=true`,
    });
    if (found.length === 0) {
      // The state a first `restore -l`/`--all` leaves: nothing is labelled any more.
      deps.err.write(
        `No workloads scaled to zero by kubectl mlops${o.selector ? ` matching -l ${o.selector}` : ''} ${o.allNamespaces ? 'in any namespace' : `in namespace ${namespace}`}: nothing to restore.\n`,
      );
      return;
    }
    const hpas = await hpasFor(kube, o.allNamespaces ? undefined : namespace);
    const plans = found.map((t) => {
      const live = hpaOf(hpas, t);
      const plan = planRestore(t.obj, { force: o.force, liveHpa: live });
      return { t, live, plan, clash: hpaClash(plan, t, hpas) };
    });
    for (const { clash } of plans) {
      if (clash?.refuse && !o.force) throw new CliError(clash.text);
      if (clash) deps.err.write(`Warning: ${clash.forced ?? clash.text}\n`);
    }

    // 3. Preflight.
    const kinds = new Set(found.map((t) => t.res.plural));
    // Not when an HPA scales the workload already, nor when another one has its name.
    const recreates = (p: (typeof plans)[number]) => Boolean(p.plan.hpa && !p.live && !p.clash);
    if (o.dryRun !== 'client') {
      const active = (when: string) => needActive(when, { kinds, listsAll: o.targets.length === 0, hpa: plans.some(recreates) });
      await Promise.all(namespacesOf(found).map((n) => preflight(kube, 'restore', n, active)));
    }

    // 4. Apply: scale up, keeping the record until the replicas are verified.
    const j = deps.journal;
    const ns = o.allNamespaces ? undefined : namespace;
    j.resume(restoreCommandFor(o, ns));
    const written: Target[] = [];
    const hpaCreated = new Set<Target>();
    for (const p of plans) {
      if (p.plan.state === 'restore' && o.dryRun !== 'client') {
        const w = await kube.patchGuarded<Workload>(
          pathOfTarget(p.t),
          'merge',
          (fresh) => {
            p.plan = planRestore(fresh, { force: o.force, liveHpa: p.live });
            return p.plan.state === 'restore' ? { spec: { replicas: p.plan.to } } : undefined;
          },
          { dryRun: o.dryRun, known: p.t.obj },
        );
        if (o.dryRun === 'none' && w.changed) {
          j.wrote(`${nameOf(p.t)} scaled to ${p.plan.to} (the record is kept until ${p.plan.to === 1 ? 'it is Ready' : `${p.plan.to} are Ready`})`);
          written.push(p.t);
          j.undo(scaleCommandFor(written));
        }
      }
      if (recreates(p) && p.plan.state !== 'restored' && o.dryRun !== 'client') {
        const h = p.plan.hpa!;
        try {
          await kube.create(
            pathOf(R.hpas, { namespace: p.t.obj.metadata?.namespace }),
            { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', ...h },
            { dryRun: o.dryRun },
          );
          if (o.dryRun === 'none') j.wrote(`horizontalpodautoscaler.autoscaling/${h.metadata.name} re-created`);
          hpaCreated.add(p.t);
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 409)) throw e;
          deps.err.write(`Warning: horizontalpodautoscaler.autoscaling/${h.metadata.name} was created by someone else meanwhile; left as it is\n`);
        }
      }
    }

    // 5. Verify, always (also "already restored"); only then drop the record.
    if (o.dryRun === 'none') {
      const deadline = deps.now().getTime() + o.timeoutMs;
      const label = `waiting for ${found.map(nameOf).join(', ')} to be Ready`;
      await withProgress(label, { stream: deps.err, enabled: o.format === 'table' || o.format === 'name' }, async (update) => {
        const keyOf = (p: (typeof plans)[number]) => `ready:${p.t.obj.metadata?.namespace}/${nameOf(p.t)}`;
        // Every target is open until its own wait ends: a failure on one leaves the others listed.
        for (const p of plans) j.expect(keyOf(p), `${nameOf(p.t)} ${p.plan.to} Ready`);
        for (const [i, p] of plans.entries()) {
          let ready: number;
          try {
            ready = await waitReady(kube, deps, p.t, { deadline, to: p.plan.to, hpaInCharge: Boolean(p.live) || hpaCreated.has(p.t), update });
          } catch (e) {
            if (e instanceof Superseded) {
              // Resuming or undoing that one would overwrite someone else's change; the others still can be.
              j.superseded(e.by);
              const rest = plans.slice(i + 1).map((q) => q.t);
              if (rest.length) j.resume(perNamespace('restore', rest));
              const undo = written.filter((t) => t !== p.t);
              if (undo.length) j.undo(scaleCommandFor(undo));
            }
            throw e;
          }
          j.confirm(keyOf(p), `${nameOf(p.t)} ${ready} Ready`);
          // Also for "already restored": a label left without its annotations goes too (no write otherwise).
          const w = await kube.patchGuarded<Workload>(
            pathOfTarget(p.t),
            'merge',
            (fresh) => (fresh.metadata?.annotations?.[SZ.replicas] !== undefined || fresh.metadata?.labels?.[SCALED_LABEL] ? DROP_RECORD : undefined),
            {
              known: p.plan.state === 'restored' ? p.t.obj : undefined,
            },
          );
          if (w.changed) j.wrote(`${nameOf(p.t)}: record of scale-to-zero removed`);
        }
      });
    }

    // 6. Report.
    const done = plans.map((p) => ({
      target: nameOf(p.t),
      namespace: p.t.obj.metadata?.namespace ?? '',
      state: p.plan.state,
      replicas: p.plan.to,
      hpa: hpaCreated.has(p.t) ? p.plan.hpa?.metadata.name : undefined,
    }));
    if (printer.structured) await printer.print(deps, { items: done, data: (workloads) => ({ dryRun: o.dryRun, workloads }) });
    else
      for (const d of done)
        deps.out.write(
          o.format === 'name' ? `${d.target}\n` : `${d.target} ${restoredText(d.state, d.replicas)}${d.hpa ? ` (hpa ${d.hpa} re-created)` : ''}${dryRunSuffix(o.dryRun)}\n`,
        );
  });
}

// ---------------------------------------------------------------------------------------------
// 1. Options.

interface RawScale {
  selector?: string;
  timeout: string;
  withHpa?: boolean;
  delete?: boolean;
  save?: string;
  list?: boolean;
  allNamespaces?: boolean;
  yes?: boolean;
  watch?: boolean;
  watchOnly?: boolean;
}

export function scaleOptions(args: string[], raw: RawScale, format: Format, dryRun: DryRun): ScaleOptions {
  const targets = args.map((a) => parseTarget(a, SCALABLE));
  const selector = raw.selector === undefined ? undefined : parseSelector(raw.selector);
  if (raw.list) {
    if (targets.length || raw.delete || raw.withHpa || raw.save) throw new UsageError('--list takes no TARGETs, --delete, --save or --with-hpa');
  } else {
    targetChoice(targets, selector, Boolean(raw.allNamespaces), 'scale-to-zero', '');
  }
  if (raw.save !== undefined && !raw.delete) throw new UsageError('--save is used with --delete');
  if ((raw.watch || raw.watchOnly) && !raw.list) throw new UsageError('-w/--watch and --watch-only are used with --list');
  return {
    targets,
    selector,
    allNamespaces: Boolean(raw.allNamespaces),
    list: Boolean(raw.list),
    watch: raw.watchOnly ? 'only' : raw.watch ? 'watch' : undefined,
    timeoutMs: parseTimeout(raw.timeout),
    withHpa: Boolean(raw.withHpa),
    delete: Boolean(raw.delete),
    save: raw.save === undefined ? undefined : writableFile(raw.save),
    yes: Boolean(raw.yes),
    format,
    dryRun,
  };
}

interface RawRestore {
  selector?: string;
  timeout: string;
  all?: boolean;
  force?: boolean;
  allNamespaces?: boolean;
}

export function restoreOptions(args: string[], raw: RawRestore, format: Format, dryRun: DryRun): RestoreOptions {
  const targets = args.map((a) => parseTarget(a, SCALABLE));
  const selector = raw.selector === undefined ? undefined : parseSelector(raw.selector);
  if (raw.all && (targets.length || selector !== undefined)) throw new UsageError('--all takes no TARGETs and no -l/--selector');
  if (!raw.all) targetChoice(targets, selector, Boolean(raw.allNamespaces), 'restore', ', or --all for every workload scaled to zero by kubectl mlops');
  return {
    targets,
    selector,
    all: Boolean(raw.all),
    allNamespaces: Boolean(raw.allNamespaces),
    timeoutMs: parseTimeout(raw.timeout),
    force: Boolean(raw.force),
    format,
    dryRun,
  };
}

function targetChoice(targets: TargetRef[], selector: string | undefined, allNamespaces: boolean, command: string, more: string): void {
  if (targets.length && selector !== undefined) throw new UsageError('give TARGETs or -l/--selector, not both');
  if (!targets.length && selector === undefined) throw new UsageError(`${command} needs TARGET (deploy/NAME, sts/NAME, rs/NAME) or -l SELECTOR${more}`);
  if (allNamespaces && targets.length) throw new UsageError('-A/--all-namespaces works with -l/--selector, not with TARGETs');
}

/** The --save destination: an absolute path in an existing, writable folder, checked before anything is scaled. */
function writableFile(file: string): string {
  if (file === '') throw new UsageError('--save needs a file name');
  const abs = path.resolve(file);
  const dir = path.dirname(abs);
  try {
    if (!fs.statSync(dir).isDirectory()) throw new Error('not a folder');
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder' : (e as NodeJS.ErrnoException).code === 'EACCES' ? 'folder not writable' : (e as Error).message;
    throw new UsageError(`cannot write --save ${file}: ${why} (${dir})`);
  }
  if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) throw new UsageError(`cannot write --save ${file}: it is a folder`);
  return abs;
}

// ---------------------------------------------------------------------------------------------
// 3. Which declared permissions (permissions.ts) the plan uses.

function needActive(when: string, a: { kinds: Set<string>; listsAll: boolean; delete?: boolean; hpa: boolean }): boolean {
  const [what, kind] = when.split(':');
  if (what === 'kind') return a.kinds.has(kind);
  // -l/--all lists every kind; the waits list the kinds they watch.
  if (what === 'list') return a.listsAll || a.kinds.has(kind);
  if (what === 'delete') return Boolean(a.delete) && a.kinds.has(kind);
  if (what === 'with-hpa' || what === 'recorded-hpa') return a.hpa;
  return false;
}

// ---------------------------------------------------------------------------------------------
// 5. Verify.

/**
 * Waits until no pod of the workload is left, watching the workload beside its pods: someone
 * scaling it up or deleting it ends the wait at once instead of running out the timeout.
 */
async function waitPodsGone(kube: Kube, deps: Deps, t: Target, a: { deadline: number; recorded: number; update: (s: string) => void }): Promise<void> {
  const target = nameOf(t);
  const timeoutMs = a.deadline - deps.now().getTime();
  if (timeoutMs <= 0) throw new TimeoutError(`timed out waiting for the pods of ${target} to be gone. ${await stateOf(kube, t, a.recorded)}`);
  const stop = new AbortController();
  const signal = AbortSignal.any([deps.signal, stop.signal]);
  const pods = kube
    .waitFor<Pod, true>(
      pathOf(R.pods, { namespace: t.obj.metadata?.namespace }),
      { labelSelector: selectorOf(t) },
      (list) => {
        a.update(`${target}: ${list.length} pod(s) left`);
        return list.length === 0 ? true : undefined;
      },
      {
        timeoutMs,
        signal,
        onTimeout: (list, listed) => (listed ? `still there: ${list.map((p) => `${p.metadata?.name} (${podStatus(p)})`).join(', ')}` : 'its pods not read yet'),
      },
    )
    .catch(async (e: unknown) => {
      if (!(e instanceof TimeoutError)) throw e;
      throw new TimeoutError(`timed out waiting for the pods of ${target} to be gone; ${e.message}. ${await stateOf(kube, t, a.recorded)}`);
    });
  const changed = kube.waitFor<Workload, string>(
    pathOf(t.res, { namespace: t.obj.metadata?.namespace }),
    { fieldSelector: `metadata.name=${t.obj.metadata?.name}` },
    (list) =>
      changedWhileWaiting(
        list.find((w) => w.metadata?.uid === t.obj.metadata?.uid),
        target,
        a.recorded,
      ),
    { timeoutMs: timeoutMs + 60_000, signal, onTimeout: () => '' },
  );
  try {
    const first = await Promise.race([pods.then(() => undefined), changed]);
    if (first !== undefined) throw new CliError(first);
  } finally {
    stop.abort();
    // The other wait ends with "interrupted" once stopped; only the first outcome counts.
    await Promise.allSettled([pods, changed]);
  }
  // Verify: the pods are gone and the workload is still at 0 (and still the one we scaled).
  const now = await kube.getOptional<Workload>(pathOfTarget(t));
  const why = changedWhileWaiting(now?.metadata?.uid === t.obj.metadata?.uid ? now : undefined, target, a.recorded);
  if (why) throw new CliError(why);
}

function changedWhileWaiting(obj: Workload | undefined, target: string, recorded: number): string | undefined {
  if (!obj) return `${target} was deleted by someone else while we waited for its pods to be gone`;
  const spec = obj.spec?.replicas ?? 1;
  if (spec !== 0) return `someone changed the replicas of ${target} to ${spec} while we waited for its pods to be gone (${recorded} recorded; scale-to-zero again records ${spec})`;
  return undefined;
}

/** The workload's real state now, for a timeout message. */
async function stateOf(kube: Kube, t: Target, recorded: number): Promise<string> {
  const target = nameOf(t);
  let now: Workload | undefined;
  try {
    now = await kube.getOptional<Workload>(pathOfTarget(t));
  } catch (e) {
    // The server may be the reason the wait ran out: say the state is unknown, never "gone".
    return `the state of ${target} is unknown now (${(e as Error).message}); it was at 0 replicas with ${recorded} recorded when last seen`;
  }
  if (!now) return `${target} no longer exists`;
  const spec = now.spec?.replicas ?? 1;
  if (spec !== 0) return `${target} is at ${count(spec, 'replica')}: someone scaled it up meanwhile (${recorded} recorded)`;
  return `${target} is at 0 replicas with ${recorded} recorded`;
}

/** A wait ended by someone else's change to the workload (`by`), which a resume or an undo would overwrite. */
class Superseded extends CliError {
  constructor(
    message: string,
    readonly by: string,
  ) {
    super(message);
  }
}

/** Waits on the workload's own status; someone else's change, its deletion or a progress deadline ends the wait at once. */
async function waitReady(kube: Kube, deps: Deps, t: Target, a: { deadline: number; to: number; hpaInCharge: boolean; update: (s: string) => void }): Promise<number> {
  const target = nameOf(t);
  const name = t.obj.metadata?.name ?? '';
  const remaining = Math.max(a.deadline - deps.now().getTime(), 1);
  // The Deployment controller does not track progress of a scale-up after a complete rollout
  // (its Progressing condition stays NewReplicaSetAvailable), so the progress deadline is
  // applied here: pods that cannot start end the wait after progressDeadlineSeconds, not --timeout.
  const progressMs = t.res === R.deployments ? ((t.obj.spec?.progressDeadlineSeconds as number | undefined) ?? 600) * 1000 : Infinity;
  const timeoutMs = Math.min(remaining, progressMs);
  let last: Workload | undefined;
  const r = await kube
    .waitFor<Workload, { done: true; ready: number } | { terminal: string; superseded?: string }>(
      pathOf(t.res, { namespace: t.obj.metadata?.namespace }),
      { fieldSelector: `metadata.name=${name}` },
      (objs) => {
        last = objs.find((x) => x.metadata?.uid === t.obj.metadata?.uid);
        const p = restoreProgress(last, { name: target, to: a.to, hpaInCharge: a.hpaInCharge });
        if ('want' in p) {
          a.update(`${target}: ${p.ready}/${p.want} Ready`);
          return undefined;
        }
        return p;
      },
      {
        timeoutMs,
        signal: deps.signal,
        onTimeout: (objs) => {
          const o = objs[0];
          return `timed out waiting for ${target} to have ${count(a.to, 'Ready replica')} (${o?.status?.readyReplicas ?? 0} Ready of ${o?.spec?.replicas ?? '?'}); it is scaled up, the record is kept: re-run restore to finish`;
        },
      },
    )
    .catch((e: unknown) => {
      if (!(e instanceof TimeoutError) || progressMs >= remaining) throw e;
      throw new CliError(
        `${target} made no progress within its progress deadline (${progressMs / 1000}s): ${last?.status?.readyReplicas ?? 0}/${last?.spec?.replicas ?? a.to} Ready; it is scaled up, the record is kept: re-run restore once its pods can start`,
      );
    });
  if ('terminal' in r) throw r.superseded ? new Superseded(r.terminal, r.superseded) : new CliError(r.terminal);
  return r.ready;
}

// ---------------------------------------------------------------------------------------------
// Helpers.

function nameOf(t: Target): string {
  return displayName(t.res, t.obj.metadata?.name);
}

function pathOfTarget(t: Target): string {
  return pathOf(t.res, { namespace: t.obj.metadata?.namespace, name: t.obj.metadata?.name });
}

function selectorOf(t: Target): string {
  // An empty selector would match every pod in the namespace; such workloads cannot exist, but be safe.
  return selectorToString(t.obj.spec?.selector) || 'mlops.kubectl.io/no-selector=true';
}

async function deleteIfPresent(kube: Kube, p: string, opts: { dryRun?: DryRun; uid?: string }): Promise<void> {
  try {
    await kube.delete(p, opts);
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 404)) throw e;
  }
}

function scaledText(state: ScalePlan['state'], recorded: number, deleted: boolean): string {
  if (state === 'unrecorded') return `already at 0 (nothing recorded: it was at 0 before`;
  if (state === 'already') return `already at 0 (${recorded} recorded`;
  return deleted ? `scaled to zero and deleted (${recorded} recorded` : `scaled to zero (${recorded} recorded`;
}

function restoredText(state: RestorePlan['state'], replicas: number): string {
  if (state === 'restored') return `already restored (${count(replicas, 'replica')})`;
  return state === 'resume' ? `restored to ${count(replicas, 'replica')} (already scaled by an earlier run)` : `restored to ${count(replicas, 'replica')}`;
}

const quote = (s: string) => (/^[\w./=,:-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
const nsFlag = (ns: string | undefined) => (ns ? ` -n ${ns}` : ' -A');

function scaleCommand(o: ScaleOptions, found: Target[], ns: string | undefined): string {
  const what = o.selector !== undefined ? `-l ${quote(o.selector)}` : found.map(nameOf).join(' ');
  return `kubectl mlops scale-to-zero ${what}${nsFlag(ns)}${o.withHpa ? ' --with-hpa' : ''}${o.delete ? ' --delete --yes' : ''}${o.save ? ` --save ${quote(o.save)}` : ''}`;
}

/** With -A, the checks and the undo commands go namespace by namespace. */
function namespacesOf(targets: Target[]): string[] {
  return [...new Set(targets.map((t) => t.obj.metadata?.namespace ?? ''))];
}

function perNamespace(command: string, targets: Target[]): string {
  return namespacesOf(targets)
    .map(
      (n) =>
        `kubectl mlops ${command} ${targets
          .filter((t) => t.obj.metadata?.namespace === n)
          .map(nameOf)
          .join(' ')} -n ${n}`,
    )
    .join(' && ');
}

function restoreCommand(targets: Target[]): string {
  return perNamespace('restore', targets);
}

function restoreCommandFor(o: RestoreOptions, ns: string | undefined): string {
  const what = o.all ? '--all' : o.selector !== undefined ? `-l ${quote(o.selector)}` : o.targets.map((t) => displayName(t.res, t.name)).join(' ');
  return `kubectl mlops restore ${what}${nsFlag(ns)}${o.force ? ' --force' : ''}`;
}

function scaleCommandFor(targets: Target[]): string {
  return perNamespace('scale-to-zero', targets);
}

// ---------------------------------------------------------------------------------------------
// --list (read-only: no preflight; a denied read reports itself).

interface ScaledRow {
  namespace: string;
  name: string;
  recordedReplicas: number;
  /** spec.replicas now: not 0 when someone scaled it back up by hand. */
  replicas: number;
  since: string;
  hpa: string | null;
}

function scaledRow(res: Target['res'], obj: Workload): ScaledRow {
  const ann = obj.metadata?.annotations ?? {};
  return {
    namespace: obj.metadata?.namespace ?? '',
    name: displayName(res, obj.metadata?.name),
    recordedReplicas: Number(ann[SZ.replicas] ?? 0),
    // The API server defaults spec.replicas to 1.
    replicas: obj.spec?.replicas ?? 1,
    since: ann[SZ.at] ?? '',
    hpa: recordedHpaName(obj),
  };
}

async function listScaled(kube: Kube, deps: Deps, a: { namespace: string; all: boolean; printer: Printer; selector?: string; watch?: 'watch' | 'only' }): Promise<void> {
  const labelOnly = `${SCALED_LABEL}=true`;
  const rows = async () =>
    (await resolveTargets(kube, { targets: [], selector: a.selector, namespace: a.namespace, allNamespaces: a.all, labelOnly })).map((t) => scaledRow(t.res, t.obj));
  let now = deps.now();
  // Ages are computed when a line is printed (watch lines come later).
  const spec = (items: ScaledRow[]): PrintSpec<ScaledRow> => (
    (now = deps.now()),
    {
      items,
      data: (workloads) => ({ workloads }),
      name: (r) => r.name,
      empty: a.all ? 'No workloads scaled to zero.' : `No workloads scaled to zero in ${a.namespace} namespace.`,
      columns: [
        ...(a.all ? [{ header: 'NAMESPACE', value: (r: ScaledRow) => r.namespace }] : []),
        { header: 'KIND/NAME', value: (r: ScaledRow) => r.name },
        { header: 'RECORDED REPLICAS', value: (r) => r.recordedReplicas },
        { header: 'REPLICAS', value: (r) => r.replicas },
        { header: 'SINCE', value: (r) => age(r.since, now) },
        { header: 'HPA', value: (r) => r.hpa ?? '<none>' },
      ],
    }
  );
  if (!a.watch) return a.printer.print(deps, spec(await rows()));
  const resOf = (obj: unknown) => SCALABLE.find((r) => r.kind === (obj as { kind?: string }).kind);
  await watchList<ScaledRow>({
    kube,
    path: SCALABLE.map((res) => pathOf(res, { namespace: a.all ? undefined : a.namespace })),
    labelSelector: [a.selector, labelOnly].filter(Boolean).join(','),
    rows,
    // A row is the workload itself; a ReplicaSet a Deployment owns is not listed, nor watched.
    rowOf: (obj) => {
      const res = resOf(obj);
      return res && !(res === R.replicasets && controllerOf(obj as Workload)) ? scaledRow(res, obj as Workload) : undefined;
    },
    spec,
    printer: a.printer,
    io: { out: deps.out, err: deps.err },
    watchOnly: a.watch === 'only',
    signal: deps.signal,
  });
}
