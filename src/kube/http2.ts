// HTTP/2 to the API server, as client-go (apimachinery util/net http.go SetTransportDefaults):
// the connection offers ALPN h2 then http/1.1; when the server picks h2, one session carries
// the requests of the process, watches included, so parallel lists are multiplexed and never
// pay a second handshake (when the transport opens it at all: Transport.wantsHttp2). When the
// server picks http/1.1 the connection goes to the https agent, which keeps it for the usual
// HTTP/1.1 path. The TLS socket always comes from the
// agent (auth.ts), so the proxy tunnel, client certificates, CA, SNI and IPv6 checks are the
// same on both paths.
import { createRequire } from 'node:module';
import type * as http2Types from 'node:http2';
import type * as httpTypes from 'node:http';
import type { TLSSocket } from 'node:tls';
import { handshakeDone, TransportError } from './proxy.js';

const load = typeof require === 'function' ? require : createRequire(import.meta.url);
// Loaded at the first HTTPS request, never at start (nor into the executable's startup snapshot).
let http2: typeof http2Types | undefined;

/** RFC 9113 error code: the server did not process the stream. */
const REFUSED_STREAM = 0x7;

export interface Http2Settings {
  /** False with DISABLE_HTTP2 set (to anything: client-go checks len(s) > 0). */
  enabled: boolean;
  /** HTTP2_READ_IDLE_TIMEOUT_SECONDS (30; 0 turns the health check off): ping after this long without a frame. */
  readIdleMs: number;
  /** HTTP2_PING_TIMEOUT_SECONDS (15): the connection is lost when a ping is not answered in time. */
  pingTimeoutMs: number;
  /** HTTP/2 for every request, even a command's lone one (tests); see Transport.wantsHttp2. */
  always?: boolean;
}

/**
 * Go's strconv.Atoi: an optional sign and digits within int64; anything else keeps the
 * default, with client-go's warning (klog prints it at every verbosity).
 */
function seconds(name: string, value: string | undefined, dflt: number, warn?: (line: string) => void): number {
  if (!value) return dflt;
  if (/^[+-]?\d+$/.test(value) && BigInt(value) <= 2n ** 63n - 1n && BigInt(value) >= -(2n ** 63n)) return Number(value);
  warn?.(`Warning: illegal ${name} "${value}" (want whole seconds); the default ${dflt} is used`);
  return dflt;
}

export function http2Settings(env: NodeJS.ProcessEnv, warn?: (line: string) => void): Http2Settings {
  // client-go reads these only when it sets HTTP/2 up, so DISABLE_HTTP2 silences them.
  const enabled = !env.DISABLE_HTTP2;
  const w = enabled ? warn : undefined;
  const ping = seconds('HTTP2_PING_TIMEOUT_SECONDS', env.HTTP2_PING_TIMEOUT_SECONDS, 15, w);
  return {
    enabled,
    readIdleMs: Math.max(seconds('HTTP2_READ_IDLE_TIMEOUT_SECONDS', env.HTTP2_READ_IDLE_TIMEOUT_SECONDS, 30, w), 0) * 1000,
    // x/net/http2 uses 15 s for a ping timeout of 0.
    pingTimeoutMs: (ping > 0 ? ping : 15) * 1000,
  };
}

type CreateConnection = (options: Record<string, unknown>, cb: (err: Error | null, s?: TLSSocket) => void) => TLSSocket | undefined;
type AgentInternals = httpTypes.Agent & { options: Record<string, unknown>; createConnection: CreateConnection; getName(o: Record<string, unknown>): string };

export interface Target {
  agent: httpTypes.Agent;
  host: string;
  port: number;
  servername?: string;
}

/** An abort, named after its reason so the transport can tell a timeout from Ctrl-C. */
function abortError(signal: AbortSignal): Error {
  const reason = signal.reason as Error | undefined;
  return reason instanceof Error && (reason.name === 'TimeoutError' || reason.name === 'AbortError')
    ? reason
    : Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
}

/** A TLS connection from the agent, offering h2 and http/1.1, within the agent's dial and handshake timers. */
function dialTls(t: Target, guard: (s: TLSSocket) => void, signal?: AbortSignal): Promise<TLSSocket> {
  const agent = t.agent as AgentInternals;
  // As the agent's own createSocket: its options override the request's.
  const opts: Record<string, unknown> = { host: t.host, port: t.port, servername: t.servername, ...agent.options };
  if (!opts.servername) delete opts.servername;
  opts.ALPNProtocols = ['h2', 'http/1.1'];
  // The agent caches the TLS session under this key, so its own HTTP/1.1 connections resume it.
  opts._agentKey = agent.getName(opts);
  return new Promise((resolve, reject) => {
    let sock: TLSSocket | undefined;
    let settled = false;
    const onClose = () => finish(Object.assign(new Error('connection closed during the TLS handshake'), { code: 'ECONNRESET' }));
    const finish = (err: Error | null) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      // From here on the socket's errors are the session's (or the agent's) to handle.
      sock?.off('error', finish).off('close', onClose);
      if (err) {
        sock?.destroy();
        reject(err);
      } else resolve(sock!);
    };
    const onAbort = () => finish(abortError(signal!));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const take = (s: TLSSocket) => {
      sock = s;
      if (settled) return void s.destroy();
      guard(s);
      if (!s.connecting && handshakeDone(s)) return finish(null);
      s.once('secureConnect', () => finish(null));
      s.on('error', finish);
      s.on('close', onClose);
    };
    let called = false;
    const cb = (err: Error | null, s?: TLSSocket) => {
      if (called) return;
      called = true;
      if (err) finish(err);
      else take(s!);
    };
    try {
      const s = agent.createConnection(opts, cb);
      if (s) cb(null, s);
    } catch (e) {
      finish(e as Error);
    }
    // node:http2 takes milliseconds to load: do it while the handshake waits on the network.
    setImmediate(loadHttp2);
  });
}

function loadHttp2(): typeof http2Types {
  return (http2 ??= load('node:http2') as typeof http2Types);
}

export interface Http2Stream {
  status: number;
  headers: http2Types.IncomingHttpHeaders;
  stream: http2Types.ClientHttp2Stream;
}

interface Live {
  session: http2Types.ClientHttp2Session;
  sock: TLSSocket;
  agent: httpTypes.Agent;
  active: number;
  /** Called when a stream ends or the session changes state: unrefs an idle session, frees a finished one's socket. */
  release(): void;
}

/** The one HTTP/2 session of a transport, opened on demand and replaced when it goes away. */
export class Http2Connection {
  private live?: Live;
  private pending?: Promise<Live | undefined>;
  /** The server answered ALPN with http/1.1: every later request takes the HTTP/1.1 path. */
  private http1 = false;
  /** A connection on which the server chose http/1.1, for the agent's next request. */
  private handoff?: { agent: httpTypes.Agent; sock: TLSSocket };

  constructor(
    private readonly origin: string,
    private readonly settings: Http2Settings,
    private readonly guard: (s: TLSSocket) => void,
  ) {}

  /** The session for this agent, or undefined when the server speaks only HTTP/1.1. */
  async session(t: Target, signal?: AbortSignal): Promise<Live | undefined> {
    for (;;) {
      if (this.http1) return undefined;
      const live = this.live;
      if (live && !live.session.closed && !live.session.destroyed) {
        if (live.agent === t.agent) return live;
        // A new client certificate (an exec plugin's) needs a new connection.
        live.session.close();
        live.release();
        this.live = undefined;
      }
      if (!this.pending) {
        const p = this.open(t, signal);
        this.pending = p;
        void p.then(
          () => (this.pending = undefined),
          () => (this.pending = undefined),
        );
        return p;
      }
      // Another request is connecting: share its connection, unless its own abort ended it.
      try {
        await raceAbort(this.pending, signal);
      } catch (e) {
        if (signal?.aborted) throw e;
        const name = (e as Error).name;
        if (name !== 'AbortError' && name !== 'TimeoutError') throw e;
      }
    }
  }

  /** True once a session is open or opening: later requests share it. */
  inUse(): boolean {
    return Boolean(this.pending || (this.live && !this.live.session.closed && !this.live.session.destroyed));
  }

  /** The connection on which the server chose HTTP/1.1, once, for the agent it came from. */
  takeHandoff(agent: httpTypes.Agent): TLSSocket | undefined {
    const h = this.handoff;
    if (!h || h.agent !== agent) return undefined;
    this.handoff = undefined;
    return h.sock.destroyed ? undefined : h.sock;
  }

  private async open(t: Target, signal?: AbortSignal): Promise<Live | undefined> {
    const sock = await dialTls(t, this.guard, signal);
    if (sock.alpnProtocol !== 'h2') {
      this.http1 = true;
      this.handoff = { agent: t.agent, sock };
      return undefined;
    }
    const session = loadHttp2().connect(this.origin, { createConnection: () => sock });
    // The session handles the socket's errors while it lives; one after it is gone (a reset
    // before release() closes the socket) must not crash the process.
    sock.on('error', () => undefined);
    const live: Live = {
      session,
      sock,
      agent: t.agent,
      active: 0,
      release: () => {
        // node:http2 leaves a socket it did not create open after the session is destroyed
        // (until the server closes it): it would hold the process.
        // A session closed by a GOAWAY with no stream left is as good as destroyed.
        if (session.destroyed || (session.closed && live.active === 0)) {
          if (!session.destroyed) session.destroy();
          sock.destroy();
        } else if (live.active === 0) session.unref();
      },
    };
    // Idle, the session must not keep the process alive; a request in flight refs it.
    session.unref();
    const forget = () => {
      if (this.live === live) this.live = undefined;
      // After a GOAWAY node:http2 closes the session itself once its streams are done.
      setImmediate(live.release);
    };
    // A GOAWAY (graceful or not) or a lost connection: later requests open a new session.
    session.on('goaway', forget);
    session.on('close', forget);
    // Errors reach the streams; without a listener an 'error' event would crash the process.
    session.on('error', forget);
    if (this.settings.readIdleMs > 0) this.healthCheck(live);
    this.live = live;
    return live;
  }

  /** x/net/http2's health check: after ReadIdleTimeout without reading, a ping; no answer within PingTimeout closes the connection. */
  private healthCheck(live: Live): void {
    const { session } = live;
    let pinging = false;
    session.setTimeout(this.settings.readIdleMs, () => {
      if (pinging || live.active === 0 || session.destroyed) return;
      pinging = true;
      const timer = setTimeout(
        () => session.destroy(new TransportError(`http2: client connection lost (no answer to a ping within ${this.settings.pingTimeoutMs / 1000}s)`, 'ECONNLOST')),
        this.settings.pingTimeoutMs,
      );
      timer.unref();
      const sent = session.ping((err) => {
        clearTimeout(timer);
        pinging = false;
        if (err && !session.destroyed) session.destroy(new TransportError(`http2: client connection lost (${err.message})`, 'ECONNLOST'));
      });
      if (!sent) {
        clearTimeout(timer);
        pinging = false;
      }
    });
  }

  /** Sends one request on the session; resolves at the response headers. */
  request(live: Live, headers: http2Types.OutgoingHttpHeaders, body: string | undefined, signal?: AbortSignal): Promise<Http2Stream> {
    const { session } = live;
    return new Promise((resolve, reject) => {
      let stream: http2Types.ClientHttp2Stream;
      try {
        stream = session.request(headers, { endStream: body === undefined, signal });
      } catch (e) {
        // The session closed between the check and the request (a GOAWAY just arrived): nothing was sent.
        return reject(h2Error(e as Error, true));
      }
      if (live.active++ === 0) session.ref();
      let answered = false;
      stream.once('close', () => {
        live.active--;
        live.release();
        if (!answered) {
          answered = true;
          if (signal?.aborted) return reject(abortError(signal));
          // RST_STREAM REFUSED_STREAM, or a GOAWAY below this stream's id: the server did not process it.
          const refused = stream.rstCode === REFUSED_STREAM;
          reject(h2Error(Object.assign(new Error(`stream closed before the response (code ${stream.rstCode})`), { code: 'ERR_HTTP2_STREAM_ERROR' }), refused));
        }
      });
      stream.once('error', (e: Error) => {
        if (answered) return;
        answered = true;
        if (signal?.aborted) return reject(abortError(signal));
        reject(h2Error(e, stream.rstCode === REFUSED_STREAM));
      });
      stream.once('response', (h) => {
        answered = true;
        resolve({ status: Number(h[':status']), headers: h, stream });
      });
      if (body !== undefined) stream.end(body);
    });
  }

  /** Closes the session (tests, and a transport that is done). */
  close(): void {
    this.live?.session.destroy();
    this.live?.sock.destroy();
    this.live = undefined;
    this.handoff?.sock.destroy();
    this.handoff = undefined;
  }
}

/**
 * HTTP/2 failures as the transport's error codes: a stream the server never processed
 * (REFUSED_STREAM, a request on a session shutting down) may be retried for any verb, as Go's
 * transport does; anything else is a dropped connection, as on HTTP/1.1.
 */
function h2Error(e: Error & { code?: string }, unprocessed: boolean): Error {
  if (unprocessed || e.code === 'ERR_HTTP2_GOAWAY_SESSION' || e.code === 'ERR_HTTP2_INVALID_SESSION')
    return new TransportError(`the server closed the HTTP/2 stream before processing it (${e.code ?? 'refused'})`, 'EH2REFUSED');
  if (e.code && !e.code.startsWith('ERR_HTTP2')) return e;
  return new TransportError(`connection reset (${e.message})`, 'ECONNRESET');
}

function raceAbort<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
