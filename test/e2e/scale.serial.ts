import { describe, expect, inject, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { adminKube, deployment, freshNamespace, mlops, readyPods, run, statefulSet, until, waitReady } from './helpers.js';
import { expectOneLineError, snapshot, expectUnchanged, written } from './safety.js';
import { dPath, hpaFor, kubectl, podCount, readyDeployment, release, settled } from './scale-helpers.js';
import { R, pathOf } from '../../src/kube/resources.js';
import type { Deployment, HPA, ReplicaSet } from '../../src/kube/types.js';

const RECORDED = 'mlops.kubectl.io/recorded-replicas';
const LABEL = 'mlops.kubectl.io/scaled-to-zero';

describe.concurrent('scale-to-zero and restore', () => {
  it('a 3-replica Deployment goes to zero with 3 recorded, twice, and comes back to 3 Ready, twice', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stz');
    await readyDeployment(kube, ns, 'my-app', { replicas: 3 });

    const dry = await mlops(['scale-to-zero', 'deploy/my-app', '-n', ns, '--dry-run=client']);
    expect(dry.out).toBe('deployment.apps/my-app scaled to zero (3 recorded) (dry run)\nfreed: 3 pod(s), cpu 300m, memory 192Mi, nvidia.com/gpu 0 (dry run)\n');
    const server = await mlops(['scale-to-zero', 'deployment.apps/my-app', '-n', ns, '--dry-run=server']);
    expect(server.out).toContain('deployment.apps/my-app scaled to zero (3 recorded) (server dry run)');
    expect((await kube.get<Deployment>(dPath(ns, 'my-app'))).spec!.replicas).toBe(3);

    const r = await mlops(['scale-to-zero', 'deploy/my-app', '-n', ns]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe('deployment.apps/my-app scaled to zero (3 recorded)\nfreed: 3 pod(s), cpu 300m, memory 192Mi, nvidia.com/gpu 0\n');
    expect(await podCount(kube, ns, 'app=my-app')).toBe(0);
    // The controller still writes status after the pods are gone; compare against the settled object.
    const d = await settled(kube, ns, 'my-app', 0);
    expect(d.spec!.replicas).toBe(0);
    expect(d.metadata!.annotations![RECORDED]).toBe('3');

    // Same command twice: converges, the record stays 3, nothing is written.
    const again = await mlops(['scale-to-zero', 'deploy/my-app', '-n', ns]);
    expect(again.code).toBe(0);
    expect(again.out).toBe('deployment.apps/my-app already at 0 (3 recorded)\nfreed: 0 pod(s), cpu 0m, memory 0Mi, nvidia.com/gpu 0\n');
    expect(written(await kube.get<Deployment>(dPath(ns, 'my-app')))).toBe(written(d));

    const list = await mlops(['scale-to-zero', '--list', '-n', ns]);
    expect(list.out).toMatch(/^KIND\/NAME +RECORDED REPLICAS +REPLICAS +SINCE +HPA\ndeployment\.apps\/my-app +3 +0 +\d+s +<none>\n$/);

    const back = await mlops(['restore', 'deploy/my-app', '-n', ns]);
    expect(back.code, back.err).toBe(0);
    expect(back.out).toBe('deployment.apps/my-app restored to 3 replicas\n');
    expect(await readyPods(kube, ns, 'app=my-app')).toHaveLength(3);
    const restored = await settled(kube, ns, 'my-app', 3);
    expect(restored.metadata!.annotations?.[RECORDED]).toBeUndefined();
    expect(restored.metadata!.labels?.[LABEL]).toBeUndefined();

    // Same command twice: "already restored", exit 0, nothing written.
    const twice = await mlops(['restore', 'deploy/my-app', '-n', ns]);
    expect(twice).toMatchObject({ code: 0, out: 'deployment.apps/my-app already restored (3 replicas)\n', err: '' });
    expect(written(await kube.get<Deployment>(dPath(ns, 'my-app')))).toBe(written(restored));
  });

  it('restore refuses a workload someone scaled since (naming both counts) unless --force; a bare `restore -n NS` is a usage error', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stzforce');
    await readyDeployment(kube, ns, 'web', { replicas: 3 });
    await readyDeployment(kube, ns, 'other', { replicas: 1 });
    expect((await mlops(['scale-to-zero', 'deploy/web', 'deploy/other', '-n', ns])).code).toBe(0);
    expect((await kubectl(['scale', 'deploy/web', '--replicas=2', '-n', ns])).code).toBe(0);
    await Promise.all([settled(kube, ns, 'web', 2), settled(kube, ns, 'other', 0)]);

    const bare = await mlops(['restore', '-n', ns]);
    expectOneLineError(bare, 2, /^error: restore needs TARGET \(deploy\/NAME, sts\/NAME, rs\/NAME\) or -l SELECTOR, or --all for every workload scaled to zero by kubectl mlops$/);

    const before = await snapshot(kube, ns);
    const refused = await mlops(['restore', 'deploy/web', '-n', ns]);
    expectOneLineError(
      refused,
      1,
      /^error: deployment\.apps\/web runs 2 replicas, not 0 \(3 recorded\): someone scaled it after scale-to-zero; pass --force to scale it to 3 and drop the record$/,
    );
    // --all plans every workload before writing: the refusal of one leaves the other at 0 too.
    expectOneLineError(await mlops(['restore', '--all', '-n', ns]), 1, /deployment\.apps\/web runs 2 replicas, not 0/);
    await expectUnchanged(kube, ns, before);

    const forced = await mlops(['restore', 'deploy/web', '--force', '-n', ns]);
    expect(forced.code, forced.err).toBe(0);
    expect(forced.out).toBe('deployment.apps/web restored to 3 replicas\n');
    expect(await readyPods(kube, ns, 'app=web')).toHaveLength(3);

    const all = await mlops(['restore', '--all', '-n', ns]);
    expect(all.code, all.err).toBe(0);
    expect(all.out).toBe('deployment.apps/other restored to 1 replica\n');
    // Nothing left to restore: the same command again converges.
    const allAgain = await mlops(['restore', '--all', '-n', ns]);
    expect(allAgain).toMatchObject({ code: 0, out: '', err: `No workloads scaled to zero by kubectl mlops in namespace ${ns}: nothing to restore.\n` });
  });

  it('a standalone ReplicaSet with --delete --save leaves nothing, and the saved file re-creates it; an unwritable --save changes nothing', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stzdel');
    await kube.create(pathOf(R.replicasets, { namespace: ns }), {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'batch', labels: { team: 'ml' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'batch' } },
        template: { metadata: { labels: { app: 'batch' } }, spec: { containers: [{ name: 'c', image: 'registry.local/batch:1' }] } },
      },
    });
    await waitReady(kube, ns, 'app=batch', 2);
    // The ReplicaSet's status catches up with its pods a moment later; snapshot after that.
    await until(
      async () => {
        const st = (await kube.get<ReplicaSet>(pathOf(R.replicasets, { namespace: ns, name: 'batch' }))).status;
        return st?.availableReplicas === 2 && st.readyReplicas === 2;
      },
      60_000,
      'replicaset status',
    );
    const before = await snapshot(kube, ns);
    const noDir = await mlops(['scale-to-zero', 'rs/batch', '--delete', '--save', '/no/such/dir/x.yaml', '--yes', '-n', ns]);
    expectOneLineError(noDir, 2, /^error: cannot write --save \/no\/such\/dir\/x\.yaml: no such folder \(\/no\/such\/dir\)$/);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-save-')), 'batch.yaml');
    const noYes = await mlops(['scale-to-zero', 'rs/batch', '--delete', '--save', file, '-n', ns]);
    expectOneLineError(noYes, 2, /^error: deleting the workloads needs confirmation: pass --yes \(stdin is not a terminal\)$/);
    await expectUnchanged(kube, ns, before);
    expect(fs.existsSync(file)).toBe(false);

    const r = await mlops(['scale-to-zero', 'rs/batch', '--delete', '--save', file, '--yes', '-n', ns]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('replicaset.apps/batch scaled to zero and deleted (2 recorded)');
    // The same command again: NotFound, exit 1, as a second `kubectl delete` (the saved file is not overwritten).
    const savedFirst = fs.readFileSync(file, 'utf8');
    expectOneLineError(
      await mlops(['scale-to-zero', 'rs/batch', '--delete', '--save', file, '--yes', '-n', ns]),
      1,
      /^Error from server \(NotFound\): replicasets\.apps "batch" not found$/,
    );
    expect(fs.readFileSync(file, 'utf8')).toBe(savedFirst);
    expect(await kube.getOptional(pathOf(R.replicasets, { namespace: ns, name: 'batch' }))).toBeUndefined();
    expect(await podCount(kube, ns, 'app=batch')).toBe(0);
    const saved = fs.readFileSync(file, 'utf8');
    expect(saved).not.toMatch(/uid:|resourceVersion:|status:|creationTimestamp:|recorded-replicas|scaled-to-zero/);
    const apply = await run('kubectl', ['apply', '-f', file, '-n', ns], { env: { KUBECONFIG: inject('cluster').kubeconfig } });
    expect(apply.err).toBe('');
    expect(apply.out).toBe('replicaset.apps/batch created\n');
    const rs = await kube.get<ReplicaSet>(pathOf(R.replicasets, { namespace: ns, name: 'batch' }));
    expect(rs.spec!.replicas).toBe(2);
    expect(rs.metadata!.labels).toEqual({ team: 'ml' });
    await waitReady(kube, ns, 'app=batch', 2);
  });

  it('a selector spanning two Deployments; refusals for a selector matching nothing and a ReplicaSet owned by a Deployment', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stzsel');
    await readyDeployment(kube, ns, 'train-a', { replicas: 2, labels: { stage: 'train' } });
    await readyDeployment(kube, ns, 'train-b', { replicas: 1, labels: { stage: 'train' } });
    const r = await mlops(['scale-to-zero', '-l', 'stage=train', '-n', ns]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(
      'deployment.apps/train-a scaled to zero (2 recorded)\ndeployment.apps/train-b scaled to zero (1 recorded)\nfreed: 3 pod(s), cpu 300m, memory 192Mi, nvidia.com/gpu 0\n',
    );
    expectOneLineError(
      await mlops(['scale-to-zero', '-l', 'stage=serve', '-n', ns]),
      1,
      new RegExp(`^error: no Deployments, StatefulSets or standalone ReplicaSets match -l stage=serve in namespace ${ns}$`),
    );
    const rsName = (await kube.list<ReplicaSet>(pathOf(R.replicasets, { namespace: ns }), { labelSelector: 'app=train-a' })).items[0]!.metadata!.name;
    expectOneLineError(
      await mlops(['scale-to-zero', `rs/${rsName}`, '-n', ns]),
      1,
      new RegExp(`^error: replicaset\\.apps/${rsName} is managed by deployment/train-a, which would scale it back: use deployment/train-a$`),
    );
    const back = await mlops(['restore', '-l', 'stage=train', '-n', ns]);
    expect(back.code, back.err).toBe(0);
    expect(back.out).toBe('deployment.apps/train-a restored to 2 replicas\ndeployment.apps/train-b restored to 1 replica\n');
    const again = await mlops(['restore', '-l', 'stage=train', '-n', ns]);
    expect(again).toMatchObject({ code: 0, err: `No workloads scaled to zero by kubectl mlops matching -l stage=train in namespace ${ns}: nothing to restore.\n` });
  });

  it('-A -l spans namespaces: each namespace is checked and scaled, and restore -A -l brings them back', async () => {
    const kube = adminKube();
    const [ns1, ns2] = await Promise.all([freshNamespace(kube, 'stzall'), freshNamespace(kube, 'stzall')]);
    const tag = `t${Math.random().toString(36).slice(2, 8)}`;
    await Promise.all([
      readyDeployment(kube, ns1!, 'web', { replicas: 1, labels: { 'mlops-test': tag } }),
      readyDeployment(kube, ns2!, 'web', { replicas: 2, labels: { 'mlops-test': tag } }),
    ]);
    const r = await mlops(['scale-to-zero', '-A', '-l', `mlops-test=${tag}`, '-o', 'json']);
    expect(r.code, r.err).toBe(0);
    const out = JSON.parse(r.out) as { workloads: { namespace: string; target: string; recorded: number; state: string }[] };
    expect(out.workloads.map((w) => [w.namespace, w.target, w.recorded, w.state]).sort()).toEqual(
      [
        [ns1, 'deployment.apps/web', 1, 'scale'],
        [ns2, 'deployment.apps/web', 2, 'scale'],
      ].sort(),
    );
    const list = await mlops(['scale-to-zero', '--list', '-A', '-l', `mlops-test=${tag}`]);
    expect(list.out).toMatch(
      new RegExp(
        `^NAMESPACE +KIND/NAME +RECORDED REPLICAS +REPLICAS +SINCE +HPA\n(${ns1}|${ns2}) +deployment\.apps/web +[12] .*\n(${ns1}|${ns2}) +deployment\.apps/web +[12] .*\n$`,
      ),
    );
    const back = await mlops(['restore', '-A', '-l', `mlops-test=${tag}`]);
    expect(back).toMatchObject({ code: 0, out: expect.stringMatching(/^(deployment\.apps\/web restored to (1 replica|2 replicas)\n){2}$/) });
    expect(await readyPods(kube, ns1!, 'app=web')).toHaveLength(1);
    expect(await readyPods(kube, ns2!, 'app=web')).toHaveLength(2);
  });

  it('an HPA stays by default (inactive at zero); --with-hpa records and removes it and restore re-creates it', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stzhpa');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('serve', { replicas: 2 }));
    await kube.create(pathOf(R.hpas, { namespace: ns }), hpaFor('serve', 2, 6));
    await waitReady(kube, ns, 'app=serve', 2);
    const hpaBefore = await kube.get<HPA>(pathOf(R.hpas, { namespace: ns, name: 'serve' }));

    const r = await mlops(['scale-to-zero', 'deploy/serve', '-n', ns]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('deployment.apps/serve scaled to zero (2 recorded)\n');
    expect(r.err).toBe('horizontalpodautoscaler.autoscaling/serve (min 2, max 6) stays: it is inactive while deployment.apps/serve is at 0 replicas and resumes after restore\n');
    expect((await kube.get<HPA>(pathOf(R.hpas, { namespace: ns, name: 'serve' }))).spec).toEqual(hpaBefore.spec);
    const back = await mlops(['restore', 'deploy/serve', '-n', ns]);
    expect(back).toMatchObject({ code: 0, out: 'deployment.apps/serve restored to 2 replicas\n' });

    const w = await mlops(['scale-to-zero', 'deploy/serve', '--with-hpa', '-n', ns]);
    expect(w.code, w.err).toBe(0);
    expect(w.out).toContain('deployment.apps/serve scaled to zero (2 recorded, hpa serve recorded and removed)');
    expect(await kube.getOptional(pathOf(R.hpas, { namespace: ns, name: 'serve' }))).toBeUndefined();
    const list = await mlops(['scale-to-zero', '--list', '-n', ns]);
    expect(list.out).toMatch(/deployment\.apps\/serve +2 +0 +\d+s +serve\n$/);
    const back2 = await mlops(['restore', 'deploy/serve', '-n', ns]);
    expect(back2).toMatchObject({ code: 0, out: 'deployment.apps/serve restored to 2 replicas (hpa serve re-created)\n' });
    const hpa = await kube.get<HPA>(pathOf(R.hpas, { namespace: ns, name: 'serve' }));
    expect(hpa.spec).toEqual(hpaBefore.spec);
    expect(await readyPods(kube, ns, 'app=serve')).toHaveLength(2);
  });

  it('a StatefulSet goes to zero and back through the same guarded write', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stzsts');
    await kube.create(pathOf(R.statefulsets, { namespace: ns }), statefulSet('db', { replicas: 2 }));
    await waitReady(kube, ns, 'app=db', 2);
    const r = await mlops(['scale-to-zero', 'sts/db', '-n', ns]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('statefulset.apps/db scaled to zero (2 recorded)');
    expect(await podCount(kube, ns, 'app=db')).toBe(0);
    const back = await mlops(['restore', 'statefulset/db', '-n', ns]);
    expect(back.out).toBe('statefulset.apps/db restored to 2 replicas\n');
    expect(await readyPods(kube, ns, 'app=db')).toHaveLength(2);
  });

  it('--timeout exits 4 naming the pods still terminating and the real state; the re-run converges once they are gone', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stzstuck');
    await readyDeployment(kube, ns, 'held', { replicas: 1, hold: true });
    const [pod] = await readyPods(kube, ns, 'app=held');
    const name = pod!.metadata!.name!;
    const r = await mlops(['scale-to-zero', 'deploy/held', '--timeout', '2s', '-n', ns]);
    expectOneLineError(
      r,
      4,
      new RegExp(
        `^error: timed out waiting for the pods of deployment\\.apps/held to be gone; still there: ${name} \\(Terminating\\)\\. deployment\\.apps/held is at 0 replicas with 1 recorded$`,
      ),
    );
    expect(r.err).toContain('  written:      deployment.apps/held scaled to 0 (1 recorded)\n  not verified: the pods of deployment.apps/held gone and it stays at 0 replicas\n');
    expect(r.err).toContain(`  to resume:    kubectl mlops scale-to-zero deployment.apps/held -n ${ns}\n  to undo:      kubectl mlops restore deployment.apps/held -n ${ns}\n`);
    // A re-run verifies again: still held, still a timeout (never "nothing changed", exit 0).
    const still = await mlops(['scale-to-zero', 'deploy/held', '--timeout', '1s', '-n', ns]);
    expectOneLineError(still, 4, /still there: .*deployment\.apps\/held is at 0 replicas with 1 recorded$/);
    await release(kube, ns, 'app=held');
    const done = await mlops(['scale-to-zero', 'deploy/held', '-n', ns]);
    expect(done).toMatchObject({ code: 0, out: expect.stringContaining('deployment.apps/held already at 0 (1 recorded)\n') });
  });
});
