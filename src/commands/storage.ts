import type { Command } from 'commander';
import type { Deps } from '../deps.js';
import type { Kube } from '../kube/client.js';
import type { KEvent, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '../kube/types.js';
import { addMutationOptions, addOutputOption, addSelectorOption, addWatchOptions, allNamespacesOption, confirmOrAbort, connectFrom, dryRunOf, printerOf } from './common.js';
import { dryRunSuffix, type PrintSpec, type Printer } from '../output/printer.js';
import { watchList } from '../output/watch.js';
import { age } from '../util/duration.js';
import { R, nameOf, pathOf } from '../kube/resources.js';
import { CliError, UsageError } from '../errors.js';
import { buildClaimViews, shortModes, type ClaimView } from '../storage/model.js';

export function register(program: Command, deps: Deps): void {
  const cmd = program
    .command('storage')
    .description('claims with their volume, class, the pods and workloads using them, and why a claim is Pending')
    .argument('[claim]', 'one claim (NAME or pvc/NAME): its chain as a tree, with events');
  allNamespacesOption(cmd);
  addOutputOption(cmd, ['table', 'wide', 'json', 'yaml', 'name'], { list: true });
  addSelectorOption(cmd);
  addWatchOptions(cmd);
  cmd.action(async (claim: string | undefined) => {
    const printer = printerOf(cmd);
    const o = cmd.opts() as { selector?: string; watch?: boolean; watchOnly?: boolean };
    const all = Boolean(cmd.opts().allNamespaces);
    if (claim && (o.watch || o.watchOnly || o.selector)) throw new UsageError('-w/--watch, --watch-only and -l/--selector are for the list of claims, not one CLAIM');
    const { kube, namespace } = await connectFrom(cmd, deps);
    if (claim) return showClaim(kube, deps, namespace, nameOf(claim, R.pvcs, 'CLAIM'), printer);
    const list = () => claimViews(kube, all ? undefined : namespace, (w) => deps.err.write(`Warning: ${w}\n`), o.selector);
    let now = deps.now();
    const capacity = (v: ClaimView) => (v.capacity && v.requested && v.capacity !== v.requested ? `${v.capacity} (asked ${v.requested})` : (v.capacity ?? v.requested ?? ''));
    // Ages are computed when a line is printed (watch lines come later).
    const spec = (views: ClaimView[]): PrintSpec<ClaimView> => ((now = deps.now()), {
        items: views,
        data: (claims: ClaimView[]) => ({ claims }),
        name: (v: ClaimView) => `persistentvolumeclaim/${v.name}`,
        empty: all ? 'No resources found' : `No resources found in ${namespace} namespace.`,
        columns: [
          ...(all ? [{ header: 'NAMESPACE', value: (v: ClaimView) => v.namespace }] : []),
          { header: 'NAME', value: (v: ClaimView) => v.name },
          { header: 'STATUS', value: (v) => v.status },
          { header: 'VOLUME', value: (v) => v.volume?.name ?? '' },
          { header: 'CAPACITY', value: capacity },
          { header: 'ACCESS MODES', value: (v) => shortModes(v.accessModes) },
          { header: 'STORAGECLASS', value: (v) => v.storageClass.name ?? '' },
          { header: 'USED-BY', value: (v) => usedBy(v) },
          { header: 'NODE', value: (v) => v.nodes.join(',') || '<none>' },
          { header: 'AGE', value: (v) => age(v.created ?? undefined, now) },
          { header: 'RECLAIM', value: (v) => v.volume?.reclaimPolicy ?? v.storageClass.reclaimPolicy ?? '', wide: true },
          { header: 'VOLUMEMODE', value: (v) => v.volume?.volumeMode ?? '', wide: true },
          { header: 'PROVISIONER', value: (v) => v.storageClass.provisioner ?? '', wide: true },
          { header: 'BINDING', value: (v) => v.storageClass.volumeBindingMode ?? '', wide: true },
          { header: 'REASON', value: (v) => [v.reason, ...v.warnings].filter(Boolean).join('; ') },
        ],
    });
    if (o.watch || o.watchOnly) {
      const key = (v: ClaimView) => `${v.namespace}/${v.name}`;
      const io = { out: deps.out, err: deps.err };
      return watchList({ kube, path: pathOf(R.pvcs, { namespace: all ? undefined : namespace }), labelSelector: o.selector, rows: list, key, spec, printer, io, watchOnly: Boolean(o.watchOnly), signal: deps.signal });
    }
    await printer.print(deps, spec(await list()));
  });

  const pv = cmd.command('pv').description('PersistentVolumes with their claim; Available and Released ones called out');
  addOutputOption(pv, ['table', 'json', 'yaml', 'name'], { list: true });
  addSelectorOption(pv);
  addWatchOptions(pv);
  pv.action(async () => listVolumes(pv, deps));

  const reclaim = cmd.command('reclaim').description('make a Released volume Available again by clearing its claimRef').argument('<pv>', 'the PersistentVolume');
  addMutationOptions(reclaim);
  reclaim.action(async (name: string) => reclaimVolume(reclaim, deps, name));
}

/** One pod is named with its workload; several pods of one workload are counted, so rows stay short. */
export function usedBy(v: ClaimView): string {
  if (v.usedBy.length === 0) return '<none>';
  const groups = new Map<string, string[]>();
  for (const u of v.usedBy) groups.set(u.workload ?? '', [...(groups.get(u.workload ?? '') ?? []), u.pod]);
  const parts: string[] = [];
  for (const [w, pods] of groups) {
    if (!w) parts.push(...pods);
    else parts.push(pods.length === 1 ? `${pods[0]} (${w})` : `${w} (${pods.length} pods)`);
  }
  return parts.join(', ');
}

/** Five list calls whatever the number of claims: claims, volumes, classes, pods, and events when a claim has problems. */
export async function claimViews(kube: Kube, namespace: string | undefined, warn: (s: string) => void, selector?: string): Promise<ClaimView[]> {
  const [claims, volumes, classes, pods] = await Promise.all([
    kube.list<PersistentVolumeClaim>(pathOf(R.pvcs, { namespace }), { labelSelector: selector }),
    kube.listIfAllowed<PersistentVolume>(pathOf(R.pvs)),
    kube.listIfAllowed<StorageClass>(pathOf(R.storageclasses)),
    kube.list<Pod>(pathOf(R.pods, { namespace }), { fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' }),
  ]);
  warnHidden(warn, !volumes, !classes);
  const inv = {
    claims: claims.items,
    volumes: volumes?.items ?? [],
    classes: classes?.items ?? [],
    pods: pods.items,
    events: [] as KEvent[],
    hidden: { volumes: !volumes, classes: !classes },
  };
  if (claims.items.some((c) => c.status?.phase !== 'Bound')) {
    inv.events = (await kube.list<KEvent>(pathOf(R.events, { namespace }), { fieldSelector: 'involvedObject.kind=PersistentVolumeClaim,type=Warning' })).items;
  }
  return buildClaimViews(inv).sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

async function showClaim(kube: Kube, deps: Deps, namespace: string, name: string, printer: Printer): Promise<void> {
  const pvc = await kube.get<PersistentVolumeClaim>(pathOf(R.pvcs, { namespace, name }));
  const [volumes, classes, pods, events] = await Promise.all([
    kube.listIfAllowed<PersistentVolume>(pathOf(R.pvs), pvc.spec?.volumeName ? { fieldSelector: `metadata.name=${pvc.spec.volumeName}` } : {}),
    kube.listIfAllowed<StorageClass>(pathOf(R.storageclasses)),
    kube.list<Pod>(pathOf(R.pods, { namespace }), { fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' }),
    kube.list<KEvent>(pathOf(R.events, { namespace }), { fieldSelector: `involvedObject.kind=PersistentVolumeClaim,involvedObject.name=${name}` }),
  ]);
  warnHidden((w) => deps.err.write(`Warning: ${w}\n`), !volumes, !classes);
  const view = buildClaimViews({
    claims: [pvc],
    volumes: volumes?.items ?? [],
    classes: classes?.items ?? [],
    pods: pods.items,
    events: events.items,
    hidden: { volumes: !volumes, classes: !classes },
  })[0]!;
  const recent = events.items.sort((a, b) => (evTime(a) < evTime(b) ? -1 : 1)).slice(-10);
  if (printer.format === 'name') return void deps.out.write(`persistentvolumeclaim/${name}\n`);
  if (!printer.human) {
    return printer.printDocument(deps, { ...view, events: recent.map((e) => ({ type: e.type, reason: e.reason, message: e.message, time: evTime(e) })) });
  }
  const now = deps.now();
  const lines = [`persistentvolumeclaim/${name} (${view.status}, ${view.capacity ?? view.requested}, ${shortModes(view.accessModes)})`];
  const sc = view.storageClass;
  const scLine = sc.name
    ? `class: ${sc.name}${sc.exists ? ` (${sc.provisioner}, ${sc.volumeBindingMode ?? 'Immediate'}, reclaim ${sc.reclaimPolicy ?? 'Delete'}${sc.isDefault ? ', default' : ''})` : sc.exists === null ? ' (details hidden from you)' : ' (does not exist)'}`
    : 'class: <none>';
  if (view.volume) {
    lines.push(`├─ volume: ${view.volume.name} (${view.volume.capacity ?? '?'}, ${view.volume.phase ?? 'missing'}, reclaim ${view.volume.reclaimPolicy ?? '?'})`);
    lines.push(`│  └─ ${scLine}`);
  } else {
    lines.push('├─ volume: <none>');
    lines.push(`├─ ${scLine}`);
  }
  if (view.reason) lines.push(`├─ pending: ${view.reason}`);
  for (const w of view.warnings) lines.push(`├─ warning: ${w}`);
  if (view.usedBy.length === 0) lines.push('├─ used by: <none>');
  for (const u of view.usedBy) lines.push(`├─ used by: pod/${u.pod}${u.workload ? ` (${u.workload})` : ''} on ${u.node ?? '<not scheduled>'}`);
  lines.push(`└─ events:${recent.length ? '' : ' <none>'}`);
  for (const e of recent) lines.push(`   ${age(evTime(e), now)}  ${e.type}  ${e.reason}  ${e.message?.trim()}`);
  deps.out.write(lines.join('\n') + '\n');
}

/** Namespaced users often may not list cluster-scoped objects; show what they can see and say so. */
function warnHidden(warn: (s: string) => void, volumes: boolean, classes: boolean): void {
  if (volumes) warn('you may not list persistentvolumes (forbidden): volume details come from the claims only');
  if (classes) warn('you may not list storageclasses (forbidden): class details and Pending reasons are incomplete');
}

function evTime(e: KEvent): string {
  return e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '';
}

async function listVolumes(cmd: Command, deps: Deps): Promise<void> {
  const printer = printerOf(cmd);
  const o = cmd.opts() as { selector?: string; watch?: boolean; watchOnly?: boolean };
  const { kube } = await connectFrom(cmd, deps);
  const list = async () => {
  const [pvs, claims] = await Promise.all([kube.list<PersistentVolume>(pathOf(R.pvs), { labelSelector: o.selector }), kube.list<PersistentVolumeClaim>(pathOf(R.pvcs))]);
  const claimKeys = new Set(claims.items.map((c) => `${c.metadata?.namespace}/${c.metadata?.name}/${c.metadata?.uid}`));
  const rows = pvs.items
    .map((v) => {
      const ref = v.spec?.claimRef;
      const claim = ref ? `${ref.namespace}/${ref.name}` : null;
      const phase = v.status?.phase ?? 'Unknown';
      let note = '';
      if (phase === 'Available') note = 'can be claimed';
      if (phase === 'Released') {
        const gone = !claimKeys.has(`${ref?.namespace}/${ref?.name}/${ref?.uid}`);
        note = `former claim ${claim}${gone ? ' is gone' : ''}; ${v.spec?.persistentVolumeReclaimPolicy === 'Retain' ? `data kept; \`kubectl mlops storage reclaim ${v.metadata?.name}\` makes it Available` : `reclaim policy ${v.spec?.persistentVolumeReclaimPolicy}`}`;
      }
      if (phase === 'Failed') note = v.status?.message ?? 'failed';
      return {
        name: v.metadata!.name!,
        capacity: (v.spec?.capacity as Record<string, string> | undefined)?.storage ?? null,
        accessModes: v.spec?.accessModes ?? [],
        reclaimPolicy: v.spec?.persistentVolumeReclaimPolicy ?? null,
        status: phase,
        claim,
        storageClass: v.spec?.storageClassName ?? null,
        created: v.metadata?.creationTimestamp ?? null,
        note,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  return rows;
  };
  type Row = Awaited<ReturnType<typeof list>>[number];
  let now = deps.now();
  const spec = (rows: Row[]): PrintSpec<Row> => ((now = deps.now()), {
    items: rows,
    data: (volumes: Row[]) => ({ volumes }),
    name: (r: Row) => `persistentvolume/${r.name}`,
    empty: 'No resources found',
    columns: [
        { header: 'NAME', value: (r: Row) => r.name },
        { header: 'CAPACITY', value: (r) => r.capacity ?? '' },
        { header: 'ACCESS MODES', value: (r) => shortModes(r.accessModes) },
        { header: 'RECLAIM POLICY', value: (r) => r.reclaimPolicy ?? '' },
        { header: 'STATUS', value: (r) => r.status },
        { header: 'CLAIM', value: (r) => r.claim ?? '' },
        { header: 'STORAGECLASS', value: (r) => r.storageClass ?? '' },
        { header: 'AGE', value: (r) => age(r.created ?? undefined, now) },
        { header: 'NOTE', value: (r) => r.note },
      ],
  });
  if (o.watch || o.watchOnly) {
    const io = { out: deps.out, err: deps.err };
    return watchList({ kube, path: pathOf(R.pvs), labelSelector: o.selector, rows: list, key: (r) => `/${r.name}`, spec, printer, io, watchOnly: Boolean(o.watchOnly), signal: deps.signal });
  }
  await printer.print(deps, spec(await list()));
}

async function reclaimVolume(cmd: Command, deps: Deps, name: string): Promise<void> {
  const dryRun = dryRunOf(cmd);
  const { kube } = await connectFrom(cmd, deps);
  const path = pathOf(R.pvs, { name });
  const pv = await kube.get<PersistentVolume>(path);
  const phase = pv.status?.phase;
  const ref = pv.spec?.claimRef;
  if (phase === 'Bound') throw new CliError(`persistentvolume/${name} is Bound to ${ref?.namespace}/${ref?.name}; only a Released volume can be reclaimed`);
  if (phase === 'Available' || !ref) {
    deps.err.write(`persistentvolume/${name} is already Available; nothing to do\n`);
    return;
  }
  if (phase !== 'Released') throw new CliError(`persistentvolume/${name} is ${phase}; only a Released volume can be reclaimed`);
  const claim = await kube.getOptional<PersistentVolumeClaim>(pathOf(R.pvcs, { namespace: ref.namespace, name: ref.name }));
  if (claim && (claim.spec?.volumeName === name || claim.metadata?.uid === ref.uid)) {
    throw new CliError(`persistentvolumeclaim ${ref.namespace}/${ref.name} still points at persistentvolume/${name}; delete that claim first`);
  }
  if (dryRun === 'client') {
    deps.out.write(`persistentvolume/${name} would be made Available (claimRef to ${ref.namespace}/${ref.name} cleared)${dryRunSuffix(dryRun)}\n`);
    return;
  }
  if (dryRun === 'none') {
    await confirmOrAbort(deps, cmd.opts().yes, `Make persistentvolume/${name} Available? The data of ${ref.namespace}/${ref.name} stays on it and the next claim will see it.`, `reclaiming persistentvolume/${name}`);
  }
  await kube.patchGuarded<PersistentVolume>(
    path,
    'json',
    (cur) => {
      if (cur.status?.phase === 'Bound') throw new CliError(`persistentvolume/${name} became Bound meanwhile; nothing changed`);
      return cur.spec?.claimRef ? [{ op: 'remove', path: '/spec/claimRef' }] : undefined;
    },
    { dryRun, known: pv },
  );
  if (dryRun === 'server') {
    deps.out.write(`persistentvolume/${name} would be made Available${dryRunSuffix(dryRun)}\n`);
    return;
  }
  await kube.waitFor<PersistentVolume, true>(pathOf(R.pvs), { fieldSelector: `metadata.name=${name}` }, (items) => (items[0]?.status?.phase === 'Available' ? true : undefined), {
    timeoutMs: 30_000,
    signal: deps.signal,
    onTimeout: () => `the claimRef of persistentvolume/${name} is cleared, but the volume controller has not marked it Available within 30s`,
  });
  deps.out.write(`persistentvolume/${name} reclaimed: Available\n`);
  deps.err.write(`Warning: the data of the former claim ${ref.namespace}/${ref.name} is still on the volume\n`);
}
