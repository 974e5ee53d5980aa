import { describe, expect, inject, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { adminKube, deployment, freshNamespace, mlops, readyPods, run, until, waitReady } from './helpers.js';
import { R, pathOf } from '../../src/kube/resources.js';
import type { Deployment, Pod, ReplicaSet } from '../../src/kube/types.js';

const podCount = async (kube: ReturnType<typeof adminKube>, ns: string, sel: string) => (await kube.list<Pod>(pathOf(R.pods, { namespace: ns }), { labelSelector: sel })).items.length;

describe('scale-to-zero and restore', () => {
  it('a 3-replica Deployment goes to zero with 3 recorded, twice, and comes back to 3 Ready', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stz');
    const dPath = pathOf(R.deployments, { namespace: ns, name: 'my-app' });
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('my-app'));
    await waitReady(kube, ns, 'app=my-app', 3);

    const dry = await mlops(['scale-to-zero', 'deploy/my-app', '-n', ns, '--dry-run=client']);
    expect(dry.out).toBe('deployment.apps/my-app would be scaled to zero (3 recorded)\nwould free: 3 pod(s), cpu 300m, memory 192Mi, nvidia.com/gpu 0\n');
    expect((await kube.get<Deployment>(dPath)).spec!.replicas).toBe(3);

    const r = await mlops(['scale-to-zero', 'deploy/my-app', '-n', ns]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('deployment.apps/my-app scaled to zero (3 recorded)\nfreed: 3 pod(s), cpu 300m, memory 192Mi, nvidia.com/gpu 0\n');
    expect(await podCount(kube, ns, 'app=my-app')).toBe(0);
    const d = await kube.get<Deployment>(dPath);
    expect(d.spec!.replicas).toBe(0);
    expect(d.metadata!.annotations!['mlops.kubectl.io/recorded-replicas']).toBe('3');

    // Already at zero: success, and the record stays 3.
    const again = await mlops(['scale-to-zero', 'deploy/my-app', '-n', ns]);
    expect(again.code).toBe(0);
    expect(again.out).toContain('deployment.apps/my-app scaled to zero (3 recorded)');
    expect((await kube.get<Deployment>(dPath)).metadata!.annotations!['mlops.kubectl.io/recorded-replicas']).toBe('3');

    const list = await mlops(['scale-to-zero', '--list', '-n', ns]);
    expect(list.out).toMatch(/^KIND\/NAME +RECORDED REPLICAS +SINCE +HPA\ndeployment\.apps\/my-app +3 +\d+s +<none>\n$/);

    const back = await mlops(['restore', 'deploy/my-app', '-n', ns]);
    expect(back.code).toBe(0);
    expect(back.out).toBe('deployment.apps/my-app restored to 3 replicas\n');
    expect(await readyPods(kube, ns, 'app=my-app')).toHaveLength(3);
    const restored = await kube.get<Deployment>(dPath);
    expect(restored.metadata!.annotations?.['mlops.kubectl.io/recorded-replicas']).toBeUndefined();
    expect(restored.metadata!.labels?.['mlops.kubectl.io/scaled-to-zero']).toBeUndefined();

    const nothing = await mlops(['restore', 'deploy/my-app', '-n', ns]);
    expect(nothing.code).toBe(1);
    expect(nothing.err).toBe('error: deployment.apps/my-app has no recorded replica count (it was not scaled to zero by kubectl mlops); use kubectl scale instead\n');
  });

  it('a standalone ReplicaSet with --delete --save leaves nothing, and the saved file re-creates it', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stzdel');
    await kube.create(pathOf(R.replicasets, { namespace: ns }), {
      apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'batch', labels: { team: 'ml' } },
      spec: { replicas: 2, selector: { matchLabels: { app: 'batch' } }, template: { metadata: { labels: { app: 'batch' } }, spec: { containers: [{ name: 'c', image: 'registry.local/batch:1' }] } } },
    });
    await waitReady(kube, ns, 'app=batch', 2);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-save-')), 'batch.yaml');
    const noYes = await mlops(['scale-to-zero', 'rs/batch', '--delete', '--save', file, '-n', ns]);
    expect(noYes.code).toBe(2);
    expect(noYes.err).toBe('error: deleting the workloads needs confirmation: pass --yes (stdin is not a terminal)\n');
    const r = await mlops(['scale-to-zero', 'rs/batch', '--delete', '--save', file, '--yes', '-n', ns]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('replicaset.apps/batch scaled to zero and deleted (2 recorded)');
    expect(await kube.getOptional(pathOf(R.replicasets, { namespace: ns, name: 'batch' }))).toBeUndefined();
    expect(await podCount(kube, ns, 'app=batch')).toBe(0);
    const saved = fs.readFileSync(file, 'utf8');
    expect(saved).not.toMatch(/uid:|resourceVersion:|status:|creationTimestamp:|recorded-replicas/);
    const apply = await run('kubectl', ['apply', '-f', file, '-n', ns], { env: { KUBECONFIG: inject('cluster').kubeconfig } });
    expect(apply.err).toBe('');
    expect(apply.out).toBe('replicaset.apps/batch created\n');
    const rs = await kube.get<ReplicaSet>(pathOf(R.replicasets, { namespace: ns, name: 'batch' }));
    expect(rs.spec!.replicas).toBe(2);
    expect(rs.metadata!.labels).toEqual({ team: 'ml' });
    await waitReady(kube, ns, 'app=batch', 2);
  });

  it('a selector spanning two Deployments, and refusals', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stzsel');
    const a = deployment('train-a', { replicas: 2 });
    const b = deployment('train-b', { replicas: 1 });
    (a.metadata as Record<string, unknown>).labels = { stage: 'train' };
    (b.metadata as Record<string, unknown>).labels = { stage: 'train' };
    await kube.create(pathOf(R.deployments, { namespace: ns }), a);
    await kube.create(pathOf(R.deployments, { namespace: ns }), b);
    await waitReady(kube, ns, 'app=train-a', 2);
    await waitReady(kube, ns, 'app=train-b', 1);
    const r = await mlops(['scale-to-zero', '-l', 'stage=train', '-n', ns]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('deployment.apps/train-a scaled to zero (2 recorded)\ndeployment.apps/train-b scaled to zero (1 recorded)\nfreed: 3 pod(s), cpu 300m, memory 192Mi, nvidia.com/gpu 0\n');
    const none = await mlops(['scale-to-zero', '-l', 'stage=serve', '-n', ns]);
    expect(none.code).toBe(1);
    expect(none.err).toBe(`error: no Deployments, StatefulSets or standalone ReplicaSets match -l stage=serve in namespace ${ns}\n`);
    const rsName = (await kube.list<ReplicaSet>(pathOf(R.replicasets, { namespace: ns }), { labelSelector: 'app=train-a' })).items[0]!.metadata!.name;
    const owned = await mlops(['scale-to-zero', `rs/${rsName}`, '-n', ns]);
    expect(owned.code).toBe(1);
    expect(owned.err).toBe(`error: replicaset/${rsName} is managed by deployment/train-a, which would scale it back: use deploy/train-a\n`);
    const bad = await mlops(['scale-to-zero', 'cronjob/x', '-n', ns]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('unsupported kind "cronjob"');
    const back = await mlops(['restore', '-l', 'stage=train', '-n', ns]);
    expect(back.code).toBe(0);
    expect(back.out).toBe('deployment.apps/train-a restored to 2 replicas\ndeployment.apps/train-b restored to 1 replicas\n');
  });

  it('an HPA is refused, then recorded and removed with --with-hpa, and re-created by restore', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stzhpa');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('serve', { replicas: 2 }));
    await kube.create(pathOf(R.hpas, { namespace: ns }), {
      apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'serve' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'serve' }, minReplicas: 2, maxReplicas: 6, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }] },
    });
    await waitReady(kube, ns, 'app=serve', 2);
    const refused = await mlops(['scale-to-zero', 'deploy/serve', '-n', ns]);
    expect(refused.code).toBe(1);
    expect(refused.err).toBe('error: deployment.apps/serve is scaled by HorizontalPodAutoscaler serve (min 2, max 6), which would scale it back up; pass --with-hpa to record and remove it (restore re-creates it)\n');
    expect(await podCount(kube, ns, 'app=serve')).toBe(2);
    const r = await mlops(['scale-to-zero', 'deploy/serve', '--with-hpa', '-n', ns]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('deployment.apps/serve scaled to zero (2 recorded, hpa serve recorded and removed)');
    expect(await kube.getOptional(pathOf(R.hpas, { namespace: ns, name: 'serve' }))).toBeUndefined();
    const back = await mlops(['restore', 'deploy/serve', '-n', ns]);
    expect(back.out).toBe('deployment.apps/serve restored to 2 replicas (hpa serve re-created)\n');
    const hpa = await kube.get<{ spec: { minReplicas: number; maxReplicas: number } }>(pathOf(R.hpas, { namespace: ns, name: 'serve' }));
    expect(hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 6 });
    await until(async () => (await readyPods(kube, ns, 'app=serve')).length === 2, 30_000, 'serve ready');
  });

  it('a StatefulSet goes to zero and back through its scale subresource', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stzsts');
    await kube.create(pathOf(R.statefulsets, { namespace: ns }), {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' },
      spec: { serviceName: 'db', replicas: 2, selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image: 'registry.local/db:16' }] } } },
    });
    await waitReady(kube, ns, 'app=db', 2);
    const r = await mlops(['scale-to-zero', 'sts/db', '-n', ns]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('statefulset.apps/db scaled to zero (2 recorded)');
    expect(await podCount(kube, ns, 'app=db')).toBe(0);
    const back = await mlops(['restore', 'statefulset/db', '-n', ns]);
    expect(back.out).toBe('statefulset.apps/db restored to 2 replicas\n');
    expect(await readyPods(kube, ns, 'app=db')).toHaveLength(2);
  });

  it('--timeout exits 4 and names the pods still terminating (a finalizer holds one)', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stzstuck');
    const d = deployment('held', { replicas: 1 });
    (d.spec.template.metadata as Record<string, unknown>).finalizers = ['mlops.test/hold'];
    await kube.create(pathOf(R.deployments, { namespace: ns }), d);
    const [pod] = await waitReady(kube, ns, 'app=held', 1);
    const name = pod!.metadata!.name!;
    const r = await mlops(['scale-to-zero', 'deploy/held', '--timeout', '3s', '-n', ns]);
    expect(r.code).toBe(4);
    expect(r.err).toBe(`error: timed out waiting for the pods of deployment.apps/held to be gone; still there: ${name} (Terminating). deployment.apps/held is at 0 replicas with 1 recorded\n`);
    // Let it go, so the namespace can be deleted.
    await kube.patch(pathOf(R.pods, { namespace: ns, name }), { metadata: { finalizers: null } }, 'merge');
  });
});
