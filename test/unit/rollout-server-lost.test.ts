// The API server going away in the middle of a rollout wait. The shared e2e control plane
// cannot be stopped for one test, so a small local HTTP server plays it: it answers the
// plan and the patch, then drops every watch connection. The wait rides that out until its
// --timeout (src/kube/watch.ts reconnects, as client-go does), then the user reads exactly
// what was written and what was not verified (exit 4).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, tempDir, writeKubeconfig } from '../helpers.js';

const deployment = (generation: number, image: string, observed = generation) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'ml', uid: 'u1', generation, resourceVersion: String(10 + generation), annotations: { 'deployment.kubernetes.io/revision': '1' } },
  spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image }] } } },
  status: { observedGeneration: observed, replicas: 1, updatedReplicas: observed === generation ? 1 : 0, availableReplicas: 1 },
});

let server: http.Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
});

describe('ship when the API server is lost', () => {
  it('reconnects until --timeout, then exits 4 and the journal names the patch written and the rollout not verified', async () => {
    const seen: string[] = [];
    server = http.createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      seen.push(`${req.method} ${url.pathname}${url.searchParams.has('watch') ? '?watch' : ''}`);
      const send = (code: number, body: unknown) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      req.resume();
      if (req.method === 'POST') return send(201, { status: { allowed: true } });
      if (req.method === 'PATCH') return send(200, deployment(2, 'registry.local/web:2.0', 1));
      if (url.pathname.endsWith('/deployments/web')) return send(200, deployment(1, 'registry.local/web:1.0'));
      if (url.pathname.endsWith('/replicasets')) return send(200, { items: [], metadata: { resourceVersion: '11' } });
      if (url.searchParams.has('watch') || url.pathname.endsWith('/pods')) return req.socket.destroy(); // the server is gone
      return send(200, { items: [deployment(2, 'registry.local/web:2.0', 1)], metadata: { resourceVersion: '12' } });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const kubeconfig = writeKubeconfig(tempDir(), { namespace: 'ml', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    const r = await runCli(['ship', 'web', 'app=registry.local/web:2.0', '--timeout', '1s', '--kubeconfig', kubeconfig]);
    expect(r.code, r.err).toBe(4);
    expect(r.err).toMatch(/^error: timed out after 1s waiting for deployment\/web to roll out \(waiting for deployment\/web to observe the change\)\n/);
    expect(r.err.split('\n').slice(1).join('\n')).toBe(
      [
        'What this command did before it stopped:',
        '  written:      deployment.apps/web images set to app=registry.local/web:2.0 (change-cause "image app=registry.local/web:2.0")',
        '  not verified: rollout of deployment.apps/web on app=registry.local/web:2.0',
        '  to resume:    kubectl mlops ship web app=registry.local/web:2.0 -n ml',
        '  to undo:      kubectl mlops rollback web --to-revision 1 -n ml',
        '',
      ].join('\n'),
    );
    expect(seen.filter((s) => s.startsWith('PATCH'))).toHaveLength(1);
    expect(seen.filter((x) => x === 'GET /apis/apps/v1/namespaces/ml/deployments?watch').length).toBeGreaterThan(1);
  });
  it('a patch whose answer is lost: exit 3, and the journal says it may have been applied and how to resume', async () => {
    let patches = 0;
    server = http.createServer((req, res) => {
      const url = new URL(req.url!, 'http://x');
      const send = (code: number, body: unknown) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      req.resume();
      if (req.method === 'POST') return send(201, { status: { allowed: true } });
      if (req.method === 'PATCH') {
        patches++;
        return req.socket.destroy(); // the server took the patch, the answer never came
      }
      if (url.pathname.endsWith('/deployments/web')) return send(200, deployment(1, 'registry.local/web:1.0'));
      return send(200, { items: [], metadata: { resourceVersion: '11' } });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const kubeconfig = writeKubeconfig(tempDir(), { namespace: 'ml', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    const r = await runCli(['ship', 'web', 'app=registry.local/web:2.0', '--kubeconfig', kubeconfig]);
    expect(r.code, r.err).toBe(3);
    expect(patches).toBe(1); // never re-sent: a PATCH is not retried blindly
    expect(r.err).toMatch(/^error: cannot reach the API server at http:\/\/127\.0\.0\.1:\d+: .+\n/);
    expect(r.err.split('\n').slice(1).join('\n')).toBe(
      [
        'What this command did before it stopped:',
        '  written:      deployment.apps/web images set to app=registry.local/web:2.0 (change-cause "image app=registry.local/web:2.0")? sent, but the answer was lost: it may or may not be applied',
        '  to resume:    kubectl mlops ship web app=registry.local/web:2.0 -n ml',
        '',
      ].join('\n'),
    );
  });
});
