// HTTP/2 against the local API server. client-go offers h2 in ALPN and sends every request of
// a process over one connection; the plugin does the same whenever a command sends requests
// in parallel (a command whose requests go one at a time keeps one HTTP/1.1 connection: loading
// node:http2 would cost more than it saves, bench/findings.md). The -v line names the protocol,
// parallel requests share one TCP connection (directly and through a CONNECT proxy tunnel),
// DISABLE_HTTP2 keeps HTTP/1.1, and a TLS server that answers ALPN with http/1.1 gets HTTP/1.1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { inject } from 'vitest';
import * as yaml from 'js-yaml';
import { BIN, run, type Run } from './helpers.js';
import { PROXY_ONLY_NAME, connectProxy, reverseProxy } from './net-helpers.js';

const cluster = () => inject('cluster');
let dir: string;
let token: string;
let caFile: string;
let port: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'mlops-h2-'));
  const doc = yaml.load(fs.readFileSync(cluster().kubeconfig, 'utf8')) as { users: { user: { token: string } }[] };
  token = doc.users[0]!.user.token;
  caFile = path.join(cluster().workDir, 'certs', 'apiserver.crt');
  port = new URL(cluster().server).port;
});

function writeConfig(name: string, clusterFields: Record<string, unknown>): string {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(
    file,
    yaml.dump({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'c',
      clusters: [{ name: 'k', cluster: clusterFields }],
      users: [{ name: 'u', user: { token } }],
      contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
    }),
  );
  return file;
}

/** The plugin with exactly this environment on top of a clean one (no proxies, no DISABLE_HTTP2 from outside). */
function ours(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return run(BIN, args, {
    env: { KUBECONFIG: '', HOME: dir, HTTPS_PROXY: '', https_proxy: '', HTTP_PROXY: '', http_proxy: '', NO_PROXY: '', no_proxy: '', DISABLE_HTTP2: '', ...env },
  });
}

/** The -v request lines, without their times. */
function requestLines(r: Run): string[] {
  return r.err
    .split('\n')
    .filter((l) => /^(GET|POST|PUT|PATCH|DELETE) \//.test(l))
    .map((l) => l.replace(/ \d+ms /, ' '));
}

/** A TCP forwarder to the API server that counts the connections it carries (TLS stays end to end). */
async function countingForwarder(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  const target = new URL(cluster().server);
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    connections++;
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream);
    upstream.pipe(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => connections,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('HTTP/2 with the local API server', () => {
  let fwd: Awaited<ReturnType<typeof countingForwarder>>;
  beforeAll(async () => {
    fwd = await countingForwarder();
  });
  afterAll(() => fwd.close());

  it('the server chooses h2: -v names HTTP/2, and a command of parallel lists uses one connection', async () => {
    const file = writeConfig('via-forwarder', { server: `https://127.0.0.1:${fwd.port}`, 'certificate-authority': caFile });
    const before = fwd.connections();
    const r = await ours(['gpus', '-A', '-v', '--kubeconfig', file]);
    expect(r.code).toBe(0);
    const lines = requestLines(r);
    // gpus -A lists nodes, pods, resource claims and slices at once.
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const l of lines) expect(l).toMatch(/ 200 \(HTTP\/2\)$/);
    expect(fwd.connections() - before).toBe(1);
  });

  it('requests one at a time keep one HTTP/1.1 connection; a burst after them moves to one HTTP/2 connection', async () => {
    const file = writeConfig('via-forwarder-mixed', { server: `https://127.0.0.1:${fwd.port}`, 'certificate-authority': caFile });
    const before = fwd.connections();
    const version = await ours(['version', '-v', '--kubeconfig', file]);
    expect(version.code).toBe(0);
    expect(requestLines(version)).toEqual(['GET /version 200 (HTTP/1.1)']);
    expect(fwd.connections() - before).toBe(1);
    // doctor: the version and who-am-i one after the other, then one access review per check at once.
    const mid = fwd.connections();
    const doctor = await ours(['doctor', '-v', '--kubeconfig', file]);
    expect(doctor.code).toBe(0);
    const lines = requestLines(doctor);
    expect(lines.slice(0, 2)).toEqual(['GET /version 200 (HTTP/1.1)', 'POST /apis/authentication.k8s.io/v1/selfsubjectreviews?fieldManager=kubectl-mlops 201 (HTTP/1.1)']);
    const reviews = lines.slice(2);
    expect(reviews.length).toBeGreaterThan(10);
    for (const l of reviews) expect(l).toBe('POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews?fieldManager=kubectl-mlops 201 (HTTP/2)');
    expect(fwd.connections() - mid).toBe(2);
  });

  it('DISABLE_HTTP2 set to anything (client-go checks only that it is non-empty) keeps HTTP/1.1 and its connection per parallel request', async () => {
    const file = writeConfig('via-forwarder-h1', { server: `https://127.0.0.1:${fwd.port}`, 'certificate-authority': caFile });
    for (const value of ['true', 'false']) {
      const before = fwd.connections();
      const r = await ours(['gpus', '-A', '-v', '--kubeconfig', file], { DISABLE_HTTP2: value });
      expect(r.code).toBe(0);
      const lines = requestLines(r);
      expect(lines.length).toBeGreaterThanOrEqual(4);
      for (const l of lines) expect(l).toMatch(/ 200 \(HTTP\/1\.1\)$/);
      // The parallel lists open connections of their own (after the first one's handshake).
      expect(fwd.connections() - before).toBeGreaterThan(1);
    }
  });

  it('through an HTTP CONNECT proxy: TLS and ALPN run inside the tunnel, so HTTP/2 and one tunnel, as Go’s transport', async () => {
    const proxy = await connectProxy();
    try {
      const file = writeConfig('via-connect-proxy', {
        server: `https://${PROXY_ONLY_NAME}:${port}`,
        'certificate-authority': caFile,
        'proxy-url': `http://127.0.0.1:${proxy.port}`,
      });
      const r = await ours(['gpus', '-A', '-v', '--kubeconfig', file]);
      expect(r.code).toBe(0);
      const lines = requestLines(r);
      expect(lines.length).toBeGreaterThanOrEqual(4);
      for (const l of lines) expect(l).toMatch(/ 200 \(HTTP\/2\)$/);
      expect(proxy.tunnels).toEqual([`${PROXY_ONLY_NAME}:${port}`]);
      // kubectl connects through the same proxy with the same kubeconfig.
      const theirs = await run('kubectl', ['get', '--raw', '/version', '--kubeconfig', file], { env: { HOME: dir, HTTPS_PROXY: '', https_proxy: '', NO_PROXY: '', no_proxy: '' } });
      expect(theirs.code).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('a TLS server that answers ALPN with http/1.1 gets HTTP/1.1 on the connection it answered on', async () => {
    const rp = await reverseProxy(cluster().server, caFile, dir);
    try {
      const file = writeConfig('via-h1-proxy', { server: rp.url, 'certificate-authority': rp.caFile });
      const r = await ours(['gpus', '-A', '-v', '--kubeconfig', file]);
      expect(r.code).toBe(0);
      const lines = requestLines(r);
      expect(lines.length).toBeGreaterThanOrEqual(4);
      for (const l of lines) expect(l).toMatch(/^GET \/k8s\/clusters\/c-1\/\S+ 200 \(HTTP\/1\.1\)$/);
      expect(rp.requests).toHaveLength(lines.length);
    } finally {
      await rp.close();
    }
  });
});
