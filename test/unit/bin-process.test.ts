// What only the real process shows: with -v, requests still in flight when a command fails
// (the other halves of a parallel read) print no lines below its error, as kubectl, which
// exits at its error. Runs the built CLI (npm test builds first) against a local server.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { tempDir, writeKubeconfig } from '../helpers.js';

const repo = path.resolve(import.meta.dirname, '../..');
const node = path.join(repo, 'node_modules', '.bin', 'node');
let server: http.Server;
let base: string;
let reviews = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'POST' && req.url?.startsWith('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews')) {
      // The first access review fails at once; the others answer later.
      if (reviews++ === 0) return json(500, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'etcd is unhappy', reason: 'InternalError', code: 500 });
      return void setTimeout(() => json(201, { status: { allowed: true } }), 700);
    }
    if (req.url?.startsWith('/apis/apps/v1/namespaces/ml/deployments/web')) {
      return json(200, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: 'ml', resourceVersion: '5', generation: 1 },
        spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
        status: { replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1 },
      });
    }
    json(200, { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: '5' }, items: [] });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

it('-v: no request line below the error when parallel requests are still in flight', async () => {
  const kubeconfig = writeKubeconfig(tempDir('mlops-bin-'), { server: base });
  const child = spawn(node, [path.join(repo, 'bin/kubectl-mlops'), 'scale-to-zero', 'deploy/web', '-n', 'ml', '-v', '6', '--kubeconfig', kubeconfig], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  expect(code, err).toBe(1);
  expect(reviews).toBeGreaterThan(1);
  const lines = err.trimEnd().split('\n');
  const at = lines.findIndex((l) => l.startsWith('Error from server'));
  expect(lines[at], err).toBe('Error from server (InternalError): etcd is unhappy');
  expect(lines.slice(at + 1), err).toEqual([]);
  // The failed review itself is logged above it.
  expect(
    lines.slice(0, at).some((l) => /^POST \/apis\/authorization\.k8s\.io\/v1\/selfsubjectaccessreviews\?\S* 500 /.test(l)),
    err,
  ).toBe(true);
});
