// The one module that talks to the API server. Commands get a Kube and never build URLs,
// headers or retries themselves.
import { createRequire } from 'node:module';
import type * as httpTypes from 'node:http';
import type * as httpsTypes from 'node:https';
import { ApiError, CliError, ExitCode, TimeoutError, UnreachableError } from '../errors.js';
import type { Auth } from './auth.js';
import type { ObjectList } from './types.js';

// node:http's ESM facade reads lazy getters that load Node's bundled undici (~12 ms at every
// start); require() does not. The release bundle is CommonJS and has require already.
const load = typeof require === 'function' ? require : createRequire(import.meta.url);
const http = load('node:http') as typeof httpTypes;
const https = load('node:https') as typeof httpsTypes;

export const FIELD_MANAGER = 'kubectl-mlops';

type Versioned = { metadata?: { resourceVersion?: string } };

export type DryRun = 'none' | 'client' | 'server';

export interface KubeOptions {
  auth: Auth;
  server: string;
  /** 0 means no timeout, as kubectl's --request-timeout=0. */
  requestTimeoutMs?: number;
  /** One stderr line per request when set. */
  log?: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Bounded retries for idempotent requests. */
  maxRetries?: number;
  pageSize?: number;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Answer as text (logs) instead of JSON. */
  text?: boolean;
  signal?: AbortSignal;
  /** Streaming requests (watch) have no request timeout. */
  stream?: boolean;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
}

export interface MutateOptions {
  dryRun?: DryRun;
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

const RETRYABLE_STATUS = new Set([500, 502, 503, 504]);
const MAX_RETRY_AFTER_MS = 30_000;

export class Kube {
  private readonly log?: (line: string) => void;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  readonly server: string;
  private readonly maxRetries: number;
  private readonly pageSize: number;
  /** Count of HTTP requests sent, for tests and `-v`. */
  requests = 0;
  /** Settles when the first connection is up; see fetchOnce. */
  private firstConnection?: Promise<unknown>;

  constructor(private readonly opts: KubeOptions) {
    this.server = opts.server.replace(/\/+$/, '');
    this.log = opts.log;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.now = opts.now ?? Date.now;
    this.maxRetries = opts.maxRetries ?? 4;
    this.pageSize = opts.pageSize ?? 500;
  }

  async request<T>(method: string, path: string, ro: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, ro);
    const text = await res.text();
    if (ro.text) return text as T;
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Sends with retries: 429 for any verb (the server did not act), 5xx and dropped connections for reads only. */
  private async send(method: string, path: string, ro: RequestOptions) {
    const url = this.url(path, ro.query);
    const idempotent = method === 'GET' || method === 'HEAD';
    for (let attempt = 0; ; attempt++) {
      const started = this.now();
      let res;
      try {
        res = await this.fetchOnce(method, url, ro);
      } catch (e) {
        const err = this.networkError(e, method, path, started);
        if (idempotent && !ro.stream && attempt < this.maxRetries && err.exitCode === ExitCode.UNREACHABLE && isTransient(e)) {
          await this.sleep(backoff(attempt));
          continue;
        }
        throw err;
      }
      this.log?.(`${method} ${shortPath(url)} ${res.status} ${this.now() - started}ms`);
      if (res.status < 300) return res;
      const retryable = res.status === 429 || (idempotent && RETRYABLE_STATUS.has(res.status));
      if (retryable && attempt < this.maxRetries) {
        const ra = retryAfterMs(res.headers.get('retry-after'));
        await res.text().catch(() => undefined);
        await this.sleep(ra ?? backoff(attempt));
        continue;
      }
      throw await statusError(res, method);
    }
  }

  private async fetchOnce(method: string, url: string, ro: RequestOptions): Promise<Response> {
    // Requests sent in parallel before any connection exists would each pay a full TLS
    // handshake; letting the first one connect lets the others resume its TLS session.
    if (this.firstConnection) await this.firstConnection.catch(() => undefined);
    else {
      const first = this.fetchOnceRaw(method, url, ro);
      this.firstConnection = first;
      return first;
    }
    return this.fetchOnceRaw(method, url, ro);
  }

  private async fetchOnceRaw(method: string, url: string, ro: RequestOptions): Promise<Response> {
    this.requests++;
    const { headers: authHeaders, agent } = await this.opts.auth.prepare(url, method);
    const headers: Record<string, string> = {
      ...authHeaders,
      accept: ro.text ? 'text/plain, */*' : 'application/json',
      'user-agent': 'kubectl-mlops',
    };
    let body: string | undefined;
    if (ro.body !== undefined) {
      headers['content-type'] = ro.contentType ?? 'application/json';
      body = typeof ro.body === 'string' ? ro.body : JSON.stringify(ro.body);
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const signals: AbortSignal[] = [];
    if (ro.signal) signals.push(ro.signal);
    const timeout = this.opts.requestTimeoutMs ?? 0;
    if (timeout > 0 && !ro.stream) signals.push(AbortSignal.timeout(timeout));
    const signal = signals.length ? AbortSignal.any(signals) : undefined;
    return new Promise<Response>((resolve, reject) => {
      const u = new URL(url);
      const mod = u.protocol === 'https:' ? https : http;
      const req = mod.request(u, { method, headers, agent, signal }, (res) => resolve(new Response(res)));
      req.on('error', (e: Error & { code?: string }) => {
        // An abort from AbortSignal.timeout() surfaces as AbortError; say it was the timeout.
        if (signal?.aborted && (signal.reason as Error | undefined)?.name === 'TimeoutError') e = Object.assign(new Error('timeout'), { name: 'TimeoutError' });
        reject(e);
      });
      req.end(body);
    });
  }

  private networkError(e: unknown, method: string, path: string, started: number): CliError {
    const err = e as Error & { code?: string; cause?: { code?: string; message?: string } };
    this.log?.(`${method} ${path} failed after ${this.now() - started}ms: ${err.code ?? err.cause?.code ?? err.name}`);
    if (err.name === 'TimeoutError') {
      return new TimeoutError(`request to ${this.server} timed out after ${this.opts.requestTimeoutMs}ms (--request-timeout)`);
    }
    if (err.name === 'AbortError') return new CliError('request aborted', ExitCode.ABORTED);
    if (e instanceof CliError) return e;
    const code = err.code ?? err.cause?.code ?? '';
    // Only transport failures mean "unreachable"; anything else is a bug worth seeing as is.
    if (!code) return new CliError(err.message);
    const why =
      {
        ECONNREFUSED: 'connection refused',
        ENOTFOUND: 'no such host',
        EAI_AGAIN: 'cannot resolve host',
        ETIMEDOUT: 'connection timed out',
        ECONNRESET: 'connection reset',
        EHOSTUNREACH: 'host unreachable',
        EPIPE: 'connection closed',
        ERR_SSL_WRONG_VERSION_NUMBER: 'the server does not speak TLS (is the address http://?)',
        DEPTH_ZERO_SELF_SIGNED_CERT: 'certificate is self-signed and not trusted (set certificate-authority in the kubeconfig)',
        SELF_SIGNED_CERT_IN_CHAIN: 'certificate signed by an unknown authority',
        UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate signed by an unknown authority',
        ERR_TLS_CERT_ALTNAME_INVALID: 'certificate is not valid for this address',
        CERT_HAS_EXPIRED: 'certificate has expired',
      }[code] ?? `${err.message}${code ? ` (${code})` : ''}`;
    return new UnreachableError(this.server, why);
  }

  private url(path: string, query?: RequestOptions['query']): string {
    const u = new URL(this.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') u.searchParams.set(k, String(v));
    return u.toString();
  }

  /** GET that also returns the server's Date header (doctor's clock-skew check). */
  async getWithDate<T>(path: string): Promise<{ body: T; date: string | null }> {
    const res = await this.send('GET', path, {});
    const date = res.headers.get('date');
    return { body: JSON.parse(await res.text()) as T, date };
  }

  get<T>(path: string, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('GET', path, { query });
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
    const items: T[] = [];
    let cont: string | undefined;
    let pages = 0;
    let resourceVersion = '';
    do {
      const page = await this.get<{ items: T[] | null; metadata: { continue?: string; resourceVersion: string } }>(path, {
        labelSelector: lo.labelSelector,
        fieldSelector: lo.fieldSelector,
        limit: lo.limit ?? this.pageSize,
        continue: cont,
      });
      pages++;
      items.push(...(page.items ?? []));
      cont = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? '';
    } while (cont);
    return { items, resourceVersion, pages };
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

  replace<T>(path: string, body: unknown, mo: MutateOptions = {}): Promise<T> {
    return this.request<T>('PUT', path, { body, query: mutateQuery(mo) });
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
   * Read-modify-write: `mutate` gets a fresh object and returns the object to PUT (or
   * undefined for "nothing to do"). A 409 Conflict re-reads and tries again, a bounded number of times.
   */
  async update<T extends Versioned>(path: string, mutate: (current: T) => T | undefined, mo: MutateOptions & { attempts?: number } = {}): Promise<{ object: T; changed: boolean }> {
    return this.onFreshObject<T>(path, mo.attempts, undefined, async (current) => {
      const next = mutate(structuredClone(current));
      if (!next) return { object: current, changed: false };
      if (mo.dryRun === 'client') return { object: next, changed: true };
      return { object: await this.replace<T>(path, next, mo), changed: true };
    });
  }

  /**
   * The same loop for patches: `plan` gets a fresh object and returns the patch (or undefined
   * for "nothing to do"); the patch is guarded by that object's resourceVersion, so a
   * concurrent change is a 409 and `plan` runs again on the newer object. With dry run
   * "client" nothing is sent: the plan is returned for the caller to show.
   */
  async patchGuarded<T extends Versioned>(
    path: string,
    type: 'merge' | 'strategic' | 'json',
    plan: (current: T) => unknown | undefined | Promise<unknown | undefined>,
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
  private async onFreshObject<T extends Versioned, R = { object: T; changed: boolean }>(path: string, attempts = 5, known: T | undefined, step: (current: T) => Promise<R>): Promise<R> {
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
   * or the server closes the stream (then it resumes from the last version seen). Throws
   * ApiError 410 when the version is too old, so the caller can re-list.
   */
  async watch<T extends { metadata?: { resourceVersion?: string } }>(
    path: string,
    lo: ListOptions & { resourceVersion: string },
    onEvent: (ev: WatchEvent<T>) => boolean | Promise<boolean>,
    signal?: AbortSignal,
  ): Promise<void> {
    let rv = lo.resourceVersion;
    for (;;) {
      if (signal?.aborted) return;
      let res;
      try {
        res = await this.send('GET', path, {
          query: { watch: 1, allowWatchBookmarks: true, resourceVersion: rv, labelSelector: lo.labelSelector, fieldSelector: lo.fieldSelector, timeoutSeconds: 290 },
          signal,
          stream: true,
        });
      } catch (e) {
        if (signal?.aborted) return;
        throw e;
      }
      const body = res.body;
      if (!body) return;
      const decoder = new TextDecoder();
      let buf = '';
      const streamStart = this.now();
      let events = 0;
      try {
        for await (const chunk of body) {
          buf += decoder.decode(chunk, { stream: true });
          let nl;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line) continue;
            const ev = JSON.parse(line) as WatchEvent<T>;
            if (ev.type === 'ERROR') {
              const st = ev.object as unknown as { code?: number; reason?: string; message?: string };
              throw new ApiError(st.code ?? 500, st.reason ?? 'Unknown', st.message ?? 'watch error');
            }
            rv = ev.object?.metadata?.resourceVersion ?? rv;
            events++;
            if (ev.type === 'BOOKMARK') continue;
            let stop: boolean;
            try {
              stop = await onEvent(ev);
            } catch (e) {
              // The caller's verdict (a terminal condition), not a dropped stream: never resumed.
              await body.cancel().catch(() => undefined);
              throw new CallbackError(e);
            }
            if (stop) {
              await body.cancel().catch(() => undefined);
              return;
            }
          }
        }
      } catch (e) {
        if (e instanceof CallbackError) throw e.error;
        if (signal?.aborted) return;
        if (e instanceof ApiError) throw e;
        // A dropped stream is resumed from the last version seen.
        this.log?.(`watch ${path} interrupted: ${(e as Error).message}; resuming`);
      }
      // A server (or proxy) that keeps closing watches at once must not turn this into a busy loop.
      if (events === 0 && this.now() - streamStart < 1000) await this.sleep(1000);
    }
  }

  /**
   * Lists, then watches, keeping an up-to-date map of the objects; resolves with the value
   * `check` returns once it is not undefined. Re-lists on 410 Gone. Rejects with
   * TimeoutError carrying the last state after timeoutMs.
   */
  async waitFor<T extends { metadata?: { name?: string; namespace?: string; resourceVersion?: string } }, R>(
    path: string,
    lo: ListOptions,
    check: (objects: T[]) => R | undefined,
    opts: { timeoutMs: number; onTimeout: (objects: T[]) => string; signal?: AbortSignal },
  ): Promise<R> {
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    opts.signal?.addEventListener('abort', onAbort);
    let state = new Map<string, T>();
    const key = (o: T) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, opts.timeoutMs);
    try {
      for (;;) {
        const l = await this.list<T>(path, lo);
        state = new Map(l.items.map((o) => [key(o), o]));
        let result = check([...state.values()]);
        if (result !== undefined) return result;
        try {
          await this.watch<T>(
            path,
            { ...lo, resourceVersion: l.resourceVersion },
            (ev) => {
              if (ev.type === 'DELETED') state.delete(key(ev.object));
              else state.set(key(ev.object), ev.object);
              result = check([...state.values()]);
              return result !== undefined;
            },
            controller.signal,
          );
        } catch (e) {
          if (e instanceof ApiError && e.status === 410) continue;
          throw e;
        }
        if (result !== undefined) return result;
        if (timedOut) throw new TimeoutError(opts.onTimeout([...state.values()]));
        if (opts.signal?.aborted) throw new CliError('interrupted', ExitCode.ABORTED);
      }
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }
}

function mutateQuery(mo: MutateOptions) {
  return { fieldManager: FIELD_MANAGER, dryRun: mo.dryRun === 'server' ? 'All' : undefined };
}

function backoff(attempt: number): number {
  return Math.min(250 * 2 ** attempt, 4000);
}

export function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const secs = Number(header);
  if (Number.isFinite(secs) && secs >= 0) return Math.min(secs * 1000, MAX_RETRY_AFTER_MS);
  const at = Date.parse(header);
  if (!Number.isNaN(at)) return Math.min(Math.max(at - Date.now(), 0), MAX_RETRY_AFTER_MS);
  return undefined;
}

function isTransient(e: unknown): boolean {
  const err = e as { code?: string; cause?: { code?: string } };
  return ['ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(err.code ?? err.cause?.code ?? '');
}

/** The bits of a response the client uses, over node:http's IncomingMessage. */
class Response {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  constructor(readonly raw: httpTypes.IncomingMessage) {
    this.status = raw.statusCode ?? 0;
    this.headers = { get: (n) => (raw.headers[n.toLowerCase()] as string | undefined) ?? null };
  }
  async text(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of this.raw) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  get body(): AsyncIterable<Buffer> & { cancel(): Promise<void> } {
    const raw = this.raw;
    return Object.assign(raw as unknown as AsyncIterable<Buffer>, {
      cancel: async () => {
        raw.destroy();
      },
    });
  }
}

function shortPath(url: string): string {
  const u = new URL(url);
  return decodeURIComponent(u.pathname + u.search);
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

async function statusError(res: { status: number; text(): Promise<string> }, method: string): Promise<CliError> {
  const text = await res.text().catch(() => '');
  let st: { reason?: string; message?: string; details?: ApiError['details'] } = {};
  try {
    st = JSON.parse(text);
  } catch {
    st = { message: text.trim().split('\n')[0] || `the server answered ${res.status} to ${method}` };
  }
  if (res.status === 401) {
    return new CliError('You must be logged in to the server (Unauthorized): check the credentials of the kubeconfig user', ExitCode.UNREACHABLE);
  }
  return new ApiError(res.status, st.reason || REASONS[res.status] || 'Unknown', st.message || `the server answered ${res.status}`, st.details);
}

/** Carries an error thrown by a watch callback past the resume-on-transport-error handler. */
class CallbackError extends Error {
  constructor(readonly error: unknown) {
    super('watch callback failed');
  }
}
