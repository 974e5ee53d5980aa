// TLS as kubectl does it: verification on with the kubeconfig's CA, client certificates
// presented, and an unknown CA refused with a clear line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { resolveConfig } from '../../src/kube/config.js';
import { Kube } from '../../src/kube/client.js';
import { formatError } from '../../src/errors.js';
import { transportTimeouts } from '../../src/kube/proxy.js';
import { tempDir } from '../helpers.js';

const dir = tempDir('mlops-tls-');
const f = (n: string) => path.join(dir, n);
const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
let server: https.Server;
let port: number;

beforeAll(async () => {
  nock.enableNetConnect('127.0.0.1');
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=test-ca');
  fs.writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1');
  ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '2', '-extfile', f('san.ext'));
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('client.key'), '-out', f('client.csr'), '-subj', '/CN=jane/O=ml-team');
  ssl('x509', '-req', '-in', f('client.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('client.crt'), '-days', '2');
  server = https.createServer(
    { key: fs.readFileSync(f('server.key')), cert: fs.readFileSync(f('server.crt')), ca: fs.readFileSync(f('ca.crt')), requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      if (req.url === '/slow') return void setTimeout(() => res.end('{}'), 800);
      const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ gitVersion: 'v1.35.4', clientCN: peer?.subject?.CN ?? null }));
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server?.close();
  nock.disableNetConnect();
});

function kubeconfig(name: string, cluster: string, user: string): string {
  const file = f(`${name}.yaml`);
  fs.writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:${port}\n${cluster}\nusers:\n- name: u\n  user:\n${user}\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n`,
  );
  return file;
}

describe('TLS', () => {
  it('the handshake timeout ends a handshake, not a slow answer on a kept-alive connection', async () => {
    const file = kubeconfig('keepalive', '    certificate-authority: ca.crt', '    client-certificate: client.crt\n    client-key: client.key');
    const c = resolveConfig({ kubeconfig: file }, {});
    const kube = new Kube({ auth: c.auth, server: c.server });
    const saved = { ...transportTimeouts };
    transportTimeouts.tlsHandshakeMs = 300;
    let connections = 0;
    const count = () => connections++;
    server.on('secureConnection', count);
    try {
      await kube.get('/version');
      await kube.get('/version');
      await expect(kube.get('/slow')).resolves.toEqual({});
      expect(connections).toBe(1);
    } finally {
      Object.assign(transportTimeouts, saved);
      server.off('secureConnection', count);
    }
  });

  it('verifies the server with certificate-authority (a relative path) and presents the client certificate', async () => {
    const file = kubeconfig('certs', '    certificate-authority: ca.crt', '    client-certificate: client.crt\n    client-key: client.key');
    const c = resolveConfig({ kubeconfig: file }, {});
    const kube = new Kube({ auth: c.auth, server: c.server });
    await expect(kube.get('/version')).resolves.toEqual({ gitVersion: 'v1.35.4', clientCN: 'jane' });
  });

  it('takes inline -data fields too', async () => {
    const b64 = (n: string) => fs.readFileSync(f(n)).toString('base64');
    const file = kubeconfig(
      'inline',
      `    certificate-authority-data: ${b64('ca.crt')}`,
      `    client-certificate-data: ${b64('client.crt')}\n    client-key-data: ${b64('client.key')}`,
    );
    const c = resolveConfig({ kubeconfig: file }, {});
    await expect(new Kube({ auth: c.auth, server: c.server }).get('/version')).resolves.toMatchObject({ clientCN: 'jane' });
  });

  it('refuses a server whose certificate is not signed by a trusted CA', async () => {
    const file = kubeconfig('untrusted', '    certificate-authority: client.crt', '    token: t');
    const c = resolveConfig({ kubeconfig: file }, {});
    const err = await new Kube({ auth: c.auth, server: c.server, sleep: async () => {} }).get('/version').catch((e) => e);
    expect(formatError(err)).toEqual({ text: `error: cannot reach the API server at https://127.0.0.1:${port}: certificate signed by an unknown authority`, exitCode: 3 });
  });
});
