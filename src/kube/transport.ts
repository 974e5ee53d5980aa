// HTTP to the API server: credentials from Auth, retries, timeouts, compression, server
// warnings, one log line per request, and one clear error for every way a request can fail.
// The verbs (client.ts) and watches (watch.ts) sit on top; nothing else sends requests.
import { createRequire } from 'node:module';
import type * as httpTypes from 'node:http';
import type * as httpsTypes from 'node:https';
import type * as zlibTypes from 'node:zlib';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type * as http2Types from 'node:http2';
import { ApiError, CliError, ExitCode, TimeoutError, UnreachableError } from '../errors.js';
import { guardHandshake, type Auth, type Prepared } from './auth.js';
import { Http2Connection, http2Settings, type Http2Settings } from './http2.js';

// node:http's ESM facade reads lazy getters that load Node's bundled undici (~12 ms at every
// start); require() does not. The release bundle is CommonJS and has require already.
const load = typeof require === 'function' ? require : createRequire(import.meta.url);
const http = load('node:http') as typeof httpTypes;
const https = load('node:https') as typeof httpsTypes;

export interface TransportOptions {
  auth: Auth;
  server: string;
  /** 0 means no timeout, as kubectl's --request-timeout=0. */
  requestTimeoutMs?: number;
  /** One stderr line per request when set (kubectl -v 6). */
  log?: (line: string) => void;
  /** Server warnings (the Warning header), each printed once, as kubectl. */
  warn?: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Bounded retries for idempotent requests. */
  maxRetries?: number;
  /** Aborts every request (the first Ctrl-C). */
  signal?: AbortSignal;
  /** kubectl-mlops version for the User-Agent. */
  version?: string;
  /** The cluster's disable-compression. */
  disableCompression?: boolean;
  /** HTTP/2 settings; by default from the environment (DISABLE_HTTP2, HTTP2_*_SECONDS), as client-go. */
  http2?: Http2Settings;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Answer as text (logs) instead of JSON. */
  text?: boolean;
  signal?: AbortSignal;
  /** Streaming requests (watch) have no request timeout and are not retried here. */
  stream?: boolean;
}

const RETRYABLE_STATUS = new Set([500, 502, 503, 504]);
const MAX_RETRY_AFTER_MS = 30_000;

const GOARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm: 'arm', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x' };
const GOOS: Record<string, string> = { win32: 'windows' };

/** rest/config.go DefaultUserAgent: name/version (os/arch). */
export function userAgent(version = 'unknown'): string {
  return `kubectl-mlops/${version.split('-')[0] || 'unknown'} (${GOOS[process.platform] ?? process.platform}/${GOARCH[process.arch] ?? process.arch})`;
}

export class Transport {
  readonly server: string;
  private readonly log?: (line: string) => void;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  private readonly maxRetries: number;
  private readonly warned = new Set<string>();
  private readonly ua: string;
  /** Settles when the first connection is up; see fetchOnce. */
  private firstConnection?: Promise<unknown>;
  /** The HTTP/2 session for an https server (undefined with DISABLE_HTTP2 or plain http). */
  private readonly h2?: Http2Connection;
  private readonly h2Always: boolean;
  /** Requests sent and not yet answered to the end of their body (a busy HTTP/1.1 connection each). */
  private outstanding = 0;

  constructor(readonly opts: TransportOptions) {
    this.server = opts.server.replace(/\/+$/, '');
    this.log = opts.log;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.now = opts.now ?? Date.now;
    this.maxRetries = opts.maxRetries ?? 4;
    this.ua = userAgent(opts.version);
    const h2 = opts.http2 ?? http2Settings(process.env, opts.warn);
    if (h2.enabled && this.server.startsWith('https:')) this.h2 = new Http2Connection(new URL(this.server).origin, h2, (s) => guardHandshake(s, true));
    this.h2Always = Boolean(h2.always);
  }

  /** Closes the HTTP/2 session; HTTP/1.1 keep-alive connections are the agent's. */
  close(): void {
    this.h2?.close();
  }

  get signal(): AbortSignal | undefined {
    return this.opts.signal;
  }

  async request<T>(method: string, path: string, ro: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, ro);
    const text = await this.readBody(res, ro.signal);
    if (ro.text) return text as T;
    return this.parseJson<T>(res, text);
  }

  parseJson<T>(res: Response, text: string): T {
    if (!text.trim()) {
      // A DELETE or a 204 may rightly have nothing to say.
      if (res.status === 204 || res.method === 'DELETE') return undefined as T;
      throw this.badResponse(res, 'an empty body');
    }
    if (/^\s*</.test(text)) throw this.badResponse(res, 'an HTML page instead of JSON');
    try {
      return JSON.parse(text) as T;
    } catch {
      throw this.badResponse(res, 'malformed JSON');
    }
  }

  badResponse(res: Response, what: string): CliError {
    return new CliError(`the server at ${this.server} returned ${what} (${res.status}, ${res.headers.get('content-type') || 'no content-type'})`, ExitCode.UNREACHABLE);
  }

  /** Reads the whole body; a connection cut short is exit 3, a stall past --request-timeout exit 4. */
  async readBody(res: Response, signal?: AbortSignal): Promise<string> {
    try {
      return await res.text();
    } catch (e) {
      if (res.timedOut()) throw this.timeoutError();
      if (this.opts.signal?.aborted || signal?.aborted) throw new CliError('interrupted', ExitCode.ABORTED);
      throw new CliError(
        `the server at ${this.server} closed the connection before the whole response was read (${res.status}, ${res.headers.get('content-type') || 'no content-type'}): ${(e as Error).message}`,
        ExitCode.UNREACHABLE,
      );
    }
  }

  private timeoutError(): TimeoutError {
    return new TimeoutError(`request to ${this.server} timed out after ${this.opts.requestTimeoutMs}ms (--request-timeout)`);
  }

  /** Sends with retries: 429 for any verb (the server did not act), 5xx and dropped connections for reads only; one more try after a 401 with a fresh exec credential. */
  async send(method: string, path: string, ro: RequestOptions): Promise<Response> {
    const url = this.url(path, ro.query);
    const idempotent = method === 'GET' || method === 'HEAD';
    const timeout = this.opts.requestTimeoutMs ?? 0;
    const firstStarted = this.now();
    let reauthorized = false;
    for (let attempt = 0; ; attempt++) {
      const started = this.now();
      let res: Response;
      let prepared: Prepared;
      try {
        ({ res, prepared } = await this.fetchOnce(method, url, ro));
      } catch (e) {
        const err = this.networkError(e, method, url, started);
        // A stream the server refused unprocessed (HTTP/2) is safe to send again whatever the verb.
        const again = (idempotent && isTransient(e)) || errCode(e) === 'EH2REFUSED';
        if (again && !ro.stream && attempt < this.maxRetries && err.exitCode === ExitCode.UNREACHABLE) {
          await this.sleep(backoff(attempt));
          continue;
        }
        throw err;
      }
      this.log?.(`${method} ${shortPath(url)} ${res.status} ${this.now() - started}ms (${res.protocol})`);
      this.warnings(res);
      if (res.status < 300) return res;
      if (res.status === 401 && !reauthorized) {
        reauthorized = true;
        await res.text().catch(() => undefined);
        if (await this.opts.auth.unauthorized(prepared)) {
          attempt--;
          continue;
        }
        throw await statusError(res, method, this);
      }
      const retryable = res.status === 429 || (idempotent && !ro.stream && RETRYABLE_STATUS.has(res.status));
      if (retryable && attempt < this.maxRetries) {
        const ra = retryAfterMs(res.headers.get('retry-after'));
        const wait = ra ?? backoff(attempt);
        await res.text().catch(() => undefined);
        // Retry-After never stretches a request past --request-timeout.
        if (timeout > 0 && this.now() - firstStarted + wait > timeout) {
          throw new TimeoutError(`the server at ${this.server} asked to retry after ${Math.ceil(wait / 1000)}s (${res.status}), past --request-timeout ${timeout}ms`);
        }
        await this.sleep(wait);
        continue;
      }
      throw await statusError(res, method, this);
    }
  }

  /** Each distinct server warning once per process, as kubectl (rest/warnings.go, deduplicated). */
  private warnings(res: Response): void {
    if (!this.opts.warn) return;
    for (const w of parseWarnings(res.warningHeaders())) {
      if (this.warned.has(w)) continue;
      this.warned.add(w);
      this.opts.warn(`Warning: ${w}`);
    }
  }

  private async fetchOnce(method: string, url: string, ro: RequestOptions): Promise<{ res: Response; prepared: Prepared }> {
    this.outstanding++;
    try {
      // Requests sent in parallel before any connection exists would each pay a full TLS
      // handshake; letting the first one connect lets the others resume its TLS session (or,
      // on HTTP/2, share its connection).
      let sent: Promise<{ res: Response; prepared: Prepared }>;
      if (this.firstConnection) {
        await this.firstConnection.catch(() => undefined);
        sent = this.fetchOnceRaw(method, url, ro, false);
      } else {
        // On HTTP/1.1 the others wait for the first answer (its connection is then free, and its
        // TLS session resumable); on HTTP/2 only for the session, which they share at once.
        let connected!: () => void;
        const up = new Promise<void>((r) => (connected = r));
        sent = this.fetchOnceRaw(method, url, ro, true, connected);
        this.firstConnection = Promise.race([sent, up]);
        // Its failure is the first request's to report; the others only wait on it.
        this.firstConnection.catch(() => undefined);
      }
      const out = await sent;
      out.res.onDone(() => this.outstanding--);
      return out;
    } catch (e) {
      this.outstanding--;
      throw e;
    }
  }

  /**
   * HTTP/2 when it saves a connection: from the first request when others are already waiting
   * for the first connection, else from the first request sent while another is still busy (it
   * would need a second HTTP/1.1 connection), and for every request after that. A command whose
   * requests go one at a time keeps one HTTP/1.1 connection and never loads node:http2, which
   * costs more than it saves there (bench/findings.md).
   */
  private async wantsHttp2(first: boolean): Promise<boolean> {
    const h2 = this.h2;
    if (!h2) return false;
    if (this.h2Always || h2.inUse()) return true;
    // Requests issued together (Promise.all of lists) all reach fetchOnce within this tick.
    if (first) await new Promise<void>((r) => setImmediate(r));
    return this.outstanding > 1;
  }

  private async fetchOnceRaw(method: string, url: string, ro: RequestOptions, first: boolean, connected?: () => void): Promise<{ res: Response; prepared: Prepared }> {
    const prepared = await this.opts.auth.prepare(url, method);
    const headers: Record<string, string | string[]> = {
      ...prepared.headers,
      accept: ro.text ? 'text/plain, */*' : 'application/json',
      'user-agent': this.ua,
    };
    if (!this.opts.disableCompression) headers['accept-encoding'] = 'gzip';
    let body: string | undefined;
    if (ro.body !== undefined) {
      headers['content-type'] = ro.contentType ?? 'application/json';
      body = typeof ro.body === 'string' ? ro.body : JSON.stringify(ro.body);
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const signals: AbortSignal[] = [];
    if (ro.signal) signals.push(ro.signal);
    if (this.opts.signal) signals.push(this.opts.signal);
    const timeout = this.opts.requestTimeoutMs ?? 0;
    let timeoutSignal: AbortSignal | undefined;
    if (timeout > 0 && !ro.stream) signals.push((timeoutSignal = AbortSignal.timeout(timeout)));
    const signal = signals.length ? AbortSignal.any(signals) : undefined;
    const fwd = prepared.forwardProxy;
    if (!fwd && (await this.wantsHttp2(first))) {
      const res = await this.fetchH2(method, url, headers, body, prepared, signal, timeoutSignal, connected);
      if (res) return { res, prepared };
    }
    if (fwd) headers.host = new URL(url).host;
    if (fwd?.username) headers['proxy-authorization'] = `Basic ${Buffer.from(`${decodeURIComponent(fwd.username)}:${decodeURIComponent(fwd.password)}`).toString('base64')}`;
    // The connection on which the server chose http/1.1 over h2 serves this request, then stays in the agent's pool.
    const handoff = this.h2?.takeHandoff(prepared.agent);
    const res = await new Promise<Response>((resolve, reject) => {
      const u = new URL(url);
      // Through a forwarding proxy the connection is to the proxy and the path is the whole URL.
      const to = fwd ?? u;
      const isHttps = to.protocol === 'https:';
      const mod = isHttps ? https : http;
      const restore = handoff ? lendSocket(prepared.agent, handoff) : undefined;
      const req = mod.request(
        {
          protocol: to.protocol,
          // IPv6 literals go to the socket layer without brackets.
          hostname: to.hostname.replace(/^\[|\]$/g, ''),
          port: to.port || (fwd ? (isHttps ? 443 : 80) : ''),
          path: fwd ? url : u.pathname + u.search,
          method,
          headers,
          agent: prepared.agent,
          signal,
          ...(isHttps && !fwd && prepared.servername ? { servername: prepared.servername } : {}),
        },
        (raw) => resolve(new Response(fromHttp1(raw), method, timeoutSignal)),
      );
      restore?.();
      req.on('socket', (s: Socket) => guardHandshake(s, isHttps));
      req.on('error', (e: Error & { code?: string }) => {
        // An abort from AbortSignal.timeout() surfaces as AbortError; say it was the timeout.
        if (timeoutSignal?.aborted) e = Object.assign(new Error('timeout'), { name: 'TimeoutError' });
        reject(e);
      });
      req.end(body);
    });
    return { res, prepared };
  }

  /** The request over the HTTP/2 session, or undefined when the server chose HTTP/1.1. */
  private async fetchH2(
    method: string,
    url: string,
    headers: Record<string, string | string[]>,
    body: string | undefined,
    prepared: Prepared,
    signal?: AbortSignal,
    timeoutSignal?: AbortSignal,
    connected?: () => void,
  ): Promise<Response | undefined> {
    const u = new URL(url);
    try {
      const live = await this.h2!.session(
        { agent: prepared.agent, host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 443), servername: prepared.servername },
        signal,
      );
      if (!live) return undefined;
      connected?.();
      const r = await this.h2!.request(live, { ':method': method, ':path': u.pathname + u.search, ...headers }, body, signal);
      return new Response(fromHttp2(r.status, r.headers, r.stream), method, timeoutSignal);
    } catch (e) {
      if (timeoutSignal?.aborted) throw Object.assign(new Error('timeout'), { name: 'TimeoutError' });
      throw e;
    }
  }

  networkError(e: unknown, method: string, url: string, started: number): CliError {
    const err = e as Error & { code?: string; cause?: { code?: string; message?: string } };
    this.log?.(`${method} ${shortPath(url)} failed after ${this.now() - started}ms: ${err.code ?? err.cause?.code ?? err.name}`);
    if (e instanceof CliError) return e;
    if (err.name === 'TimeoutError') return this.timeoutError();
    if (err.name === 'AbortError') return new CliError('interrupted', ExitCode.ABORTED);
    const code = err.code ?? err.cause?.code ?? '';
    // Only transport failures mean "unreachable"; anything else is a bug worth seeing as is.
    if (!code) return new CliError(err.message);
    const why =
      {
        ECONNREFUSED: 'connection refused',
        ENOTFOUND: 'no such host',
        EAI_AGAIN: 'cannot resolve host',
        ETIMEDOUT: err.message.includes('i/o timeout') ? err.message : 'connection timed out',
        ETLSHANDSHAKETIMEOUT: 'net/http: TLS handshake timeout',
        ECONNRESET: 'connection reset',
        ECONNLOST: err.message,
        EH2REFUSED: err.message,
        EHOSTUNREACH: 'host unreachable',
        EPIPE: 'connection closed',
        EPROXY: err.message,
        ERR_SSL_WRONG_VERSION_NUMBER: 'the server does not speak TLS (is the address http://?)',
        DEPTH_ZERO_SELF_SIGNED_CERT: 'certificate is self-signed and not trusted (set certificate-authority in the kubeconfig)',
        SELF_SIGNED_CERT_IN_CHAIN: 'certificate signed by an unknown authority',
        UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate signed by an unknown authority',
        UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate signed by an unknown authority',
        ERR_TLS_CERT_ALTNAME_INVALID: 'certificate is not valid for this address',
        CERT_HAS_EXPIRED: 'certificate has expired',
      }[code] ?? `${err.message}${code ? ` (${code})` : ''}`;
    const via = this.opts.auth.route && !['EPROXY'].includes(code) ? ` (${this.opts.auth.route})` : '';
    return new UnreachableError(this.server, why + via);
  }

  url(path: string, query?: RequestOptions['query']): string {
    const u = new URL(this.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') u.searchParams.set(k, String(v));
    return u.toString();
  }
}

/** rest/warnings.go ParseWarningHeaders: `299 - "text"` values; other codes are ignored. */
export function parseWarnings(values: string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    const re = /\s*(\d{3})\s+(\S+)\s+"((?:[^"\\]|\\.)*)"(?:\s+"[^"]*")?\s*(?:,|$)/g;
    let m;
    while ((m = re.exec(v))) if (m[1] === '299') out.push(m[3].replace(/\\(.)/g, '$1'));
  }
  return out;
}

export function backoff(attempt: number): number {
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

function errCode(e: unknown): string {
  const err = e as { code?: string; cause?: { code?: string } };
  return err.code ?? err.cause?.code ?? '';
}

function isTransient(e: unknown): boolean {
  return ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNLOST'].includes(errCode(e));
}

type CreateConnection = (options: unknown, cb: unknown) => Socket | undefined;

/**
 * Makes the agent's next new connection this socket (already connected, TLS done), so the
 * agent pools it as one of its own; node:http asks for it synchronously inside request().
 * Returns the undo, which also closes the socket if it was not taken.
 */
function lendSocket(agent: httpTypes.Agent, sock: TLSSocket): () => void {
  const a = agent as unknown as { createConnection: CreateConnection };
  const own = Object.prototype.hasOwnProperty.call(a, 'createConnection');
  const previous = a.createConnection;
  let taken = false;
  a.createConnection = () => {
    taken = true;
    return sock;
  };
  return () => {
    if (own) a.createConnection = previous;
    else delete (a as Partial<typeof a>).createConnection;
    if (!taken) sock.destroy();
  };
}

let zlib: typeof zlibTypes | undefined;

/** What Response needs from a node:http response or an HTTP/2 stream. */
interface RawResponse {
  status: number;
  protocol: 'HTTP/1.1' | 'HTTP/2';
  header(name: string): string | null;
  /** Every Warning header value, repeated headers included. */
  warnings(): string[];
  stream: NodeJS.ReadableStream & AsyncIterable<Buffer>;
  /** False when the body ended before its announced length. */
  complete(): boolean;
  destroy(): void;
}

function fromHttp1(raw: httpTypes.IncomingMessage): RawResponse {
  return {
    status: raw.statusCode ?? 0,
    protocol: 'HTTP/1.1',
    header: (n) => (raw.headers[n.toLowerCase()] as string | undefined) ?? null,
    warnings: () => {
      const out: string[] = [];
      const r = raw.rawHeaders;
      for (let i = 0; i < r.length; i += 2) if (r[i].toLowerCase() === 'warning') out.push(r[i + 1]);
      return out;
    },
    stream: raw,
    // node:http ends a body cut short (content-length not reached) without an error.
    complete: () => raw.complete,
    destroy: () => raw.destroy(),
  };
}

function fromHttp2(status: number, headers: http2Types.IncomingHttpHeaders, stream: http2Types.ClientHttp2Stream): RawResponse {
  return {
    status,
    protocol: 'HTTP/2',
    header: (n) => {
      const v = headers[n.toLowerCase()];
      return v === undefined ? null : Array.isArray(v) ? v.join(', ') : String(v);
    },
    // node:http2 joins repeated headers with ", ", which parseWarnings reads as a list.
    warnings: () => {
      const v = headers.warning;
      return v === undefined ? [] : Array.isArray(v) ? v : [String(v)];
    },
    stream,
    // A stream cut by a lost connection ends without an error but with a code (CANCEL) instead of
    // END_STREAM (nghttp2 itself resets a stream whose DATA does not match its content-length).
    complete: () => !stream.rstCode,
    // Cancels this stream only (RST_STREAM); the session carries on.
    destroy: () => stream.close(0x8),
  };
}

/** The bits of a response the client uses, over node:http's IncomingMessage or an HTTP/2 stream (gzip undone). */
export class Response {
  readonly status: number;
  readonly protocol: string;
  readonly headers: { get(name: string): string | null };
  private readonly stream: NodeJS.ReadableStream & AsyncIterable<Buffer>;
  constructor(
    private readonly raw: RawResponse,
    readonly method: string,
    private readonly timeoutSignal?: AbortSignal,
  ) {
    this.status = raw.status;
    this.protocol = raw.protocol;
    this.headers = { get: (n) => raw.header(n) };
    if (/\bgzip\b/i.test(raw.header('content-encoding') ?? '')) {
      zlib ??= load('node:zlib') as typeof zlibTypes;
      const gunzip = zlib.createGunzip();
      raw.stream.on('error', (e: Error) => gunzip.destroy(e));
      raw.stream.on('aborted', () => gunzip.destroy(new Error('aborted')));
      // An HTTP/2 stream closed without its end (the session went away) is a cut, not an end of the gzip stream.
      if (raw.protocol === 'HTTP/2')
        raw.stream.on('close', () => {
          if (!raw.complete()) gunzip.destroy(new Error('aborted'));
        });
      this.stream = raw.stream.pipe(gunzip);
    } else {
      this.stream = raw.stream;
    }
  }
  timedOut(): boolean {
    return Boolean(this.timeoutSignal?.aborted);
  }
  /** Calls back once, when the body has been read to its end, cut, or cancelled. */
  onDone(cb: () => void): void {
    const s = this.raw.stream;
    let called = false;
    const once = () => {
      if (called) return;
      called = true;
      cb();
    };
    if ((s as { readableEnded?: boolean }).readableEnded || (s as { destroyed?: boolean }).destroyed) return once();
    s.once('end', once);
    s.once('close', once);
    s.once('error', once);
  }
  warningHeaders(): string[] {
    return this.raw.warnings();
  }
  async text(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of this.stream) chunks.push(c);
    if (!this.raw.complete()) throw new Error('the response ended early');
    return Buffer.concat(chunks).toString('utf8');
  }
  get body(): AsyncIterable<Buffer> & { cancel(): Promise<void> } {
    const raw = this.raw;
    return Object.assign(this.stream, {
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

async function statusError(res: Response, method: string, t: Transport): Promise<CliError> {
  const text = await res.text().catch(() => '');
  if (res.status === 401) {
    return new CliError('You must be logged in to the server (Unauthorized): check the credentials of the kubeconfig user', ExitCode.UNREACHABLE);
  }
  let st: { kind?: string; reason?: string; message?: string; details?: ApiError['details'] } | undefined;
  try {
    st = JSON.parse(text) as typeof st;
  } catch {
    st = undefined;
  }
  // Not a Status: a proxy or load balancer answered (a 502 HTML page), not the API server.
  if (!st || typeof st !== 'object') {
    if (res.status >= 500 || /^\s*</.test(text))
      return t.badResponse(res, text.trim() ? (/^\s*</.test(text) ? 'an HTML page' : 'a body that is not a Kubernetes Status') : 'an empty body');
    st = { message: text.trim().split('\n')[0] || `the server answered ${res.status} to ${method}` };
  }
  return new ApiError(res.status, st.reason || REASONS[res.status] || 'Unknown', st.message || `the server answered ${res.status}`, st.details);
}
