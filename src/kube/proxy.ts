// Proxies as client-go uses them: the cluster's proxy-url (http, https, socks5) or, without
// one, HTTPS_PROXY / HTTP_PROXY / NO_PROXY from the environment with the rules of
// golang.org/x/net/http/httpproxy (proxy.go: FromEnvironment, useProxy, config.init).
// Connections are tunnelled (HTTP CONNECT or SOCKS5); the proxy resolves the server's name,
// so a name only the proxy can resolve works, as with kubectl.
import net from 'node:net';
import tls from 'node:tls';
import type { Cluster } from './kubeconfig.js';

/** client-go's dial timeout (30 s) and TLS handshake timeout (10 s); tests may lower them. */
export const transportTimeouts = { dialMs: 30_000, tlsHandshakeMs: 10_000 };

/**
 * A TLS socket's alpnProtocol is null until its handshake completes, then false or the
 * protocol (documented). Node's internal _secureEstablished is not set on the client sockets
 * the agent keeps alive, and reading it started a handshake timer on every reused connection.
 */
export function handshakeDone(sock: net.Socket): boolean {
  return (sock as net.Socket & { alpnProtocol?: string | false | null }).alpnProtocol != null;
}

export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** httpproxy.getEnvAny: the upper-case name first, then the lower-case one; empty means unset. */
function envAny(env: NodeJS.ProcessEnv, ...names: string[]): string {
  for (const n of names) if (env[n]) return env[n];
  return '';
}

function parseProxy(raw: string): URL | undefined {
  if (!raw) return undefined;
  try {
    const u = new URL(raw);
    if (['http:', 'https:', 'socks5:', 'socks5h:'].includes(u.protocol)) return u;
  } catch {
    // httpproxy: no scheme means http://.
  }
  try {
    return new URL(`http://${raw}`);
  } catch {
    return undefined;
  }
}

/** The proxy for a request to `target`, or undefined to connect directly. */
export function proxyFor(target: URL, cluster: Pick<Cluster, 'proxyUrl'>, env: NodeJS.ProcessEnv): URL | undefined {
  // A kubeconfig proxy-url applies to every request, loopback included (rest/transport.go).
  if (cluster.proxyUrl) return new URL(cluster.proxyUrl);
  const proxy = parseProxy(target.protocol === 'https:' ? envAny(env, 'HTTPS_PROXY', 'https_proxy') : envAny(env, 'HTTP_PROXY', 'http_proxy'));
  if (!proxy) return undefined;
  const host = stripBrackets(target.hostname).toLowerCase();
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  return useProxy(host, port, envAny(env, 'NO_PROXY', 'no_proxy')) ? proxy : undefined;
}

function stripBrackets(h: string): string {
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/** httpproxy useProxy: localhost and loopback addresses never go through a proxy; then NO_PROXY. */
export function useProxy(host: string, port: string, noProxy: string): boolean {
  if (host === 'localhost') return false;
  const ipVersion = net.isIP(host);
  if (ipVersion && isLoopback(host)) return false;
  for (let p of noProxy.split(',')) {
    p = p.trim().toLowerCase();
    if (!p) continue;
    if (p === '*') return false;
    if (p.includes('/')) {
      if (ipVersion && inCidr(host, p)) return false;
      continue;
    }
    let phost = p;
    let pport = '';
    const m = /^\[(.+)\]:(\d+)$/.exec(p) ?? (net.isIP(p) === 6 ? null : /^(.+):(\d+)$/.exec(p));
    if (m) [phost, pport] = [m[1], m[2]];
    phost = stripBrackets(phost);
    if (net.isIP(phost)) {
      if (ipVersion && sameIp(phost, host) && (!pport || pport === port)) return false;
      continue;
    }
    // Domains: "foo.com" matches foo.com and its subdomains, ".foo.com" and "*.foo.com" only subdomains. IPs never match domains.
    if (ipVersion) continue;
    if (phost.startsWith('*.')) phost = phost.slice(1);
    const matchHost = !phost.startsWith('.');
    if (matchHost) phost = `.${phost}`;
    if ((host.endsWith(phost) || (matchHost && host === phost.slice(1))) && (!pport || pport === port)) return false;
  }
  return true;
}

function isLoopback(ip: string): boolean {
  if (net.isIP(ip) === 4) return ip.startsWith('127.');
  const b = ipBytes(ip);
  if (b.length === 16 && b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return b[12] === 127;
  return b.length === 16 && b.slice(0, 15).every((x) => x === 0) && b[15] === 1;
}

function ipBytes(ip: string): number[] {
  if (net.isIP(ip) === 4) return ip.split('.').map(Number);
  // Expand an IPv6 address (with an optional embedded IPv4 tail) to 16 bytes.
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const parts = (s?: string) => (s ? s.split(':') : []);
  const expand = (ps: string[]) =>
    ps.flatMap((p) =>
      p.includes('.')
        ? p
            .split('.')
            .map(Number)
            .reduce<number[]>((a, n, i) => (i % 2 ? [...a.slice(0, -1), a[a.length - 1] * 256 + n] : [...a, n]), [])
        : [parseInt(p, 16)],
    );
  const h = expand(parts(head));
  const t = expand(parts(tail));
  const words = [...h, ...Array(8 - h.length - t.length).fill(0), ...t];
  return words.flatMap((w) => [(w >> 8) & 0xff, w & 0xff]);
}

function toV6Bytes(ip: string): number[] {
  const b = ipBytes(ip);
  return b.length === 4 ? [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...b] : b;
}

export function sameIp(a: string, b: string): boolean {
  return toV6Bytes(a).join('.') === toV6Bytes(b).join('.');
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  if (!base || !net.isIP(base)) return false;
  const bits = Number(bitsText);
  const v4 = net.isIP(base) === 4;
  if (v4 !== (net.isIP(ip) === 4) && !(v4 && toV6Bytes(ip).slice(0, 12).join('.') === '0.0.0.0.0.0.0.0.0.0.255.255')) return false;
  const a = v4 ? toV6Bytes(base).slice(12) : toV6Bytes(base);
  const b = v4 ? toV6Bytes(ip).slice(12) : toV6Bytes(ip);
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if ((a[byte] & mask) !== (b[byte] & mask)) return false;
  }
  return true;
}

/**
 * TLS settings for an https proxy: Go's http.Transport dials it with the transport's own TLS
 * config (the cluster's CA, or the system store; insecure-skip-tls-verify too).
 */
export interface ProxyTls {
  ca?: string | Buffer | (string | Buffer)[];
  rejectUnauthorized?: boolean;
  checkServerIdentity?: tls.ConnectionOptions['checkServerIdentity'];
}

/** Opens a raw TCP (or TLS, for an https proxy) connection to the proxy, within the dial timeout. */
function dialProxy(proxy: URL, proxyTls: ProxyTls = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const host = stripBrackets(proxy.hostname);
    const port = Number(proxy.port || (proxy.protocol === 'https:' ? 443 : proxy.protocol.startsWith('socks') ? 1080 : 80));
    const sock: net.Socket =
      proxy.protocol === 'https:'
        ? tls.connect({
            host,
            port,
            servername: net.isIP(host) ? undefined : host,
            ca: proxyTls.ca ?? systemCa(),
            rejectUnauthorized: proxyTls.rejectUnauthorized ?? true,
            checkServerIdentity: proxyTls.checkServerIdentity,
          })
        : net.connect({ host, port });
    const timer = setTimeout(() => sock.destroy(new TransportError(`dial tcp ${host}:${port}: i/o timeout (proxy)`, 'ETIMEDOUT')), transportTimeouts.dialMs);
    sock.once(proxy.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      resolve(sock);
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(Object.assign(e, { message: `proxy ${proxy.host}: ${e.message}` }));
    });
  });
}

let systemCaCache: string[] | undefined;
/** The system trust store, as Go's crypto/x509 uses when no CA is given. */
export function systemCa(): string[] | undefined {
  if (systemCaCache) return systemCaCache;
  const get = (tls as unknown as { getCACertificates?: (t: string) => string[] }).getCACertificates;
  if (!get) return undefined;
  const sys = get('system');
  // An empty system store (containers without ca-certificates) falls back to Node's list.
  systemCaCache = sys.length ? sys : get('default');
  return systemCaCache;
}

/** A socket to host:port through the proxy, ready for TLS or HTTP. */
export async function tunnel(proxy: URL, host: string, port: number, proxyTls?: ProxyTls): Promise<net.Socket> {
  const sock = await dialProxy(proxy, proxyTls);
  const timer = setTimeout(
    () => sock.destroy(new TransportError(`proxy ${proxy.host} did not open a tunnel within ${transportTimeouts.dialMs / 1000}s`, 'ETIMEDOUT')),
    transportTimeouts.dialMs,
  );
  try {
    if (proxy.protocol.startsWith('socks')) await socks5(sock, proxy, host, port);
    else await connectTunnel(sock, proxy, host, port);
    return sock;
  } catch (e) {
    sock.destroy();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

function reader(sock: net.Socket) {
  let buf = Buffer.alloc(0);
  let waiting: (() => void) | undefined;
  let failed: Error | undefined;
  const onData = (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    waiting?.();
  };
  const onEnd = (e?: Error) => {
    failed = e ?? new Error('connection closed');
    waiting?.();
  };
  sock.on('data', onData);
  sock.once('error', onEnd);
  sock.once('end', () => onEnd());
  sock.once('close', () => onEnd());
  return {
    async take(n: number | ((b: Buffer) => number)): Promise<Buffer> {
      for (;;) {
        const want = typeof n === 'number' ? n : n(buf);
        if (want > 0 && buf.length >= want) {
          const out = buf.subarray(0, want);
          buf = buf.subarray(want);
          return out;
        }
        if (failed) throw failed;
        await new Promise<void>((r) => (waiting = r));
        waiting = undefined;
      }
    },
    done() {
      sock.off('data', onData);
      sock.removeAllListeners('end');
      sock.removeAllListeners('close');
      sock.removeAllListeners('error');
      // Bytes after the handshake belong to the tunnelled protocol.
      if (buf.length) sock.unshift(buf);
    },
  };
}

async function connectTunnel(sock: net.Socket, proxy: URL, host: string, port: number): Promise<void> {
  const authority = `${net.isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
  if (proxy.username) lines.push(`Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`);
  sock.write(lines.join('\r\n') + '\r\n\r\n');
  const r = reader(sock);
  const head = (
    await r.take((b) => {
      const i = b.indexOf('\r\n\r\n');
      return i < 0 ? 0 : i + 4;
    })
  ).toString('latin1');
  r.done();
  const status = /^HTTP\/1\.[01] (\d{3})(.*)/.exec(head);
  if (!status || status[1] !== '200') {
    throw new TransportError(`proxy ${proxy.host} refused the tunnel to ${authority}: ${status ? `${status[1]}${status[2]}` : 'not an HTTP proxy'}`, 'EPROXY');
  }
}

/** RFC 1928 CONNECT with the host name sent to the proxy (remote resolution, as client-go's socks5 dialer), RFC 1929 credentials. */
async function socks5(sock: net.Socket, proxy: URL, host: string, port: number): Promise<void> {
  const r = reader(sock);
  try {
    const user = decodeURIComponent(proxy.username);
    const pass = decodeURIComponent(proxy.password);
    sock.write(Buffer.from(user ? [5, 2, 0, 2] : [5, 1, 0]));
    const [ver, method] = await r.take(2);
    if (ver !== 5) throw new TransportError(`proxy ${proxy.host} is not a SOCKS5 proxy`, 'EPROXY');
    if (method === 2) {
      const u = Buffer.from(user);
      const p = Buffer.from(pass);
      sock.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
      const [, ok] = await r.take(2);
      if (ok !== 0) throw new TransportError(`SOCKS5 proxy ${proxy.host} refused the username/password`, 'EPROXY');
    } else if (method !== 0) {
      throw new TransportError(`SOCKS5 proxy ${proxy.host} accepts none of our authentication methods${user ? '' : ' (does it need a username in proxy-url?)'}`, 'EPROXY');
    }
    let addr: Buffer;
    if (net.isIP(host) === 4) addr = Buffer.from([1, ...host.split('.').map(Number)]);
    else if (net.isIP(host) === 6) addr = Buffer.from([4, ...ipBytes(host)]);
    else addr = Buffer.concat([Buffer.from([3, Buffer.byteLength(host)]), Buffer.from(host)]);
    sock.write(Buffer.concat([Buffer.from([5, 1, 0]), addr, Buffer.from([port >> 8, port & 0xff])]));
    const [, rep, , atyp] = await r.take(4);
    if (rep !== 0) {
      const why =
        [
          '',
          'general failure',
          'connection not allowed',
          'network unreachable',
          'host unreachable',
          'connection refused',
          'TTL expired',
          'command not supported',
          'address type not supported',
        ][rep] ?? `error ${rep}`;
      throw new TransportError(`SOCKS5 proxy ${proxy.host} could not connect to ${host}:${port}: ${why}`, 'EPROXY');
    }
    const len = atyp === 1 ? 4 : atyp === 4 ? 16 : (await r.take(1))[0];
    await r.take(len + 2);
  } finally {
    r.done();
  }
}
