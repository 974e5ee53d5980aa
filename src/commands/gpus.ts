import { Option, type Command } from 'commander';
import type { Deps } from '../deps.js';
import { addOutputOption, addSelectorOption, allNamespacesOption, connectFrom, printerOf } from './common.js';
import { renderTable, type Column, type Printer } from '../output/printer.js';
import { age, parseDuration } from '../util/duration.js';
import { CliError, UsageError } from '../errors.js';
import { validateName } from '../util/validate.js';
import { collect, type Collected } from '../gpus/inventory.js';
import { buildReport, type Holder, type NodeResource, type NodeView, type Report, type Waiting } from '../gpus/model.js';
import { fit, type Fit, type FitRow } from '../gpus/fit.js';
import { wasteText } from '../gpus/pods.js';

const FORMATS = ['table', 'wide', 'json', 'yaml'] as const;

export interface GpusOptions {
  printer: Printer;
  allNamespaces: boolean;
  node?: string;
  fit?: number;
  resource?: string;
  notReadyAfterMs: number;
  /** -l/--selector: the pods shown as holders and waiting. */
  selector?: string;
}

/** An extended resource (domain/name) or a DRA driver name (a DNS subdomain); built-in resources are no GPUs. */
const RESOURCE_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** Flags to typed options; every message names its flag. No server needed. */
export function parseGpus(cmd: Command): GpusOptions {
  const o = cmd.opts<{
    allNamespaces?: boolean;
    node?: string;
    fit?: string;
    resource?: string;
    notReadyAfter: string;
    selector?: string;
    watch?: boolean;
    watchOnly?: boolean;
    sortBy?: string;
  }>();
  // A report of several tables has no "one line per change"; the list views do.
  if (o.watch || o.watchOnly) {
    throw new UsageError('gpus prints a report of several tables and has no -w/--watch: storage, storage pv, debug-pod list and scale-to-zero --list have it');
  }
  const printer = printerOf(cmd, FORMATS);
  if (o.sortBy !== undefined && printer.structured)
    throw new UsageError('--sort-by orders the rows of the tables; -o json, yaml, jsonpath and custom-columns print the report in its documented order');
  if (o.selector !== undefined && o.fit !== undefined) throw new UsageError('-l/--selector picks the pods shown; --fit counts every pod, so they are not used together');
  if (o.selector === '') throw new UsageError('-l/--selector needs a label selector, e.g. -l team=vision');
  if (o.node !== undefined) validateName(o.node, '--node');
  let n: number | undefined;
  if (o.fit !== undefined) {
    n = Number(o.fit);
    if (!/^\d+$/.test(o.fit) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`invalid value "${o.fit}" for --fit: want a whole number of GPUs, 1 or more`);
  }
  if (o.resource !== undefined && (o.resource.length > 253 || !RESOURCE_NAME.test(o.resource) || !o.resource.includes('.') || /^([^/]*\.)?kubernetes\.io\//.test(o.resource))) {
    throw new UsageError(`invalid value "${o.resource}" for --resource: want an extended resource such as nvidia.com/gpu or nvidia.com/mig-1g.10gb, or a DRA driver name`);
  }
  const notReadyAfterMs = parseDuration(o.notReadyAfter, '--not-ready-after');
  if (notReadyAfterMs < 0) throw new UsageError(`invalid value "${o.notReadyAfter}" for --not-ready-after: want 0 or a positive duration such as 10m`);
  return {
    printer,
    allNamespaces: Boolean(o.allNamespaces),
    node: o.node,
    fit: n,
    resource: o.resource,
    notReadyAfterMs,
    selector: o.selector,
  };
}

export function register(program: Command, deps: Deps): void {
  const cmd = program
    .command('gpus')
    .description('where the GPUs are, who holds them (and who wastes them), who waits and why, and where a pod of N GPUs fits')
    .option('--node <name>', 'only this node')
    .option('--fit <n>', 'the nodes where a pod of N GPUs fits now; exit 1 when none does')
    .option('--resource <name>', 'the resource --fit asks for (default nvidia.com/gpu); also shown when it is not GPU-like')
    .option('--not-ready-after <duration>', 'a GPU holder not Ready for this long counts as wasting its GPUs', '10m');
  allNamespacesOption(cmd);
  addOutputOption(cmd, FORMATS, { list: true });
  addSelectorOption(cmd);
  // Accepted only to be refused with a useful line (parseGpus); not offered in help or completion.
  cmd.addOption(new Option('-w, --watch').hideHelp());
  cmd.addOption(new Option('--watch-only').hideHelp());
  cmd.action(async () => {
    const o = parseGpus(cmd);
    const result = await runGpus(o, cmd, deps);
    await printGpus(result, o, deps);
    if (result.fit && !result.fit.fits) throw new CliError(noFitMessage(result.fit));
  });
}

export interface GpusResult {
  report: Report;
  fit?: Fit;
  got: Collected;
  /** undefined with -A. */
  namespace?: string;
}

/** The constant number of lists, then pure joins. Warnings about hidden parts go to stderr here, before any data. */
export async function runGpus(o: GpusOptions, cmd: Command, deps: Deps): Promise<GpusResult> {
  const { kube, namespace } = await connectFrom(cmd, deps);
  const ns = o.allNamespaces ? undefined : namespace;
  const extra = o.resource ? [o.resource] : [];
  const got = await collect(kube, { namespace: ns, node: o.node, extra, selector: o.selector });
  warnHidden(got, ns, (s) => deps.err.write(`Warning: ${s}\n`));
  const scope = { namespace: ns, node: o.node, now: deps.now(), notReadyAfterMs: o.notReadyAfterMs, extra };
  const report = buildReport(got.inventory, scope);
  if (o.resource && o.fit === undefined && !got.hidden.nodes && !report.nodes.some((n) => n.resources.some((r) => r.name === o.resource))) {
    deps.err.write(`Warning: no node${o.node ? ` named ${o.node}` : ''} offers ${o.resource}\n`);
  }
  // Where a pod fits, and what holds the rest, does not depend on the namespace shown.
  const f = o.fit !== undefined ? fitFor(ns ? buildReport(got.inventory, { ...scope, namespace: undefined }) : report, o.fit, o.resource, got) : undefined;
  return { report, fit: f, got, namespace: ns };
}

async function printGpus(r: GpusResult, o: GpusOptions, deps: Deps): Promise<void> {
  if (o.printer.structured) {
    const scope = { namespace: r.namespace ?? null, node: o.node ?? null, selector: o.selector ?? null, dra: r.got.dra, hidden: r.got.hidden };
    await o.printer.printDocument(deps, toJson(r.report, scope, r.fit));
  } else if (r.fit) deps.out.write(fitTable(r.fit, tables(o.printer)));
  else {
    deps.out.write(reportText(r.report, r.namespace, deps.now(), o.printer.format === 'wide', r.got, tables(o.printer)));
    if (!r.report.nodes.length && !r.got.hidden.nodes) deps.err.write(o.node ? `node ${o.node} offers no GPUs\n` : 'No node offers GPUs.\n');
  }
}

function fitFor(report: Report, count: number, resource: string | undefined, got: Collected): Fit {
  if (got.hidden.nodes) throw new CliError('--fit needs the nodes, which you may not list (forbidden)');
  // Free is capacity minus every namespace's pods (and claims): counting one namespace would say "fits" where it does not.
  if (got.hidden.podsOutsideNamespace) throw new CliError('--fit needs the pods of all namespaces to know what is free, which you may not list (forbidden)');
  if (got.hidden.claimsOutsideNamespace && resource !== undefined && !resource.includes('/'))
    throw new CliError('--fit for a DRA driver needs the resourceclaims of all namespaces, which you may not list (forbidden)');
  const offered = [...new Set(report.nodes.flatMap((n) => n.resources.map((r) => r.name)))];
  const res = resource ?? (offered.includes('nvidia.com/gpu') || offered.length !== 1 ? 'nvidia.com/gpu' : offered[0]);
  if (!offered.includes(res)) throw new CliError(`no node offers ${res}${offered.length ? ` (offered: ${offered.join(', ')}; pick one with --resource)` : ''}`);
  return fit(report, res, count);
}

function noFitMessage(f: Fit): string {
  const base = `no node has ${f.count} ${f.resource} free now`;
  if (!f.largest) return `${base}: every node offering it is NotReady or cordoned`;
  const better = f.nodes.filter((r) => !r.blocked && r.reclaimable >= f.count);
  const hint = better.length
    ? `; it would fit on ${better[0].node} if its wasted holders (${better[0].heldBy
        .filter((h) => h.wasted)
        .map((h) => h.holder)
        .join(', ')}) were deleted`
    : '';
  return `${base}: the largest free block is ${f.largest.free} on ${f.largest.node}${hint}`;
}

function warnHidden(got: Collected, ns: string | undefined, warn: (s: string) => void): void {
  if (got.hidden.nodes) warn(`you may not list nodes (forbidden): capacity and free GPUs are hidden; showing the GPU pods of ${ns ? `namespace ${ns}` : 'all namespaces'}`);
  else if (got.hidden.podsOutsideNamespace) warn(`you may not list pods in all namespaces (forbidden): IN-USE counts only the pods of namespace ${ns}`);
  if (!got.hidden.nodes && got.hidden.slices) warn('you may not list resourceslices (forbidden): devices of DRA drivers are not shown');
  if (got.hidden.claims) warn('you may not list resourceclaims (forbidden): GPUs held through DRA claims are not shown');
  else if (!got.hidden.nodes && got.hidden.claimsOutsideNamespace)
    warn(`you may not list resourceclaims in all namespaces (forbidden): DRA devices in use count only namespace ${ns}`);
}

const fmtRes = (r: Record<string, number>) =>
  Object.entries(r)
    .map(([k, v]) => `${k}: ${Number.isInteger(v) ? v : v.toFixed(2)}`)
    .join(', ');

function summaryLine(report: Report, ns: string | undefined, got: Pick<Collected, 'hidden'>): string {
  const s = report.summary;
  const parts: string[] = [];
  if (s.total === null) parts.push(`total and free unknown (nodes hidden), ${s.inUse} in use in ${ns ? `namespace ${ns}` : 'all namespaces'}`);
  else {
    const elsewhere = (s.free ?? 0) - (s.freeSchedulable ?? 0);
    // Without the other namespaces' pods, in use is a lower bound and free an upper one.
    const partial = got.hidden.podsOutsideNamespace;
    parts.push(
      `${s.total} total`,
      `${partial ? 'at least ' : ''}${s.inUse} in use`,
      `${partial ? 'at most ' : ''}${s.free} free${elsewhere ? ` (${elsewhere} on NotReady or cordoned nodes)` : ''}`,
    );
  }
  parts.push(
    `${s.waiting} waiting (${s.waitingPods} ${s.waitingPods === 1 ? 'pod' : 'pods'})`,
    `${s.wasted} wasted (${s.wastedHolders} ${s.wastedHolders === 1 ? 'holder' : 'holders'})`,
  );
  const scope = ns && !got.hidden.nodes ? ` [holders, waiting and wasted: namespace ${ns}]` : '';
  return `GPUs: ${parts.join(', ')}${scope}`;
}

/**
 * The tables of one report, each as kubectl prints a list: --no-headers drops every header
 * line; --sort-by orders each table's rows by a field of its row object (README, "gpus").
 * A field that no row of any table has is kubectl's error; a table whose rows lack it keeps
 * its order, so one path (.created) can order the holders and the waiting pods alike.
 */
interface Tables {
  render<Row>(columns: Column<Row>[], rows: Row[], object: (row: Row) => unknown, wide?: boolean): string;
  /** Throws kubectl's error when --sort-by found its field in no table; call before writing. */
  check(): void;
}

function tables(printer: Printer): Tables {
  let checked = 0;
  let missing = 0;
  return {
    render(columns, rows, object, wide = false) {
      const sorted = printer.sortTable({ items: rows, object });
      // kubectl neither sorts nor checks a table of one row.
      if (rows.length >= 2) {
        checked++;
        if (sorted === null) missing++;
      }
      return renderTable(columns, sorted ?? rows, { wide, noHeaders: !printer.headers });
    },
    check() {
      if (checked > 0 && missing === checked) throw new CliError(printer.sortMissing());
    },
  };
}

/** What --sort-by sees of a row of the node table. */
function nodeRow({ n, r }: { n: NodeView; r: NodeResource }): object {
  const { name, ...rest } = r;
  return { node: n.name, resource: name, ...rest, state: n.state, taints: n.taints };
}

function reportText(report: Report, ns: string | undefined, now: Date, wide: boolean, got: Collected, t: Tables): string {
  const all = ns === undefined;
  const sections = [summaryLine(report, ns, got) + '\n'];
  const rows = report.nodes.flatMap((n) => n.resources.map((r) => ({ n, r })));
  if (rows.length) {
    sections.push(
      t.render<{ n: NodeView; r: NodeResource }>(
        [
          { header: 'NODE', value: ({ n }) => n.name },
          { header: 'RESOURCE', value: ({ r }) => (r.source === 'dra' ? `${r.name} (dra)` : r.name) },
          { header: 'CAPACITY', value: ({ r }) => r.capacity },
          { header: 'ALLOCATABLE', value: ({ r }) => r.allocatable },
          { header: 'IN-USE', value: ({ r }) => r.inUse },
          { header: 'FREE', value: ({ r }) => r.free },
          { header: 'MODEL', value: ({ r }) => r.product ?? '' },
          { header: 'STATE', value: ({ n }) => n.state },
          { header: 'MEMORY', value: ({ r }) => r.memory ?? '', wide: true },
          { header: 'REPLICAS', value: ({ n, r }) => (r.name === 'nvidia.com/gpu' && n.replicas ? n.replicas : ''), wide: true },
          { header: 'TAINTS', value: ({ n }) => n.taints.join(',') || '<none>', wide: true },
        ],
        rows,
        nodeRow,
        wide,
      ),
    );
  }
  if (report.holders.length) {
    sections.push(
      t.render<Holder>(
        [
          ...(all ? [{ header: 'NAMESPACE', value: (h: Holder) => h.namespace }] : []),
          { header: 'HOLDER', value: (h) => (h.pod ? `pod/${h.pod}` : `resourceclaim/${h.claim}`) },
          { header: 'WORKLOAD', value: (h) => h.workload ?? '<none>' },
          { header: 'GPUS', value: (h) => fmtRes(h.resources) },
          { header: 'NODE', value: (h) => h.node ?? '<none>' },
          { header: 'AGE', value: (h) => age(h.created ?? undefined, now) },
          { header: 'STATE', value: (h) => h.status },
          { header: 'WASTED', value: (h) => (h.wasted ? wasteText(h.wasted, now) : '') },
          { header: 'CLAIMS', value: (h) => h.claims.join(',') || '<none>', wide: true },
        ],
        report.holders,
        (h) => h,
        wide,
      ),
    );
  }
  if (report.waiting.length) {
    sections.push(
      t.render<Waiting>(
        [
          ...(all ? [{ header: 'NAMESPACE', value: (w: Waiting) => w.namespace }] : []),
          { header: 'WAITING', value: (w) => `pod/${w.pod}` },
          { header: 'WORKLOAD', value: (w) => w.workload ?? '<none>' },
          { header: 'GPUS', value: (w) => fmtRes(w.resources) },
          { header: 'AGE', value: (w) => age(w.created ?? undefined, now) },
          { header: 'REASON', value: (w) => w.reason },
          { header: 'CLAIMS', value: (w) => w.claims.join(',') || '<none>', wide: true },
        ],
        report.waiting,
        (w) => w,
        wide,
      ),
    );
  }
  t.check();
  return sections.join('\n');
}

function fitTable(f: Fit, t: Tables): string {
  const held = (r: FitRow) => r.heldBy.map((h) => `${h.holder} (${h.count}${h.wasted ? ', wasted' : ''})`).join(', ') || '<none>';
  const text = t.render<FitRow>(
    [
      { header: 'NODE', value: (r) => r.node },
      { header: 'RESOURCE', value: () => f.resource },
      { header: 'FREE', value: (r) => r.free },
      { header: 'ALLOCATABLE', value: (r) => r.allocatable },
      { header: `FITS-${f.count}`, value: (r) => (r.fits ? (r.taints.length ? `yes, if tolerating ${r.taints.join(',')}` : 'yes') : r.blocked ? `no (${r.blocked})` : 'no') },
      { header: 'HELD-BY', value: held },
    ],
    f.nodes,
    (r) => r,
  );
  t.check();
  return text;
}

/** The documented -o json|yaml shape (README, "gpus -o json"): ages as timestamps, arrays sorted. */
function toJson(report: Report, scope: { namespace: string | null; node: string | null; selector: string | null; dra: string; hidden: Collected['hidden'] }, f?: Fit): object {
  return {
    apiVersion: 'mlops.kubectl.io/v1alpha1',
    kind: 'GPUReport',
    scope: {
      namespace: scope.namespace,
      allNamespaces: scope.namespace === null,
      node: scope.node,
      selector: scope.selector,
      dra: scope.dra,
      hidden: Object.entries(scope.hidden)
        .filter(([, v]) => v)
        .map(([k]) => k),
    },
    summary: report.summary,
    nodes: report.nodes,
    holders: report.holders,
    waiting: report.waiting,
    ...(f ? { fit: f } : {}),
  };
}
