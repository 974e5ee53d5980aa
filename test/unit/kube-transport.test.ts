// The connection layer under bad servers and networks, against real local servers (nock only
// where TLS to a named host is needed): bad bodies, truncation, stalls, handshake timeouts,
// Retry-After, pagination loops, 410 loops, dropped watches, warnings, gzip, the
// User-Agent, token files, exec plugins and proxy rules.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { resolveConfig, type ConfigFlags } from '../../src/kube/config.js';
import { Kube, type KubeOptions } from '../../src/kube/client.js';
import { proxyFor, transportTimeouts, useProxy } from '../../src/kube/proxy.js';
import { formatError } from '../../src/errors.js';
import { TEST_SERVER, tempDir, writeKubeconfig } from '../helpers.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
let handler: Handler;
let server: http.Server;
let base: string;
const sockets = new Set<net.Socket>();

beforeAll(async () => {
  server = http.createServer((req, res) => handler(req, res));
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  for (const s of sockets) s.destroy();
  server.close();
});
beforeEach(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

function kubeAt(server: string, opts: Partial<KubeOptions> & { flags?: ConfigFlags; user?: string } = {}) {
  const file = writeKubeconfig(tempDir(), { server, user: opts.user });
  const c = resolveConfig({ kubeconfig: file, ...opts.flags }, {});
  const sleeps: number[] = [];
  const warnings: string[] = [];
  const kube = new Kube({ auth: c.auth, server: c.server, sleep: async (ms) => void sleeps.push(ms), warn: (l) => warnings.push(l), ...opts });
  return { kube, sleeps, warnings };
}

async function failure(p: Promise<unknown>) {
  return formatError(
    await p.then(
      () => 'no error',
      (e: unknown) => e,
    ),
  );
}

describe('bad answers are one line naming the server, status and content type', () => {
  it.each([
    ['an HTML page', 200, 'text/html', '<html><body>Please log in</body></html>', 'an HTML page instead of JSON (200, text/html)'],
    ['an empty body', 200, 'application/json', '', 'an empty body (200, application/json)'],
    ['malformed JSON', 200, 'application/json', '{"gitVersion": ', 'malformed JSON (200, application/json)'],
    ['a 502 page from a gateway', 502, 'text/html', '<html>Bad Gateway</html>', 'an HTML page (502, text/html)'],
  ])('%s', async (_what, status, type, body, text) => {
    handler = (_req, res) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    const { kube } = kubeAt(base);
    expect(await failure(kube.get('/version'))).toEqual({ text: `error: the server at ${base} returned ${text}`, exitCode: 3 });
  });

  it('a body cut short is exit 3', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"items": [');
      setImmediate(() => res.socket?.destroy());
    };
    const { kube } = kubeAt(base);
    const f = await failure(kube.get('/api/v1/pods'));
    expect(f.exitCode).toBe(3);
    expect(f.text).toMatch(new RegExp(`^error: the server at ${base} closed the connection before the whole response was read \\(200, application/json\\)`));
  });

  it('a body that stalls past --request-timeout is a timeout, exit 4', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"items": [');
    };
    const { kube } = kubeAt(base, { requestTimeoutMs: 200 });
    expect(await failure(kube.get('/api/v1/pods'))).toEqual({ text: `error: request to ${base} timed out after 200ms (--request-timeout)`, exitCode: 4 });
  });

  it('a server that accepts TCP but never finishes TLS fails with the handshake timeout', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const saved = { ...transportTimeouts };
    transportTimeouts.tlsHandshakeMs = 150;
    try {
      const { kube } = kubeAt(`https://127.0.0.1:${(silent.address() as AddressInfo).port}`, { maxRetries: 0 });
      const started = Date.now();
      const f = await failure(kube.get('/version'));
      expect(f).toEqual({
        text: `error: cannot reach the API server at https://127.0.0.1:${(silent.address() as AddressInfo).port}: net/http: TLS handshake timeout`,
        exitCode: 3,
      });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      Object.assign(transportTimeouts, saved);
      silent.close();
    }
  });

  it('Retry-After never stretches a request past --request-timeout', async () => {
    handler = (_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3600' });
      res.end(JSON.stringify({ kind: 'Status', reason: 'TooManyRequests', message: 'slow down', code: 429 }));
    };
    const { kube, sleeps } = kubeAt(base, { requestTimeoutMs: 5000 });
    const f = await failure(kube.get('/version'));
    expect(f.exitCode).toBe(4);
    expect(f.text).toBe(`error: the server at ${base} asked to retry after 30s (429), past --request-timeout 5000ms`);
    expect(sleeps).toEqual([]);
  });

  it('a repeated continue token stops the listing instead of paginating forever', async () => {
    let pages = 0;
    handler = (_req, res) => {
      pages++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ items: [{}], metadata: { continue: 'same', resourceVersion: '1' } }));
    };
    const { kube } = kubeAt(base);
    expect(await failure(kube.list('/api/v1/pods'))).toEqual({
      text: `error: the server at ${base} returned the same continue token twice while listing /api/v1/pods; stopping`,
      exitCode: 3,
    });
    expect(pages).toBe(2);
  });

  it('many requests over one keep-alive connection add no listeners (no MaxListenersExceededWarning)', async () => {
    const sockets = new Set<net.Socket>();
    handler = (req, res) => {
      sockets.add(req.socket);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    };
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const { kube } = kubeAt(base);
      for (let i = 0; i < 25; i++) await kube.get('/version');
      await new Promise((r) => setImmediate(r));
      expect(sockets.size).toBe(1);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('the abort signal given to the Kube ends a request in flight (Ctrl-C), exit 130', async () => {
    handler = () => undefined;
    const ctl = new AbortController();
    const { kube } = kubeAt(base, { signal: ctl.signal });
    const p = kube.get('/version');
    setTimeout(() => ctl.abort(), 50);
    expect(await failure(p)).toEqual({ text: 'error: interrupted', exitCode: 130 });
  });
});

describe('headers', () => {
  it('User-Agent with version and os/arch, gzip accepted and undone; no credentials over http://', async () => {
    const seen: http.IncomingHttpHeaders[] = [];
    handler = (req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(zlib.gzipSync(JSON.stringify({ gitVersion: 'v1.35.4' })));
    };
    const { kube } = kubeAt(base, { version: '1.2.3-dev' });
    await expect(kube.get('/version')).resolves.toEqual({ gitVersion: 'v1.35.4' });
    expect(seen[0]!['user-agent']).toMatch(/^kubectl-mlops\/1\.2\.3 \((linux|darwin|windows)\/(amd64|arm64)\)$/);
    expect(seen[0]!['accept-encoding']).toBe('gzip');
    // client-go reads no credentials for a plain-http server (rest.IsConfigTransportTLS).
    expect(seen[0]!.authorization).toBeUndefined();
  });

  it('a plain-http server behind HTTP_PROXY: the request goes to the proxy in absolute form, with the proxy credentials (as Go)', async () => {
    const seen: { url: string; host: string; auth: string }[] = [];
    handler = (req, res) => {
      seen.push({ url: req.url!, host: String(req.headers.host), auth: String(req.headers['proxy-authorization']) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"gitVersion":"v1"}');
    };
    // nock judges by the Host header; the connection itself goes to the local proxy.
    nock.enableNetConnect(/^(127\.0\.0\.1|api\.corp\.example)/);
    const file = writeKubeconfig(tempDir(), { server: 'http://api.corp.example:8080' });
    const c = resolveConfig({ kubeconfig: file }, { HTTP_PROXY: `http://me:p%40ss@${new URL(base).host}` });
    await expect(new Kube({ auth: c.auth, server: c.server }).get('/version')).resolves.toEqual({ gitVersion: 'v1' });
    expect(seen).toEqual([{ url: 'http://api.corp.example:8080/version', host: 'api.corp.example:8080', auth: `Basic ${Buffer.from('me:p@ss').toString('base64')}` }]);
  });

  it('disable-compression asks for no gzip', async () => {
    const seen: http.IncomingHttpHeaders[] = [];
    handler = (req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    };
    const { kube } = kubeAt(base, { disableCompression: true });
    await kube.get('/version');
    expect(seen[0]!['accept-encoding']).toBeUndefined();
  });

  it('server warnings are printed once each, as kubectl', async () => {
    handler = (req, res) => {
      res.setHeader(
        'warning',
        req.url === '/a' ? ['299 - "apps/v1beta1 is deprecated"', '299 - "second \\"quoted\\" one"'] : ['299 - "apps/v1beta1 is deprecated"', '199 - "not a 299 warning"'],
      );
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    };
    const { kube, warnings } = kubeAt(base);
    await kube.get('/a');
    await kube.get('/b');
    await kube.get('/a');
    expect(warnings).toEqual(['Warning: apps/v1beta1 is deprecated', 'Warning: second "quoted" one']);
  });
});

describe('watches and waits', () => {
  const pod = (name: string, rv: string, phase = 'Pending') => ({ metadata: { name, namespace: 'ml', resourceVersion: rv }, status: { phase } });
  const event = (type: string, o: unknown) => JSON.stringify({ type, object: o }) + '\n';
  const listReply = (res: http.ServerResponse, items: unknown[], rv: string) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ items, metadata: { resourceVersion: rv } }));
  };

  it("an error thrown by the caller's check ends the wait at once; it is not resumed as a dropped stream", async () => {
    let watches = 0;
    handler = (req, res) => {
      if (!req.url!.includes('watch=')) return listReply(res, [pod('a', '1')], '1');
      watches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(event('MODIFIED', pod('a', '2', 'Failed')));
    };
    const { kube } = kubeAt(base);
    const terminal = new Error('ProgressDeadlineExceeded: the rollout is stuck');
    const p = kube.waitFor<ReturnType<typeof pod>, true>(
      '/api/v1/namespaces/ml/pods',
      {},
      (pods) => {
        if (pods.some((x) => x.status.phase === 'Failed')) throw terminal;
        return undefined;
      },
      { timeoutMs: 10_000, onTimeout: () => 'timed out' },
    );
    await expect(p).rejects.toBe(terminal);
    expect(watches).toBe(1);
  });

  it('a watch stream that is not JSON (a proxy page) ends the wait with one line, exit 3', async () => {
    handler = (req, res) => {
      if (!req.url!.includes('watch=')) return listReply(res, [pod('a', '1')], '1');
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>session expired</html>\n');
    };
    const { kube } = kubeAt(base);
    const f = await failure(kube.waitFor('/api/v1/namespaces/ml/pods', {}, () => undefined, { timeoutMs: 10_000, onTimeout: () => 'timed out' }));
    expect(f).toEqual({ text: `error: the server at ${base} returned malformed JSON in a watch stream (200, text/html)`, exitCode: 3 });
  });

  it('a dropped watch resumes from the last version seen', async () => {
    const watchVersions: string[] = [];
    handler = (req, res) => {
      const u = new URL(req.url!, base);
      if (!u.searchParams.get('watch')) return listReply(res, [pod('a', '1')], '1');
      watchVersions.push(u.searchParams.get('resourceVersion')!);
      res.writeHead(200, { 'content-type': 'application/json' });
      if (watchVersions.length === 1) {
        res.write(event('MODIFIED', pod('a', '5')));
        setTimeout(() => res.socket?.destroy(), 20);
      } else res.end(event('MODIFIED', pod('a', '6', 'Running')));
    };
    const { kube } = kubeAt(base);
    const r = await kube.waitFor<ReturnType<typeof pod>, string>('/api/v1/namespaces/ml/pods', {}, (pods) => (pods[0]?.status.phase === 'Running' ? 'running' : undefined), {
      timeoutMs: 10_000,
      onTimeout: () => 'timed out',
    });
    expect(r).toBe('running');
    expect(watchVersions).toEqual(['1', '5']);
  });

  it('a server that goes away during a wait is waited for (with backoff), not exit 3', async () => {
    const srv = http.createServer((req, res) => {
      if (!req.url!.includes('watch=')) return listReply(res, [pod('a', '1')], '1');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(event('MODIFIED', pod('a', '2', 'Running')));
    });
    const port = await new Promise<number>((r) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as AddressInfo).port;
        probe.close(() => r(p));
      });
    });
    const sleeps: number[] = [];
    const file = writeKubeconfig(tempDir(), { server: `http://127.0.0.1:${port}` });
    const c = resolveConfig({ kubeconfig: file }, {});
    const kube = new Kube({
      auth: c.auth,
      server: c.server,
      // The "restart": the server comes up during the second back-off.
      sleep: async (ms) => {
        sleeps.push(ms);
        if (sleeps.length === 2) await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
      },
    });
    try {
      const r = await kube.waitFor<ReturnType<typeof pod>, string>('/api/v1/namespaces/ml/pods', {}, (pods) => (pods[0]?.status.phase === 'Running' ? 'up' : undefined), {
        timeoutMs: 10_000,
        onTimeout: () => 'timed out',
      });
      expect(r).toBe('up');
      expect(sleeps).toEqual([800, 1600]);
    } finally {
      srv.close();
    }
  });

  it('a watch that always answers 410 Gone backs off instead of hammering the server', async () => {
    let requests = 0;
    handler = (req, res) => {
      requests++;
      if (!req.url!.includes('watch=')) return listReply(res, [pod('a', '1')], '1');
      res.writeHead(410, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', reason: 'Expired', message: 'too old resource version', code: 410 }));
    };
    const sleeps: number[] = [];
    const ctl = new AbortController();
    const { kube } = kubeAt(base, {
      // The user gives up (Ctrl-C) during the fourth back-off.
      sleep: async (ms) => {
        sleeps.push(ms);
        if (sleeps.length === 4) ctl.abort();
      },
    });
    const f = await failure(kube.waitFor('/api/v1/namespaces/ml/pods', {}, () => undefined, { timeoutMs: 60_000, onTimeout: () => 'timed out', signal: ctl.signal }));
    expect(f).toEqual({ text: 'error: interrupted', exitCode: 130 });
    expect(sleeps).toEqual([800, 1600, 3200, 6400]);
    // A list and a watch per round: five rounds, no more.
    expect(requests).toBe(10);
  });
});

describe('credentials', () => {
  it('a tokenFile is re-read when it changes (rotation), relative to the kubeconfig', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'token'), 'first\n');
    const file = writeKubeconfig(dir, { user: '    tokenFile: token' });
    const c = resolveConfig({ kubeconfig: file }, {});
    const kube = new Kube({ auth: c.auth, server: c.server });
    const first = nock(TEST_SERVER, { reqheaders: { authorization: 'Bearer first' } })
      .get('/version')
      .reply(200, {});
    const second = nock(TEST_SERVER, { reqheaders: { authorization: 'Bearer second' } })
      .get('/version')
      .reply(200, {});
    await kube.get('/version');
    expect(first.isDone()).toBe(true);
    fs.writeFileSync(path.join(dir, 'token'), 'second\n');
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(path.join(dir, 'token'), later, later);
    await kube.get('/version');
    expect(second.isDone()).toBe(true);
  });

  function execUser(dir: string, script: string, extra = ''): string {
    const plugin = path.join(dir, 'cred.sh');
    fs.writeFileSync(plugin, `#!/bin/sh\necho run >> "${dir}/runs"\n${script}\n`);
    fs.chmodSync(plugin, 0o755);
    return writeKubeconfig(dir, {
      user: ['    exec:', '      apiVersion: client.authentication.k8s.io/v1', `      command: ${plugin}`, '      interactiveMode: Never', extra].filter(Boolean).join('\n'),
    });
  }
  const runs = (dir: string) => fs.readFileSync(path.join(dir, 'runs'), 'utf8').split('\n').filter(Boolean).length;
  const cred = (token: string, exp?: string) =>
    `echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${token}"${exp ? `,"expirationTimestamp":"${exp}"` : ''}}}'`;

  it('an exec plugin runs once for parallel requests and is cached until it expires', async () => {
    const dir = tempDir();
    const c = resolveConfig({ kubeconfig: execUser(dir, cred('t1')) }, {}, { stderr: process.stderr });
    nock(TEST_SERVER, { reqheaders: { authorization: 'Bearer t1' } })
      .get('/version')
      .times(5)
      .reply(200, {});
    const kube = new Kube({ auth: c.auth, server: c.server });
    await Promise.all([1, 2, 3, 4, 5].map(() => kube.get('/version')));
    expect(runs(dir)).toBe(1);

    const dir2 = tempDir();
    const c2 = resolveConfig({ kubeconfig: execUser(dir2, cred('t2', '2000-01-01T00:00:00Z')) }, {}, { stderr: process.stderr });
    nock(TEST_SERVER, { reqheaders: { authorization: 'Bearer t2' } })
      .get('/version')
      .times(2)
      .reply(200, {});
    const kube2 = new Kube({ auth: c2.auth, server: c2.server });
    await kube2.get('/version');
    await kube2.get('/version');
    expect(runs(dir2)).toBe(2);
  });

  it('a failing exec plugin is exit 3 with its exit code', async () => {
    const dir = tempDir();
    const c = resolveConfig({ kubeconfig: execUser(dir, 'exit 7') }, {}, { stderr: process.stderr });
    const kube = new Kube({ auth: c.auth, server: c.server });
    expect(await failure(kube.get('/version'))).toEqual({ text: `error: getting credentials: exec: executable ${dir}/cred.sh failed with exit code 7`, exitCode: 3 });
  });

  it('interactiveMode Always without a terminal is refused as client-go does', async () => {
    const dir = tempDir();
    const file = execUser(dir, cred('t'));
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('interactiveMode: Never', 'interactiveMode: Always'));
    const c = resolveConfig({ kubeconfig: file }, {}, { stdinIsTTY: false });
    const kube = new Kube({ auth: c.auth, server: c.server });
    expect(await failure(kube.get('/version'))).toEqual({
      text: 'error: getting credentials: exec plugin cannot support interactive mode: standard input is not a terminal',
      exitCode: 3,
    });
  });
});

describe('kubeconfig overrides and checks (client_config.go, validation.go)', () => {
  it('--server clears the kubeconfig tls-server-name; --certificate-authority replaces insecure-skip-tls-verify', () => {
    const dir = tempDir();
    const file = writeKubeconfig(dir);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('    insecure-skip-tls-verify: true', '    insecure-skip-tls-verify: true\n    tls-server-name: kubernetes'));
    fs.writeFileSync(path.join(dir, 'ca.crt'), 'x');
    expect(resolveConfig({ kubeconfig: file }, {}).cluster.tlsServerName).toBe('kubernetes');
    expect(resolveConfig({ kubeconfig: file, server: 'https://other:6443' }, {}).cluster.tlsServerName).toBeUndefined();
    const c = resolveConfig({ kubeconfig: file, certificateAuthority: path.join(dir, 'ca.crt') }, {});
    expect(c.cluster).toMatchObject({ skipTLSVerify: false, caFile: path.join(dir, 'ca.crt') });
  });

  it('a missing tokenFile is a kubeconfig error naming the file (exit 3), not an unreachable server', () => {
    const dir = tempDir();
    const file = writeKubeconfig(dir, { user: '    tokenFile: nope/token' });
    const err = (() => {
      try {
        resolveConfig({ kubeconfig: file }, {});
      } catch (e) {
        return e;
      }
    })();
    expect(formatError(err)).toEqual({ text: `error: invalid configuration: unable to read tokenFile ${dir}/nope/token for test-user: no such file`, exitCode: 3 });
  });

  it('--as-group without --as is refused, as kubectl', () => {
    const file = writeKubeconfig(tempDir());
    expect(() => resolveConfig({ kubeconfig: file, asGroups: ['g'] }, {})).toThrow('requesting uid, groups or user-extra for test-user without impersonating a user');
  });
});

describe('proxy rules (golang.org/x/net/http/httpproxy)', () => {
  it.each([
    ['example.com', '443', '', true],
    ['localhost', '443', '', false],
    ['127.0.0.1', '443', '', false],
    ['::1', '443', '', false],
    ['10.1.2.3', '443', '10.0.0.0/8', false],
    ['10.1.2.3', '443', '192.168.0.0/16', true],
    ['api.corp.example', '6443', 'corp.example', false],
    ['corp.example', '6443', 'corp.example', false],
    ['corp.example', '6443', '.corp.example', true],
    ['api.corp.example', '6443', '*.corp.example', false],
    ['api.corp.example', '6443', 'corp.example:443', true],
    ['api.corp.example', '443', 'corp.example:443', false],
    ['notcorp.example', '443', 'corp.example', true],
    ['10.0.0.1', '443', 'corp.example', true],
    ['anything', '443', '*', false],
    ['2001:db8::5', '443', '2001:db8::/32', false],
    ['192.168.1.1', '6443', '192.168.1.1:6443', false],
    ['192.168.1.1', '443', '192.168.1.1:6443', true],
  ])('%s:%s with NO_PROXY=%j → proxied: %s', (host, port, noProxy, proxied) => {
    expect(useProxy(host, port, noProxy)).toBe(proxied);
  });

  it('upper case wins over lower case; https uses HTTPS_PROXY, http HTTP_PROXY; a scheme-less value is http://', () => {
    const https = new URL('https://api.example:6443');
    expect(proxyFor(https, {}, { HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2' })?.host).toBe('upper:1');
    expect(proxyFor(https, {}, { https_proxy: 'lower:2' })?.href).toBe('http://lower:2/');
    expect(proxyFor(https, {}, { HTTP_PROXY: 'http://only-http:3' })).toBeUndefined();
    expect(proxyFor(new URL('http://api.example'), {}, { HTTP_PROXY: 'http://only-http:3' })?.host).toBe('only-http:3');
    expect(proxyFor(https, { proxyUrl: 'socks5://s:1080' }, { NO_PROXY: '*' })?.href).toBe('socks5://s:1080');
  });
});
