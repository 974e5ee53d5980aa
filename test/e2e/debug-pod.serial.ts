import { describe, expect, inject, it } from 'vitest';
import { adminKube, deployment, freshNamespace, mlops, readyPods, statefulSet, until, waitReady } from './helpers.js';
import { R, pathOf } from '../../src/kube/resources.js';
import { needsOf } from '../../src/commands/flow.js';
import { grantAllBut, written } from './safety.js';
import type { Pod, ReplicaSet } from '../../src/kube/types.js';

describe.concurrent("debug-pod on the tutorial's my-app Deployment", () => {
  it('detaches one pod, keeps 3 Ready, lists it, is idempotent, and done removes it', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'debug');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('my-app', { labels: { app: 'my-app', tier: 'web' } }));
    // A Service selecting on another label than the ReplicaSet's first key.
    await kube.create(pathOf(R.services, { namespace: ns }), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { selector: { tier: 'web' }, ports: [{ port: 80 }] },
    });
    const before = await waitReady(kube, ns, 'app=my-app', 3);
    const victim = before[0]!.metadata!.name!;

    // dry-run changes nothing
    const rvBefore = written(before[0]!);
    const dry = await mlops(['debug-pod', victim, '-n', ns, '--dry-run=server']);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain(`pod/${victim} would be detached from replicaset/`);
    expect(written(await kube.get<Pod>(pathOf(R.pods, { namespace: ns, name: victim })))).toBe(rvBefore);

    const r = await mlops(['debug-pod', victim, '-n', ns, '--ttl', '1h', '--logs', '3']);
    expect(r.err).toContain('still receives traffic from service/web (selector tier=web)');
    expect(r.code).toBe(0);
    // The fake kubelet answers log requests through the API server's proxy.
    expect(r.out).toMatch(
      new RegExp(`^pod/${victim} detached from replicaset/my-app-[a-z0-9]+\\n` + [18, 19, 20].map((n) => `fake-kubelet: ${victim}/app log line ${n} of 20\\n`).join('') + '$'),
    );
    expect(r.err).toContain(`--- last 3 log lines of pod/${victim} ---`);
    expect(r.err).toContain('ownerReference released: yes');
    expect(r.err).toContain(`kubectl exec -it ${victim} -n ${ns} -- sh`);

    const detached = await kube.get<Pod>(pathOf(R.pods, { namespace: ns, name: victim }));
    expect(detached.metadata!.ownerReferences ?? []).toEqual([]);
    expect(detached.metadata!.labels).toMatchObject({ app: 'my-app-debug', tier: 'web', 'mlops.kubectl.io/debug': 'true' });
    expect(JSON.parse(detached.metadata!.annotations!['mlops.kubectl.io/original-labels']!)).toMatchObject({ app: 'my-app', tier: 'web' });
    expect(detached.metadata!.annotations!['mlops.kubectl.io/detached-from']).toMatch(/^ReplicaSet\/my-app-/);
    expect(detached.metadata!.annotations!['mlops.kubectl.io/detached-from-owner']).toBe('Deployment/my-app');

    const ready = await readyPods(kube, ns, 'app=my-app');
    expect(ready).toHaveLength(3);
    expect(ready.map((p) => p.metadata!.name)).not.toContain(victim);
    const rs = (await kube.list<ReplicaSet>(pathOf(R.replicasets, { namespace: ns }))).items[0]!;
    expect(rs.status?.readyReplicas).toBe(3);

    const list = await mlops(['debug-pod', 'list', '-n', ns]);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(
      new RegExp(`^NAME +DETACHED-FROM +AGE +NODE +STATUS +RESTARTS +GPUS +TTL\\n${victim} +deployment/my-app +\\d+s +mlops-node-\\d +Running +0 +0 +(59m|1h)\\S* left\\n$`),
    );

    const again = await mlops(['debug-pod', victim, '-n', ns]);
    expect(again.code).toBe(0);
    expect(again.err).toContain('is already detached');
    expect(again.err).toMatch(/replacement: (pod\/my-app-[\w-]+(, )?)+ Ready; replicaset\/my-app-\S+ has 3\/3 Ready/);
    expect(written(await kube.get<Pod>(pathOf(R.pods, { namespace: ns, name: victim })))).toBe(written(detached));

    const refuse = await mlops(['debug-pod', 'done', ready[0]!.metadata!.name!, '-n', ns, '--yes']);
    expect(refuse.code).toBe(1);
    expect(refuse.err).toBe(
      `error: pod/${ready[0]!.metadata!.name} is not a detached debug pod (no mlops.kubectl.io/debug=true label, and not relabelled by hand out of a ReplicaSet); refusing to delete it\n`,
    );

    const done = await mlops(['debug-pod', 'done', victim, '-n', ns, '--yes']);
    expect(done.code).toBe(0);
    expect(done.out).toBe(`pod "${victim}" deleted\n`);
    const gone = await kube.getOptional<Pod>(pathOf(R.pods, { namespace: ns, name: victim }));
    expect(gone === undefined || Boolean(gone.metadata?.deletionTimestamp)).toBe(true);
  });

  it('a re-run after the Deployment was scaled down (its replacement gone with it) verifies at once: no new pod is needed', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'debugdown');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('web', { replicas: 3 }));
    const pods = await waitReady(kube, ns, 'app=web', 3);
    const victim = pods[0]!.metadata!.name!;
    expect((await mlops(['debug-pod', victim, '-n', ns])).code).toBe(0);
    const [replacement] = (await readyPods(kube, ns, 'app=web')).filter((p) => !pods.some((o) => o.metadata!.name === p.metadata!.name));
    // The ReplicaSet removes the cheapest pods first: the replacement goes with the scale-down.
    await kube.patch(
      pathOf(R.pods, { namespace: ns, name: replacement!.metadata!.name! }),
      { metadata: { annotations: { 'controller.kubernetes.io/pod-deletion-cost': '-1000' } } },
      'merge',
    );
    await kube.patch(pathOf(R.deployments, { namespace: ns, name: 'web' }), { spec: { replicas: 1 } }, 'merge');
    await until(
      async () =>
        (await readyPods(kube, ns, 'app=web')).length === 1 && (await kube.getOptional(pathOf(R.pods, { namespace: ns, name: replacement!.metadata!.name! }))) === undefined,
      60_000,
      'scaled down to 1, the replacement gone',
    );

    const again = await mlops(['debug-pod', victim, '-n', ns, '--timeout', '20s']);
    expect(again.code, again.err).toBe(0);
    // An original pod created in the detach's second counts as new (second precision), so either line.
    expect(again.err).toMatch(/replacement: (none needed|pod\/web-\S+ Ready); replicaset\/web-\w+ has 1\/1 Ready/);
  });

  it('--isolate also takes the pod out of the Service; -o json prints the detached pod', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'isolate');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('api', { replicas: 2, labels: { app: 'api', tier: 'web' } }));
    await kube.create(pathOf(R.services, { namespace: ns }), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { selector: { tier: 'web' }, ports: [{ port: 80 }] },
    });
    const pods = await waitReady(kube, ns, 'app=api', 2);
    const r = await mlops(['debug-pod', pods[0]!.metadata!.name!, '-n', ns, '--isolate', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(r.err).toContain('taken out of service/web');
    const pod = JSON.parse(r.out) as Pod;
    expect(pod.kind).toBe('Pod');
    expect(pod.metadata!.labels).toMatchObject({ app: 'api-debug', tier: 'web-debug' });
    expect(pod.metadata!.annotations!['mlops.kubectl.io/isolated-from-services']).toBe('web');
  });

  it('refuses a bare pod and a StatefulSet pod, changing nothing', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'refuse');
    await kube.create(pathOf(R.pods, { namespace: ns }), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'bare', labels: { app: 'bare' } },
      spec: { containers: [{ name: 'c', image: 'busybox:1' }] },
    });
    await kube.create(pathOf(R.statefulsets, { namespace: ns }), statefulSet('db', { image: 'postgres:16' }));
    await waitReady(kube, ns, 'app=db', 1);
    const bare = await mlops(['debug-pod', 'bare', '-n', ns]);
    expect(bare.code).toBe(1);
    expect(bare.err).toBe('error: pod/bare has no controller, so no replacement would be created: debug it in place, or use `kubectl debug pod/bare --copy-to=bare-debug`\n');
    const sts = await mlops(['debug-pod', 'db-0', '-n', ns]);
    expect(sts.code).toBe(1);
    expect(sts.err).toBe(
      'error: pod/db-0 belongs to StatefulSet db, whose replacement would need the same name and volumes: use `kubectl debug pod/db-0 --copy-to=db-0-debug` instead\n',
    );
    const db0 = await kube.get<Pod>(pathOf(R.pods, { namespace: ns, name: 'db-0' }));
    expect(db0.metadata!.labels!['mlops.kubectl.io/debug']).toBeUndefined();
    const missing = await mlops(['debug-pod', 'nope', '-n', ns]);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe('Error from server (NotFound): pods "nope" not found\n');
  });

  it('warns about GPUs the detached pod keeps and where the replacement fits', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'gpu');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('trainer', { replicas: 1, gpus: 1 }));
    const pods = await waitReady(kube, ns, 'app=trainer', 1);
    const r = await mlops(['debug-pod', pods[0]!.metadata!.name!, '-n', ns]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/holds nvidia\.com\/gpu: 1 and keeps it while detached; the replacement needs the same again: free on mlops-node-1 \(\d\/8\)/);
    const list = await mlops(['debug-pod', 'list', '-A']);
    expect(list.out).toMatch(new RegExp(`\\n${ns} +${pods[0]!.metadata!.name} +deployment/trainer .* 1 +<none>\\n`));

    // A namespaced user may not list nodes: still warned, and the detach goes ahead.
    // Exactly what debug-pod declares, all namespaced.
    await grantAllBut(kube, ns, 'restricted', needsOf('debug-pod'));
    const replacement = (await waitReady(kube, ns, 'app=trainer', 1))[0]!.metadata!.name!;
    const limited = await mlops(['debug-pod', replacement, '-n', ns], { kubeconfig: inject('cluster').restrictedKubeconfig });
    expect(limited.code).toBe(0);
    expect(limited.err).toContain(
      'holds nvidia.com/gpu: 1 and keeps it while detached; the replacement needs the same again (you may not list nodes, so where it is free is unknown)',
    );
  });

  it('done --expired cleans up detached pods past their --ttl and leaves the others', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'expire');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('web', { replicas: 2 }));
    const [a, b] = await waitReady(kube, ns, 'app=web', 2);
    expect((await mlops(['debug-pod', a!.metadata!.name!, '-n', ns, '--ttl', '1h'])).code).toBe(0);
    // The tutorial's own relabel: app=to-be-fixed.
    expect((await mlops(['debug-pod', `pod/${b!.metadata!.name!}`, '-n', ns, '--ttl', '1h', '--label', 'app=to-be-fixed'])).code).toBe(0);
    expect((await kube.get<Pod>(pathOf(R.pods, { namespace: ns, name: b!.metadata!.name! }))).metadata!.labels).toMatchObject({
      app: 'to-be-fixed',
      'mlops.kubectl.io/debug': 'true',
    });
    // Two hours ago instead of a sleep: the ledger's detached-at is what --ttl counts from.
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await kube.patch(pathOf(R.pods, { namespace: ns, name: a!.metadata!.name! }), { metadata: { annotations: { 'mlops.kubectl.io/detached-at': twoHoursAgo } } }, 'merge');
    const list = await mlops(['debug-pod', 'list', '-n', ns]);
    expect(list.out).toMatch(new RegExp(`\\n${a!.metadata!.name} .* EXPIRED\\n`));
    const r = await mlops(['debug-pod', 'done', '--expired', '--yes', '-n', ns]);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`pod "${a!.metadata!.name}" deleted\n`);
    const left = await mlops(['debug-pod', 'list', '-n', ns, '-o', 'name']);
    expect(left.out).toBe(`pod/${b!.metadata!.name}\n`);
  });
});
