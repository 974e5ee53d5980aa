// The bad-input matrix of scale-to-zero and restore (issue 14): usage errors before connecting,
// missing objects and wrong kinds, each declared verb denied alone, the declarations checked
// against the audit log, someone else changing the workload during each wait, Ctrl-C in each
// wait, and the re-run after each failure.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { adminKube, freshNamespace, mlops, readyPods, repo, statefulSet, until, waitReady, writeTemp } from './helpers.js';
import { expectDeclaredCovers, expectOneLineError, expectUnchanged, grantAllBut, kubeconfigAs, snapshot, startMlops } from './safety.js';
import { dPath, hpaFor, hpaScalingActive, kubectl, podCount, readyDeployment, release, settled } from './scale-helpers.js';
import { needsOf } from '../../src/commands/flow.js';
import { needLabel, type Need } from '../../src/commands/permissions.js';
import { R, pathOf } from '../../src/kube/resources.js';
import type { Deployment, HPA, Pod, ReplicaSet } from '../../src/kube/types.js';

const UNREACHABLE = path.join(repo, 'test/fixtures/unreachable-kubeconfig.yaml');
const long = 'a'.repeat(300);

describe.concurrent('usage errors exit 2 and never connect (the kubeconfig points at nothing)', () => {
  it.each([
    [['scale-to-zero'], /^error: scale-to-zero needs TARGET \(deploy\/NAME, sts\/NAME, rs\/NAME\) or -l SELECTOR$/],
    [['scale-to-zero', 'deploy/a', '-l', 'app=a'], /give TARGETs or -l\/--selector, not both/],
    [['scale-to-zero', 'deploy/a', '--save', 'x.yaml'], /--save is used with --delete/],
    [['scale-to-zero', 'deploy/a', '--delete', '--yes', '--save', '/no/such/dir/x.yaml'], /cannot write --save \/no\/such\/dir\/x\.yaml: no such folder/],
    [['scale-to-zero', 'deploy/a', '--timeout', '0'], /invalid value "0" for --timeout/],
    [['scale-to-zero', 'deploy/a', '--timeout', '600h'], /invalid value "600h" for --timeout: at most 596h/],
    [['scale-to-zero', 'deploy/a', '--timeout', 'soon'], /invalid value "soon" for --timeout/],
    [['scale-to-zero', 'job/x'], /unsupported kind "job"/],
    [['scale-to-zero', 'pod/x'], /unsupported kind "pod"/],
    [['scale-to-zero', 'web'], /invalid TARGET "web": want KIND\/NAME/],
    [['scale-to-zero', 'deploy/..'], /invalid name in TARGET "deploy\/\.\."/],
    [['scale-to-zero', 'deploy/.'], /invalid name in TARGET "deploy\/\."/],
    [['scale-to-zero', 'deploy/'], /invalid TARGET "deploy\/"/],
    [['scale-to-zero', ''], /invalid TARGET ""/],
    [['scale-to-zero', 'deploy/a/b'], /invalid name in TARGET "deploy\/a\/b"/],
    [['scale-to-zero', 'deploy/A_B'], /invalid name in TARGET "deploy\/A_B"/],
    [['scale-to-zero', `deploy/${long}`], /invalid name in TARGET .*at most 253/],
    [['scale-to-zero', '-l', ''], /-l\/--selector must not be empty/],
    [['scale-to-zero', '-l', 'app=a b'], /invalid value "app=a b" for -l\/--selector/],
    [['scale-to-zero', 'deploy/a', '-A'], /-A\/--all-namespaces works with -l/],
    [['scale-to-zero', 'deploy/a', '--dry-run=maybe'], /invalid value "maybe" for --dry-run/],
    [['scale-to-zero', 'deploy/a', '-o', 'wide'], /wide/],
    [['scale-to-zero', '--list', 'deploy/a'], /--list takes no TARGETs/],
    [['restore'], /^error: restore needs TARGET \(deploy\/NAME, sts\/NAME, rs\/NAME\) or -l SELECTOR, or --all for every workload scaled to zero by kubectl mlops$/],
    [['restore', '-n', 'team-a'], /restore needs TARGET/],
    [['restore', 'deploy/a', '-l', 'app=a'], /not both/],
    [['restore', '--all', 'deploy/a'], /--all takes no TARGETs and no -l/],
    [['restore', '--all', '-l', 'app=a'], /--all takes no TARGETs and no -l/],
    [['restore', 'deploy/a', '--timeout', '0'], /invalid value "0" for --timeout/],
    [['restore', 'deploy/a', '--timeout', '600h'], /at most 596h/],
    [['restore', 'cronjob/x'], /unsupported kind "cronjob"/],
    [['restore', 'sts/..'], /invalid name in TARGET "sts\/\.\."/],
    [['restore', 'deploy/a', '-A'], /-A\/--all-namespaces works with -l/],
  ])('%j', async (args, re) => {
    expectOneLineError(await mlops(args, { kubeconfig: UNREACHABLE }), 2, re);
  });
});

describe.concurrent('missing objects and wrong kinds: exit 1, nothing changed', () => {
  it('scale-to-zero and restore of objects that are not there, or not theirs to scale', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stzmiss');
    await readyDeployment(kube, ns, 'web', { replicas: 1 });
    const rs = (await kube.list<ReplicaSet>(pathOf(R.replicasets, { namespace: ns }), { labelSelector: 'app=web' })).items[0]!.metadata!.name!;
    const before = await snapshot(kube, ns);
    const cases: [string[], RegExp][] = [
      [['scale-to-zero', 'deploy/nope'], /^Error from server \(NotFound\): deployments\.apps "nope" not found$/],
      [['scale-to-zero', 'sts/web'], /^Error from server \(NotFound\): statefulsets\.apps "web" not found$/],
      [['scale-to-zero', 'deploy/web', 'deploy/nope'], /deployments\.apps "nope" not found/],
      [['scale-to-zero', `rs/${rs}`], new RegExp(`^error: replicaset\\.apps/${rs} is managed by deployment/web, which would scale it back: use deployment/web$`)],
      [['restore', `rs/${rs}`], /is managed by deployment\/web/],
      [['restore', 'deploy/nope'], /deployments\.apps "nope" not found/],
      [['scale-to-zero', '-l', 'app=nothing'], /no Deployments, StatefulSets or standalone ReplicaSets match -l app=nothing/],
    ];
    for (const [args, re] of cases) expectOneLineError(await mlops([...args, '-n', ns]), 1, re);
    await expectUnchanged(kube, ns, before);
    expect(await readyPods(kube, ns, 'app=web')).toHaveLength(1);
  });

  it('a workload at 0 that this plugin did not scale: scale-to-zero records nothing, restore refuses', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stzzero');
    await readyDeployment(kube, ns, 'web', { replicas: 1 });
    expect((await kubectl(['scale', 'deploy/web', '--replicas=0', '-n', ns])).code).toBe(0);
    await until(
      async () => {
        const d = await kube.get<Deployment>(dPath(ns, 'web'));
        return (await podCount(kube, ns, 'app=web')) === 0 && d.status?.observedGeneration === d.metadata?.generation && !d.status?.replicas;
      },
      60_000,
      'web settled at 0',
    );
    const before = await snapshot(kube, ns);
    const r = await mlops(['scale-to-zero', 'deploy/web', '-n', ns]);
    expect(r).toMatchObject({ code: 0, out: 'deployment.apps/web already at 0 (nothing recorded: it was at 0 before)\nfreed: 0 pod(s), cpu 0m, memory 0Mi, nvidia.com/gpu 0\n' });
    expectOneLineError(
      await mlops(['restore', 'deploy/web', '-n', ns]),
      1,
      /^error: deployment\.apps\/web is at 0 replicas with no recorded replica count \(it was not scaled to zero by kubectl mlops\); use kubectl scale instead$/,
    );
    await expectUnchanged(kube, ns, before);
  });
});

/** Each declared verb denied alone: exit 1, the verb and resource named, nothing changed. */
async function denyEach(kube: ReturnType<typeof adminKube>, ns: string, command: string, args: string[], flags: string[], tag: string) {
  const needs = needsOf(command, (w) => flags.includes(w));
  // The HPA controller writes an HPA's status on its first sync: let it, before the snapshot.
  const hpas = (await kube.list<HPA>(pathOf(R.hpas, { namespace: ns }))).items;
  await Promise.all(hpas.map((h) => hpaScalingActive(kube, ns, h.metadata!.name!, (c) => Boolean(c))));
  const before = await snapshot(kube, ns);
  const results = await Promise.all(
    needs.map(async (deny: Need, i) => {
      const user = `deny-${tag}-${i}-${Math.random().toString(36).slice(2, 6)}`;
      await grantAllBut(kube, ns, user, needs, deny);
      return { deny, r: await mlops([...args, '-n', ns], { kubeconfig: kubeconfigAs(user) }) };
    }),
  );
  for (const { deny, r } of results) {
    const named = new RegExp(`not allowed to ${needLabel(deny).replace(/\./g, '\\.')} in namespace ${ns}|cannot ${deny.verb} resource "${deny.resource}"`);
    expectOneLineError(r, 1, named);
    expect(r.err, needLabel(deny)).not.toContain('written:');
  }
  await expectUnchanged(kube, ns, before);
  return needs.map(needLabel);
}

describe.concurrent('RBAC: each declared verb denied alone refuses before any write', () => {
  it('scale-to-zero deploy/web (an HPA stays)', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stzrbac');
    await readyDeployment(kube, ns, 'web', { replicas: 2 });
    await kube.create(pathOf(R.hpas, { namespace: ns }), hpaFor('web', 2, 4));
    const denied = await denyEach(kube, ns, 'scale-to-zero', ['scale-to-zero', 'deploy/web'], ['kind:deployments', 'list:deployments'], 'a');
    expect(denied).toEqual([
      'get deployments.apps',
      'patch deployments.apps',
      'list deployments.apps',
      'watch deployments.apps',
      'list pods',
      'watch pods',
      'list horizontalpodautoscalers.autoscaling',
    ]);
    expect(await readyPods(kube, ns, 'app=web')).toHaveLength(2);
  });

  it('scale-to-zero deploy/web --with-hpa --delete --yes', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stzrbac');
    await readyDeployment(kube, ns, 'web', { replicas: 1 });
    await kube.create(pathOf(R.hpas, { namespace: ns }), hpaFor('web', 1, 4));
    const denied = await denyEach(
      kube,
      ns,
      'scale-to-zero',
      ['scale-to-zero', 'deploy/web', '--with-hpa', '--delete', '--yes'],
      ['kind:deployments', 'list:deployments', 'delete:deployments', 'with-hpa'],
      'b',
    );
    expect(denied).toEqual(expect.arrayContaining(['delete deployments.apps', 'delete horizontalpodautoscalers.autoscaling']));
  });

  it('scale-to-zero -l (lists every scalable kind)', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stzrbac');
    await readyDeployment(kube, ns, 'web', { replicas: 1, labels: { team: 'ml' } });
    const denied = await denyEach(
      kube,
      ns,
      'scale-to-zero',
      ['scale-to-zero', '-l', 'team=ml'],
      ['kind:deployments', 'list:deployments', 'list:statefulsets', 'list:replicasets'],
      'c',
    );
    expect(denied).toEqual(expect.arrayContaining(['list statefulsets.apps', 'list replicasets.apps']));
  });

  it('restore deploy/web with a recorded HPA: without patch deployments nothing is scaled up', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'strrbac');
    await readyDeployment(kube, ns, 'web', { replicas: 2 });
    await kube.create(pathOf(R.hpas, { namespace: ns }), hpaFor('web', 2, 4));
    expect((await mlops(['scale-to-zero', 'deploy/web', '--with-hpa', '-n', ns])).code).toBe(0);
    await settled(kube, ns, 'web', 0);
    const denied = await denyEach(kube, ns, 'restore', ['restore', 'deploy/web'], ['kind:deployments', 'list:deployments', 'recorded-hpa'], 'd');
    expect(denied).toEqual([
      'get deployments.apps',
      'patch deployments.apps',
      'list deployments.apps',
      'watch deployments.apps',
      'list horizontalpodautoscalers.autoscaling',
      'create horizontalpodautoscalers.autoscaling',
    ]);
    const d = await kube.get<Deployment>(dPath(ns, 'web'));
    expect(d.spec!.replicas).toBe(0);
    expect(d.metadata!.annotations!['mlops.kubectl.io/recorded-replicas']).toBe('2');
  });

  it('restore --all', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'strrbac');
    await readyDeployment(kube, ns, 'web', { replicas: 1 });
    expect((await mlops(['scale-to-zero', 'deploy/web', '-n', ns])).code).toBe(0);
    await settled(kube, ns, 'web', 0);
    const denied = await denyEach(kube, ns, 'restore', ['restore', '--all'], ['kind:deployments', 'list:deployments', 'list:statefulsets', 'list:replicasets'], 'e');
    expect(denied).toEqual(expect.arrayContaining(['list statefulsets.apps', 'patch deployments.apps']));
  });
});

describe.concurrent('the declarations cover every request (audit log), and suffice (exit 0)', () => {
  it.each([
    ['scale-to-zero deploy', ['scale-to-zero', 'deploy/web'], ['kind:deployments', 'list:deployments']],
    [
      'scale-to-zero --with-hpa --delete',
      ['scale-to-zero', 'deploy/web', '--with-hpa', '--delete', '--yes'],
      ['kind:deployments', 'list:deployments', 'delete:deployments', 'with-hpa'],
    ],
    ['scale-to-zero -l', ['scale-to-zero', '-l', 'team=ml'], ['kind:deployments', 'list:deployments', 'list:statefulsets', 'list:replicasets']],
    // The watch ends at --request-timeout, exit 0, as kubectl get -w.
    [
      'scale-to-zero --list -w',
      ['scale-to-zero', '--list', '-w', '--request-timeout', '3s'],
      ['kind:deployments', 'kind:statefulsets', 'kind:replicasets', 'list:deployments', 'list:statefulsets', 'list:replicasets'],
    ],
  ])('%s', async (_, args, flags) => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stzaudit');
    await readyDeployment(kube, ns, 'web', { replicas: 1, labels: { team: 'ml' } });
    await kube.create(pathOf(R.hpas, { namespace: ns }), hpaFor('web', 1, 3));
    const r = await expectDeclaredCovers(kube, ns, 'scale-to-zero', [...args, '-n', ns], flags);
    expect(r.code, r.err).toBe(0);
  });

  it('scale-to-zero sts, then restore sts', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stzaudit');
    await kube.create(pathOf(R.statefulsets, { namespace: ns }), statefulSet('db'));
    await waitReady(kube, ns, 'app=db', 1);
    const flags = ['kind:statefulsets', 'list:statefulsets'];
    expect((await expectDeclaredCovers(kube, ns, 'scale-to-zero', ['scale-to-zero', 'sts/db', '-n', ns], flags)).code).toBe(0);
    expect((await expectDeclaredCovers(kube, ns, 'restore', ['restore', 'sts/db', '-n', ns], flags)).code).toBe(0);
  });

  it('restore deploy with a recorded HPA, and restore --all', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'straudit');
    await readyDeployment(kube, ns, 'web', { replicas: 1 });
    await readyDeployment(kube, ns, 'api', { replicas: 1 });
    await kube.create(pathOf(R.hpas, { namespace: ns }), hpaFor('web', 1, 3));
    expect((await mlops(['scale-to-zero', 'deploy/web', 'deploy/api', '--with-hpa', '-n', ns])).code).toBe(0);
    const one = await expectDeclaredCovers(kube, ns, 'restore', ['restore', 'deploy/web', '-n', ns], ['kind:deployments', 'list:deployments', 'recorded-hpa']);
    expect(one.out, one.err).toBe('deployment.apps/web restored to 1 replica (hpa web re-created)\n');
    const all = await expectDeclaredCovers(kube, ns, 'restore', ['restore', '--all', '-n', ns], ['kind:deployments', 'list:deployments', 'list:statefulsets', 'list:replicasets']);
    expect(all.out, all.err).toBe('deployment.apps/api restored to 1 replica\n');
  });
});

// One concurrent block: the recorded-HPA cases and the races, each on a namespace of its own.
describe.concurrent("restore when the recorded HPA's name is taken; someone else changes the workload during the wait (it ends at once)", () => {
  it("by another workload's HPA: refused with nothing changed; --force restores without it and says so", async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'strhpa');
    await readyDeployment(kube, ns, 'twin', { replicas: 1 });
    await readyDeployment(kube, ns, 'web', { replicas: 1 });
    await kube.create(pathOf(R.hpas, { namespace: ns }), hpaFor('twin', 1, 3));
    expect((await mlops(['scale-to-zero', 'deploy/twin', '--with-hpa', '-n', ns])).code).toBe(0);
    const other = hpaFor('twin', 1, 2);
    other.spec.scaleTargetRef.name = 'web';
    await kube.create(pathOf(R.hpas, { namespace: ns }), other);
    await settled(kube, ns, 'twin', 0);

    const before = await snapshot(kube, ns);
    const refused = await mlops(['restore', 'deploy/twin', '-n', ns]);
    expectOneLineError(
      refused,
      1,
      /^error: horizontalpodautoscaler\.autoscaling\/twin scales deployment\/web, so the HPA recorded for deployment\.apps\/twin cannot be re-created under its name: delete or rename that HPA, or pass --force to restore without it \(its record is dropped\)$/,
    );
    await expectUnchanged(kube, ns, before);

    const forced = await mlops(['restore', 'deploy/twin', '-n', ns, '--force']);
    expect(forced.code, forced.err).toBe(0);
    expect(forced.out).toBe('deployment.apps/twin restored to 1 replica\n');
    expect(forced.err).toBe(
      'Warning: horizontalpodautoscaler.autoscaling/twin scales deployment/web: the HPA recorded for deployment.apps/twin is not re-created (--force) and its record is dropped\n',
    );
    const d = await kube.get<Deployment>(dPath(ns, 'twin'));
    expect(d.metadata!.annotations?.['mlops.kubectl.io/recorded-hpa']).toBeUndefined();
    expect((await kube.get<HPA>(pathOf(R.hpas, { namespace: ns, name: 'twin' }))).spec!.scaleTargetRef.name).toBe('web');
  });

  it('another HPA scales the workload now: the recorded one is not re-created beside it, with a warning', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'strhpa');
    await readyDeployment(kube, ns, 'a', { replicas: 1 });
    await kube.create(pathOf(R.hpas, { namespace: ns }), hpaFor('a', 1, 3));
    expect((await mlops(['scale-to-zero', 'deploy/a', '--with-hpa', '-n', ns])).code).toBe(0);
    const a2 = hpaFor('a2', 1, 4);
    a2.spec.scaleTargetRef.name = 'a';
    await kube.create(pathOf(R.hpas, { namespace: ns }), a2);
    const r = await mlops(['restore', 'deploy/a', '-n', ns]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe('deployment.apps/a restored to 1 replica\n');
    expect(r.err).toBe(
      'Warning: horizontalpodautoscaler.autoscaling/a2 scales deployment.apps/a now: horizontalpodautoscaler.autoscaling/a is not re-created beside it (two would stop each other) and its record is dropped\n',
    );
    const names = (await kube.list<HPA>(pathOf(R.hpas, { namespace: ns }))).items.map((h) => h.metadata!.name);
    expect(names).toEqual(['a2']);
  });

  it('a record edited by hand: restore refuses with nothing changed, naming it; --list shows it as invalid', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'strhpa');
    await readyDeployment(kube, ns, 'ed', { replicas: 1 });
    await kube.create(pathOf(R.hpas, { namespace: ns }), hpaFor('ed', 1, 3));
    expect((await mlops(['scale-to-zero', 'deploy/ed', '--with-hpa', '-n', ns])).code).toBe(0);
    expect((await kubectl(['annotate', 'deploy/ed', '--overwrite', 'mlops.kubectl.io/recorded-hpa={bad', '-n', ns])).code).toBe(0);
    await settled(kube, ns, 'ed', 0);
    const before = await snapshot(kube, ns);
    expectOneLineError(
      await mlops(['restore', 'deploy/ed', '-n', ns]),
      1,
      /^error: deployment\.apps\/ed: its annotation mlops\.kubectl\.io\/recorded-hpa is not an HPA as scale-to-zero --with-hpa records it \(edited by hand\?\); fix it, or remove it to restore without the HPA$/,
    );
    await expectUnchanged(kube, ns, before);
    const list = await mlops(['scale-to-zero', '--list', '-n', ns]);
    expect(list.code, list.err).toBe(0);
    expect(list.out).toMatch(/\ndeployment\.apps\/ed +1 +0 +\S+ +<invalid record>\n$/);
  });

  it('by an HPA of the same workload with other bounds: left as it is, with a warning', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'strhpa');
    await readyDeployment(kube, ns, 'solo', { replicas: 1 });
    await kube.create(pathOf(R.hpas, { namespace: ns }), hpaFor('solo', 1, 3));
    expect((await mlops(['scale-to-zero', 'deploy/solo', '--with-hpa', '-n', ns])).code).toBe(0);
    await kube.create(pathOf(R.hpas, { namespace: ns }), hpaFor('solo', 1, 5));
    const r = await mlops(['restore', 'deploy/solo', '-n', ns]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toBe('Warning: horizontalpodautoscaler.autoscaling/solo already exists (min 1, max 5), not as recorded (min 1, max 3): left as it is\n');
    expect((await kube.get<HPA>(pathOf(R.hpas, { namespace: ns, name: 'solo' }))).spec!.maxReplicas).toBe(5);
  });

  it('scale-to-zero: scaled up to 3 meanwhile; the re-run records 3 and converges', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stzrace');
    await readyDeployment(kube, ns, 'held', { replicas: 1, hold: true });
    const run = startMlops(['scale-to-zero', 'deploy/held', '-n', ns, '-v']);
    await run.waitForErr(/deployments\?.*watch=1/);
    expect((await kubectl(['scale', 'deploy/held', '--replicas=3', '-n', ns])).code).toBe(0);
    const r = await run.done;
    expectOneLineError(
      r,
      1,
      /^error: someone changed the replicas of deployment\.apps\/held to 3 while we waited for its pods to be gone \(1 recorded; scale-to-zero again records 3\)$/,
    );
    expect(r.err).toContain('  written:      deployment.apps/held scaled to 0 (1 recorded)\n  not verified: the pods of deployment.apps/held gone and it stays at 0 replicas\n');
    expect((await kube.get<Deployment>(dPath(ns, 'held'))).spec!.replicas).toBe(3);
    // Let every pod go (the 3 new ones included), then the same command again.
    await until(
      async () => (await kube.list<Pod>(pathOf(R.pods, { namespace: ns }), { labelSelector: 'app=held' })).items.filter((p) => !p.metadata?.deletionTimestamp).length === 3,
      60_000,
      '3 new pods',
    );
    await release(kube, ns, 'app=held');
    const r2 = await mlops(['scale-to-zero', 'deploy/held', '-n', ns]);
    expect(r2.code, r2.err).toBe(0);
    expect(r2.out).toContain('deployment.apps/held scaled to zero (3 recorded)\n');
  });

  it('the same command twice at once: the guarded write lets one win, the other re-plans; both succeed, the count stays 3', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stztwice');
    await readyDeployment(kube, ns, 'web', { replicas: 3 });
    const [a, b] = await Promise.all([mlops(['scale-to-zero', 'deploy/web', '-n', ns]), mlops(['scale-to-zero', 'deploy/web', '-n', ns])]);
    expect([a.code, b.code], a.err + b.err).toEqual([0, 0]);
    expect([a.out, b.out].join('')).toMatch(/deployment\.apps\/web (scaled to zero|already at 0) \(3 recorded\)/);
    expect((await kube.get<Deployment>(dPath(ns, 'web'))).metadata!.annotations!['mlops.kubectl.io/recorded-replicas']).toBe('3');
    const [c, d] = await Promise.all([mlops(['restore', 'deploy/web', '-n', ns]), mlops(['restore', 'deploy/web', '-n', ns])]);
    expect([c.code, d.code], c.err + d.err).toEqual([0, 0]);
    const web = await kube.get<Deployment>(dPath(ns, 'web'));
    expect(web.spec!.replicas).toBe(3);
    expect(web.metadata!.annotations?.['mlops.kubectl.io/recorded-replicas']).toBeUndefined();
    expect(await readyPods(kube, ns, 'app=web')).toHaveLength(3);
  });

  it('scale-to-zero: the workload deleted meanwhile', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stzrace');
    await readyDeployment(kube, ns, 'held', { replicas: 1, hold: true });
    const run = startMlops(['scale-to-zero', 'deploy/held', '-n', ns, '-v']);
    await run.waitForErr(/deployments\?.*watch=1/);
    expect((await kubectl(['delete', 'deploy/held', '-n', ns, '--wait=false'])).code).toBe(0);
    const r = await run.done;
    expectOneLineError(r, 1, /^error: deployment\.apps\/held was deleted by someone else while we waited for its pods to be gone$/);
    expect(r.err).toContain('written:      deployment.apps/held scaled to 0 (1 recorded)');
    await release(kube, ns, 'app=held');
  });

  /** restore of a 2-replica web whose pods never get Ready, while someone scales it to `replicas` during the wait. */
  const restoreRaced = async (kube: ReturnType<typeof adminKube>, replicas: number, others: string[] = []) => {
    const ns = await freshNamespace(kube, 'strrace');
    await Promise.all(['web', ...others].map((n) => readyDeployment(kube, ns, n, { replicas: n === 'web' ? 2 : 1 })));
    expect((await mlops(['scale-to-zero', 'deploy/web', ...others.map((n) => `deploy/${n}`), '-n', ns])).code).toBe(0);
    // A template that cannot start: restore waits for Ready, which never comes.
    expect((await kubectl(['set', 'image', 'deploy/web', 'app=registry.local/my-app:fail', '-n', ns])).code).toBe(0);
    const run = startMlops(['restore', 'deploy/web', ...others.map((n) => `deploy/${n}`), '-n', ns, '-v']);
    await run.waitForErr(/deployments\?.*watch=1/);
    expect((await kubectl(['scale', 'deploy/web', `--replicas=${replicas}`, '-n', ns])).code).toBe(0);
    return { ns, r: await run.done };
  };

  it('restore: scaled back to 0 meanwhile (pods that never get Ready); the re-run converges once they can', async () => {
    const kube = adminKube();
    const { ns, r } = await restoreRaced(kube, 0);
    expectOneLineError(r, 1, /^error: someone scaled deployment\.apps\/web back to 0 while we waited for 2 Ready replicas$/);
    expect(r.err).toContain('  written:      deployment.apps/web scaled to 2 (the record is kept until 2 are Ready)\n  not verified: deployment.apps/web 2 Ready\n');
    expect((await kube.get<Deployment>(dPath(ns, 'web'))).metadata!.annotations!['mlops.kubectl.io/recorded-replicas']).toBe('2');
    expect((await kubectl(['set', 'image', 'deploy/web', 'app=registry.local/my-app:1.0', '-n', ns])).code).toBe(0);
    const again = await mlops(['restore', 'deploy/web', '-n', ns]);
    expect(again).toMatchObject({ code: 0, out: 'deployment.apps/web restored to 2 replicas\n' });
    expect(await readyPods(kube, ns, 'app=web')).toHaveLength(2);
  });

  it('restore: scaled to another count meanwhile; the journal offers no resume (it would be refused) and no undo', async () => {
    const { r } = await restoreRaced(adminKube(), 1);
    expectOneLineError(r, 1, /^error: someone changed the replicas of deployment\.apps\/web to 1 while we waited \(we set 2\)$/);
    expect(r.err).toContain('  superseded:   deployment.apps/web was scaled to 1 by someone else; no resume or undo is offered, as either would overwrite that change\n');
    expect(r.err).not.toContain('to resume:');
    expect(r.err).not.toContain('to undo:');
  });

  it('restore of two, the first scaled meanwhile: the other stays listed as not verified, with a resume and an undo for it alone', async () => {
    const { ns, r } = await restoreRaced(adminKube(), 1, ['other']);
    expectOneLineError(r, 1, /^error: someone changed the replicas of deployment\.apps\/web to 1 while we waited \(we set 2\)$/);
    expect(r.err).toContain('  not verified: deployment.apps/other 1 Ready\n');
    expect(r.err).toContain('  superseded:   deployment.apps/web was scaled to 1 by someone else; the lines below leave it out, as either would overwrite that change\n');
    expect(r.err).toContain(`  to resume:    kubectl mlops restore deployment.apps/other -n ${ns}\n  to undo:      kubectl mlops scale-to-zero deployment.apps/other -n ${ns}\n`);
    // The resume finishes the other one and leaves web as its owner set it.
    const resumed = await mlops(['restore', 'deployment.apps/other', '-n', ns]);
    expect(resumed).toMatchObject({ code: 0, out: 'deployment.apps/other restored to 1 replica (already scaled by an earlier run)\n' });
    expect((await adminKube().get<Deployment>(dPath(ns, 'web'))).spec!.replicas).toBe(1);
  });

  it('restore: pods that cannot start end the wait at the progress deadline, not --timeout', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'strdead');
    await readyDeployment(kube, ns, 'web', { replicas: 1, image: 'registry.local/my-app:fail', progressDeadlineSeconds: 1 });
    expect((await mlops(['scale-to-zero', 'deploy/web', '-n', ns])).code).toBe(0);
    const r = await mlops(['restore', 'deploy/web', '-n', ns, '--timeout', '2m']);
    expectOneLineError(
      r,
      1,
      /^error: deployment\.apps\/web made no progress within its progress deadline \(1s\): 0\/1 Ready; it is scaled up, the record is kept: re-run restore once its pods can start$/,
    );
    expect(r.err).toContain('written:      deployment.apps/web scaled to 1 (the record is kept until it is Ready)');
    // Re-run after the failure: once the pods can start, the same command finishes the job.
    expect((await kubectl(['set', 'image', 'deploy/web', 'app=registry.local/my-app:1.0', '-n', ns])).code).toBe(0);
    const again = await mlops(['restore', 'deploy/web', '-n', ns]);
    expect(again).toMatchObject({ code: 0, out: 'deployment.apps/web restored to 1 replica (already scaled by an earlier run)\n' });
    expect((await kube.get<Deployment>(dPath(ns, 'web'))).metadata!.labels?.['mlops.kubectl.io/scaled-to-zero']).toBeUndefined();
  });
});

describe.concurrent('Ctrl-C in each wait: exit 130, the wait named, the journal printed; the re-run converges', () => {
  it('scale-to-zero, waiting for the pods to be gone', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stzint');
    await readyDeployment(kube, ns, 'held', { replicas: 2, hold: true });
    const run = startMlops(['scale-to-zero', 'deploy/held', '-n', ns, '-v']);
    await run.waitForErr(/pods\?.*watch=1/);
    run.interrupt();
    const r = await run.done;
    expectOneLineError(r, 130, /^error: interrupted while waiting for the pods of deployment\.apps\/held to be gone$/);
    expect(r.err).toContain(
      `  written:      deployment.apps/held scaled to 0 (2 recorded)\n  not verified: the pods of deployment.apps/held gone and it stays at 0 replicas\n  to resume:    kubectl mlops scale-to-zero deployment.apps/held -n ${ns}\n  to undo:      kubectl mlops restore deployment.apps/held -n ${ns}\n`,
    );
    await release(kube, ns, 'app=held');
    const again = await mlops(['scale-to-zero', 'deployment.apps/held', '-n', ns]);
    expect(again).toMatchObject({ code: 0, out: expect.stringContaining('deployment.apps/held already at 0 (2 recorded)\n') });
    expect(await podCount(kube, ns, 'app=held')).toBe(0);
  });

  it('restore, waiting for Ready', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'strint');
    await readyDeployment(kube, ns, 'web', { replicas: 2 });
    expect((await mlops(['scale-to-zero', 'deploy/web', '-n', ns])).code).toBe(0);
    expect((await kubectl(['set', 'image', 'deploy/web', 'app=registry.local/my-app:fail', '-n', ns])).code).toBe(0);
    const run = startMlops(['restore', 'deploy/web', '-n', ns, '-v']);
    await run.waitForErr(/deployments\?.*watch=1/);
    run.interrupt();
    const r = await run.done;
    expectOneLineError(r, 130, /^error: interrupted while waiting for deployment\.apps\/web to be Ready$/);
    expect(r.err).toContain(
      `  written:      deployment.apps/web scaled to 2 (the record is kept until 2 are Ready)\n  not verified: deployment.apps/web 2 Ready\n  to resume:    kubectl mlops restore deployment.apps/web -n ${ns}\n  to undo:      kubectl mlops scale-to-zero deployment.apps/web -n ${ns}\n`,
    );
    expect((await kubectl(['set', 'image', 'deploy/web', 'app=registry.local/my-app:1.0', '-n', ns])).code).toBe(0);
    const again = await mlops(['restore', 'deploy/web', '-n', ns]);
    expect(again).toMatchObject({ code: 0, out: 'deployment.apps/web restored to 2 replicas (already scaled by an earlier run)\n' });
    const d = await kube.get<Deployment>(dPath(ns, 'web'));
    expect(d.metadata!.annotations?.['mlops.kubectl.io/recorded-replicas']).toBeUndefined();
    expect(await readyPods(kube, ns, 'app=web')).toHaveLength(2);
  });
});

/** A TCP proxy to the API server that the test can cut, as if the server went away, and open again on the same port. */
async function cuttableServer(): Promise<{ kubeconfig: string; cut: () => void; reopen: () => Promise<void> }> {
  const target = new URL(inject('cluster').server);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((c) => {
    const u = net.connect(Number(target.port), target.hostname);
    const end = () => (c.destroy(), u.destroy());
    for (const s of [c, u]) {
      sockets.add(s);
      s.on('error', end);
      s.on('close', end);
    }
    c.pipe(u);
    u.pipe(c);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const cfg = fs.readFileSync(inject('cluster').kubeconfig, 'utf8').replace(/server: https:\/\/127\.0\.0\.1:\d+/, `server: https://127.0.0.1:${port}`);
  return {
    kubeconfig: writeTemp('via-proxy.yaml', cfg),
    cut: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
    reopen: () => new Promise<void>((r) => server.listen(port, '127.0.0.1', r)),
  };
}

describe.concurrent('the API server gone during each wait: the wait rides it out until its deadline, then says what it wrote; the re-run converges', () => {
  it('scale-to-zero: the server stays away, --timeout ends the wait (exit 4) with the state unknown and the journal', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stzgone');
    await readyDeployment(kube, ns, 'held', { replicas: 1, hold: true });
    const [pod] = await readyPods(kube, ns, 'app=held');
    const proxy = await cuttableServer();
    const run = startMlops(['scale-to-zero', 'deploy/held', '-n', ns, '-v', '--timeout', '6s'], { kubeconfig: proxy.kubeconfig });
    await run.waitForErr(/pods\?.*watch=1/);
    await run.waitForErr(/deployments\?.*watch=1/);
    proxy.cut();
    const r = await run.done;
    expectOneLineError(
      r,
      4,
      new RegExp(
        `^error: timed out waiting for the pods of deployment\\.apps/held to be gone; still there: ${pod!.metadata!.name} \\((Running|Terminating)\\)\\. the state of deployment\\.apps/held is unknown now \\(cannot reach the API server at https://127\\.0\\.0\\.1:\\d+: connection refused\\); it was at 0 replicas with 1 recorded when last seen$`,
      ),
    );
    expect(r.err).toContain(
      `  written:      deployment.apps/held scaled to 0 (1 recorded)\n  not verified: the pods of deployment.apps/held gone and it stays at 0 replicas\n  to resume:    kubectl mlops scale-to-zero deployment.apps/held -n ${ns}\n`,
    );
    await release(kube, ns, 'app=held');
    expect(await mlops(['scale-to-zero', 'deploy/held', '-n', ns])).toMatchObject({ code: 0, out: expect.stringContaining('deployment.apps/held already at 0 (1 recorded)\n') });
  });

  it('restore: the server comes back during the wait, and the same run finishes (exit 0)', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'strgone');
    await readyDeployment(kube, ns, 'web', { replicas: 1 });
    expect((await mlops(['scale-to-zero', 'deploy/web', '-n', ns])).code).toBe(0);
    expect((await kubectl(['set', 'image', 'deploy/web', 'app=registry.local/my-app:fail', '-n', ns])).code).toBe(0);
    const proxy = await cuttableServer();
    const run = startMlops(['restore', 'deploy/web', '-n', ns, '-v'], { kubeconfig: proxy.kubeconfig });
    await run.waitForErr(/deployments\?.*watch=1/);
    proxy.cut();
    await run.waitForErr(/retrying|resuming|failed after/);
    // While it is away the pods get able to start; then the server is back.
    expect((await kubectl(['set', 'image', 'deploy/web', 'app=registry.local/my-app:1.0', '-n', ns])).code).toBe(0);
    await proxy.reopen();
    const r = await run.done;
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe('deployment.apps/web restored to 1 replica\n');
    const d = await kube.get<Deployment>(dPath(ns, 'web'));
    expect(d.metadata!.annotations?.['mlops.kubectl.io/recorded-replicas']).toBeUndefined();
    proxy.cut();
  });
});
