// `-w/--watch` and `--watch-only` for list views, kubectl get -w style: the list, then one
// line per change of a watched object, until Ctrl-C. The command keeps building its rows
// its own way (a row may join several objects); this only decides when and what to print.
// A joined row shows the object as it is when the change is processed (kubectl shows the
// event's copy); rows that are the object itself (rowOf) show the event's copy.
import type { Kube } from '../kube/client.js';
import { ApiError } from '../errors.js';
import type { PrintSpec, Printer } from './printer.js';

interface Watched {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export interface WatchListOptions<Row> {
  kube: Kube;
  /** The collection whose changes produce lines (e.g. the claims of a namespace). */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** The command's list, run again on every change (a row may join several objects). */
  rows: () => Promise<Row[]>;
  /** When a row is the watched object itself: the row of an event's object, so each line shows that event's state and no list is needed. */
  rowOf?: (obj: unknown) => Row;
  /** `namespace/name` of the watched object a row shows (namespace '' when cluster-scoped). */
  key: (row: Row) => string;
  spec: (rows: Row[]) => PrintSpec<Row>;
  printer: Printer;
  io: { out: { write(s: string): unknown }; err: { write(s: string): unknown } };
  /** --watch-only: no list first. */
  watchOnly: boolean;
  /** Aborted on Ctrl-C: the watch ends and the command succeeds. */
  signal: AbortSignal;
}

/**
 * Resolves when the signal aborts (Ctrl-C). kubectl get -w exits 1 on Ctrl-C; we exit 0,
 * as ending a watch is how it is used (README says so).
 */
export async function watchList<Row>(o: WatchListOptions<Row>): Promise<void> {
  const lo = { labelSelector: o.labelSelector, fieldSelector: o.fieldSelector };
  let first = true;
  let needHeader = o.watchOnly;
  // json, yaml and jsonpath print each object on its own, as kubectl get -w does (a YAML
  // stream separates its documents with ---); tables and names print one line per row.
  let documents = 0;
  const one = async (row: Row): Promise<string> => {
    const spec = o.spec([row]);
    if (!o.printer.structured || o.printer.format === 'custom-columns') {
      const text = await o.printer.render(spec, { noHeaders: !needHeader });
      needHeader = false;
      return text;
    }
    const obj = spec.object ? spec.object(row) : row;
    const text = await o.printer.render({ items: [row], data: () => obj });
    return (o.printer.format === 'yaml' && documents++ > 0 ? '---\n' : '') + text;
  };
  try {
    for (;;) {
      // The version first, then the rows: every change after the rows were built is replayed.
      const { resourceVersion } = await o.kube.list<Watched>(o.path, lo);
      let last = new Map((await o.rows()).map((r) => [o.key(r), r]));
      if (first && !o.watchOnly) {
        const spec = o.spec([...last.values()]);
        if (o.printer.structured && o.printer.format !== 'custom-columns') {
          for (const row of spec.items) o.io.out.write(await one(row));
        } else {
          // An empty list says so on stderr, as kubectl does, and the watch goes on.
          await o.printer.print(o.io, spec);
        }
      }
      first = false;
      try {
        await o.kube.watch<Watched>(
          o.path,
          { ...lo, resourceVersion },
          async (ev) => {
            const k = `${ev.object.metadata?.namespace ?? ''}/${ev.object.metadata?.name ?? ''}`;
            let row: Row | undefined;
            if (o.rowOf) {
              row = o.rowOf(ev.object);
            } else if (ev.type === 'DELETED') {
              row = last.get(k);
            } else {
              // The rows as they are now; an object already gone since this event keeps its last row.
              const fresh = new Map((await o.rows()).map((r) => [o.key(r), r]));
              row = fresh.get(k) ?? last.get(k);
              last = fresh;
              if (row !== undefined) last.set(k, row);
            }
            if (ev.type === 'DELETED') last.delete(k);
            if (row === undefined || o.signal.aborted) return false;
            // --watch-only: kubectl puts the header above the first change.
            o.io.out.write(await one(row));
            return false;
          },
          o.signal,
        );
        return;
      } catch (e) {
        // Our version is too old (410 Gone): list again and go on watching from there.
        if (e instanceof ApiError && e.status === 410) continue;
        throw e;
      }
    }
  } catch (e) {
    if (o.signal.aborted) return;
    throw e;
  }
}
