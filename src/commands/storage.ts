import type { Command } from 'commander';
import type { Deps } from '../deps.js';
import type { Kube, ListOptions } from '../kube/client.js';
import type { KEvent, Node, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '../kube/types.js';
import { addMutationOptions, addOutputOption, addSelectorOption, addWatchOptions, allNamespacesOption, confirmOrAbort, connectFrom, dryRunOf, printerOf } from './common.js';
import { parseTimeout, preflight } from './flow.js';
import { withProgress } from '../output/progress.js';
import { dryRunSuffix, type PrintSpec, type Printer } from '../output/printer.js';
import { watchList } from '../output/watch.js';
import { age } from '../util/duration.js';
import { R, nameOf, pathOf } from '../kube/resources.js';
import { ApiError, CliError, UsageError } from '../errors.js';
import { buildClaimViews, claimUser, shortModes, type ClaimView } from '../storage/model.js';
import { claimClass, isBoundToClaim, mismatches, servesText, volumeClass } from '../storage/binder.js';
import { allInOrder } from '../util/settle.js';

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
    // Options, validated before connecting. Read-only: no access pre-flight; what RBAC hides
    // (volumes, classes, events) is said in a warning and the claims are still shown.
    const printer = printerOf(cmd);
    const o = cmd.opts<{ selector?: string; watch?: boolean; watchOnly?: boolean }>();
    const all = Boolean(cmd.opts().allNamespaces);
    if (claim && (o.watch || o.watchOnly || o.selector)) throw new UsageError('-w/--watch, --watch-only and -l/--selector are for the list of claims, not one CLAIM');
    const claimName = claim === undefined ? undefined : nameOf(claim, R.pvcs, 'CLAIM');
    if (claimName && all) throw new UsageError('a CLAIM and -A/--all-namespaces cannot be used together');
    const { kube, namespace } = await connectFrom(cmd, deps);
    if (claimName) return showClaim(kube, deps, namespace, claimName, printer);
    // Each gap once, also when -w reads a row again on every event.
    const warned = new Set<string>();
    const warn = (w: string) => void (warned.has(w) || (warned.add(w), deps.err.write(`Warning: ${w}\n`)));
    const list = () => claimViews(kube, all ? undefined : namespace, warn, o.selector);
    let now = deps.now();
    // kubectl's CAPACITY (status.capacity once bound), plus the request when it differs.
    const capacity = (v: ClaimView) => (v.capacity && v.requested && v.capacity !== v.requested ? `${v.capacity} (asked ${v.requested})` : (v.capacity ?? ''));
    // Ages are computed when a line is printed (watch lines come later).
    const spec = (views: ClaimView[]): PrintSpec<ClaimView> => (
      (now = deps.now()),
      {
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
          { header: 'ACCESS MODES', value: (v) => shortModes(v.boundAccessModes) },
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
      }
    );
    if (o.watch || o.watchOnly) {
      const io = { out: deps.out, err: deps.err };
      return watchList<ClaimView>({
        kube,
        path: pathOf(R.pvcs, { namespace: all ? undefined : namespace }),
        labelSelector: o.selector,
        rows: list,
        // A line per event: the claim's row read in its namespace (its pods, events), not every claim again.
        rowOf: async (c) => (await claimViews(kube, undefined, warn, undefined, c as PersistentVolumeClaim))[0],
        spec,
        printer,
        io,
        watchOnly: Boolean(o.watchOnly),
        signal: deps.signal,
      });
    }
    await printer.print(deps, spec(await list()));
  });

  const pv = cmd.command('pv').description('PersistentVolumes with their claim; Available and Released ones called out');
  addOutputOption(pv, ['table', 'json', 'yaml', 'name'], { list: true });
  addSelectorOption(pv);
  addWatchOptions(pv);
  pv.action(async () => listVolumes(pv, deps));

  const reclaim = cmd.command('reclaim').description('make a Released volume Available again by clearing its claimRef').argument('<pv>', 'the PersistentVolume (NAME or pv/NAME)');
  addMutationOptions(reclaim);
  reclaim.option('--timeout <duration>', 'how long to wait for the volume controller to mark the volume Available', '30s');
  addOutputOption(reclaim, ['table', 'name']);
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

/**
 * At most five list calls whatever the number of claims: claims, volumes, classes, pods, and
 * events when a claim has problems. `only`: the row of one claim (a watch event's copy), read
 * in its own namespace, so an event under -A does not list every pod of the cluster again.
 */
export async function claimViews(kube: Kube, namespace: string | undefined, warn: (s: string) => void, selector?: string, only?: PersistentVolumeClaim): Promise<ClaimView[]> {
  if (only) namespace = only.metadata?.namespace;
  const [claims, volumes, classes, pods] = await allInOrder([
    only ? { items: [only] } : listLean<PersistentVolumeClaim>(kube, pathOf(R.pvcs, { namespace }), { labelSelector: selector }),
    listLean<PersistentVolume>(kube, pathOf(R.pvs), {}).catch(undefinedIfForbidden),
    kube.listIfAllowed<StorageClass>(pathOf(R.storageclasses)),
    claimUsers(kube, namespace),
  ]);
  warnHidden(warn, !volumes, !classes);
  const inv = {
    claims: claims.items,
    volumes: volumes?.items ?? [],
    classes: classes?.items ?? [],
    pods,
    events: [] as KEvent[],
    nodes: undefined as Node[] | undefined,
    hidden: { volumes: !volumes, classes: !classes },
  };
  if (claims.items.some((c) => c.status?.phase !== 'Bound' || c.metadata?.deletionTimestamp)) {
    const [events, nodes] = await allInOrder([
      kube.listIfAllowed<KEvent>(pathOf(R.events, { namespace }), { fieldSelector: 'involvedObject.kind=PersistentVolumeClaim,type=Warning' }),
      claims.items.some((c) => waitsForLocalVolume(c, inv.classes)) ? kube.listIfAllowed<Node>(pathOf(R.nodes)) : undefined,
    ]);
    if (!events) warn('you may not list events (forbidden): Pending reasons lack the latest warning');
    inv.events = events?.items ?? [];
    inv.nodes = nodes?.items;
  }
  // Byte order, as the API server lists them (and kubectl shows them).
  return buildClaimViews(inv).sort((a, b) => byteOrder(a.namespace, b.namespace) || byteOrder(a.name, b.name));
}

/**
 * Claims and volumes are the answer and are kept, but without metadata.managedFields, which no
 * view reads and which is often the largest part of an object.
 */
async function listLean<T extends { metadata?: { managedFields?: unknown } }>(kube: Kube, path: string, lo: ListOptions): Promise<{ items: T[] }> {
  const { value } = await kube.listFold<T, T[]>(
    path,
    lo,
    () => [],
    (kept, page) => {
      for (const o of page) {
        if (o.metadata) delete o.metadata.managedFields;
        kept.push(o);
      }
    },
  );
  return { items: value };
}

function undefinedIfForbidden(e: unknown): undefined {
  if (e instanceof ApiError && e.status === 403) return undefined;
  throw e;
}

/**
 * The pods that mount a claim, read page by page and reduced as they arrive (claimUser): a
 * cluster's pods are mostly not the answer, so they are never all in memory at once.
 */
async function claimUsers(kube: Kube, namespace: string | undefined): Promise<Pod[]> {
  const { value } = await kube.listFold<Pod, Pod[]>(
    pathOf(R.pods, { namespace }),
    { fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' },
    () => [],
    (kept, page) => {
      for (const p of page) {
        const u = claimUser(p);
        if (u) kept.push(u);
      }
    },
  );
  return value;
}

async function showClaim(kube: Kube, deps: Deps, namespace: string, name: string, printer: Printer): Promise<void> {
  // A list by name, not a GET: the same verbs as the table (list persistentvolumeclaims), so one declaration covers both forms.
  const found = await kube.list<PersistentVolumeClaim>(pathOf(R.pvcs, { namespace }), { fieldSelector: `metadata.name=${name}` });
  const pvc = found.items[0];
  if (!pvc) throw new ApiError(404, 'NotFound', `persistentvolumeclaims "${name}" not found`);
  const [volumes, classes, pods, events] = await allInOrder([
    kube.listIfAllowed<PersistentVolume>(pathOf(R.pvs), pvc.spec?.volumeName ? { fieldSelector: `metadata.name=${pvc.spec.volumeName}` } : {}),
    kube.listIfAllowed<StorageClass>(pathOf(R.storageclasses)),
    claimUsers(kube, namespace),
    kube.listIfAllowed<KEvent>(pathOf(R.events, { namespace }), { fieldSelector: `involvedObject.kind=PersistentVolumeClaim,involvedObject.name=${name}` }),
  ]);
  const nodes = waitsForLocalVolume(pvc, classes?.items ?? []) ? await kube.listIfAllowed<Node>(pathOf(R.nodes)) : undefined;
  const warn = (w: string) => deps.err.write(`Warning: ${w}\n`);
  warnHidden(warn, !volumes, !classes);
  if (!events) warn('you may not list events (forbidden): no events shown');
  const view = buildClaimViews({
    claims: [pvc],
    volumes: volumes?.items ?? [],
    classes: classes?.items ?? [],
    pods,
    events: events?.items ?? [],
    nodes: nodes?.items,
    hidden: { volumes: !volumes, classes: !classes },
  })[0];
  const recent = (events?.items ?? []).sort((a, b) => (evTime(a) < evTime(b) ? -1 : 1)).slice(-10);
  if (printer.format === 'name') return void deps.out.write(`persistentvolumeclaim/${name}\n`);
  if (!printer.human) {
    return printer.printDocument(deps, { ...view, events: recent.map((e) => ({ type: e.type, reason: e.reason, message: e.message, time: evTime(e) })) });
  }
  const now = deps.now();
  const modes = view.boundAccessModes.length ? view.boundAccessModes : view.accessModes;
  const lines = [`persistentvolumeclaim/${name} (${view.status}, ${view.capacity ?? view.requested}, ${shortModes(modes)})`];
  const sc = view.storageClass;
  const scLine = sc.name
    ? `class: ${sc.name}${sc.exists ? ` (${sc.provisioner}, ${sc.volumeBindingMode ?? 'Immediate'}, reclaim ${sc.reclaimPolicy ?? 'Delete'}${sc.isDefault ? ', default' : ''})` : sc.exists === null ? ' (details hidden from you)' : ' (does not exist)'}`
    : 'class: <none>';
  if (view.volume) {
    lines.push(`├─ volume: ${view.volume.name} (${view.volume.capacity ?? '?'}, ${view.volume.status ?? 'missing'}, reclaim ${view.volume.reclaimPolicy ?? '?'})`);
    lines.push(`│  └─ ${scLine}`);
  } else {
    lines.push('├─ volume: <none>');
    lines.push(`├─ ${scLine}`);
  }
  if (view.reason) lines.push(`├─ ${view.deletionTimestamp ? 'terminating' : 'pending'}: ${view.reason}`);
  for (const n of view.nearMisses) lines.push(`│  └─ ${n.name}: ${n.why.join(', ')}`);
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

/** A claim waiting for pre-created local volumes (WaitForFirstConsumer, no provisioner): the nodes tell which of them can be used. */
function waitsForLocalVolume(c: PersistentVolumeClaim, classes: StorageClass[]): boolean {
  if (c.status?.phase !== 'Pending' || c.spec?.volumeName) return false;
  const sc = classes.find((x) => x.metadata?.name === claimClass(c));
  return sc?.volumeBindingMode === 'WaitForFirstConsumer' && sc.provisioner === 'kubernetes.io/no-provisioner';
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function evTime(e: KEvent): string {
  return e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '';
}

async function listVolumes(cmd: Command, deps: Deps): Promise<void> {
  const printer = printerOf(cmd);
  const o = cmd.opts<{ selector?: string; watch?: boolean; watchOnly?: boolean }>();
  const { kube } = await connectFrom(cmd, deps);
  // The claims say whether a Released volume's former claim is gone, and which Pending claims an Available one could serve.
  const claimsNow = async () => {
    const claims = (await kube.list<PersistentVolumeClaim>(pathOf(R.pvcs))).items;
    return {
      keys: new Set(claims.map((c) => `${c.metadata?.namespace}/${c.metadata?.name}/${c.metadata?.uid}`)),
      pending: claims.filter((c) => c.status?.phase === 'Pending' && !c.spec?.volumeName && !c.metadata?.deletionTimestamp),
    };
  };
  const rowOf = (v: PersistentVolume, claims: { keys: Set<string>; pending: PersistentVolumeClaim[] }) => {
    const ref = v.spec?.claimRef;
    const claim = ref ? `${ref.namespace}/${ref.name}` : null;
    const phase = v.status?.phase ?? 'Unknown';
    let note = '';
    if (phase === 'Available') note = availableNote(v, claims.pending);
    if (phase === 'Released') {
      const gone = !claims.keys.has(`${ref?.namespace}/${ref?.name}/${ref?.uid}`);
      note = `former claim ${claim}${gone ? ' is gone' : ''}; ${v.spec?.persistentVolumeReclaimPolicy === 'Retain' ? `data kept; \`kubectl mlops storage reclaim ${v.metadata?.name}\` makes it Available` : `reclaim policy ${v.spec?.persistentVolumeReclaimPolicy}`}`;
    }
    if (phase === 'Failed') note = v.status?.message ?? 'failed';
    if (v.metadata?.deletionTimestamp) note = `deleted${v.metadata.finalizers?.length ? `; waiting for finalizers ${v.metadata.finalizers.join(', ')}` : ''}`;
    return {
      name: v.metadata!.name!,
      capacity: v.spec?.capacity?.storage ?? null,
      accessModes: v.spec?.accessModes ?? [],
      reclaimPolicy: v.spec?.persistentVolumeReclaimPolicy ?? null,
      // As `kubectl get pv`: Terminating once deletionTimestamp is set.
      status: v.metadata?.deletionTimestamp ? 'Terminating' : phase,
      phase,
      claim,
      storageClass: volumeClass(v),
      created: v.metadata?.creationTimestamp ?? null,
      note,
    };
  };
  const list = async () => {
    const [pvs, claims] = await allInOrder([kube.list<PersistentVolume>(pathOf(R.pvs), { labelSelector: o.selector }), claimsNow()]);
    return pvs.items.map((v) => rowOf(v, claims)).sort((a, b) => byteOrder(a.name, b.name));
  };
  type Row = Awaited<ReturnType<typeof list>>[number];
  let now = deps.now();
  const spec = (rows: Row[]): PrintSpec<Row> => (
    (now = deps.now()),
    {
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
        { header: 'STORAGECLASS', value: (r) => r.storageClass },
        { header: 'AGE', value: (r) => age(r.created ?? undefined, now) },
        { header: 'NOTE', value: (r) => r.note },
      ],
    }
  );
  if (o.watch || o.watchOnly) {
    const io = { out: deps.out, err: deps.err };
    return watchList<Row>({
      kube,
      path: pathOf(R.pvs),
      labelSelector: o.selector,
      rows: list,
      // The event's copy of the volume (a deleted one included), with the claims as they are now.
      rowOf: async (v) => rowOf(v as PersistentVolume, await claimsNow()),
      spec,
      printer,
      io,
      watchOnly: Boolean(o.watchOnly),
      signal: deps.signal,
    });
  }
  await printer.print(deps, spec(await list()));
}

/** Who an Available volume can serve, and which Pending claims of its class it cannot (and why). */
function availableNote(v: PersistentVolume, pending: PersistentVolumeClaim[]): string {
  const note = servesText(v);
  if (v.spec?.claimRef) return note;
  const cls = volumeClass(v);
  const near = pending.filter((c) => claimClass(c) === cls);
  const fits = near.filter((c) => mismatches(v, c).length === 0);
  if (fits.length) return `${note}; fits Pending ${fits.map((c) => `${c.metadata?.namespace}/${c.metadata?.name}`).join(', ')}`;
  const not = near.slice(0, 2).map((c) => `${c.metadata?.namespace}/${c.metadata?.name} (it ${mismatches(v, c).join(', ')})`);
  return not.length ? `${note}; not Pending ${not.join(', ')}` : note;
}

interface ReclaimOptions {
  name: string;
  dryRun: 'none' | 'client' | 'server';
  yes: boolean;
  timeoutMs: number;
}

/**
 * Clears the claimRef of a Released (Retain) volume so the volume controller makes it
 * Available: options → plan (reads, refusals) → access pre-flight → guarded patch → verify
 * Available. A re-run converges ("already Available"); an interrupted one resumes the wait.
 */
async function reclaimVolume(cmd: Command, deps: Deps, arg: string): Promise<void> {
  // 1. Options, no I/O.
  const o: ReclaimOptions = {
    name: nameOf(arg, R.pvs, 'PV'),
    dryRun: dryRunOf(cmd),
    yes: Boolean(cmd.opts().yes),
    timeoutMs: parseTimeout(String(cmd.opts().timeout)),
  };
  if (o.dryRun === 'none' && !o.yes && !deps.stdinIsTTY) throw new UsageError(`reclaiming persistentvolume/${o.name} needs confirmation: pass --yes (stdin is not a terminal)`);
  const obj = `persistentvolume/${o.name}`;
  const suffix = dryRunSuffix(o.dryRun);
  // -o name, as kubectl patch -o name: persistentvolume/NAME alone, whichever outcome.
  const names = printerOf(cmd).format === 'name';
  const say = (line: string) => deps.out.write(names ? `${obj}\n` : line);

  // 2. Plan: reads only.
  const { kube, namespace } = await connectFrom(cmd, deps);
  const path = pathOf(R.pvs, { name: o.name });
  const pv = await kube.get<PersistentVolume>(path);
  const ref = pv.spec?.claimRef;
  // 3. Pre-flight before any answer but a client dry run's: the claim is checked in its own namespace.
  if (o.dryRun !== 'client') await preflight(kube, 'storage reclaim', ref?.namespace ?? namespace);
  const phase = pv.status?.phase;
  if (pv.metadata?.deletionTimestamp) throw new CliError(`${obj} is being deleted; nothing to reclaim`);
  if (phase === 'Available' && !ref) {
    say(`${obj} already Available${suffix}\n`);
    return;
  }
  if (phase === 'Bound') throw new CliError(`${obj} is Bound to ${ref?.namespace}/${ref?.name}; only a Released volume can be reclaimed`);
  if (phase === 'Available') throw new CliError(`${obj} is Available but reserved for ${ref?.namespace}/${ref?.name} (spec.claimRef); nothing to reclaim`);
  if (ref && phase !== 'Released') throw new CliError(`${obj} is ${phase ?? 'in no phase'}; only a Released volume can be reclaimed`);
  if (ref && pv.spec?.persistentVolumeReclaimPolicy !== 'Retain') {
    throw new CliError(
      `${obj} has reclaim policy ${pv.spec?.persistentVolumeReclaimPolicy}: the volume controller ${pv.spec?.persistentVolumeReclaimPolicy === 'Recycle' ? 'recycles' : 'deletes'} it; only a Retain volume can be reclaimed`,
    );
  }
  if (ref) {
    const claim = await kube.getOptional<PersistentVolumeClaim>(pathOf(R.pvcs, { namespace: ref.namespace, name: ref.name }));
    if (claim && (claim.spec?.volumeName === o.name || isBoundToClaim(pv, claim))) {
      throw new CliError(`persistentvolumeclaim ${ref.namespace}/${ref.name} still points at ${obj}; delete that claim first`);
    }
  }

  // 4. Apply: a merge patch guarded by the resourceVersion, so a concurrent change is a 409 and
  // re-plans on the fresh volume (a JSON patch's "remove" would fail as 422 on a volume whose
  // claimRef someone else already cleared).
  let wrote = false;
  if (ref) {
    if (o.dryRun === 'client') {
      say(`${obj} would be made Available (claimRef to ${ref.namespace}/${ref.name} cleared)${suffix}\n`);
      return;
    }
    if (o.dryRun === 'none') {
      await confirmOrAbort(deps, o.yes, `Make ${obj} Available? The data of ${ref.namespace}/${ref.name} stays on it and the next claim will see it.`, `reclaiming ${obj}`);
    }
    const r = await kube.patchGuarded<PersistentVolume>(
      path,
      'merge',
      (cur) => {
        const now = cur.spec?.claimRef;
        if (!now) return undefined;
        if (cur.status?.phase !== 'Released' || now.uid !== ref.uid || now.namespace !== ref.namespace || now.name !== ref.name) {
          throw new CliError(`${obj} changed meanwhile (now ${cur.status?.phase}${now ? `, claimRef ${now.namespace}/${now.name}` : ''}); nothing changed`);
        }
        return { spec: { claimRef: null } };
      },
      { dryRun: o.dryRun, known: pv },
    );
    if (o.dryRun === 'server') {
      say(`${obj} would be made Available (claimRef to ${ref.namespace}/${ref.name} cleared)${suffix}\n`);
      return;
    }
    wrote = r.changed;
    if (r.changed) {
      deps.journal.wrote(`${obj}: claimRef to ${ref.namespace}/${ref.name} removed`);
      deps.journal.undo(
        `kubectl patch pv ${o.name} --type json -p '[{"op":"add","path":"/spec/claimRef","value":${JSON.stringify({ kind: 'PersistentVolumeClaim', namespace: ref.namespace, name: ref.name, uid: ref.uid })}}]'`,
      );
    }
  } else if (o.dryRun !== 'none') {
    say(`${obj} has no claimRef any more; the volume controller makes it Available${suffix}\n`);
    return;
  }
  deps.journal.resume(`kubectl mlops storage reclaim ${o.name} --yes`);

  // 5. Verify, also when nothing was written (a re-run after an interrupted wait).
  deps.journal.expect('available', `${obj} Available`);
  const end = await withProgress(`waiting for the volume controller to mark ${obj} Available`, { stream: deps.err, enabled: true }, () =>
    kube.waitFor<PersistentVolume, { state: 'available' } | { state: 'gone' } | { state: 'claimed'; by: string }>(
      pathOf(R.pvs),
      { fieldSelector: `metadata.name=${o.name}` },
      (items) => {
        const cur = items[0];
        if (!cur) return { state: 'gone' };
        const now = cur.spec?.claimRef;
        // Claimed at once by a Pending claim that fits: the reclaim did its job.
        if (now && now.uid !== ref?.uid) return { state: 'claimed', by: `${now.namespace}/${now.name}` };
        if (cur.status?.phase === 'Available' && !now) return { state: 'available' };
        return undefined;
      },
      {
        timeoutMs: o.timeoutMs,
        signal: deps.signal,
        onTimeout: (items) =>
          `${obj} is ${items[0]?.status?.phase ?? 'gone'}${items[0]?.spec?.claimRef ? '' : ' with its claimRef cleared'}: the volume controller has not marked it Available within ${cmd.opts().timeout}`,
      },
    ),
  );
  if (end.state === 'gone') throw new CliError(`${obj} was deleted meanwhile`);
  deps.journal.confirm('available', end.state === 'claimed' ? `${obj} Available, then claimed by ${end.by}` : undefined);
  if (ref && !wrote) return void say(`${obj} Available: its claimRef was cleared meanwhile by someone else; nothing written\n`);
  // A re-run after an interrupted wait: the claimRef was already gone, only the end state was awaited.
  if (!ref) return void say(`${obj} Available (its claimRef was already cleared)\n`);
  say(end.state === 'claimed' ? `${obj} reclaimed: Available, and at once claimed by ${end.by}\n` : `${obj} reclaimed: Available\n`);
  if (ref) deps.err.write(`Warning: the data of the former claim ${ref.namespace}/${ref.name} is still on the volume\n`);
}
