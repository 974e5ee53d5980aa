// Real network helpers for the connection tests: an HTTP CONNECT proxy and a SOCKS5 proxy
// that count tunnels (and resolve names only they know), and a TLS reverse proxy with a path
// prefix that records request headers, gzips answers and injects a Warning header.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';

export interface ProxyLog {
  port: number;
  /** host:port asked for, one entry per tunnel. */
  tunnels: string[];
  /** Proxy credentials seen (decoded), one per tunnel. */
  credentials: string[];
  close(): Promise<void>;
}

/** Names only the proxies resolve: the API server's certificate is valid for this one. */
export const PROXY_ONLY_NAME = 'kubernetes.default.svc';

function resolveLikeProxy(host: string): string {
  return host === PROXY_ONLY_NAME ? '127.0.0.1' : host;
}

function track(server: net.Server, sockets: Set<net.Socket>) {
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
}

async function listen(server: net.Server, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((r) => server.listen(0, host, r));
  return (server.address() as AddressInfo).port;
}

function closer(server: net.Server, sockets: Set<net.Socket>) {
  return () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
}

/** A CA and a certificate it signs for `san` (e.g. "IP:127.0.0.1"), made with openssl in `dir`. */
export function certificate(dir: string, name: string, san: string): { ca: string; key: string; cert: string } {
  const f = (n: string) => path.join(dir, `${name}-${n}`);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', `/CN=${name}-ca`);
  fs.writeFileSync(f('san.ext'), `subjectAltName=${san}\n`);
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('key.pem'), '-out', f('csr.pem'), '-subj', `/CN=${name}`);
  ssl('x509', '-req', '-in', f('csr.pem'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('cert.pem'), '-days', '2', '-extfile', f('san.ext'));
  return { ca: f('ca.crt'), key: f('key.pem'), cert: f('cert.pem') };
}

/**
 * An HTTP proxy that only tunnels (CONNECT); `auth` "user:pass" makes it require Basic
 * credentials; `tls` makes it an https:// proxy.
 */
export async function connectProxy(auth?: string, tlsFiles?: { key: string; cert: string }): Promise<ProxyLog> {
  const log = { tunnels: [] as string[], credentials: [] as string[] };
  const onRequest = (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(405);
    res.end('CONNECT only');
  };
  const server = tlsFiles ? https.createServer({ key: fs.readFileSync(tlsFiles.key), cert: fs.readFileSync(tlsFiles.cert) }, onRequest) : http.createServer(onRequest);
  const sockets = new Set<net.Socket>();
  track(server, sockets);
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const cred = req.headers['proxy-authorization'];
    const decoded = cred ? Buffer.from(String(cred).replace(/^Basic /, ''), 'base64').toString() : '';
    if (auth && decoded !== auth) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
      return;
    }
    log.tunnels.push(req.url ?? '');
    log.credentials.push(decoded);
    const m = /^\[?([^\]]+)\]?:(\d+)$/.exec(req.url ?? '');
    if (!m) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const upstream = net.connect(Number(m[2]), resolveLikeProxy(m[1]!), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  const port = await listen(server);
  return { port, ...log, close: closer(server, sockets) };
}

/** A SOCKS5 proxy (RFC 1928/1929) that resolves names itself; `auth` "user:pass" requires credentials. */
export async function socks5Proxy(auth?: string): Promise<ProxyLog> {
  const log = { tunnels: [] as string[], credentials: [] as string[] };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    let buf = Buffer.alloc(0);
    let stage: 'greet' | 'auth' | 'request' = 'greet';
    let cred = '';
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (stage === 'greet') {
          if (buf.length < 2 || buf.length < 2 + buf[1]!) return;
          const methods = [...buf.subarray(2, 2 + buf[1]!)];
          buf = buf.subarray(2 + buf[1]!);
          const want = auth ? 2 : 0;
          if (!methods.includes(want)) {
            client.end(Buffer.from([5, 0xff]));
            return;
          }
          client.write(Buffer.from([5, want]));
          stage = auth ? 'auth' : 'request';
        } else if (stage === 'auth') {
          if (buf.length < 2) return;
          const ulen = buf[1]!;
          if (buf.length < 3 + ulen) return;
          const plen = buf[2 + ulen]!;
          if (buf.length < 3 + ulen + plen) return;
          cred = `${buf.subarray(2, 2 + ulen).toString()}:${buf.subarray(3 + ulen, 3 + ulen + plen).toString()}`;
          buf = buf.subarray(3 + ulen + plen);
          if (cred !== auth) {
            client.end(Buffer.from([1, 1]));
            return;
          }
          client.write(Buffer.from([1, 0]));
          stage = 'request';
        } else {
          if (buf.length < 5) return;
          const atyp = buf[3]!;
          const alen = atyp === 1 ? 4 : atyp === 4 ? 16 : 1 + buf[4]!;
          if (buf.length < 4 + alen + 2) return;
          const a = buf.subarray(4, 4 + alen);
          const host = atyp === 1 ? [...a].join('.') : atyp === 4 ? (a.toString('hex').match(/.{4}/g) ?? []).join(':') : a.subarray(1).toString();
          const port = buf.readUInt16BE(4 + alen);
          const rest = buf.subarray(4 + alen + 2);
          client.off('data', onData);
          log.tunnels.push(`${host}:${port}`);
          log.credentials.push(cred);
          const upstream = net.connect(port, resolveLikeProxy(host), () => {
            client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
            if (rest.length) upstream.write(rest);
            upstream.pipe(client);
            client.pipe(upstream);
          });
          sockets.add(upstream);
          upstream.on('error', () => client.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0])));
          client.on('error', () => upstream.destroy());
          return;
        }
      }
    };
    client.on('data', onData);
  });
  track(server, sockets);
  const port = await listen(server);
  return { port, ...log, close: closer(server, sockets) };
}

export interface ReverseProxy {
  /** https://[::1]:PORT/PREFIX */
  url: string;
  caFile: string;
  /** Headers of every request that reached the proxy (lower-case names). */
  requests: { method: string; path: string; headers: http.IncomingHttpHeaders }[];
  gzipped: number;
  close(): Promise<void>;
}

/**
 * A TLS reverse proxy on the IPv6 loopback with a path prefix, in front of the API server:
 * records headers, gzips answers the client accepts gzipped, and adds a Warning header.
 */
export async function reverseProxy(
  apiServer: string,
  apiCaFile: string,
  dir: string,
  opts: { prefix?: string; warning?: string; plainHttp?: boolean } = {},
): Promise<ReverseProxy> {
  const prefix = opts.prefix ?? '/k8s/clusters/c-1';
  const pki = certificate(dir, 'reverse-proxy', 'IP:::1');
  const upstream = new URL(apiServer);
  const agent = new https.Agent({ ca: fs.readFileSync(apiCaFile), keepAlive: true });
  const state = { requests: [] as ReverseProxy['requests'], gzipped: 0 };
  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    state.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: { ...req.headers } });
    if (!req.url?.startsWith(prefix + '/')) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not under the prefix');
      return;
    }
    // Repeated headers (Impersonate-Group) stay separate lines, as the client sent them.
    const headers: Record<string, string | string[]> = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const k = req.rawHeaders[i]!.toLowerCase();
      const prev = headers[k];
      headers[k] = prev === undefined ? req.rawHeaders[i + 1]! : [...([] as string[]).concat(prev), req.rawHeaders[i + 1]!];
    }
    headers.host = upstream.host;
    delete headers['accept-encoding'];
    const up = https.request({ hostname: upstream.hostname, port: upstream.port, path: req.url.slice(prefix.length), method: req.method, headers, agent }, (ur) => {
      const out: http.OutgoingHttpHeaders = { ...ur.headers };
      if (opts.warning) out.warning = [...([] as string[]).concat(ur.headers.warning ?? []), `299 - "${opts.warning}"`];
      const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) && !String(req.url).includes('watch=');
      if (gzip) {
        state.gzipped++;
        delete out['content-length'];
        out['content-encoding'] = 'gzip';
        res.writeHead(ur.statusCode ?? 502, out);
        ur.pipe(zlib.createGzip()).pipe(res);
      } else {
        res.writeHead(ur.statusCode ?? 502, out);
        ur.pipe(res);
      }
    });
    up.on('error', (e) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(e));
    });
    req.pipe(up);
  };
  const server = opts.plainHttp ? http.createServer(handle) : https.createServer({ key: fs.readFileSync(pki.key), cert: fs.readFileSync(pki.cert) }, handle);
  const sockets = new Set<net.Socket>();
  track(server, sockets);
  const port = await listen(server, '::1');
  return {
    url: `${opts.plainHttp ? 'http' : 'https'}://[::1]:${port}${prefix}`,
    caFile: pki.ca,
    get requests() {
      return state.requests;
    },
    get gzipped() {
      return state.gzipped;
    },
    close: closer(server, sockets),
  };
}

export interface Forwarder {
  port: number;
  /** Connections accepted and dropped while cut. */
  dropped: number;
  /** Drops every open connection and every new one until resume(): the API server "restarts". */
  cut(): void;
  resume(): void;
  close(): Promise<void>;
}

/** A TCP forwarder to the API server (TLS stays end to end) that can lose the server on demand. */
export async function forwarder(target: string): Promise<Forwarder> {
  const u = new URL(target);
  const sockets = new Set<net.Socket>();
  let down = false;
  const state = { dropped: 0 };
  const server = net.createServer((client) => {
    if (down) {
      state.dropped++;
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(u.port), u.hostname.replace(/^\[|\]$/g, ''));
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    client.pipe(upstream);
    upstream.pipe(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  track(server, sockets);
  const port = await listen(server);
  return {
    port,
    get dropped() {
      return state.dropped;
    },
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    resume() {
      down = false;
    },
    close: closer(server, sockets),
  };
}
