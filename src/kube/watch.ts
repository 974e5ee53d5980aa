// Watches and waits. A dropped stream, a restarted server or a network blip is resumed with
// backoff until the caller's own deadline or signal; an error thrown by the caller's callback
// (a terminal condition such as ProgressDeadlineExceeded) ends the wait at once and is never
// mistaken for a dropped stream.
import { ApiError, CliError, ExitCode, TimeoutError } from '../errors.js';
import type { Transport } from './transport.js';
import type { ListOptions } from './client.js';
import type { ObjectList } from './types.js';

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

type Versioned = { metadata?: { resourceVersion?: string } };

/** Carries an error thrown by the caller's callback through the transport error handling untouched. */
class CallbackFailure extends Error {
  constructor(readonly error: unknown) {
    super('callback failed');
  }
}

/** Without a deadline or signal, a watch gives up after this many failed reconnects in a row. */
const MAX_UNSUPERVISED_RECONNECTS = 5;

/** client-go's reflector backoff: 800 ms doubling to 30 s. */
export function reconnectDelay(failures: number): number {
  return Math.min(800 * 2 ** Math.max(failures - 1, 0), 30_000);
}

/** Sleeps, but wakes at once when the signal aborts. */
export async function pause(t: Transport, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<void>((r) => {
    onAbort = () => r();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([t.sleep(ms), aborted]);
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** A failure of the connection (exit 3), as opposed to an answer from the server. */
function isTransportFailure(e: unknown): boolean {
  return e instanceof CliError && !(e instanceof ApiError) && e.exitCode === ExitCode.UNREACHABLE && !/logged in/.test(e.message);
}

export async function watch<T extends Versioned>(
  t: Transport,
  path: string,
  lo: ListOptions & { resourceVersion: string },
  onEvent: (ev: WatchEvent<T>) => boolean | Promise<boolean>,
  signal?: AbortSignal,
  log?: (line: string) => void,
): Promise<void> {
  let rv = lo.resourceVersion;
  let failures = 0;
  const stopped = () => Boolean(signal?.aborted || t.signal?.aborted);
  for (;;) {
    if (stopped()) return;
    let res;
    try {
      res = await t.send('GET', path, {
        query: { watch: 1, allowWatchBookmarks: true, resourceVersion: rv, labelSelector: lo.labelSelector, fieldSelector: lo.fieldSelector, timeoutSeconds: 290 },
        signal,
        stream: true,
      });
    } catch (e) {
      if (stopped()) return;
      if (!isTransportFailure(e)) throw e;
      failures++;
      if (!signal && failures > MAX_UNSUPERVISED_RECONNECTS) throw e;
      log?.(`watch ${path}: ${(e as Error).message}; reconnecting`);
      await pause(t, reconnectDelay(failures), signal);
      continue;
    }
    const body = res.body;
    const decoder = new TextDecoder();
    let buf = '';
    const streamStart = t.now();
    let events = 0;
    try {
      for await (const chunk of body) {
        buf += decoder.decode(chunk, { stream: true });
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          let ev: WatchEvent<T>;
          try {
            ev = JSON.parse(line) as WatchEvent<T>;
          } catch {
            throw t.badResponse(res, 'malformed JSON in a watch stream');
          }
          if (ev.type === 'ERROR') {
            const st = ev.object as unknown as { code?: number; reason?: string; message?: string };
            throw new ApiError(st.code ?? 500, st.reason ?? 'Unknown', st.message ?? 'watch error');
          }
          rv = ev.object?.metadata?.resourceVersion ?? rv;
          events++;
          failures = 0;
          if (ev.type === 'BOOKMARK') continue;
          let done: boolean;
          try {
            done = await onEvent(ev);
          } catch (e) {
            throw new CallbackFailure(e);
          }
          if (done) {
            await body.cancel().catch(() => undefined);
            return;
          }
        }
      }
    } catch (e) {
      await body.cancel().catch(() => undefined);
      if (e instanceof CallbackFailure) throw e.error;
      if (stopped()) return;
      // A Status error or a stream that is not JSON (a proxy's HTML page) is an answer, not a drop.
      if (e instanceof CliError) throw e;
      // A dropped stream is resumed from the last version seen.
      log?.(`watch ${path} interrupted: ${(e as Error).message}; resuming`);
    }
    // A server (or proxy) that keeps closing watches at once must not turn this into a busy loop.
    if (events === 0 && t.now() - streamStart < 1000) {
      failures++;
      if (!signal && failures > MAX_UNSUPERVISED_RECONNECTS) throw new CliError(`the server at ${t.server} keeps closing the watch on ${path}`, ExitCode.UNREACHABLE);
      await pause(t, reconnectDelay(failures), signal);
    }
  }
}

export interface Lister {
  list<T>(path: string, lo?: ListOptions): Promise<ObjectList<T>>;
}

/**
 * Lists, then watches, keeping an up-to-date map of the objects; resolves with the value
 * `check` returns once it is not undefined. Re-lists on 410 Gone (with backoff when it
 * repeats), rides out a lost server until the deadline, and rejects with TimeoutError
 * carrying the last state after timeoutMs.
 */
export async function waitFor<T extends { metadata?: { name?: string; namespace?: string; resourceVersion?: string } }, R>(
  t: Transport,
  lister: Lister,
  path: string,
  lo: ListOptions,
  check: (objects: T[]) => R | undefined,
  opts: { timeoutMs: number; onTimeout: (objects: T[], listed: boolean) => string; signal?: AbortSignal },
  log?: (line: string) => void,
): Promise<R> {
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  opts.signal?.addEventListener('abort', onAbort);
  t.signal?.addEventListener('abort', onAbort);
  let state = new Map<string, T>();
  const key = (o: T) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, opts.timeoutMs);
  let gone = 0;
  let listFailures = 0;
  // A timeout before the first list answered knows nothing of the objects (not "none left").
  let listed = false;
  const finish = (): never => {
    if (timedOut) throw new TimeoutError(opts.onTimeout([...state.values()], listed));
    throw new CliError('interrupted', ExitCode.ABORTED);
  };
  try {
    for (;;) {
      if (controller.signal.aborted) finish();
      let l: ObjectList<T>;
      try {
        l = await lister.list<T>(path, { ...lo, signal: controller.signal });
        listFailures = 0;
      } catch (e) {
        if (controller.signal.aborted) finish();
        if (!isTransportFailure(e)) throw e;
        listFailures++;
        log?.(`list ${path}: ${(e as Error).message}; retrying`);
        await pause(t, reconnectDelay(listFailures), controller.signal);
        continue;
      }
      state = new Map(l.items.map((o) => [key(o), o]));
      listed = true;
      let result = check([...state.values()]);
      if (result !== undefined) return result;
      try {
        await watch<T>(
          t,
          path,
          { ...lo, resourceVersion: l.resourceVersion },
          (ev) => {
            gone = 0;
            if (ev.type === 'DELETED') state.delete(key(ev.object));
            else state.set(key(ev.object), ev.object);
            result = check([...state.values()]);
            return result !== undefined;
          },
          controller.signal,
          log,
        );
      } catch (e) {
        if (e instanceof ApiError && e.status === 410) {
          // A server that answers 410 to every fresh list's version must not be hammered.
          gone++;
          if (gone > 1) await pause(t, reconnectDelay(gone - 1), controller.signal);
          continue;
        }
        throw e;
      }
      if (result !== undefined) return result;
      if (controller.signal.aborted) finish();
    }
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    t.signal?.removeEventListener('abort', onAbort);
  }
}
