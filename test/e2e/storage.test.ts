import { describe, expect, inject, it } from 'vitest';
import path from 'node:path';
import { BIN, adminKube, freshNamespace, mlops, persistentVolume, repo, stream, until, waitReady, grantRestricted } from './helpers.js';
import { expectDeclaredCovers, expectOneLineError, grantAllBut, kubeconfigAs } from './safety.js';
import { COMMAND_NEEDS } from '../../src/commands/permissions.js';
import { R, pathOf } from '../../src/kube/resources.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../../src/kube/types.js';

const claim = (name: string, storageClassName: string | undefined, size = '1Gi') => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } }, ...(storageClassName !== undefined ? { storageClassName } : {}) },
});

describe('storage', () => {
  it('shows the chain, who uses a claim, and why another is Pending', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'storage');
    // The tutorial's PVC, dynamically provisioned through the default class, mounted by a Deployment.
    await kube.create(pathOf(R.pvcs, { namespace: ns }), claim('model-data', 'standard'));
    await kube.create(pathOf(R.deployments, { namespace: ns }), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'trainer' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'trainer' } },
        template: {
          metadata: { labels: { app: 'trainer' } },
          spec: {
            containers: [{ name: 'c', image: 'registry.local/trainer:1', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
            volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'model-data' } }],
          },
        },
      },
    });
    await kube.create(pathOf(R.pvcs, { namespace: ns }), claim('orphan', 'does-not-exist'));
    const pods = await waitReady(kube, ns, 'app=trainer', 1);
    await until(async () => (await kube.get<PersistentVolumeClaim>(pathOf(R.pvcs, { namespace: ns, name: 'model-data' }))).status?.phase === 'Bound', 30_000, 'bound claim');

    const r = await mlops(['storage', '-n', ns]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const [head, first, second] = r.out.trimEnd().split('\n');
    expect(head).toMatch(/^NAME +STATUS +VOLUME +CAPACITY +ACCESS MODES +STORAGECLASS +USED-BY +NODE +AGE +REASON$/);
    expect(first).toMatch(new RegExp(`^model-data +Bound +pvc-[0-9a-f-]+ +1Gi +RWO +standard +${pods[0]!.metadata!.name} \\(deploy/trainer\\) +mlops-node-\\d +\\d+s$`));
    // As kubectl: no VOLUME, CAPACITY or ACCESS MODES until the claim names its volume.
    expect(second).toMatch(
      /^orphan +Pending +does-not-exist +<none> +<none> +\d+s +no PersistentVolume fits \(size >= 1Gi, modes RWO, class "does-not-exist"\)(: .*)?; StorageClass "does-not-exist" does not exist, so nothing provisions one/,
    );

    const j = await mlops(['storage', '-n', ns, '-o', 'json']);
    const data = JSON.parse(j.out) as {
      claims: {
        name: string;
        status: string;
        usedBy: { pod: string; workload: string; node: string }[];
        storageClass: { name: string; exists: boolean; provisioner: string };
        volume: { name: string; phase: string } | null;
        reason: string | null;
      }[];
    };
    const md = data.claims.find((c) => c.name === 'model-data')!;
    expect(md.usedBy).toEqual([{ pod: pods[0]!.metadata!.name, node: pods[0]!.spec!.nodeName, workload: 'deploy/trainer' }]);
    expect(md.storageClass).toMatchObject({ name: 'standard', exists: true, provisioner: 'kubernetes.io/host-path' });
    expect(md.volume?.phase).toBe('Bound');
    const orphan = data.claims.find((c) => c.name === 'orphan')!;
    expect(orphan).toMatchObject({ status: 'Pending', volume: null, storageClass: { name: 'does-not-exist', exists: false } });
    expect(orphan.reason).toContain('StorageClass "does-not-exist" does not exist, so nothing provisions one');

    const tree = await mlops(['storage', 'model-data', '-n', ns]);
    expect(tree.out).toMatch(
      /^persistentvolumeclaim\/model-data \(Bound, 1Gi, RWO\)\n├─ volume: pvc-[0-9a-f-]+ \(1Gi, Bound, reclaim Delete\)\n│  └─ class: standard \(kubernetes\.io\/host-path, Immediate, reclaim Delete, default\)\n/,
    );
    expect(tree.out).toContain(`├─ used by: pod/${pods[0]!.metadata!.name} (deploy/trainer) on ${pods[0]!.spec!.nodeName}\n`);
    expect(tree.out).toMatch(/ProvisioningSucceeded/);
  });

  it('a Retain volume is Released after its claim goes, shown by `storage pv`, and reclaim makes it Available', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'retain');
    const pvName = `retained-${ns}`.slice(0, 63);
    const cls = `manual-${ns}`;
    await kube.create(pathOf(R.pvs), {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: pvName },
      spec: { capacity: { storage: '2Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', storageClassName: cls, hostPath: { path: `/tmp/${pvName}` } },
    });
    await kube.create(pathOf(R.pvcs, { namespace: ns }), claim('results', cls));
    await until(async () => (await kube.get<PersistentVolume>(pathOf(R.pvs, { name: pvName }))).status?.phase === 'Bound', 30_000, 'static binding');
    const bound = await mlops(['storage', 'reclaim', pvName, '--yes']);
    expect(bound.code).toBe(1);
    expect(bound.err).toBe(`error: persistentvolume/${pvName} is Bound to ${ns}/results; only a Released volume can be reclaimed\n`);

    await kube.delete(pathOf(R.pvcs, { namespace: ns, name: 'results' }));
    await until(async () => (await kube.get<PersistentVolume>(pathOf(R.pvs, { name: pvName }))).status?.phase === 'Released', 60_000, 'Released');
    const list = await mlops(['storage', 'pv']);
    expect(list.out).toMatch(
      new RegExp(
        `\\n${pvName} +2Gi +RWO +Retain +Released +${ns}/results +${cls} +\\S+ +former claim ${ns}/results is gone; data kept; \`kubectl mlops storage reclaim ${pvName}\` makes it Available\\n`,
      ),
    );

    const dry = await mlops(['storage', 'reclaim', pvName, '--dry-run=server']);
    expect(dry.code).toBe(0);
    expect((await kube.get<PersistentVolume>(pathOf(R.pvs, { name: pvName }))).status?.phase).toBe('Released');
    const r = await mlops(['storage', 'reclaim', pvName, '--yes']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`persistentvolume/${pvName} reclaimed: Available\n`);
    const pv = await kube.get<PersistentVolume>(pathOf(R.pvs, { name: pvName }));
    expect(pv.status?.phase).toBe('Available');
    expect(pv.spec?.claimRef).toBeUndefined();
    const again = await mlops(['storage', 'reclaim', pvName, '--yes']);
    expect(again.code).toBe(0);
    expect(again.out).toBe(`persistentvolume/${pvName} already Available\n`);
    await kube.delete(pathOf(R.pvs, { name: pvName }));
  });

  it('a user who may not list volumes and classes still sees the claims, with a warning', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stor-rbac');
    await kube.create(pathOf(R.pvcs, { namespace: ns }), claim('notes', 'standard'));
    await until(async () => (await kube.get<PersistentVolumeClaim>(pathOf(R.pvcs, { namespace: ns, name: 'notes' }))).status?.phase === 'Bound', 30_000, 'bound');
    await grantRestricted(kube, ns, 'claims', [{ apiGroups: [''], resources: ['persistentvolumeclaims', 'pods', 'events'], verbs: ['get', 'list'] }]);
    const r = await mlops(['storage', '-n', ns], { kubeconfig: inject('cluster').restrictedKubeconfig });
    expect(r.code).toBe(0);
    expect(r.err).toBe(
      'Warning: you may not list persistentvolumes (forbidden): volume details come from the claims only\n' +
        'Warning: you may not list storageclasses (forbidden): class details and Pending reasons are incomplete\n',
    );
    expect(r.out).toMatch(/\nnotes +Bound +pvc-[0-9a-f-]+ +1Gi +RWO +standard +<none> +<none> +\d+s\n$/);
    const denied = await mlops(['storage', '-A'], { kubeconfig: inject('cluster').restrictedKubeconfig });
    expect(denied.code).toBe(1);
    expect(denied.err).toMatch(
      /^Error from server \(Forbidden\): persistentvolumeclaims is forbidden: User "restricted" cannot list resource "persistentvolumeclaims" in API group "" at the cluster scope\n$/,
    );
  });
});

describe('storage: usage errors exit 2 and never connect', () => {
  const unreachable = path.join(repo, 'test/fixtures/unreachable-kubeconfig.yaml');
  it.each([
    [['storage', '..'], /^error: invalid CLAIM "\.\."/],
    [['storage', '.'], /^error: invalid CLAIM "\."/],
    [['storage', ''], /^error: CLAIM must not be empty/],
    [['storage', 'a/b'], /^error: unsupported kind "a" in CLAIM "a\/b"/],
    [['storage', 'A_B'], /^error: invalid CLAIM "A_B"/],
    [['storage', 'x'.repeat(300)], /^error: invalid CLAIM "x{80}…"/],
    [['storage', 'pv/x'], /^error: unsupported kind "pv" in CLAIM "pv\/x"/],
    [['storage', 'data', '-A'], /^error: a CLAIM and -A\/--all-namespaces cannot be used together/],
    [['storage', '-o', 'bogus'], /^error: unable to match a printer suitable for the output format "bogus"/],
    [['storage', 'pv', '-o', 'wide'], /^error: unable to match a printer suitable for the output format "wide"/],
  ])('%j', async (args, pattern) => {
    const r = await mlops(args, { kubeconfig: unreachable });
    expectOneLineError(r, 2, pattern);
    expect(r.out).toBe('');
  });
});

describe.concurrent('storage: the declarations cover the requests (audit log)', () => {
  it.each([
    ['storage', ['storage'], []],
    ['storage', ['storage', 'pending'], []],
    ['storage', ['storage', '-A'], ['all-namespaces']],
    ['storage pv', ['storage', 'pv'], []],
    // The watches end at --request-timeout, exit 0.
    ['storage', ['storage', '-w', '--request-timeout', '3s'], ['watch']],
    ['storage', ['storage', '-A', '-w', '--request-timeout', '3s'], ['all-namespaces', 'watch', 'watch-all-namespaces']],
    ['storage pv', ['storage', 'pv', '-w', '--request-timeout', '3s'], ['watch']],
  ])('%s %j', async (command, args, flags) => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stor-audit');
    await kube.create(pathOf(R.pvcs, { namespace: ns }), claim('pending', `no-class-${ns}`));
    // A volume of its own, so that `storage pv` has one to show whatever ran before.
    if (command === 'storage pv') await kube.create(pathOf(R.pvs), persistentVolume(`audit-${ns}`, { storageClassName: `audit-${ns}` }));
    const r = await expectDeclaredCovers(kube, ns, command, [...args, '-n', ns], flags);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toBe('');
  });

  it('read-only: no access reviews and no writes, whatever the form', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stor-ro');
    await kube.create(pathOf(R.pvcs, { namespace: ns }), claim('pending', `no-class-${ns}`));
    for (const args of [['storage'], ['storage', 'pending'], ['storage', 'pv']]) {
      const r = await mlops([...args, '-n', ns, '-v']);
      expect(r.code, r.err).toBe(0);
      expect(r.err).toMatch(/^GET /);
      expect(r.err).not.toMatch(/^(POST|PATCH|PUT|DELETE) /m);
    }
  });

  it("a missing claim: kubectl's NotFound", async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stor-missing');
    const r = await mlops(['storage', 'nope', '-n', ns]);
    expectOneLineError(r, 1, /^Error from server \(NotFound\): persistentvolumeclaims "nope" not found$/);
  });

  it('without events, PVs and classes: claims still shown, each gap named once', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'stor-noev');
    await kube.create(pathOf(R.pvcs, { namespace: ns }), claim('pending', `no-class-${ns}`));
    const user = `noev-${ns}`.slice(0, 60);
    await grantAllBut(
      kube,
      ns,
      user,
      COMMAND_NEEDS.storage!.filter((n) => !n.optional && !n.when),
    );
    const r = await mlops(['storage', '-n', ns], { kubeconfig: kubeconfigAs(user) });
    expect(r.code).toBe(0);
    expect(r.err).toBe(
      'Warning: you may not list persistentvolumes (forbidden): volume details come from the claims only\n' +
        'Warning: you may not list storageclasses (forbidden): class details and Pending reasons are incomplete\n' +
        'Warning: you may not list events (forbidden): Pending reasons lack the latest warning\n',
    );
    expect(r.out).toMatch(
      /\npending +Pending +no-class-\S+ +<none> +<none> +\d+s +StorageClass "no-class-\S+" could not be checked \(list storageclasses is forbidden\); whether a PersistentVolume fits is hidden from you \(list persistentvolumes is forbidden\)\n$/,
    );
    // -w reads the row again on each event: still each gap once.
    await grantAllBut(
      kube,
      ns,
      `${user}-w`.slice(0, 60),
      COMMAND_NEEDS.storage!.filter((n) => !n.optional && (!n.when || n.when === 'watch')),
    );
    const w = stream(BIN, ['storage', '-n', ns, '-w', '--kubeconfig', kubeconfigAs(`${user}-w`.slice(0, 60))]);
    await until(
      async () =>
        w
          .err()
          .split('\n')
          .filter((l) => l.startsWith('Warning:')).length === 3,
      60_000,
      `the three warnings: ${w.err()}`,
    );
    for (const v of ['1', '2']) await kube.patch(pathOf(R.pvcs, { namespace: ns, name: 'pending' }), { metadata: { labels: { v } } }, 'merge');
    await w.waitFor(/^pending +Pending /, 3);
    expect(await w.interrupt()).toBe(0);
    expect(w.err()).toBe(r.err);
  });
});
