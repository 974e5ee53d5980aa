// auth-provider oidc: an expired id-token is refreshed at the issuer (a real https server
// here) and the new tokens are written back to the kubeconfig file, as kubectl does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import * as yaml from 'js-yaml';
import nock from 'nock';
import { resolveConfig } from '../../src/kube/config.js';
import { Kube } from '../../src/kube/client.js';
import { TEST_SERVER, tempDir } from '../helpers.js';

const dir = tempDir('mlops-oidc-');
const f = (n: string) => path.join(dir, n);
let issuer: https.Server;
let issuerUrl: string;
let refreshes: string[] = [];

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (claims: Record<string, unknown>) => `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url(claims)}.c2lnbmF0dXJl`;

beforeAll(async () => {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=idp-ca');
  fs.writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('idp.key'), '-out', f('idp.csr'), '-subj', '/CN=idp');
  ssl('x509', '-req', '-in', f('idp.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('idp.crt'), '-days', '2', '-extfile', f('san.ext'));
  issuer = https.createServer({ key: fs.readFileSync(f('idp.key')), cert: fs.readFileSync(f('idp.crt')) }, (req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          issuer: issuerUrl,
          token_endpoint: `${issuerUrl}/token`,
          authorization_endpoint: `${issuerUrl}/auth`,
          jwks_uri: `${issuerUrl}/jwks`,
          response_types_supported: ['code'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
        }),
      );
      return;
    }
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      refreshes.push(new URLSearchParams(body).get('refresh_token') ?? '');
      const now = Math.floor(Date.now() / 1000);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          access_token: 'at',
          token_type: 'Bearer',
          expires_in: 3600,
          refresh_token: 'refresh-2',
          id_token: jwt({ iss: issuerUrl, aud: 'mlops', sub: 'jane', iat: now, exp: now + 3600 }),
        }),
      );
    });
  });
  await new Promise<void>((r) => issuer.listen(0, '127.0.0.1', r));
  issuerUrl = `https://127.0.0.1:${(issuer.address() as AddressInfo).port}`;
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => {
  issuer.close();
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('auth-provider oidc', () => {
  it('refreshes an expired id-token and writes the new tokens back to the kubeconfig', async () => {
    refreshes = [];
    const expired = jwt({ iss: 'x', aud: 'mlops', sub: 'jane', iat: 1, exp: 2 });
    const file = f('config.yaml');
    const doc = {
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'c',
      clusters: [{ name: 'k', cluster: { server: TEST_SERVER, 'insecure-skip-tls-verify': true } }],
      users: [
        { name: 'other', user: { token: 'keep-me' } },
        {
          name: 'u',
          user: {
            'auth-provider': {
              name: 'oidc',
              config: { 'client-id': 'mlops', 'idp-issuer-url': issuerUrl, 'idp-certificate-authority': f('ca.crt'), 'id-token': expired, 'refresh-token': 'refresh-1' },
            },
          },
        },
      ],
      contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
    };
    fs.writeFileSync(file, yaml.dump(doc), { mode: 0o600 });
    const c = resolveConfig({ kubeconfig: file }, {});
    const sent: string[] = [];
    nock(TEST_SERVER, {
      reqheaders: {
        authorization: (v: string) => {
          sent.push(v);
          return true;
        },
      },
    })
      .get('/version')
      .times(3)
      .reply(200, { gitVersion: 'v1.35.4' });
    const kube = new Kube({ auth: c.auth, server: c.server });
    // Parallel requests with an expired token: one refresh.
    await Promise.all([kube.get('/version'), kube.get('/version'), kube.get('/version')]);
    expect(refreshes).toEqual(['refresh-1']);
    const saved = yaml.load(fs.readFileSync(file, 'utf8')) as typeof doc;
    const cfg = (saved.users[1]!.user as { 'auth-provider': { config: Record<string, string> } })['auth-provider'].config;
    expect(cfg['refresh-token']).toBe('refresh-2');
    expect(cfg['id-token']).not.toBe(expired);
    expect(new Set(sent)).toEqual(new Set([`Bearer ${cfg['id-token']}`]));
    expect(saved.users[0]).toEqual({ name: 'other', user: { token: 'keep-me' } });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('a valid id-token is used as is: no refresh, the file untouched', async () => {
    refreshes = [];
    const now = Math.floor(Date.now() / 1000);
    const valid = jwt({ iss: issuerUrl, aud: 'mlops', sub: 'jane', iat: now, exp: now + 600 });
    const file = f('valid.yaml');
    const text = yaml.dump({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'c',
      clusters: [{ name: 'k', cluster: { server: TEST_SERVER, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { 'auth-provider': { name: 'oidc', config: { 'client-id': 'mlops', 'idp-issuer-url': issuerUrl, 'id-token': valid, 'refresh-token': 'r' } } } }],
      contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
    });
    fs.writeFileSync(file, text);
    const c = resolveConfig({ kubeconfig: file }, {});
    const scope = nock(TEST_SERVER, { reqheaders: { authorization: `Bearer ${valid}` } })
      .get('/version')
      .reply(200, {});
    await new Kube({ auth: c.auth, server: c.server }).get('/version');
    expect(scope.isDone()).toBe(true);
    expect(refreshes).toEqual([]);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  });

  it("the removed gcp provider gets kubectl's message (exit 3)", () => {
    const file = f('gcp.yaml');
    fs.writeFileSync(
      file,
      yaml.dump({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'c',
        clusters: [{ name: 'k', cluster: { server: TEST_SERVER } }],
        users: [{ name: 'u', user: { 'auth-provider': { name: 'gcp', config: {} } } }],
        contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
      }),
    );
    expect(() => resolveConfig({ kubeconfig: file }, {})).toThrow('The gcp auth plugin has been removed.');
  });
});
