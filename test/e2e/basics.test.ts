import { describe, expect, inject, it } from 'vitest';
import fs from 'node:fs';
import { adminKube, freshNamespace, mlops, run, until, writeTemp, grantRestricted } from './helpers.js';
import { closedPort } from '../helpers.js';

describe('version and doctor against the real API server', () => {
  it('kubectl finds the plugin: `kubectl mlops version`', async () => {
    const r = await run('kubectl', ['mlops', 'version'], { env: { KUBECONFIG: inject('cluster').kubeconfig } });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Client Version: v\d+\.\d+\.\d+\nNode Version: v22\.\d+\.\d+\nServer Version: v1\.35\.\d+\n$/);
  });

  it('doctor: the admin may run every command', async () => {
    const r = await mlops(['doctor']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Context:     mlops-local\n');
    expect(r.out).toMatch(/Reachable:   yes, v1\.35\.\d+\n/);
    expect(r.out).toContain('User:        admin (groups: system:masters, system:authenticated)');
    const rows = r.out.split('\n').filter((l) => /^(debug-pod|history|rollback|ship|scale-to-zero|restore|config|secret|storage)/.test(l));
    expect(rows.length).toBeGreaterThanOrEqual(12);
    for (const row of rows) {
      // storage reclaim asks one verb in the former claim's namespace, which doctor can only check here.
      if (row.startsWith('storage reclaim')) expect(row).toMatch(/ yes +\(get persistentvolumeclaims is checked here; the command asks it in the former claim's namespace\)$/);
      else expect(row).toMatch(/ yes$/);
    }
  });

  it('doctor: a restricted user sees exactly what is missing', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'doctor');
    // The restricted user may read pods and manage configmaps here, nothing else.
    await grantRestricted(kube, ns, 'limited', [
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'create', 'patch'] },
    ]);
    const r = await mlops(['doctor', '-n', ns], { kubeconfig: inject('cluster').restrictedKubeconfig });
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Namespace:   ${ns} (from --namespace)`);
    expect(r.out).toMatch(/\nconfig +yes +\(--wire deployments also needs get deployments\.apps, patch deployments\.apps, list deployments\.apps, watch deployments\.apps; /);
    expect(r.out).toMatch(
      /\ndebug-pod list +yes +\(a pod relabelled by hand also needs list replicasets\.apps; -A\/--all-namespaces also needs list pods \(cluster-wide\); -w\/--watch or --watch-only with -A also needs watch pods \(cluster-wide\)\)\n/,
    );
    expect(r.out).toMatch(
      /\ndebug-pod +no +patch pods, get replicasets\.apps, list replicasets\.apps, watch replicasets\.apps, get deployments\.apps, list services, list resourcequotas(, get pods\/log)?\n/,
    );
    expect(r.out).toMatch(/\ndebug-pod done +no +delete pods\n/);
    expect(r.out).toMatch(/\nsecret +no +get secrets, create secrets, patch secrets\n/);
    expect(r.out).toMatch(/\nstorage +no +list persistentvolumeclaims\n/);
  });

  it('the control plane deletes namespaces (with their pods)', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'nsdel');
    await kube.create(`/api/v1/namespaces/${ns}/pods`, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } });
    await kube.delete(`/api/v1/namespaces/${ns}`);
    await until(async () => !(await kube.getOptional(`/api/v1/namespaces/${ns}`)), 90_000, `namespace ${ns} gone`);
  });

  it('a stopped API server gives the unreachable error and exit 3', async () => {
    const port = await closedPort();
    const cfg = fs.readFileSync(inject('cluster').kubeconfig, 'utf8').replace(/server: https:\/\/127\.0\.0\.1:\d+/, `server: https://127.0.0.1:${port}`);
    const file = writeTemp('stopped.yaml', cfg);
    const v = await mlops(['version'], { kubeconfig: file });
    expect(v.code).toBe(3);
    expect(v.err).toBe(`error: cannot reach the API server at https://127.0.0.1:${port}: connection refused\n`);
    const d = await mlops(['doctor'], { kubeconfig: file });
    expect(d.code).toBe(3);
    expect(d.out).toContain(`Reachable:   no: cannot reach the API server at https://127.0.0.1:${port}: connection refused`);
  });
});

describe('optimistic concurrency against the real API server', () => {
  it.each([
    ['merge', (n: number) => ({ metadata: { labels: { seen: String(n) } } })],
    ['json', (n: number) => [{ op: 'add', path: '/metadata/labels', value: { seen: String(n) } }]],
  ] as const)('a %s patch planned on a stale object is refused (409) and planned again on the fresh one', async (type, body) => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, `occ-${type}`);
    const path = `/api/v1/namespaces/${ns}/configmaps/c`;
    const stale = await kube.create<{ metadata: { resourceVersion: string } }>(`/api/v1/namespaces/${ns}/configmaps`, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c' },
      data: { v: '1' },
    });
    await kube.patch(path, { data: { v: '2' } }, 'merge');
    const seen: string[] = [];
    const r = await kube.patchGuarded<{ metadata: { resourceVersion: string; labels?: Record<string, string> }; data: Record<string, string> }>(
      path,
      type,
      (cur) => {
        seen.push(cur.data.v!);
        return body(seen.length);
      },
      { known: stale as never },
    );
    expect(seen).toEqual(['1', '2']);
    expect(r.object.metadata.labels).toEqual({ seen: '2' });
  });
});
