// Credentials, TLS and the route (direct or through a proxy) for requests, from one
// kubeconfig cluster + user: tokens, token files, client certificates, basic auth,
// impersonation, exec plugins, auth-provider oidc and proxies, all with node:https (client-node's
// KubeConfig, whose import costs hundreds of milliseconds, is never loaded).
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { createRequire } from 'node:module';
import type * as httpTypes from 'node:http';
import type * as httpsTypes from 'node:https';
import type { ExecCredential, ExecCredentialSource, Sink } from './exec.js';
import { checkAuthProvider, OidcProvider } from './oidc.js';
import { handshakeDone, proxyFor, sameIp, systemCa, tunnel, transportTimeouts, TransportError } from './proxy.js';
import { persistAuthProviderConfig, type Cluster, type User } from './kubeconfig.js';

// node:http's ESM facade reads lazy getters that load Node's bundled undici (~12 ms at every
// start); require() does not. The release bundle is CommonJS and has require already.
const load = typeof require === 'function' ? require : createRequire(import.meta.url);
const http = load('node:http') as typeof httpTypes;
const https = load('node:https') as typeof httpsTypes;

export interface Prepared {
  headers: Record<string, string | string[]>;
  agent: httpTypes.Agent;
  /** The credential used, handed back after a 401. */
  exec?: ExecCredential;
  /** Request options for TLS that Node does not take from the agent (servername for IPs). */
  servername?: string;
  /** A plain-http server through an HTTP(S) proxy: the request goes to the proxy in absolute form, as Go's transport. */
  forwardProxy?: URL;
}

export interface Auth {
  /** Headers and connection agent for the next request (exec credentials and token files are refreshed as needed). */
  prepare(url: string, method: string): Promise<Prepared>;
  /** After a 401: true when a fresh credential was obtained, so the request may be sent once more. */
  unauthorized(used: Prepared): Promise<boolean>;
  /** "via PROXY" for -v, or undefined when direct. */
  route?: string;
}

export interface AuthIO {
  /** Where an exec plugin's stderr goes; 'inherit' passes our fd 2 (prompts stay on the terminal). */
  stderr?: Sink | 'inherit';
  stdinIsTTY?: boolean;
}

function bytes(file?: string, data?: string): Buffer | undefined {
  if (data) return Buffer.from(data, 'base64');
  if (file) return fs.readFileSync(file);
  return undefined;
}

/** round_trippers.go headerKeyEscape: bytes outside RFC 7230 token characters, and '%', are %-encoded. */
function headerKeyEscape(key: string): string {
  let out = '';
  for (const b of Buffer.from(key)) {
    const c = String.fromCharCode(b);
    out += b < 127 && /[!#$&'*+\-.^_`|~0-9A-Za-z]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function impersonationHeaders(user: User): Record<string, string | string[]> {
  const h: Record<string, string | string[]> = {};
  if (!user.impersonateUser) return h;
  h['impersonate-user'] = user.impersonateUser;
  if (user.impersonateUid) h['impersonate-uid'] = user.impersonateUid;
  if (user.impersonateGroups?.length) h['impersonate-group'] = user.impersonateGroups;
  for (const [k, v] of Object.entries(user.impersonateExtra ?? {})) h[`impersonate-extra-${headerKeyEscape(k)}`] = v;
  return h;
}

/**
 * tls.checkServerIdentity, except for IP addresses: the pinned Node compares an IPv6 address
 * with the certificate's IP SANs as text, so [::1] fails against "IP Address:0:0:0:0:0:0:0:1"
 * (nodejs/node#64032). IPs are compared as addresses here, as Go's crypto/x509 does.
 */
export function checkServerIdentity(host: string, cert: tls.PeerCertificate): Error | undefined {
  const h = host.replace(/^\[|\]$/g, '');
  if (!net.isIP(h)) return tls.checkServerIdentity(host, cert);
  const ips = (cert.subjectaltname ?? '')
    .split(', ')
    .filter((e) => e.startsWith('IP Address:'))
    .map((e) => e.slice('IP Address:'.length));
  if (ips.some((ip) => net.isIP(ip) && sameIp(ip, h))) return undefined;
  return Object.assign(new Error(`Hostname/IP does not match certificate's altnames: IP: ${h} is not in the cert's list: ${ips.join(', ')}`), {
    code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    reason: `IP: ${h} is not in the cert's list`,
    host: h,
    cert,
  });
}

/** A bearer token file re-read when it changes (client-go re-reads BearerTokenFile each minute; rotation is picked up at once here). */
class TokenFile {
  private mtime = -1;
  private token = '';
  constructor(
    private readonly file: string,
    initial?: string,
  ) {
    if (initial) this.token = initial;
  }
  read(): string {
    try {
      const st = fs.statSync(this.file);
      if (st.mtimeMs !== this.mtime || !this.token) {
        this.token = fs.readFileSync(this.file, 'utf8').trim();
        this.mtime = st.mtimeMs;
      }
    } catch (e) {
      // A file that disappears keeps the last token, as client-go's cachingTokenSource.
      if (!this.token) throw e;
    }
    return this.token;
  }
  forget() {
    this.mtime = -1;
  }
}

export function createAuth(cluster: Cluster, user: User, env: NodeJS.ProcessEnv = process.env, io: AuthIO = {}): Auth {
  const server = new URL(cluster.server);
  const isHttps = server.protocol === 'https:';
  const proxy = proxyFor(server, cluster, env);
  // rest.IsConfigTransportTLS: client-go reads no credentials for a plain-http server.
  const secure = isHttps;
  const authProvider = secure && user.authProvider && !user.token && !user.tokenFile ? user.authProvider : undefined;
  if (authProvider) checkAuthProvider(authProvider.name, authProvider.config ?? {});
  const oidc = authProvider
    ? new OidcProvider({ ...(authProvider.config ?? {}) }, (cfg) => {
        if (user.origin) persistAuthProviderConfig(user.origin, user.name, cfg);
      })
    : undefined;
  const host = server.hostname.replace(/^\[|\]$/g, '');
  const baseTls: httpsTypes.AgentOptions = {
    keepAlive: true,
    // No CA in the kubeconfig: the system trust store, as Go (Node's default is its own bundle).
    ca: bytes(cluster.caFile, cluster.caData) ?? systemCa(),
    cert: secure ? bytes(user.certFile, user.certData) : undefined,
    key: secure ? bytes(user.keyFile, user.keyData) : undefined,
    rejectUnauthorized: !cluster.skipTLSVerify,
    // SNI carries names only; for an IP address (IPv6 included) the certificate is checked against the IP.
    servername: cluster.tlsServerName ?? (net.isIP(host) ? undefined : host),
    checkServerIdentity,
  };
  const tokenFile = secure && user.tokenFile ? new TokenFile(user.tokenFile, user.token) : undefined;
  const staticToken = secure && !tokenFile ? user.token : undefined;
  // exec.go UpdateTransportConfig: a token, basic auth or client certificate already set wins over the plugin.
  const useExec = secure && user.exec && !user.token && !user.tokenFile && !user.username && !user.certFile && !user.certData;
  // Loaded only for exec users: node:child_process is not needed on the plain path.
  let exec: ExecCredentialSource | undefined;
  const execSource = async () => {
    if (!exec) {
      const { ExecCredentialSource } = await import('./exec.js');
      exec ??= new ExecCredentialSource(user.exec!, cluster, env, { stderr: io.stderr, stdinIsTTY: io.stdinIsTTY });
    }
    return exec;
  };
  // Impersonation is set outside client_config.go's IsConfigTransportTLS block: sent even over http.
  const fixed: Record<string, string | string[]> = impersonationHeaders(user);
  if (secure && user.username) fixed.authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
  // Go's transport tunnels only https through an HTTP proxy; http requests are forwarded.
  const forwardProxy = proxy && !isHttps && (proxy.protocol === 'http:' || proxy.protocol === 'https:') ? proxy : undefined;
  let agent: httpTypes.Agent | undefined;
  let agentCertKey = '';
  const newAgent = (cred?: ExecCredential): httpTypes.Agent => {
    const opts: httpsTypes.AgentOptions = { ...baseTls, ...(cred?.cert ? { cert: cred.cert, key: cred.key } : {}) };
    if (!proxy) return isHttps ? new https.Agent(opts) : new http.Agent({ keepAlive: true });
    if (isHttps) return new ProxyHttpsAgent(proxy, opts);
    if (forwardProxy?.protocol === 'https:') return new https.Agent({ keepAlive: true, ca: opts.ca, rejectUnauthorized: opts.rejectUnauthorized, checkServerIdentity });
    return forwardProxy ? new http.Agent({ keepAlive: true }) : new ProxyHttpAgent(proxy);
  };
  return {
    route: proxy ? `via ${proxy.protocol}//${proxy.host}` : undefined,
    async prepare() {
      const headers: Record<string, string | string[]> = { ...fixed };
      let cred: ExecCredential | undefined;
      if (staticToken) headers.authorization = `Bearer ${staticToken}`;
      else if (tokenFile) headers.authorization = `Bearer ${tokenFile.read()}`;
      else if (oidc) headers.authorization = `Bearer ${await oidc.idToken()}`;
      else if (useExec) {
        cred = await (await execSource()).get();
        if (cred.token) headers.authorization = `Bearer ${cred.token}`;
      }
      // An exec plugin may hand out a client certificate; a new one needs a new agent.
      const certKey = `${cred?.cert ?? ''}|${cred?.key ?? ''}`;
      if (!agent || certKey !== agentCertKey) {
        agent?.destroy();
        agentCertKey = certKey;
        agent = newAgent(cred);
      }
      return { headers, agent, exec: cred, servername: baseTls.servername, forwardProxy };
    },
    async unauthorized(used) {
      if (tokenFile) {
        tokenFile.forget();
        return false;
      }
      if (!useExec || !used.exec) return false;
      const exec = await execSource();
      const fresh = await exec.afterUnauthorized(used.exec);
      return fresh !== used.exec;
    },
  };
}

/** Starts the dial and TLS-handshake timers of client-go's transport on a socket still connecting (a reused keep-alive socket gets none). */
export function guardHandshake(sock: net.Socket, tlsExpected: boolean): void {
  const connecting = (sock as net.Socket & { connecting?: boolean }).connecting;
  const handshaking = tlsExpected && !handshakeDone(sock);
  if (!connecting && !handshaking) return;
  const fail = (msg: string, code: string) => sock.destroy(new TransportError(msg, code));
  let timer: NodeJS.Timeout | undefined;
  const startHandshakeTimer = () => {
    clearTimeout(timer);
    timer = tlsExpected ? setTimeout(() => fail('net/http: TLS handshake timeout', 'ETLSHANDSHAKETIMEOUT'), transportTimeouts.tlsHandshakeMs) : undefined;
  };
  if (connecting) {
    timer = setTimeout(() => fail('dial tcp: i/o timeout', 'ETIMEDOUT'), transportTimeouts.dialMs);
    sock.once('connect', startHandshakeTimer);
  } else startHandshakeTimer();
  const done = () => {
    clearTimeout(timer);
    sock.off('secureConnect', done);
    sock.off('close', done);
  };
  if (tlsExpected) sock.once('secureConnect', done);
  else sock.once('connect', done);
  sock.once('close', done);
}

type CreateConnection = (options: Record<string, unknown>, cb: (err: Error | null, s?: net.Socket) => void) => net.Socket | undefined;

/** https through a proxy: a tunnel to the server, then TLS to the server inside it. */
class ProxyHttpsAgent extends https.Agent {
  constructor(
    private readonly proxy: URL,
    opts: httpsTypes.AgentOptions,
  ) {
    super(opts);
    (this as unknown as { createConnection: CreateConnection }).createConnection = (options, cb) => {
      const host = String(options.host).replace(/^\[|\]$/g, '');
      // An https proxy is verified with the cluster's TLS settings, as Go's transport does.
      tunnel(this.proxy, host, Number(options.port), { ca: opts.ca, rejectUnauthorized: opts.rejectUnauthorized, checkServerIdentity }).then(
        (raw) => {
          const s = tls.connect({
            ...(options as tls.ConnectionOptions),
            socket: raw,
            host,
            servername: (options.servername as string | undefined) || (net.isIP(host) ? undefined : host),
          });
          const timer = setTimeout(() => s.destroy(new TransportError('net/http: TLS handshake timeout', 'ETLSHANDSHAKETIMEOUT')), transportTimeouts.tlsHandshakeMs);
          s.once('secureConnect', () => clearTimeout(timer));
          s.once('close', () => clearTimeout(timer));
          cb(null, s);
        },
        (e: Error) => cb(e),
      );
      return undefined;
    };
  }
}

/** Plain http through a SOCKS5 proxy: a tunnel. */
class ProxyHttpAgent extends http.Agent {
  constructor(private readonly proxy: URL) {
    super({ keepAlive: true });
    (this as unknown as { createConnection: CreateConnection }).createConnection = (options, cb) => {
      tunnel(this.proxy, String(options.host).replace(/^\[|\]$/g, ''), Number(options.port)).then(
        (s) => cb(null, s),
        (e: Error) => cb(e),
      );
      return undefined;
    };
  }
}
