import fs from 'node:fs';
import type { Command } from 'commander';
import type { Deps } from '../deps.js';
import type { Kube, DryRun } from '../kube/client.js';
import type { HPA, Pod } from '../kube/types.js';
import { addMutationOptions, addOutputOption, allNamespacesOption, confirmOrAbort, connectFrom, dryRunOf, printerOf } from './common.js';
import type { Printer } from '../output/printer.js';
import { withProgress } from '../output/progress.js';
import { age, parseDuration } from '../util/duration.js';
import { R, pathOf } from '../kube/resources.js';
import { ApiError, CliError, UsageError } from '../errors.js';
import { isReady, podStatus } from '../workloads/pods.js';
import { selectorToString } from '../util/labels.js';
import {
  SCALED_LABEL, SZ, cleanManifest, displayName, formatFreed, freedBy, hpaOf, hpaRecord, hpasFor, podsOf, resolveTargets,
  type Freed, type Target, type Workload,
} from '../workloads/scale.js';

export function register(program: Command, deps: Deps): void {
  const cmd = program
    .command('scale-to-zero')
    .description('scale workloads to zero gracefully, recording their replica count (and HPA) so `restore` brings them back')
    .argument('[targets...]', 'deploy/NAME, rs/NAME or sts/NAME')
    .option('-l, --selector <selector>', 'every Deployment, StatefulSet and standalone ReplicaSet matching this label selector')
    .option('--timeout <duration>', 'how long to wait for the pods to be gone', '5m')
    .option('--with-hpa', 'record and remove a HorizontalPodAutoscaler that targets the workload (restore re-creates it)')
    .option('--delete', 'delete the workload once its pods are gone (the tutorial\'s graceful deletion)')
    .option('--save <file>', 'with --delete: first write the manifest, cleaned for `kubectl apply -f`')
    .option('--list', 'list workloads scaled to zero by this plugin');
  allNamespacesOption(cmd);
  addOutputOption(cmd, ['table', 'json', 'yaml', 'name'], { list: true });
  addMutationOptions(cmd);
  cmd.action(async (targets: string[]) => {
    const o = cmd.opts() as { selector?: string; timeout: string; withHpa?: boolean; delete?: boolean; save?: string; list?: boolean; allNamespaces?: boolean; yes?: boolean };
    const printer = printerOf(cmd);
    const format = printer.format;
    const dryRun = dryRunOf(cmd);
    const timeoutMs = parseDuration(o.timeout, '--timeout');
    if (o.save && !o.delete) throw new UsageError('--save is used with --delete');
    if (o.list && (targets.length || o.delete)) throw new UsageError('--list takes no TARGETs and no --delete');
    if (o.allNamespaces && targets.length) throw new UsageError('-A/--all-namespaces works with -l/--selector, not with TARGETs');
    const { kube, namespace } = await connectFrom(cmd, deps);
    if (o.list) return listScaled(kube, deps, { namespace, all: Boolean(o.allNamespaces), printer, selector: o.selector });
    const found = await resolveTargets(kube, { targets, selector: o.selector, namespace, allNamespaces: Boolean(o.allNamespaces) });
    if (found.length === 0) {
      throw new CliError(`no Deployments, StatefulSets or standalone ReplicaSets match -l ${o.selector} ${o.allNamespaces ? 'in any namespace' : `in namespace ${namespace}`}`);
    }
    const hpas = await hpasFor(kube, o.allNamespaces ? undefined : namespace);
    // Refuse before changing anything: every HPA problem is reported up front.
    const blocked = found.filter((t) => hpaOf(hpas, t) && !o.withHpa);
    if (blocked.length) {
      const t = blocked[0]!;
      const h = hpaOf(hpas, t)!;
      throw new CliError(
        `${displayName(t.res, t.obj.metadata?.name)} is scaled by HorizontalPodAutoscaler ${h.metadata?.name} (min ${h.spec?.minReplicas ?? 1}, max ${h.spec?.maxReplicas}), which would scale it back up; pass --with-hpa to record and remove it (restore re-creates it)`,
      );
    }
    if (o.delete && dryRun === 'none') {
      await confirmOrAbort(deps, o.yes, `Scale to zero and then DELETE ${found.map((t) => displayName(t.res, t.obj.metadata?.name)).join(', ')}?`, 'deleting the workloads');
    }
    const results: { target: string; namespace: string; recorded: number; hpa?: string; freed: Freed; deleted: boolean }[] = [];
    const manifests: object[] = [];
    for (const t of found) {
      const r = await scaleOne(kube, deps, t, { hpa: hpaOf(hpas, t), dryRun, timeoutMs, format });
      results.push({ ...r, deleted: false });
      if (o.delete) manifests.push(cleanManifest(t, r.recorded));
    }
    if (o.delete) {
      if (o.save && dryRun === 'none') {
        const yaml = await import('js-yaml');
        fs.writeFileSync(o.save, manifests.map((m) => yaml.dump(m, { noRefs: true, lineWidth: -1 })).join('---\n'));
        deps.err.write(`saved ${manifests.length} manifest(s) to ${o.save}; \`kubectl apply -f ${o.save}\` brings them back\n`);
      }
      for (const [i, t] of found.entries()) {
        if (dryRun === 'client') continue;
        await kube.delete(pathOf(t.res, { namespace: t.obj.metadata?.namespace, name: t.obj.metadata?.name }), { dryRun, uid: t.obj.metadata?.uid });
        results[i]!.deleted = true;
      }
    }
    const total = results.reduce<Freed>((s, r) => ({ pods: s.pods + r.freed.pods, cpu: s.cpu + r.freed.cpu, memoryBytes: s.memoryBytes + r.freed.memoryBytes, gpus: s.gpus + r.freed.gpus }), { pods: 0, cpu: 0, memoryBytes: 0, gpus: 0 });
    if (!printer.human && format !== 'name') {
      await printer.print(deps, { items: results, data: (workloads) => ({ dryRun, workloads, freed: total }) });
      return;
    }
    for (const r of results) {
      if (format === 'name') deps.out.write(`${r.target}\n`);
      else deps.out.write(`${r.target} ${dryRun !== 'none' ? 'would be scaled to zero' : r.deleted ? 'scaled to zero and deleted' : 'scaled to zero'} (${r.recorded} recorded${r.hpa ? `, hpa ${r.hpa} recorded and removed` : ''})\n`);
    }
    if (format === 'table') deps.out.write(`${dryRun !== 'none' ? 'would free' : 'freed'}: ${formatFreed(total)}\n`);
  });

  const restore = program
    .command('restore')
    .description('scale workloads back to the replica count recorded by scale-to-zero, and re-create their HPA')
    .argument('[targets...]', 'deploy/NAME, rs/NAME or sts/NAME')
    .option('-l, --selector <selector>', 'restore every scaled-to-zero workload matching this label selector')
    .option('--timeout <duration>', 'how long to wait for the pods to be Ready', '5m');
  allNamespacesOption(restore);
  addOutputOption(restore, ['table', 'json', 'yaml', 'name']);
  addMutationOptions(restore);
  restore.action(async (targets: string[]) => {
    const o = restore.opts() as { selector?: string; timeout: string; allNamespaces?: boolean };
    const printer = printerOf(restore);
    const format = printer.format;
    const dryRun = dryRunOf(restore);
    const timeoutMs = parseDuration(o.timeout, '--timeout');
    const { kube, namespace } = await connectFrom(restore, deps);
    const found = await resolveTargets(kube, { targets, selector: o.selector, namespace, allNamespaces: Boolean(o.allNamespaces), labelOnly: targets.length ? undefined : `${SCALED_LABEL}=true` });
    if (found.length === 0) throw new CliError(`no workloads scaled to zero by kubectl mlops match ${o.selector ? `-l ${o.selector}` : 'the request'} ${o.allNamespaces ? 'in any namespace' : `in namespace ${namespace}`}`);
    for (const t of found) {
      if (t.obj.metadata?.annotations?.[SZ.replicas] === undefined) {
        throw new CliError(`${displayName(t.res, t.obj.metadata?.name)} has no recorded replica count (it was not scaled to zero by kubectl mlops); use kubectl scale instead`);
      }
    }
    const done: { target: string; replicas: number; hpa?: string }[] = [];
    for (const t of found) done.push(await restoreOne(kube, deps, t, { dryRun, timeoutMs, format }));
    if (!printer.human && format !== 'name') await printer.print(deps, { items: done, data: (workloads) => ({ dryRun, workloads }) });
    else for (const d of done) deps.out.write(format === 'name' ? `${d.target}\n` : `${d.target} ${dryRun !== 'none' ? 'would be restored' : 'restored'} to ${d.replicas} replicas${d.hpa ? ` (hpa ${d.hpa} re-created)` : ''}\n`);
  });
}

async function scaleOne(kube: Kube, deps: Deps, t: Target, a: { hpa?: HPA; dryRun: DryRun; timeoutMs: number; format: string }) {
  const ns = t.obj.metadata!.namespace!;
  const name = t.obj.metadata!.name!;
  const path = pathOf(t.res, { namespace: ns, name });
  const target = displayName(t.res, name);
  let obj = t.obj;
  const st = obj.status ?? {};
  if (t.res === R.deployments && (st.updatedReplicas ?? 0) < (obj.spec?.replicas ?? 0)) {
    deps.err.write(`Warning: ${target} is mid-rollout (${st.updatedReplicas ?? 0}/${obj.spec?.replicas} updated); scaling to zero stops the rollout too\n`);
  }
  const podsBefore = await podsOf(kube, t);
  let recorded = 0;
  await kube.patchGuarded<Workload>(
    path,
    'merge',
    (obj) => {
      const current = obj.spec?.replicas ?? 1;
      const prior = obj.metadata?.annotations?.[SZ.replicas];
      // A second run never replaces a recorded count with 0.
      recorded = current > 0 ? current : prior !== undefined ? Number(prior) : 0;
      const annotations: Record<string, string> = { [SZ.replicas]: String(recorded) };
      if (current > 0 || !obj.metadata?.annotations?.[SZ.at]) annotations[SZ.at] = deps.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
      if (a.hpa) annotations[SZ.hpa] = JSON.stringify(hpaRecord(a.hpa));
      return { metadata: { labels: { [SCALED_LABEL]: 'true' }, annotations } };
    },
    { dryRun: a.dryRun, known: t.obj },
  );
  if (a.hpa && a.dryRun !== 'client') await kube.delete(pathOf(R.hpas, { namespace: ns, name: a.hpa.metadata!.name! }), { dryRun: a.dryRun });
  if (a.dryRun === 'none') {
    await kube.patch(pathOf(t.res, { namespace: ns, name, subresource: 'scale' }), { spec: { replicas: 0 } }, 'merge');
    await withProgress(`waiting for the pods of ${target} to be gone`, { stream: deps.err, enabled: a.format === 'table' || a.format === 'name' }, (update) =>
      kube.waitFor<Pod, true>(
        pathOf(R.pods, { namespace: ns }),
        { labelSelector: selectorOf(t) },
        (pods) => {
          update(`${target}: ${pods.length} pod(s) left`);
          return pods.length === 0 ? true : undefined;
        },
        {
          timeoutMs: a.timeoutMs,
          signal: deps.signal,
          onTimeout: (pods) =>
            `timed out waiting for the pods of ${target} to be gone; still there: ${pods.map((p) => `${p.metadata?.name} (${podStatus(p)})`).join(', ')}. ${target} is at 0 replicas with ${recorded} recorded`,
        },
      ),
    );
  }
  return { target, namespace: ns, recorded, hpa: a.hpa?.metadata?.name, freed: freedBy(podsBefore.filter((p) => !p.metadata?.deletionTimestamp)) };
}

function selectorOf(t: Target): string {
  // An empty selector would match every pod in the namespace; such workloads cannot exist, but be safe.
  return selectorToString(t.obj.spec?.selector) || 'mlops.kubectl.io/no-selector=true';
}

async function restoreOne(kube: Kube, deps: Deps, t: Target, a: { dryRun: DryRun; timeoutMs: number; format: string }) {
  const ns = t.obj.metadata!.namespace!;
  const name = t.obj.metadata!.name!;
  const target = displayName(t.res, name);
  const replicas = Number(t.obj.metadata!.annotations![SZ.replicas]);
  const hpaJson = t.obj.metadata?.annotations?.[SZ.hpa];
  const hpa = hpaJson ? (JSON.parse(hpaJson) as { metadata: { name: string } }) : undefined;
  if (a.dryRun === 'client') return { target, replicas, hpa: hpa?.metadata.name };
  await kube.patch(pathOf(t.res, { namespace: ns, name, subresource: 'scale' }), { spec: { replicas } }, 'merge', { dryRun: a.dryRun });
  if (hpa) {
    try {
      await kube.create(pathOf(R.hpas, { namespace: ns }), { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', ...hpa }, { dryRun: a.dryRun });
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 409)) throw e;
      deps.err.write(`Warning: horizontalpodautoscaler/${hpa.metadata.name} already exists; left as it is\n`);
    }
  }
  if (a.dryRun === 'server') return { target, replicas, hpa: hpa?.metadata.name };
  await withProgress(`waiting for ${target} to be Ready`, { stream: deps.err, enabled: a.format === 'table' || a.format === 'name' }, (update) =>
    kube.waitFor<Pod, true>(
      pathOf(R.pods, { namespace: ns }),
      { labelSelector: selectorOf(t) },
      (pods) => {
        const ready = pods.filter(isReady).length;
        update(`${target}: ${ready}/${replicas} Ready`);
        return ready >= replicas ? true : undefined;
      },
      { timeoutMs: a.timeoutMs, signal: deps.signal, onTimeout: (pods) => `timed out waiting for ${target} to have ${replicas} Ready pods (${pods.filter(isReady).length} Ready); it is scaled to ${replicas}, the record is kept` },
    ),
  );
  // Only now is the record dropped: a failed wait leaves it for a second try.
  await kube.patch(pathOf(t.res, { namespace: ns, name }), { metadata: { labels: { [SCALED_LABEL]: null }, annotations: { [SZ.replicas]: null, [SZ.at]: null, [SZ.hpa]: null } } }, 'merge');
  return { target, replicas, hpa: hpa?.metadata.name };
}

async function listScaled(kube: Kube, deps: Deps, a: { namespace: string; all: boolean; printer: Printer; selector?: string }): Promise<void> {
  const found = await resolveTargets(kube, { targets: [], selector: a.selector, namespace: a.namespace, allNamespaces: a.all, labelOnly: `${SCALED_LABEL}=true` });
  const rows = found.map((t) => ({
    namespace: t.obj.metadata?.namespace ?? '',
    name: displayName(t.res, t.obj.metadata?.name),
    recordedReplicas: Number(t.obj.metadata?.annotations?.[SZ.replicas] ?? 0),
    since: t.obj.metadata?.annotations?.[SZ.at] ?? '',
    hpa: t.obj.metadata?.annotations?.[SZ.hpa] ? (JSON.parse(t.obj.metadata.annotations[SZ.hpa]!) as { metadata: { name: string } }).metadata.name : null,
  }));
  const now = deps.now();
  await a.printer.print(deps, {
    items: rows,
    data: (workloads) => ({ workloads }),
    name: (r) => r.name,
    empty: a.all ? 'No workloads scaled to zero.' : `No workloads scaled to zero in ${a.namespace} namespace.`,
    columns: [
        ...(a.all ? [{ header: 'NAMESPACE', value: (r: (typeof rows)[number]) => r.namespace }] : []),
        { header: 'KIND/NAME', value: (r: (typeof rows)[number]) => r.name },
        { header: 'RECORDED REPLICAS', value: (r) => r.recordedReplicas },
        { header: 'SINCE', value: (r) => age(r.since, now) },
        { header: 'HPA', value: (r) => r.hpa ?? '<none>' },
      ],
  });
}
