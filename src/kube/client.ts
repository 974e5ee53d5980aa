// The verbs every command uses to talk to the API server. Commands get a Kube and never
// build URLs, headers or retries themselves: HTTP, credentials and retries live in
// transport.ts, watches and waits in watch.ts.
import { ApiError, CliError, ExitCode } from '../errors.js';
import { Transport, type RequestOptions, type TransportOptions } from './transport.js';
import { watch, waitFor, type WatchEvent } from './watch.js';
import type { ObjectList } from './types.js';

export { retryAfterMs, type RequestOptions } from './transport.js';
export type { WatchEvent } from './watch.js';

export const FIELD_MANAGER = 'kubectl-mlops';

type Versioned = { metadata?: { resourceVersion?: string } };

export type DryRun = 'none' | 'client' | 'server';

export interface KubeOptions extends TransportOptions {
  pageSize?: number;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  signal?: AbortSignal;
}

/** One page of a list, as Kube.pages yields it. */
export interface ListPage<T> {
  items: T[];
  resourceVersion: string;
  /** True on the first page after a continue token expired: what earlier pages gave belongs to an abandoned snapshot. */
  restart: boolean;
  /** Requests made so far for this list (one per page, restarts included). */
  request: number;
}

export interface MutateOptions {
  dryRun?: DryRun;
}

export class Kube {
  readonly server: string;
  private readonly pageSize: number;
  readonly transport: Transport;
  private readonly log?: (line: string) => void;

  constructor(opts: KubeOptions) {
    this.transport = new Transport(opts);
    this.server = this.transport.server;
    this.pageSize = opts.pageSize ?? 500;
    this.log = opts.log;
  }

  request<T>(method: string, path: string, ro: RequestOptions = {}): Promise<T> {
    return this.transport.request<T>(method, path, ro);
  }

  /** GET that also returns the server's Date header (doctor's clock-skew check). */
  async getWithDate<T>(path: string): Promise<{ body: T; date: string | null }> {
    const res = await this.transport.send('GET', path, {});
    const date = res.headers.get('date');
    return { body: this.transport.parseJson<T>(res, await this.transport.readBody(res)), date };
  }

  get<T>(path: string, query?: RequestOptions['query'], signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, { query, signal });
  }

  /** Returns undefined for 404 instead of throwing. */
  async getOptional<T>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  /** Lists every page (limit/continue), so the request count grows only by pages. */
  async list<T>(path: string, lo: ListOptions = {}): Promise<ObjectList<T>> {
    const { value, resourceVersion, pages } = await this.listFold<T, T[]>(
      path,
      lo,
      () => [],
      (items, page) => {
        for (const item of page) items.push(item);
      },
    );
    return { items: value, resourceVersion, pages };
  }

  /**
   * A list read page by page: `add` gets each page's items as they arrive and keeps what it
   * needs, so memory follows what the caller keeps, not the list (one page at a time).
   * `start` makes the accumulator, again after a restart (see pages()), so nothing kept from
   * an abandoned snapshot survives.
   */
  async listFold<T, A>(path: string, lo: ListOptions, start: () => A, add: (acc: A, items: T[]) => void): Promise<{ value: A; resourceVersion: string; pages: number }> {
    let value = start();
    let resourceVersion = '';
    let pages = 0;
    const it = this.pages<T>(path, lo);
    for (;;) {
      // Not a for-await loop: its binding would keep the previous page alive while the next one is read.
      let r: IteratorResult<ListPage<T>> | undefined = await it.next();
      if (r.done) break;
      if (r.value.restart) value = start();
      add(value, r.value.items);
      resourceVersion = r.value.resourceVersion;
      pages = r.value.request;
      r = undefined;
    }
    return { value, resourceVersion, pages };
  }

  /** listFold on a list the user may not be allowed to see: undefined on 403. */
  async listFoldIfAllowed<T, A>(
    path: string,
    lo: ListOptions,
    start: () => A,
    add: (acc: A, items: T[]) => void,
  ): Promise<{ value: A; resourceVersion: string; pages: number } | undefined> {
    try {
      return await this.listFold(path, lo, start, add);
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) return undefined;
      throw e;
    }
  }

  /**
   * The one paging loop: yields one page at a time (limit/continue) and requests the next only
   * when the caller asks for it, so no more than a page is held here.
   *
   * A continue token the server has compacted away answers 410 Expired. client-go's pager then
   * falls back to one unpaged list, which would hold the whole list in one body; here the list
   * starts again from its first page on a fresh snapshot (`restart`: the caller drops what it
   * kept), and only if that one expires too falls back to the unpaged list, as client-go does.
   * A 410 on a first page (no continue token) is the caller's to handle.
   */
  async *pages<T>(path: string, lo: ListOptions = {}): AsyncGenerator<ListPage<T>> {
    const seen = new Set<string>();
    let cont: string | undefined;
    let restarts = 0;
    let restart = false;
    let unpaged = false;
    let request = 0;
    let page: { items: T[] | null; metadata?: { continue?: string; resourceVersion?: string } } | undefined;
    for (;;) {
      try {
        request++;
        page = await this.get(
          path,
          { labelSelector: lo.labelSelector, fieldSelector: lo.fieldSelector, limit: unpaged ? undefined : (lo.limit ?? this.pageSize), continue: cont },
          lo.signal,
        );
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 410 && cont)) throw e;
        this.log?.(`the continue token for ${path} expired (410); ${restarts === 0 ? 'listing again from the first page' : 'listing everything in one request'}`);
        if (restarts++ === 0) seen.clear();
        else unpaged = true;
        cont = undefined;
        restart = true;
        continue;
      }
      const next = unpaged ? undefined : page!.metadata?.continue || undefined;
      // A server that hands out a continue token it already gave would paginate forever.
      if (next && seen.has(next)) throw new CliError(`the server at ${this.server} returned the same continue token twice while listing ${path}; stopping`, ExitCode.UNREACHABLE);
      if (next) seen.add(next);
      yield { items: page!.items ?? [], resourceVersion: page!.metadata?.resourceVersion ?? '', restart, request };
      // The caller has kept what it needs: this page is not held while the next one is read.
      page = undefined;
      restart = false;
      if (!next) return;
      cont = next;
    }
  }

  /** The collection's resourceVersion now, to start a watch from: a one-object page (the version is the whole snapshot's), not the whole list. */
  async listVersion(path: string, lo: ListOptions = {}): Promise<string> {
    const page = await this.get<{ metadata?: { resourceVersion?: string } }>(path, { labelSelector: lo.labelSelector, fieldSelector: lo.fieldSelector, limit: 1 }, lo.signal);
    return page.metadata?.resourceVersion ?? '';
  }

  /** A list the user may not be allowed to see (cluster-scoped objects for a namespaced user): undefined on 403. */
  async listIfAllowed<T>(path: string, lo: ListOptions = {}): Promise<ObjectList<T> | undefined> {
    try {
      return await this.list<T>(path, lo);
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) return undefined;
      throw e;
    }
  }

  create<T>(path: string, body: unknown, mo: MutateOptions = {}): Promise<T> {
    return this.request<T>('POST', path, { body, query: mutateQuery(mo) });
  }

  patch<T>(path: string, body: unknown, type: 'merge' | 'strategic' | 'json', mo: MutateOptions = {}): Promise<T> {
    const contentType = {
      merge: 'application/merge-patch+json',
      strategic: 'application/strategic-merge-patch+json',
      json: 'application/json-patch+json',
    }[type];
    return this.request<T>('PATCH', path, { body, contentType, query: mutateQuery(mo) });
  }

  /** Server-side apply with our field manager; `force` takes over conflicting fields. */
  apply<T>(path: string, body: unknown, mo: MutateOptions & { force?: boolean } = {}): Promise<T> {
    return this.request<T>('PATCH', path, {
      body,
      contentType: 'application/apply-patch+yaml',
      query: { ...mutateQuery(mo), force: mo.force ? 'true' : undefined },
    });
  }

  delete<T>(path: string, opts: MutateOptions & { propagationPolicy?: string; uid?: string; resourceVersion?: string; gracePeriodSeconds?: number } = {}): Promise<T> {
    const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' };
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    if (opts.uid || opts.resourceVersion) body.preconditions = { uid: opts.uid, resourceVersion: opts.resourceVersion };
    if (opts.dryRun === 'server') body.dryRun = ['All'];
    return this.request<T>('DELETE', path, { body });
  }

  /**
   * Guarded patches: `plan` gets a fresh object and returns the patch (or undefined
   * for "nothing to do"); the patch is guarded by that object's resourceVersion, so a
   * concurrent change is a 409 and `plan` runs again on the newer object. With dry run
   * "client" nothing is sent: the plan is returned for the caller to show.
   */
  async patchGuarded<T extends Versioned>(
    path: string,
    type: 'merge' | 'strategic' | 'json',
    plan: (current: T) => unknown,
    mo: MutateOptions & { attempts?: number; known?: T } = {},
  ): Promise<{ object: T; changed: boolean; current: T; body?: unknown }> {
    return this.onFreshObject(path, mo.attempts, mo.known, async (current: T) => {
      const body = await plan(structuredClone(current));
      if (body === undefined) return { object: current, changed: false, current };
      if (mo.dryRun === 'client') return { object: current, changed: true, current, body };
      const rv = current.metadata?.resourceVersion;
      const guarded =
        type === 'json'
          ? [{ op: 'replace', path: '/metadata/resourceVersion', value: rv }, ...(body as unknown[])]
          : { ...(body as object), metadata: { ...((body as { metadata?: object }).metadata ?? {}), resourceVersion: rv } };
      return { object: await this.patch<T>(path, guarded, type, mo), changed: true, current, body };
    });
  }

  /** `known`: an object the caller just read, used for the first attempt instead of a GET. */
  private async onFreshObject<T extends Versioned, R = { object: T; changed: boolean }>(
    path: string,
    attempts = 5,
    known: T | undefined,
    step: (current: T) => Promise<R>,
  ): Promise<R> {
    for (let i = 0; ; i++) {
      const current = i === 0 && known ? known : await this.get<T>(path);
      try {
        return await step(current);
      } catch (e) {
        if (e instanceof ApiError && e.status === 409 && i + 1 < attempts) continue;
        throw e;
      }
    }
  }

  /**
   * Streams watch events from resourceVersion until `onEvent` returns true, the signal aborts
   * or (without a signal) the connection keeps failing. A dropped stream is resumed from the
   * last version seen; an error thrown by `onEvent` propagates at once. Throws ApiError 410
   * when the version is too old, so the caller can re-list.
   */
  watch<T extends Versioned>(
    path: string,
    lo: ListOptions & { resourceVersion: string },
    onEvent: (ev: WatchEvent<T>) => boolean | Promise<boolean>,
    signal?: AbortSignal,
  ): Promise<void> {
    return watch(this.transport, path, lo, onEvent, signal, this.log);
  }

  /**
   * Lists, then watches, keeping an up-to-date map of the objects; resolves with the value
   * `check` returns once it is not undefined. An error thrown by `check` ends the wait at
   * once. Rejects with TimeoutError carrying the last state after timeoutMs.
   */
  waitFor<T extends { metadata?: { name?: string; namespace?: string; resourceVersion?: string } }, R>(
    path: string,
    lo: ListOptions,
    check: (objects: T[]) => R | undefined,
    opts: { timeoutMs: number; onTimeout: (objects: T[], listed: boolean) => string; signal?: AbortSignal },
  ): Promise<R> {
    return waitFor(this.transport, this, path, lo, check, opts, this.log);
  }
}

function mutateQuery(mo: MutateOptions) {
  return { fieldManager: FIELD_MANAGER, dryRun: mo.dryRun === 'server' ? 'All' : undefined };
}
