import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import nock from 'nock';
import { resolveConfig } from '../../src/kube/config.js';
import { Kube, retryAfterMs } from '../../src/kube/client.js';
import { ApiError, formatError, ExitCode } from '../../src/errors.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TEST_SERVER, closedPort, tempDir, writeKubeconfig } from '../helpers.js';

function kubeFor(opts: { requestTimeoutMs?: number } = {}) {
  const dir = tempDir();
  const file = writeKubeconfig(dir);
  const config = resolveConfig({ kubeconfig: file }, {});
  const sleeps: number[] = [];
  const log: string[] = [];
  const kube = new Kube({
    auth: config.auth,
    server: config.server,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    log: (l) => log.push(l),
    ...opts,
  });
  return { kube, sleeps, log };
}

beforeEach(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('Kube.list', () => {
  it('follows continue tokens with the selectors on every page', async () => {
    const scope = nock(TEST_SERVER)
      .get('/api/v1/namespaces/ml/pods')
      .query({ labelSelector: 'app=web', limit: '2' })
      .reply(200, { items: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }], metadata: { continue: 'tok1', resourceVersion: '10' } })
      .get('/api/v1/namespaces/ml/pods')
      .query({ labelSelector: 'app=web', limit: '2', continue: 'tok1' })
      .reply(200, { items: [{ metadata: { name: 'c' } }], metadata: { resourceVersion: '11' } });
    const { kube } = kubeFor();
    const l = await kube.list<{ metadata: { name: string } }>('/api/v1/namespaces/ml/pods', { labelSelector: 'app=web', limit: 2 });
    expect(l.items.map((i) => i.metadata.name)).toEqual(['a', 'b', 'c']);
    expect(l.pages).toBe(2);
    expect(l.resourceVersion).toBe('11');
    expect(scope.isDone()).toBe(true);
  });

  it('sends the bearer token from the kubeconfig', async () => {
    nock(TEST_SERVER, { reqheaders: { authorization: 'Bearer test-token' } })
      .get('/api/v1/nodes')
      .query(true)
      .reply(200, { items: [], metadata: { resourceVersion: '1' } });
    const { kube } = kubeFor();
    await expect(kube.list('/api/v1/nodes')).resolves.toMatchObject({ items: [] });
  });
});

describe('errors from the server', () => {
  it("404 becomes kubectl's NotFound line", async () => {
    nock(TEST_SERVER)
      .get('/apis/apps/v1/namespaces/default/deployments/web')
      .reply(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', message: 'deployments.apps "web" not found', code: 404 });
    const { kube } = kubeFor();
    const err = await kube.get('/apis/apps/v1/namespaces/default/deployments/web').catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(formatError(err)).toEqual({ text: 'Error from server (NotFound): deployments.apps "web" not found', exitCode: ExitCode.FAILED });
  });

  it('403 names the verb and resource', async () => {
    const message = 'deployments.apps "web" is forbidden: User "bob" cannot patch resource "deployments" in API group "apps" in the namespace "ml"';
    nock(TEST_SERVER).patch('/apis/apps/v1/namespaces/ml/deployments/web').query(true).reply(403, { kind: 'Status', reason: 'Forbidden', message, code: 403 });
    const { kube } = kubeFor();
    const err = await kube.patch('/apis/apps/v1/namespaces/ml/deployments/web', {}, 'merge').catch((e) => e);
    expect(formatError(err).text).toBe(`Error from server (Forbidden): ${message}`);
  });

  it('401 tells the user to log in, exit code 3', async () => {
    nock(TEST_SERVER).get('/version').reply(401, { kind: 'Status', reason: 'Unauthorized', message: 'Unauthorized', code: 401 });
    const { kube } = kubeFor();
    const err = await kube.get('/version').catch((e) => e);
    expect(formatError(err)).toEqual({ text: 'error: You must be logged in to the server (Unauthorized): check the credentials of the kubeconfig user', exitCode: 3 });
  });

  it('a refused connection names the server', async () => {
    const dir = tempDir();
    const port = await closedPort();
    const file = writeKubeconfig(dir, { server: `https://127.0.0.1:${port}` });
    const config = resolveConfig({ kubeconfig: file }, {});
    nock.enableNetConnect('127.0.0.1');
    const kube = new Kube({ auth: config.auth, server: config.server, sleep: async () => {} });
    const err = await kube.get('/version').catch((e) => e);
    expect(formatError(err)).toEqual({ text: `error: cannot reach the API server at https://127.0.0.1:${port}: connection refused`, exitCode: ExitCode.UNREACHABLE });
  });
});

describe('retries', () => {
  it('honours Retry-After on 429 and then succeeds', async () => {
    nock(TEST_SERVER)
      .get('/version')
      .reply(429, { kind: 'Status', reason: 'TooManyRequests', message: 'slow down', code: 429 }, { 'Retry-After': '2' })
      .get('/version')
      .reply(200, { gitVersion: 'v1.35.4' });
    const { kube, sleeps } = kubeFor();
    await expect(kube.get('/version')).resolves.toEqual({ gitVersion: 'v1.35.4' });
    expect(sleeps).toEqual([2000]);
  });

  it('retries a read on 500 with backoff, bounded', async () => {
    nock(TEST_SERVER).get('/version').times(5).reply(500, { kind: 'Status', reason: 'InternalError', message: 'etcd leader changed', code: 500 });
    const { kube, sleeps } = kubeFor();
    const err = await kube.get('/version').catch((e) => e);
    expect(formatError(err).text).toBe('Error from server (InternalError): etcd leader changed');
    expect(sleeps).toEqual([250, 500, 1000, 2000]);
  });

  it('never retries a mutation on 500 (it may have happened)', async () => {
    const scope = nock(TEST_SERVER).post('/api/v1/namespaces/default/configmaps').query(true).once().reply(500, { reason: 'InternalError', message: 'boom', code: 500 });
    const { kube, sleeps } = kubeFor();
    await expect(kube.create('/api/v1/namespaces/default/configmaps', {})).rejects.toThrow('boom');
    expect(sleeps).toEqual([]);
    expect(scope.isDone()).toBe(true);
  });

  it('retries a read whose connection was dropped', async () => {
    // nock cannot drop an undici connection, so a real server hangs up on the first request.
    let hits = 0;
    const server = http.createServer((req, res) => {
      hits++;
      if (hits === 1) {
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ gitVersion: 'v1.35.4' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    nock.enableNetConnect('127.0.0.1');
    try {
      const file = writeKubeconfig(tempDir(), { server: `http://127.0.0.1:${port}` });
      const config = resolveConfig({ kubeconfig: file }, {});
      const sleeps: number[] = [];
      const kube = new Kube({ auth: config.auth, server: config.server, sleep: async (ms) => void sleeps.push(ms) });
      await expect(kube.get('/version')).resolves.toEqual({ gitVersion: 'v1.35.4' });
      expect(hits).toBe(2);
      expect(sleeps).toEqual([250]);
    } finally {
      server.close();
    }
  });

  it('parses Retry-After as seconds or a date, capped', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs('9999')).toBe(30000);
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});

describe('verbose logging', () => {
  it('logs method, path, status and time, never the token', async () => {
    nock(TEST_SERVER).get('/version').reply(200, { gitVersion: 'v1' });
    const { kube, log } = kubeFor();
    await kube.get('/version');
    expect(log).toHaveLength(1);
    expect(log[0]).toMatch(/^GET \/version 200 \d+ms \(HTTP\/1\.1\)$/);
    expect(log.join('')).not.toContain('test-token');
  });
});

describe('Kube.patchGuarded', () => {
  const path = '/apis/apps/v1/namespaces/ml/deployments/web';
  it('adds the resourceVersion guard and plans again on a fresh object after 409', async () => {
    const bodies: unknown[] = [];
    const scope = nock(TEST_SERVER)
      .get(path)
      .reply(200, { metadata: { name: 'web', resourceVersion: '1' }, spec: { replicas: 1 } })
      .patch(path, (b) => {
        bodies.push(b);
        return true;
      })
      .query(true)
      .reply(409, { kind: 'Status', reason: 'Conflict', message: 'the object has been modified', code: 409 })
      .get(path)
      .reply(200, { metadata: { name: 'web', resourceVersion: '2' }, spec: { replicas: 5 } })
      .patch(path, (b) => {
        bodies.push(b);
        return true;
      })
      .query(true)
      .reply(200, { metadata: { name: 'web', resourceVersion: '3' } });
    const { kube } = kubeFor();
    const seen: number[] = [];
    const r = await kube.patchGuarded<{ metadata: { resourceVersion: string }; spec: { replicas: number } }>(path, 'merge', (cur) => {
      seen.push(cur.spec.replicas);
      return { metadata: { labels: { a: 'b' } }, spec: { replicas: cur.spec.replicas + 1 } };
    });
    expect(seen).toEqual([1, 5]);
    expect(bodies).toEqual([
      { metadata: { labels: { a: 'b' }, resourceVersion: '1' }, spec: { replicas: 2 } },
      { metadata: { labels: { a: 'b' }, resourceVersion: '2' }, spec: { replicas: 6 } },
    ]);
    expect(r).toMatchObject({ changed: true, object: { metadata: { resourceVersion: '3' } } });
    expect(scope.isDone()).toBe(true);
  });

  it('guards a JSON patch with a resourceVersion replace, and sends nothing when there is nothing to do', async () => {
    let body: unknown;
    nock(TEST_SERVER)
      .patch(path, (b) => {
        body = b;
        return true;
      })
      .query(true)
      .reply(200, { metadata: { resourceVersion: '8' } });
    const { kube } = kubeFor();
    const known = { metadata: { resourceVersion: '7' } };
    await kube.patchGuarded(path, 'json', () => [{ op: 'remove', path: '/spec/x' }], { known });
    expect(body).toEqual([
      { op: 'replace', path: '/metadata/resourceVersion', value: '7' },
      { op: 'remove', path: '/spec/x' },
    ]);
    const none = await kube.patchGuarded(path, 'json', () => undefined, { known });
    expect(none).toEqual({ object: known, changed: false, current: known });
  });

  it('dry run "client" plans without sending', async () => {
    const { kube } = kubeFor();
    const known = { metadata: { resourceVersion: '7' } };
    const r = await kube.patchGuarded(path, 'merge', () => ({ spec: { replicas: 0 } }), { known, dryRun: 'client' });
    expect(r).toEqual({ object: known, changed: true, current: known, body: { spec: { replicas: 0 } } });
  });
});
