// --fit N: where one pod of N devices fits now, and what holds the rest.
import type { Report } from './model.js';

export interface FitRow {
  node: string;
  free: number;
  allocatable: number;
  /** Free plus what wasted holders there hold. */
  reclaimable: number;
  fits: boolean;
  /** Why the node is no candidate even with room: NotReady, SchedulingDisabled; or taints a pod must tolerate. */
  blocked: string | null;
  taints: string[];
  heldBy: { holder: string; count: number; wasted: boolean }[];
}

export interface Fit {
  resource: string;
  count: number;
  fits: boolean;
  nodes: FitRow[];
  largest: { node: string; free: number } | null;
}

/** Where one pod of `count` of `resource` fits now: Ready, schedulable nodes with enough free. */
export function fit(report: Report, resource: string, count: number): Fit {
  const rows: FitRow[] = [];
  for (const n of report.nodes) {
    const r = n.resources.find((x) => x.name === resource);
    if (!r) continue;
    const here = report.holders.filter((h) => h.node === n.name && (h.resources[resource] ?? 0) > 0);
    const heldBy = here.map((h) => ({ holder: h.pod ? `${h.namespace}/${h.pod}` : `${h.namespace}/claim/${h.claim}`, count: h.resources[resource], wasted: Boolean(h.wasted) }));
    const blocked = !n.ready ? 'NotReady' : n.unschedulable ? 'SchedulingDisabled' : null;
    const reclaimable = r.free + heldBy.filter((h) => h.wasted).reduce((s, h) => s + h.count, 0);
    rows.push({ node: n.name, free: r.free, allocatable: r.allocatable, reclaimable, fits: !blocked && r.free >= count, blocked, taints: n.taints, heldBy });
  }
  rows.sort((a, b) => Number(b.fits) - Number(a.fits) || b.free - a.free || a.node.localeCompare(b.node));
  const open = rows.filter((r) => !r.blocked);
  const largest = open.length ? open.reduce((m, r) => (r.free > m.free ? r : m), open[0]) : null;
  return { resource, count, fits: rows.some((r) => r.fits), nodes: rows, largest: largest ? { node: largest.node, free: largest.free } : null };
}
