// The transport's HTTP/2 path against real local servers (nock cannot intercept node:http2, and
// this file must not load it: its socket interceptor would wrap the TLS connections): ALPN
// choice and fallback, one connection for parallel requests, headers, gzip and warnings, and
// the faults a real API server will not produce on demand: a dropped session, a refused
// stream, a stall, a stream reset mid-body, a connection that stops answering pings.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { resolveConfig } from '../../src/kube/config.js';
import { Kube, type KubeOptions } from '../../src/kube/client.js';
import { formatError } from '../../src/errors.js';
import { http2Settings, type Http2Settings } from '../../src/kube/http2.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-h2-'));
const f = (n: string) => path.join(dir, n);
let key: Buffer;
let cert: Buffer;

type StreamHandler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, session: http2.ServerHttp2Session) => void;
let onStream: StreamHandler;
let h2server: http2.Http2SecureServer;
let h2port: number;
/** TLS connections the HTTP/2 server accepted, with the protocol each one chose. */
let h2conns: string[] = [];
const serverSessions = new Set<http2.ServerHttp2Session>();

beforeAll(async () => {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    f('key.pem'),
    '-out',
    f('cert.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  );
  key = fs.readFileSync(f('key.pem'));
  cert = fs.readFileSync(f('cert.pem'));
  // allowHTTP1 lets the DISABLE_HTTP2 case reach the same server over HTTP/1.1.
  h2server = http2.createSecureServer({ key, cert, allowHTTP1: true });
  h2server.on('secureConnection', (s: import('node:tls').TLSSocket) => h2conns.push(s.alpnProtocol || 'none'));
  h2server.on('session', (s) => {
    serverSessions.add(s);
    s.on('close', () => serverSessions.delete(s));
  });
  h2server.on('stream', (stream, headers) => onStream(stream, headers, stream.session!));
  h2server.on('request', (req, res) => {
    // HTTP/1.1 requests only (HTTP/2 ones are answered on 'stream').
    if (req.httpVersion !== '1.1') return;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path: req.url, protocol: req.httpVersion }));
  });
  await new Promise<void>((r) => h2server.listen(0, '127.0.0.1', r));
  h2port = (h2server.address() as AddressInfo).port;
});
afterAll(() => {
  for (const s of serverSessions) s.destroy();
  h2server.close();
});
afterEach(() => {
  h2conns = [];
});

const kubes: Kube[] = [];
afterEach(() => {
  for (const k of kubes.splice(0)) k.transport.close();
});

function kubeconfig(server: string, user = '    token: t0ken'): string {
  const file = f(`kc-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n    server: ${server}\n    certificate-authority: ${f('cert.pem')}\nusers:\n- name: u\n  user:\n${user}\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n`,
  );
  return file;
}

/** HTTP/2 for every request here (even a lone one), unless a test is about when to use it. */
const settings = (over: Partial<Http2Settings> = {}): Http2Settings => ({ ...http2Settings({}), always: true, ...over });

function kubeAt(port: number, opts: Partial<KubeOptions> & { user?: string; as?: string[] } = {}) {
  const c = resolveConfig({ kubeconfig: kubeconfig(`https://127.0.0.1:${port}`, opts.user), ...(opts.as ? { as: 'jane', asGroups: opts.as } : {}) }, {});
  const log: string[] = [];
  const warnings: string[] = [];
  const kube = new Kube({ auth: c.auth, server: c.server, log: (l) => log.push(l), warn: (l) => warnings.push(l), sleep: async () => undefined, http2: settings(), ...opts });
  kubes.push(kube);
  return { kube, log, warnings };
}

function json(stream: http2.ServerHttp2Stream, body: unknown, extra: http2.OutgoingHttpHeaders = {}) {
  stream.respond({ ':status': 200, 'content-type': 'application/json', ...extra });
  stream.end(JSON.stringify(body));
}

async function failure(p: Promise<unknown>) {
  return formatError(
    await p.then(
      () => 'no error',
      (e: unknown) => e,
    ),
  );
}

describe('HTTP/2 when the server offers it', () => {
  it('sends parallel requests over one connection, with every header, and names HTTP/2 in -v', async () => {
    // Not forced: requests issued together are what HTTP/2 is chosen for.
    const seen: http2.IncomingHttpHeaders[] = [];
    onStream = (stream, headers) => {
      seen.push(headers);
      json(stream, { path: headers[':path'] });
    };
    const { kube, log } = kubeAt(h2port, { as: ['ml-team', 'system:authenticated'], http2: settings({ always: false }) });
    const paths = ['/api/v1/pods', '/api/v1/nodes', '/apis/apps/v1/deployments', '/api/v1/events', '/version'];
    const answers = await Promise.all(paths.map((p) => kube.get<{ path: string }>(p)));
    expect(answers.map((a) => a.path)).toEqual(paths);
    expect(h2conns).toEqual(['h2']);
    expect(log.map((l) => l.replace(/ \d+ms /, ' Nms '))).toEqual(expect.arrayContaining(paths.map((p) => `GET ${p} 200 Nms (HTTP/2)`)));
    expect(log).toHaveLength(paths.length);
    for (const h of seen) {
      expect(h).toMatchObject({
        ':method': 'GET',
        ':scheme': 'https',
        ':authority': `127.0.0.1:${h2port}`,
        authorization: 'Bearer t0ken',
        accept: 'application/json',
        'accept-encoding': 'gzip',
        'impersonate-user': 'jane',
      });
      expect(h['user-agent']).toMatch(/^kubectl-mlops\//);
      // Repeated headers stay repeated (node:http2 joins them for reading).
      expect(h['impersonate-group']).toBe('ml-team, system:authenticated');
    }
  });

  it('sends a body, undoes gzip and prints each server warning once', async () => {
    const bodies: string[] = [];
    onStream = (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        bodies.push(`${headers[':method']} ${headers['content-type']} ${Buffer.concat(chunks).toString()}`);
        stream.respond({ ':status': 201, 'content-type': 'application/json', 'content-encoding': 'gzip', warning: ['299 - "deprecated API"', '299 - "policy says no"'] });
        stream.end(zlib.gzipSync(JSON.stringify({ kind: 'ConfigMap', made: true })));
      });
    };
    const { kube, warnings } = kubeAt(h2port);
    expect(await kube.request('POST', '/api/v1/namespaces/ml/configmaps', { body: { kind: 'ConfigMap' } })).toEqual({ kind: 'ConfigMap', made: true });
    expect(await kube.request('POST', '/api/v1/namespaces/ml/configmaps', { body: { kind: 'ConfigMap' } })).toEqual({ kind: 'ConfigMap', made: true });
    expect(bodies).toEqual(['POST application/json {"kind":"ConfigMap"}', 'POST application/json {"kind":"ConfigMap"}']);
    expect(warnings).toEqual(['Warning: deprecated API', 'Warning: policy says no']);
    expect(h2conns).toEqual(['h2']);
  });

  it('answers API errors as on HTTP/1.1', async () => {
    onStream = (stream) => {
      stream.respond({ ':status': 404, 'content-type': 'application/json' });
      stream.end(JSON.stringify({ kind: 'Status', reason: 'NotFound', message: 'pods "x" not found', code: 404 }));
    };
    const { kube } = kubeAt(h2port);
    expect(await failure(kube.get('/api/v1/namespaces/ml/pods/x'))).toEqual({ text: 'Error from server (NotFound): pods "x" not found', exitCode: 1 });
  });

  it('DISABLE_HTTP2 (any value, as client-go) keeps HTTP/1.1', async () => {
    expect(http2Settings({ DISABLE_HTTP2: 'false' }).enabled).toBe(false);
    expect(http2Settings({ DISABLE_HTTP2: '' }).enabled).toBe(true);
    const { kube, log } = kubeAt(h2port, { http2: settings({ enabled: false }) });
    expect(await kube.get('/version')).toEqual({ path: '/version', protocol: '1.1' });
    expect(h2conns).toEqual(['none']);
    expect(log[0]).toMatch(/^GET \/version 200 \d+ms \(HTTP\/1\.1\)$/);
  });

  it('reads the health-check settings as client-go (Atoi, 0 turns the check off, bad values keep the default)', () => {
    expect(http2Settings({})).toEqual({ enabled: true, readIdleMs: 30_000, pingTimeoutMs: 15_000 });
    expect(http2Settings({ HTTP2_READ_IDLE_TIMEOUT_SECONDS: '0', HTTP2_PING_TIMEOUT_SECONDS: '3' })).toMatchObject({ readIdleMs: 0, pingTimeoutMs: 3000 });
    const warned: string[] = [];
    expect(http2Settings({ HTTP2_READ_IDLE_TIMEOUT_SECONDS: '1.5', HTTP2_PING_TIMEOUT_SECONDS: 'soon' }, (l) => warned.push(l))).toMatchObject({
      readIdleMs: 30_000,
      pingTimeoutMs: 15_000,
    });
    expect(warned).toEqual([
      'Warning: illegal HTTP2_PING_TIMEOUT_SECONDS "soon" (want whole seconds); the default 15 is used',
      'Warning: illegal HTTP2_READ_IDLE_TIMEOUT_SECONDS "1.5" (want whole seconds); the default 30 is used',
    ]);
    // Past int64 Atoi fails too; with DISABLE_HTTP2 client-go never reads them, so nothing is said.
    expect(http2Settings({ HTTP2_PING_TIMEOUT_SECONDS: '9223372036854775808' }, (l) => warned.push(l)).pingTimeoutMs).toBe(15_000);
    expect(warned).toHaveLength(3);
    http2Settings({ DISABLE_HTTP2: '1', HTTP2_PING_TIMEOUT_SECONDS: 'soon' }, (l) => warned.push(l));
    expect(warned).toHaveLength(3);
  });
});

describe('HTTP/2 when it saves a connection', () => {
  it('requests one at a time stay on one HTTP/1.1 connection (node:http2 would cost more than it saves)', async () => {
    const { kube, log } = kubeAt(h2port, { http2: settings({ always: false }) });
    for (const p of ['/version', '/api/v1/pods', '/api/v1/nodes']) expect(await kube.get(p)).toEqual({ path: p, protocol: '1.1' });
    expect(h2conns).toEqual(['none']);
    expect(log.map((l) => l.replace(/ \d+ms /, ' '))).toEqual(['GET /version 200 (HTTP/1.1)', 'GET /api/v1/pods 200 (HTTP/1.1)', 'GET /api/v1/nodes 200 (HTTP/1.1)']);
  });

  it('a request sent while another is busy opens an HTTP/2 connection instead of a second HTTP/1.1 one, and later requests share it', async () => {
    onStream = (stream, headers) => json(stream, { path: headers[':path'] });
    const { kube, log } = kubeAt(h2port, { http2: settings({ always: false }) });
    // A lone first request: HTTP/1.1 ...
    expect(await kube.get('/version')).toEqual({ path: '/version', protocol: '1.1' });
    // ... then two at once: the second would need a connection of its own.
    const [a, b] = await Promise.all([kube.get('/api/v1/nodes'), kube.get('/api/v1/pods')]);
    expect([a, b]).toEqual([{ path: '/api/v1/nodes' }, { path: '/api/v1/pods' }]);
    expect(await kube.get('/apis/apps/v1/deployments')).toEqual({ path: '/apis/apps/v1/deployments' });
    expect(h2conns).toEqual(['none', 'h2']);
    const protocols = Object.fromEntries(log.map((l) => [l.split(' ')[1], /\((HTTP\/[\d.]+)\)$/.exec(l)?.[1]]));
    expect(protocols).toEqual({ '/version': 'HTTP/1.1', '/api/v1/nodes': 'HTTP/2', '/api/v1/pods': 'HTTP/2', '/apis/apps/v1/deployments': 'HTTP/2' });
  });
});

describe('HTTP/1.1 when the server chooses it in ALPN', () => {
  let h1: https.Server;
  let h1port: number;
  const conns: string[] = [];
  beforeAll(async () => {
    h1 = https.createServer({ key, cert }, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: req.url }));
    });
    h1.on('secureConnection', (s: import('node:tls').TLSSocket) => conns.push(s.alpnProtocol || 'none'));
    await new Promise<void>((r) => h1.listen(0, '127.0.0.1', r));
    h1port = (h1.address() as AddressInfo).port;
  });
  afterAll(() => h1.close());

  it('falls back on the same connection, which the agent then keeps for later requests', async () => {
    const { kube, log } = kubeAt(h1port);
    for (const p of ['/version', '/api/v1/pods', '/api/v1/nodes']) expect(await kube.get(p)).toEqual({ path: p });
    // One TLS connection: the ALPN probe's socket served the first request and stayed in the pool.
    expect(conns).toEqual(['http/1.1']);
    expect(log.every((l) => l.endsWith('(HTTP/1.1)'))).toBe(true);
  });
});

describe('HTTP/2 faults', () => {
  it('a session dropped before the answer: a read is retried on a new connection', async () => {
    let n = 0;
    onStream = (stream, headers, session) => {
      if (n++ === 0) return void session.destroy();
      json(stream, { path: headers[':path'] });
    };
    const { kube } = kubeAt(h2port);
    expect(await kube.get('/api/v1/pods')).toEqual({ path: '/api/v1/pods' });
    expect(h2conns).toEqual(['h2', 'h2']);
  });

  it('a session dropped before the answer: a write is not retried (it may have happened), exit 3', async () => {
    onStream = (_stream, _headers, session) => session.destroy();
    const { kube } = kubeAt(h2port);
    const f = await failure(kube.request('POST', '/api/v1/namespaces/ml/configmaps', { body: {} }));
    expect(f.exitCode).toBe(3);
    expect(f.text).toMatch(new RegExp(`^error: cannot reach the API server at https://127\\.0\\.0\\.1:${h2port}: connection reset`));
    expect(h2conns).toEqual(['h2']);
  });

  it('a stream refused unprocessed (REFUSED_STREAM) is sent again, even a write', async () => {
    let n = 0;
    onStream = (stream, headers) => {
      if (n++ === 0) return void stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      json(stream, { method: headers[':method'] });
    };
    const { kube } = kubeAt(h2port);
    expect(await kube.request('POST', '/api/v1/namespaces/ml/configmaps', { body: {} })).toEqual({ method: 'POST' });
    expect(n).toBe(2);
  });

  it('a GOAWAY: requests after it go to a new connection', async () => {
    const served: string[] = [];
    onStream = (stream, headers, session) => {
      served.push(String(headers[':path']));
      json(stream, { path: headers[':path'] });
      if (headers[':path'] === '/first') session.goaway(http2.constants.NGHTTP2_NO_ERROR, stream.id);
    };
    const { kube } = kubeAt(h2port);
    expect(await kube.get('/first')).toEqual({ path: '/first' });
    // Sent at once: whether or not the GOAWAY has arrived, the server never processes it on the old
    // connection (a stream above the GOAWAY's last id is refused) and it is answered on a new one.
    expect(await kube.get('/second')).toEqual({ path: '/second' });
    expect(await kube.request('POST', '/third', { body: {} })).toEqual({ path: '/third' });
    expect(h2conns).toEqual(['h2', 'h2']);
    expect(served).toEqual(['/first', '/second', '/third']);
  });

  it('a stall before the answer and a stall mid-body are --request-timeout (exit 4)', async () => {
    onStream = (stream, headers) => {
      if (headers[':path'] === '/mid') {
        stream.respond({ ':status': 200, 'content-type': 'application/json' });
        stream.write('{"items": [');
      }
      // '/before': never answers.
    };
    const { kube } = kubeAt(h2port, { requestTimeoutMs: 300, maxRetries: 0 });
    const text = `error: request to https://127.0.0.1:${h2port} timed out after 300ms (--request-timeout)`;
    expect(await failure(kube.get('/before'))).toEqual({ text, exitCode: 4 });
    expect(await failure(kube.get('/mid'))).toEqual({ text, exitCode: 4 });
    // The timeouts cancelled streams, not the connection.
    expect(h2conns).toEqual(['h2']);
  });

  it.each([
    ['a stream reset mid-body (RST_STREAM)', (stream: http2.ServerHttp2Stream) => stream.destroy(new Error('reset'))],
    ['the connection lost mid-body', (stream: http2.ServerHttp2Stream) => stream.session!.destroy()],
  ])('%s is a cut body (exit 3), gzipped or not', async (_what, cut) => {
    for (const gzip of [false, true]) {
      onStream = (stream) => {
        stream.on('error', () => undefined);
        stream.respond({ ':status': 200, 'content-type': 'application/json', ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
        const part = gzip ? zlib.gzipSync('{"items": [{"kind": "Pod"}]}').subarray(0, 20) : Buffer.from('{"items": [');
        stream.write(part, () => cut(stream));
      };
      const { kube } = kubeAt(h2port, { maxRetries: 0 });
      const f = await failure(kube.get('/api/v1/pods'));
      expect(f.exitCode).toBe(3);
      expect(f.text).toMatch(
        new RegExp(`^error: the server at https://127\\.0\\.0\\.1:${h2port} closed the connection before the whole response was read \\(200, application/json\\)`),
      );
    }
  });

  it('a server that refuses the connection: exit 3 for each of several parallel requests, and no stray rejection', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    for (const always of [true, false]) {
      const { kube } = kubeAt(port, { http2: settings({ always }), maxRetries: 0 });
      const text = `error: cannot reach the API server at https://127.0.0.1:${port}: connection refused`;
      expect(await Promise.all([failure(kube.get('/a')), failure(kube.get('/b'))])).toEqual([
        { text, exitCode: 3 },
        { text, exitCode: 3 },
      ]);
    }
  });

  it('Ctrl-C during a request is "interrupted" (exit 130)', async () => {
    let started: () => void;
    const arrived = new Promise<void>((r) => (started = r));
    onStream = () => started();
    const ctrl = new AbortController();
    const { kube } = kubeAt(h2port, { signal: ctrl.signal });
    const p = failure(kube.get('/api/v1/pods'));
    await arrived;
    ctrl.abort();
    expect(await p).toEqual({ text: 'error: interrupted', exitCode: 130 });
  });

  it('a watch streams events over the session and ending it leaves the session for the next request', async () => {
    let cancelled: () => void;
    const streamGone = new Promise<void>((r) => (cancelled = r));
    onStream = (stream, headers) => {
      if (String(headers[':path']).includes('watch=1')) {
        stream.respond({ ':status': 200, 'content-type': 'application/json' });
        stream.write(JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '2' } } }) + '\n');
        stream.write(JSON.stringify({ type: 'MODIFIED', object: { metadata: { name: 'a', resourceVersion: '3' } } }) + '\n');
        stream.on('close', () => cancelled());
        return;
      }
      json(stream, { path: headers[':path'] });
    };
    const { kube } = kubeAt(h2port);
    const seen: string[] = [];
    await kube.watch<{ metadata: { name: string } }>('/api/v1/namespaces/ml/pods', { resourceVersion: '1' }, (ev) => {
      seen.push(ev.type);
      return ev.type === 'MODIFIED';
    });
    expect(seen).toEqual(['ADDED', 'MODIFIED']);
    await streamGone;
    expect(await kube.get('/version')).toEqual({ path: '/version' });
    expect(h2conns).toEqual(['h2']);
  });
});

describe('HTTP/2 health check (ReadIdleTimeout / PingTimeout)', () => {
  it('a connection that stops answering is closed after an unanswered ping, and the read is retried on a new one', async () => {
    // A TCP relay that can freeze the connections it has: bytes stop flowing both ways, as on a dead link.
    const frozen = new Set<net.Socket>();
    let accepted = 0;
    const relay = net.createServer((client) => {
      accepted++;
      const up = net.connect(h2port, '127.0.0.1');
      client.on('data', (d) => (frozen.has(client) ? undefined : up.write(d)));
      up.on('data', (d) => (frozen.has(client) ? undefined : client.write(d)));
      client.on('error', () => up.destroy());
      up.on('error', () => client.destroy());
      client.on('close', () => up.destroy());
      up.on('close', () => client.destroy());
      relaySockets.add(client);
    });
    const relaySockets = new Set<net.Socket>();
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const port = (relay.address() as AddressInfo).port;
    let n = 0;
    onStream = (stream, headers) => {
      // The first request's answer is lost: the link dies under it.
      if (n++ === 0) {
        for (const s of relaySockets) frozen.add(s);
        return;
      }
      json(stream, { path: headers[':path'] });
    };
    try {
      const { kube, log } = kubeAt(port, { http2: settings({ readIdleMs: 200, pingTimeoutMs: 200 }) });
      expect(await kube.get('/api/v1/pods')).toEqual({ path: '/api/v1/pods' });
      expect(accepted).toBe(2);
      expect(log[0]).toMatch(/^GET \/api\/v1\/pods failed after \d+ms: ECONNLOST$/);
    } finally {
      for (const s of relaySockets) s.destroy();
      relay.close();
    }
  });
});
