// `-w/--watch` and `--watch-only` for list views, kubectl get -w style: the list, then one
// line per change of a watched object, until Ctrl-C. The command builds its rows its own way
// (a row may join several objects); each line is the row of the event's copy of the object,
// as kubectl prints the event's copy, a deleted object included.
import type { Kube } from '../kube/client.js';
import { ApiError } from '../errors.js';
import type { PrintSpec, Printer } from './printer.js';

interface Watched {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export interface WatchListOptions<Row> {
  kube: Kube;
  /** The collection(s) whose changes produce lines (e.g. the claims of a namespace; Deployments, StatefulSets and ReplicaSets). */
  path: string | string[];
  labelSelector?: string;
  fieldSelector?: string;
  /** The command's list, printed first (not with --watch-only). */
  rows: () => Promise<Row[]>;
  /** The row of an event's copy of a watched object (undefined: no line), with whatever it joins read for it alone. */
  rowOf: (obj: unknown) => Row | undefined | Promise<Row | undefined>;
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
 * as ending a watch is how it is used (README says so). With --request-timeout the watch ends
 * that long after it started, quietly and with exit 0, as kubectl get -w does (client-go's
 * http.Client.Timeout closes the stream; get.go ignores the closed watch and returns nil).
 */
export async function watchList<Row>(o: WatchListOptions<Row>): Promise<void> {
  const lo = { labelSelector: o.labelSelector, fieldSelector: o.fieldSelector };
  const paths = Array.isArray(o.path) ? o.path : [o.path];
  const timeoutMs = o.kube.transport.opts.requestTimeoutMs ?? 0;
  let stop = o.signal;
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
  const follow = async (path: string, resourceVersion: string): Promise<void> => {
    for (;;) {
      try {
        await o.kube.watch<Watched>(
          path,
          { ...lo, resourceVersion },
          async (ev) => {
            const row = await o.rowOf(ev.object);
            if (row === undefined || stop.aborted) return false;
            // --watch-only: kubectl puts the header above the first change.
            o.io.out.write(await one(row));
            return false;
          },
          stop,
        );
        return;
      } catch (e) {
        // Our version is too old (410 Gone): list again and go on watching from there.
        if (e instanceof ApiError && e.status === 410) {
          resourceVersion = await o.kube.listVersion(path, lo);
          continue;
        }
        throw e;
      }
    }
  };
  try {
    // The versions first, then the rows: every change after them is replayed (--watch-only
    // needs no rows at all).
    const vs = await Promise.all(paths.map((p) => o.kube.listVersion(p, lo)));
    if (!o.watchOnly) {
      const spec = o.spec(await o.rows());
      if (o.printer.structured && o.printer.format !== 'custom-columns') {
        for (const row of spec.items) o.io.out.write(await one(row));
      } else if (spec.items.length) {
        await o.printer.print(o.io, spec);
      } else {
        // kubectl get -w says nothing of an empty list and puts the header above the first change.
        needHeader = true;
      }
    }
    // kubectl's timer starts with the watch request, after the list.
    // One failed watch ends the others (several kinds are watched side by side).
    const failed = new AbortController();
    stop = AbortSignal.any([o.signal, failed.signal, ...(timeoutMs > 0 ? [AbortSignal.timeout(timeoutMs)] : [])]);
    await Promise.all(
      paths.map((p, i) =>
        follow(p, vs[i]).catch((e: unknown) => {
          failed.abort(e);
          throw e;
        }),
      ),
    );
  } catch (e) {
    if (stop.aborted && stop.reason !== e) return;
    throw e;
  }
}
