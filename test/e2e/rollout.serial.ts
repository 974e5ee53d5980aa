import { describe, expect, inject, it } from 'vitest';
import { adminKube, deployment, freshNamespace, mlops, readyPods, run, waitReady, until } from './helpers.js';
import { R, pathOf } from '../../src/kube/resources.js';
import type { Deployment, Pod, ReplicaSet } from '../../src/kube/types.js';

const image = (d: Deployment) => d.spec!.template!.spec!.containers[0]!.image;

describe('ship, history and rollback on a real Deployment', () => {
  it('ships 1.0 -> 2.0 -> 3.0 with causes, shows history, rolls back to 1 and records why', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'rollout');
    const dPath = pathOf(R.deployments, { namespace: ns, name: 'my-app' });
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('my-app'));
    await waitReady(kube, ns, 'app=my-app', 3);

    // Revision 1 gets a cause after the fact, as the tutorial does with kubectl annotate.
    const s1 = await mlops(['ship', 'my-app', 'app=registry.local/my-app:2.0', '--cause', 'release 2.0', '-n', ns]);
    expect(s1.err).not.toContain('error');
    expect(s1.code).toBe(0);
    expect(s1.out).toBe(
      `deployment.apps/my-app: ship (change-cause "release 2.0")\n  ~ containers[app].image: registry.local/my-app:1.0 -> registry.local/my-app:2.0\ndeployment.apps/my-app rolled out\n`,
    );
    const s2 = await mlops(['ship', 'deploy/my-app', 'app=registry.local/my-app:3.0', '-n', ns]);
    expect(s2.code).toBe(0);
    expect((await kube.get<Deployment>(dPath)).metadata!.annotations!['kubernetes.io/change-cause']).toBe('image app=registry.local/my-app:3.0');

    const h = await mlops(['history', 'my-app', '-n', ns]);
    expect(h.code).toBe(0);
    const lines = h.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^REVISION +CHANGE-CAUSE +IMAGES +CREATED +READY$/);
    expect(lines[1]).toMatch(/^1 +<none> +registry\.local\/my-app:1\.0 +\S+ +0\/0$/);
    expect(lines[2]).toMatch(/^2 +release 2\.0 +registry\.local\/my-app:2\.0 +\S+ +0\/0$/);
    expect(lines[3]).toMatch(/^3\* +image app=registry\.local\/my-app:3\.0 +registry\.local\/my-app:3\.0 +\S+ +3\/3$/);

    const rev2 = await mlops(['history', 'my-app', '--revision', '2', '-n', ns, '-o', 'json']);
    const r2 = JSON.parse(rev2.out);
    expect(r2.revision).toBe(2);
    expect(r2.changeCause).toBe('release 2.0');
    expect(r2.template.spec.containers[0].image).toBe('registry.local/my-app:2.0');
    expect(r2.template.metadata.labels['pod-template-hash']).toBeUndefined();

    const diff = await mlops(['history', 'my-app', '--diff', '1', '3', '-n', ns]);
    expect(diff.out).toBe('deployment.apps/my-app: revision 1 -> 3\n  ~ containers[app].image: registry.local/my-app:1.0 -> registry.local/my-app:3.0\n');

    // A revision that does not exist: refused, nothing changed.
    // Compare what a write would change, not resourceVersion: the controller may still be writing status.
    const written = (d: Deployment) => ({ generation: d.metadata!.generation, annotations: d.metadata!.annotations, labels: d.metadata!.labels, spec: d.spec });
    const before = written(await kube.get<Deployment>(dPath));
    const missing = await mlops(['rollback', 'my-app', '--to-revision', '7', '-n', ns]);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe('error: revision 7 not found for deployment/my-app; revisions: 1, 2, 3\n');
    const dry = await mlops(['rollback', 'my-app', '--to-revision', '1', '--dry-run=server', '-n', ns]);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('rollback from revision 3 to 1');
    expect(dry.out).toContain('~ containers[app].image: registry.local/my-app:3.0 -> registry.local/my-app:1.0');
    expect(written(await kube.get<Deployment>(dPath))).toEqual(before);

    const rb = await mlops(['rollback', 'my-app', '--to-revision', '1', '--reason', '3.0 leaks memory', '-n', ns]);
    expect(rb.code).toBe(0);
    expect(rb.out).toContain('deployment.apps/my-app rolled back to revision 1\n');
    const after = await kube.get<Deployment>(dPath);
    expect(image(after)).toBe('registry.local/my-app:1.0');
    expect(after.metadata!.annotations!['kubernetes.io/change-cause']).toBe('rollback to revision 1: 3.0 leaks memory');
    expect(after.status?.availableReplicas).toBe(3);

    const h2 = await mlops(['history', 'my-app', '-n', ns, '-o', 'json']);
    const hist = JSON.parse(h2.out);
    expect(hist.currentRevision).toBe(4);
    expect(hist.revisions.map((r: { revision: number }) => r.revision)).toEqual([2, 3, 4]);
    expect(hist.revisions[2]).toMatchObject({ revision: 4, current: true, changeCause: 'rollback to revision 1: 3.0 leaks memory', images: ['registry.local/my-app:1.0'] });

    const again = await mlops(['rollback', 'my-app', '--to-revision', '4', '-n', ns]);
    expect(again.code).toBe(0);
    expect(again.err).toBe('deployment.apps/my-app is already at revision 4 (its template matches); nothing to change, verifying its rollout\n');
    // kubectl's line for the same case (it writes nothing either, so it runs on the same object).
    const k = await run('kubectl', ['rollout', 'undo', 'deployment/my-app', '--to-revision=4', '-n', ns], { env: { KUBECONFIG: inject('cluster').kubeconfig } });
    expect(k).toMatchObject({ code: 0, out: 'deployment.apps/my-app skipped rollback (current template already matches revision 4)\n' });
    expect(again.out).toBe(k.out);
    // Its server dry run, line for line; a client dry run says the same with its suffix (kubectl's
    // prints the revision's pod template instead: README, deliberate).
    const [kd, md] = await Promise.all([
      run('kubectl', ['rollout', 'undo', 'deployment/my-app', '--to-revision=4', '--dry-run=server', '-n', ns], { env: { KUBECONFIG: inject('cluster').kubeconfig } }),
      mlops(['rollback', 'my-app', '--to-revision', '4', '--dry-run=server', '-n', ns]),
    ]);
    expect(kd).toMatchObject({ code: 0, out: 'deployment.apps/my-app skipped rollback (current template already matches revision 4) (server dry run)\n' });
    expect(md).toMatchObject({ code: 0, out: kd.out });
    expect(await mlops(['rollback', 'my-app', '--to-revision', '4', '--dry-run=client', '-n', ns])).toMatchObject({
      code: 0,
      out: 'deployment.apps/my-app skipped rollback (current template already matches revision 4) (dry run)\n',
    });
  });

  it('refuses unknown containers, bad images and a paused Deployment', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'refusals');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('web', { replicas: 1 }));
    const bad = await mlops(['ship', 'web', 'nope=registry.local/x:1', '-n', ns]);
    expect(bad.code).toBe(2);
    expect(bad.err).toBe('error: container "nope" not found in deployment/web; containers: app\n');
    const img = await mlops(['ship', 'web', 'app=Registry Local/x:1', '-n', ns]);
    expect(img.code).toBe(2);
    expect(img.err).toBe('error: invalid image reference "Registry Local/x:1" for container app\n');
    await mlops(['ship', 'web', 'app=registry.local/x:2', '-n', ns]);
    await kube.patch(pathOf(R.deployments, { namespace: ns, name: 'web' }), { spec: { paused: true } }, 'merge');
    const paused = await mlops(['rollback', 'web', '-n', ns]);
    expect(paused.code).toBe(1);
    expect(paused.err).toBe(`error: deployment/web is paused, and a paused Deployment does not roll back; resume it first: kubectl rollout resume deployment/web -n ${ns}\n`);
  });

  it('a rollout that cannot become Ready exits non-zero and names the pods', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'failing');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('web', { replicas: 2 }));
    await waitReady(kube, ns, 'app=web', 2);
    // The fake kubelet fails images tagged `fail...` with ImagePullBackOff.
    const r = await mlops(['ship', 'web', 'app=registry.local/web:fail-2.0', '--timeout', '8s', '-n', ns]);
    expect(r.code).toBe(4);
    expect(r.err).toMatch(
      /^error: timed out after 8s waiting for deployment\/web to roll out \(1 of 2 new replicas updated\); pods not Ready: web-[a-z0-9]+-[a-z0-9]+ \(ImagePullBackOff: Back-off pulling image "registry\.local\/web:fail-2\.0"\)/,
    );
    // Users stay served by the old pods meanwhile.
    expect((await readyPods(kube, ns, 'app=web')).length).toBeGreaterThanOrEqual(1);
  });
});

describe('the relabel-to-debug rollback (tutorial: ReplicaSet pod template image change)', () => {
  it('rolls a ReplicaSet back to 1.0 and keeps every 2.0 pod alive and listed for debugging', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'rsrb');
    const rsPath = pathOf(R.replicasets, { namespace: ns, name: 'my-app' });
    await kube.create(pathOf(R.replicasets, { namespace: ns }), {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'my-app' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'my-app' } },
        template: { metadata: { labels: { app: 'my-app' } }, spec: { containers: [{ name: 'app', image: 'registry.local/my-app:1.0' }] } },
      },
    });
    await waitReady(kube, ns, 'app=my-app', 3);
    // The bad release, built the tutorial's way: change the template, replace the pods.
    await kube.patch(rsPath, { spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.local/my-app:2.0' }] } } } }, 'strategic');
    for (const p of await readyPods(kube, ns, 'app=my-app')) await kube.delete(pathOf(R.pods, { namespace: ns, name: p.metadata!.name! }));
    await until(
      async () => {
        const pods = await readyPods(kube, ns, 'app=my-app');
        return pods.length === 3 && pods.every((p) => p.spec!.containers[0]!.image === 'registry.local/my-app:2.0');
      },
      60_000,
      '3 pods on 2.0',
    );
    const bad = (await readyPods(kube, ns, 'app=my-app')).map((p) => p.metadata!.name!).sort();

    const dry = await mlops(['rollback', 'rs/my-app', 'app=registry.local/my-app:1.0', '--keep-for-debug', '--dry-run', '-n', ns]);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain(`pods to keep for debugging: ${bad.join(', ')}`);
    expect((await kube.get<ReplicaSet>(rsPath)).spec!.template!.spec!.containers[0]!.image).toBe('registry.local/my-app:2.0');

    const tooMany = await mlops(['rollback', 'rs/my-app', 'app=registry.local/my-app:1.0', '--keep-for-debug', '4', '-n', ns]);
    expect(tooMany.code).toBe(2);
    expect(tooMany.err).toBe('error: --keep-for-debug 4 is more than the 3 pod(s) of replicaset/my-app on the old template\n');

    const r = await mlops(['rollback', 'rs/my-app', 'app=registry.local/my-app:1.0', '--keep-for-debug', '-n', ns]);
    expect(r.err).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    expect(r.out).toContain('replicaset.apps/my-app rolled back: 3/3 Ready on registry.local/my-app:1.0\n');
    for (const b of bad) expect(r.out).toContain(`pod/${b} kept for debugging\n`);

    const owned = await readyPods(kube, ns, 'app=my-app');
    expect(owned).toHaveLength(3);
    for (const p of owned) {
      expect(p.spec!.containers[0]!.image).toBe('registry.local/my-app:1.0');
      expect(p.metadata!.ownerReferences![0]!.name).toBe('my-app');
    }
    for (const b of bad) {
      const p = await kube.get<Pod>(pathOf(R.pods, { namespace: ns, name: b }));
      expect(p.metadata!.ownerReferences ?? []).toEqual([]);
      expect(p.spec!.containers[0]!.image).toBe('registry.local/my-app:2.0');
      expect(p.metadata!.labels!['mlops.kubectl.io/debug']).toBe('true');
    }
    const list = await mlops(['debug-pod', 'list', '-n', ns, '-o', 'name']);
    expect(list.out).toBe(bad.map((b) => `pod/${b}\n`).join(''));
    const done = await mlops(['debug-pod', 'done', bad[0]!, '-n', ns, '--yes']);
    expect(done.code).toBe(0);
    await until(async () => !(await kube.getOptional(pathOf(R.pods, { namespace: ns, name: bad[0]! }))), 30_000, 'deleted debug pod');
    const list2 = await mlops(['debug-pod', 'list', '-n', ns, '-o', 'name']);
    expect(list2.out).toBe(
      bad
        .slice(1)
        .map((b) => `pod/${b}\n`)
        .join(''),
    );
  });

  it('refuses a ReplicaSet owned by a Deployment and points at rollback deploy/...', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'rsowned');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('web', { replicas: 1 }));
    const rs = await until(async () => (await kube.list<ReplicaSet>(pathOf(R.replicasets, { namespace: ns }))).items[0], 30_000, 'rs');
    const r = await mlops(['rollback', `rs/${rs.metadata!.name}`, 'app=registry.local/x:1', '-n', ns]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`error: replicaset/${rs.metadata!.name} is managed by deployment/web, which would undo a change to it: use \`kubectl mlops rollback deploy/web\`\n`);
  });

  it('deploy rollback --keep-for-debug N keeps exactly N pods of the bad revision', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'deploykeep');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('my-app', { gpus: 1, replicas: 2 }));
    await waitReady(kube, ns, 'app=my-app', 2);
    const s = await mlops(['ship', 'my-app', 'app=registry.local/my-app:2.0', '-n', ns]);
    expect(s.code).toBe(0);
    const badPods = (await readyPods(kube, ns, 'app=my-app')).map((p) => p.metadata!.name!);
    const r = await mlops(['rollback', 'deploy/my-app', '--keep-for-debug', '1', '-n', ns]);
    expect(r.err).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    expect(r.out).toContain('deployment.apps/my-app rolled back to revision 1\n');
    expect(r.err).toContain('Warning: the kept pods still hold nvidia.com/gpu: 1');
    const kept = (await kube.list<Pod>(pathOf(R.pods, { namespace: ns }), { labelSelector: 'mlops.kubectl.io/debug=true' })).items;
    expect(kept).toHaveLength(1);
    expect(badPods).toContain(kept[0]!.metadata!.name);
    expect(kept[0]!.spec!.containers[0]!.image).toBe('registry.local/my-app:2.0');
    const serving = await readyPods(kube, ns, 'app=my-app');
    expect(serving).toHaveLength(2);
    for (const p of serving) expect(p.spec!.containers[0]!.image).toBe('registry.local/my-app:1.0');
  });
});
