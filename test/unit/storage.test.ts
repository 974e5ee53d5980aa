import { describe, expect, it } from 'vitest';
import nock from 'nock';
import { buildClaimViews, workloadOf } from '../../src/storage/model.js';
import { nodeAffinityMatches, servesText, shortModes } from '../../src/storage/binder.js';
import type { PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '../../src/kube/types.js';
import { runCli, TEST_SERVER, tempDir, useNockCluster, writeKubeconfig } from '../helpers.js';

const pvc = (name: string, sc: string | undefined | null, phase = 'Pending'): PersistentVolumeClaim => ({
  metadata: { name, namespace: 'ml', creationTimestamp: '2026-11-26T10:00:00Z' },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } }, ...(sc === undefined ? {} : { storageClassName: sc as string }) },
  status: { phase },
});
const sc = (name: string, extra: Partial<StorageClass> = {}, isDefault = false): StorageClass => ({
  metadata: { name, annotations: isDefault ? { 'storageclass.kubernetes.io/is-default-class': 'true' } : {} },
  provisioner: 'csi.example.com',
  ...extra,
});
const pod = (name: string, claim: string, node?: string, owner?: { kind: string; name: string }, hash?: string): Pod => ({
  metadata: {
    name,
    namespace: 'ml',
    labels: hash ? { 'pod-template-hash': hash } : {},
    ownerReferences: owner ? [{ apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: 'u', controller: true }] : [],
  },
  spec: { nodeName: node, containers: [], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: claim } }] },
  status: { phase: 'Running' },
});
const reasonOf = (claims: PersistentVolumeClaim[], classes: StorageClass[], pods: Pod[] = [], events: never[] = []) =>
  buildClaimViews({ claims, volumes: [], classes, pods, events }).map((v) => [v.reason, ...v.warnings].filter(Boolean).join('; '));

describe('Pending reasons', () => {
  it('no class and no default class', () => {
    expect(reasonOf([pvc('a', undefined)], [sc('fast')])).toEqual([
      'no PersistentVolume fits (size >= 5Gi, modes RWO); no StorageClass given and the cluster has no default StorageClass',
    ]);
  });
  it('a missing class', () => {
    expect(reasonOf([pvc('a', 'gold')], [])[0]).toBe(
      'no PersistentVolume fits (size >= 5Gi, modes RWO, class "gold"); StorageClass "gold" does not exist, so nothing provisions one',
    );
  });
  it('WaitForFirstConsumer without a pod, and with an unscheduled pod', () => {
    const wffc = sc('local', { volumeBindingMode: 'WaitForFirstConsumer' });
    expect(reasonOf([pvc('a', 'local')], [wffc])[0]).toBe('StorageClass local binds on first use (WaitForFirstConsumer): waiting for a pod to use the claim');
    expect(reasonOf([pvc('a', 'local')], [wffc], [pod('p', 'a')])[0]).toBe('waiting for pod p to be scheduled (WaitForFirstConsumer)');
  });
  it('a provisioner that has not acted, with the latest warning event', () => {
    const ev = {
      type: 'Warning',
      reason: 'ProvisioningFailed',
      message: 'quota exceeded',
      involvedObject: { kind: 'PersistentVolumeClaim', namespace: 'ml', name: 'a' },
      lastTimestamp: '2026-11-26T10:01:00Z',
      metadata: {},
    };
    expect(buildClaimViews({ claims: [pvc('a', 'std')], volumes: [], classes: [sc('std', {}, true)], pods: [], events: [ev as never] })[0]!.reason).toBe(
      'waiting for provisioner csi.example.com to create a volume; last warning: ProvisioningFailed: quota exceeded',
    );
    // No class on the claim: the volume controller assigns the default class (retroactively) first.
    expect(buildClaimViews({ claims: [pvc('a', null)], volumes: [], classes: [sc('std', {}, true)], pods: [], events: [] })[0]!.reason).toBe(
      'the claim names no StorageClass; the volume controller assigns the default one, std (provisioner csi.example.com)',
    );
  });
  it('flags ReadWriteOnce claims used on several nodes', () => {
    expect(reasonOf([pvc('a', 'std', 'Bound')], [sc('std')], [pod('p1', 'a', 'n1'), pod('p2', 'a', 'n2')])[0]).toBe(
      'ReadWriteOnce but used by pods on 2 nodes (n1, n2): only one node can mount it',
    );
  });
});

const pv = (
  name: string,
  extra: { cls?: string; size?: string; modes?: string[]; phase?: string; labels?: Record<string, string>; claimRef?: object; volumeMode?: string } = {},
): PersistentVolume => ({
  metadata: { name, labels: extra.labels ?? {} },
  spec: {
    capacity: { storage: extra.size ?? '5Gi' },
    accessModes: extra.modes ?? ['ReadWriteOnce'],
    storageClassName: extra.cls ?? 'manual',
    persistentVolumeReclaimPolicy: 'Retain',
    ...(extra.volumeMode ? { volumeMode: extra.volumeMode } : {}),
    ...(extra.claimRef ? { claimRef: extra.claimRef } : {}),
  },
  status: { phase: extra.phase ?? 'Available' },
});
const withVolumes = (claim: PersistentVolumeClaim, volumes: PersistentVolume[], classes: StorageClass[] = []) =>
  buildClaimViews({ claims: [claim], volumes, classes, pods: [], events: [] })[0]!;

describe("Pending on static volumes: the binder's rules name the near miss", () => {
  it.each([
    ['too small', pv('small', { size: '1Gi' }), 'small is too small (1Gi < 5Gi asked)'],
    ['other access modes', pv('rox', { modes: ['ReadOnlyMany'] }), 'rox has access modes ROX (asked RWO)'],
    ['another volumeMode', pv('blk', { volumeMode: 'Block' }), 'blk has volumeMode Block (asked Filesystem)'],
    ['another class, otherwise fitting', pv('slow', { cls: 'slow' }), 'slow has class "slow" (asked "manual")'],
    [
      'Released, still holding the old claim',
      pv('old', { phase: 'Released', claimRef: { namespace: 'ml', name: 'gone', uid: 'u0' } }),
      'old is Released and still holds the claimRef of ml/gone (`kubectl mlops storage reclaim old` frees it)',
    ],
  ])('%s', (_, volume, why) => {
    const v = withVolumes(pvc('a', 'manual'), [volume]);
    expect(v.reason).toBe(`no PersistentVolume fits (size >= 5Gi, modes RWO, class "manual"): ${why}; StorageClass "manual" does not exist, so nothing provisions one`);
    expect(v.nearMisses).toHaveLength(1);
  });
  it('a selector the volume does not match', () => {
    const claim = pvc('a', 'manual');
    claim.spec!.selector = { matchLabels: { tier: 'gold' }, matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] };
    expect(withVolumes(claim, [pv('x', { labels: { tier: 'silver', zone: 'a' } })]).nearMisses).toEqual([
      { name: 'x', why: ['does not match the selector tier=gold,zone in (a)'] },
    ]);
    expect(withVolumes(claim, [pv('y', { labels: { tier: 'gold', zone: 'a' } })]).reason).toBe('waiting for the volume controller to bind y');
  });
  it('the StorageClass explanation only when the class really does not exist', () => {
    const v = withVolumes(pvc('a', 'manual'), [pv('small', { size: '1Gi' })], [sc('manual', { provisioner: 'kubernetes.io/no-provisioner' })]);
    expect(v.reason).toBe(
      'no PersistentVolume fits (size >= 5Gi, modes RWO, class "manual"): small is too small (1Gi < 5Gi asked); StorageClass manual has no provisioner (pre-created volumes only)',
    );
    expect(v.storageClass.exists).toBe(true);
  });
  it('storageClassName "" matches only volumes without a class, and never blames a StorageClass', () => {
    const v = withVolumes(pvc('a', ''), [pv('nocls', { cls: '', size: '1Gi' })]);
    expect(v.reason).toBe('no PersistentVolume fits (size >= 5Gi, modes RWO): nocls is too small (1Gi < 5Gi asked); storageClassName is "", so nothing provisions one');
  });
  it('WaitForFirstConsumer with pre-created volumes: which fit, or why none does', () => {
    const local = sc('local', { provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' });
    const view = (volumes: PersistentVolume[]) => buildClaimViews({ claims: [pvc('a', 'local')], volumes, classes: [local], pods: [pod('p', 'a')], events: [] })[0]!;
    expect(view([pv('l1', { cls: 'local', size: '1Gi' })]).reason).toBe(
      'waiting for pod p to be scheduled (WaitForFirstConsumer); no PersistentVolume fits (size >= 5Gi, modes RWO, class "local"): l1 is too small (1Gi < 5Gi asked)',
    );
    expect(view([pv('l2', { cls: 'local', size: '10Gi' })]).reason).toBe(
      'waiting for pod p to be scheduled (WaitForFirstConsumer); fitting volumes: l2 (the scheduler also checks their node affinity)',
    );
  });
  it('WaitForFirstConsumer with the nodes known: a volume no node can use is a near miss', () => {
    const local = sc('local', { provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' });
    const pinned = pv('l3', { cls: 'local', size: '10Gi' });
    pinned.spec!.nodeAffinity = { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n9'] }] }] } };
    const node = (name: string) => ({ metadata: { name, labels: { 'kubernetes.io/hostname': name } } });
    const view = (nodes: ReturnType<typeof node>[]) =>
      buildClaimViews({ claims: [pvc('a', 'local')], volumes: [pinned], classes: [local], pods: [pod('p', 'a')], events: [], nodes })[0]!;
    expect(view([node('n1')]).reason).toBe(
      'waiting for pod p to be scheduled (WaitForFirstConsumer); no PersistentVolume fits (size >= 5Gi, modes RWO, class "local"): l3 has a node affinity that no node matches',
    );
    expect(view([node('n1'), node('n9')]).reason).toBe('waiting for pod p to be scheduled (WaitForFirstConsumer); fitting volumes: l3');
  });
  it.each([
    [{ key: 'zone', operator: 'In', values: ['a', 'b'] }, true],
    [{ key: 'zone', operator: 'NotIn', values: ['a'] }, false],
    [{ key: 'zone', operator: 'Exists' }, true],
    [{ key: 'gpu', operator: 'DoesNotExist' }, true],
    [{ key: 'cores', operator: 'Gt', values: ['8'] }, true],
    [{ key: 'cores', operator: 'Lt', values: ['8'] }, false],
  ])('node affinity %j on a node zone=a cores=16: %s', (expr, want) => {
    const v = pv('x');
    v.spec!.nodeAffinity = { required: { nodeSelectorTerms: [{ matchExpressions: [expr] }] } };
    expect(nodeAffinityMatches(v, { metadata: { name: 'n1', labels: { zone: 'a', cores: '16' } } })).toBe(want);
  });
  it('node affinity by field: metadata.name', () => {
    const v = pv('x');
    v.spec!.nodeAffinity = { required: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] }] } };
    expect([nodeAffinityMatches(v, { metadata: { name: 'n1' } }), nodeAffinityMatches(v, { metadata: { name: 'n2' } })]).toEqual([false, true]);
  });
  it('a fitting volume: the smallest one, as the binder picks', () => {
    expect(withVolumes(pvc('a', 'manual'), [pv('big', { size: '50Gi' }), pv('mid', { size: '8Gi' }), pv('small', { size: '1Gi' })]).reason).toBe(
      'waiting for the volume controller to bind mid',
    );
  });
  it('a volume asked for by name that does not fit', () => {
    const claim = pvc('a', 'manual');
    claim.spec!.volumeName = 'small';
    expect(withVolumes(claim, [pv('small', { size: '1Gi', modes: ['ReadOnlyMany'] })]).reason).toBe(
      'asks for volume small, which does not fit: it is too small (1Gi < 5Gi asked), has access modes ROX (asked RWO)',
    );
  });
  it('only classes hidden: the volumes are still compared, the class is not judged', () => {
    const v = buildClaimViews({ claims: [pvc('a', 'manual')], volumes: [pv('small', { size: '1Gi' })], classes: [], pods: [], events: [], hidden: { classes: true } })[0]!;
    expect(v.reason).toBe(
      'no PersistentVolume fits (size >= 5Gi, modes RWO, class "manual"): small is too small (1Gi < 5Gi asked); StorageClass "manual" could not be checked (list storageclasses is forbidden)',
    );
    expect(v.storageClass.exists).toBeNull();
  });
});

describe('Terminating claims, as kubectl shows them', () => {
  it('status Terminating, and the pod that holds it', () => {
    const claim = pvc('a', 'std', 'Bound');
    claim.metadata!.deletionTimestamp = '2026-11-26T10:05:00Z';
    claim.metadata!.finalizers = ['kubernetes.io/pvc-protection'];
    const v = buildClaimViews({ claims: [claim], volumes: [], classes: [sc('std')], pods: [pod('p1', 'a', 'n1')], events: [] })[0]!;
    expect(v).toMatchObject({ status: 'Terminating', phase: 'Bound', deletionTimestamp: '2026-11-26T10:05:00Z' });
    expect(v.reason).toBe('deleted, but pod p1 still uses it (kubernetes.io/pvc-protection); it goes when they stop');
  });
});

describe('access modes as kubectl prints them', () => {
  it.each([
    [['ReadWriteMany', 'ReadWriteOnce'], 'RWO,RWX'],
    [['ReadWriteOncePod', 'ReadOnlyMany', 'ReadOnlyMany'], 'ROX,RWOP'],
    [[], ''],
  ])('%j → %s', (modes, want) => expect(shortModes(modes)).toBe(want));
});

describe('what an Available volume can serve', () => {
  it('says by whom', () => {
    expect(servesText(pv('x', { size: '2Gi', modes: ['ReadWriteOnce', 'ReadOnlyMany'] }))).toBe('can be claimed by a claim of class "manual", asking <= 2Gi, modes within RWO,ROX');
    expect(servesText(pv('x', { cls: '' }))).toBe('can be claimed by a claim of no class (storageClassName ""), asking <= 5Gi, modes within RWO');
    expect(servesText(pv('x', { claimRef: { namespace: 'ml', name: 'c' } }))).toBe('reserved for ml/c');
    const local = pv('x', { cls: 'local' });
    local.spec!.nodeAffinity = { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1', 'n2'] }] }] } };
    expect(servesText(local)).toBe('can be claimed by a claim of class "local", asking <= 5Gi, modes within RWO; usable only on nodes with kubernetes.io/hostname in (n1,n2)');
  });
});

describe('workloadOf', () => {
  it.each([
    [pod('p', 'a', 'n', { kind: 'ReplicaSet', name: 'web-5d8f' }, '5d8f'), 'deploy/web'],
    [pod('p', 'a', 'n', { kind: 'ReplicaSet', name: 'batch' }), 'rs/batch'],
    [pod('p', 'a', 'n', { kind: 'StatefulSet', name: 'db' }), 'sts/db'],
    [pod('p', 'a', 'n'), null],
  ])('%#', (p, want) => expect(workloadOf(p)).toBe(want));
});

describe('storage over HTTP: a constant number of list calls', () => {
  const cluster = useNockCluster();

  it('pages through claims and pods, and never asks per claim', async () => {
    const claims = Array.from({ length: 6 }, (_, i) => ({ ...pvc(`c${i}`, 'std', 'Bound'), spec: { ...pvc(`c${i}`, 'std').spec, volumeName: `pv${i}` } }));
    const list = (items: unknown[], cont?: string) => ({ items, metadata: { resourceVersion: '1', continue: cont } });
    const scope = nock(TEST_SERVER)
      .get('/api/v1/namespaces/ml/persistentvolumeclaims')
      .query((q) => !q.continue)
      .reply(200, list(claims.slice(0, 3), 'p2'))
      .get('/api/v1/namespaces/ml/persistentvolumeclaims')
      .query((q) => q.continue === 'p2')
      .reply(200, list(claims.slice(3)))
      .get('/api/v1/persistentvolumes')
      .query(true)
      .reply(200, list(claims.map((_, i) => ({ metadata: { name: `pv${i}` }, spec: { capacity: { storage: '5Gi' } }, status: { phase: 'Bound' } }))))
      .get('/apis/storage.k8s.io/v1/storageclasses')
      .query(true)
      .reply(200, list([sc('std')]))
      .get('/api/v1/namespaces/ml/pods')
      .query((q) => q.fieldSelector === 'status.phase!=Succeeded,status.phase!=Failed')
      .reply(200, list([pod('p0', 'c0', 'n1')]));
    const r = await runCli(['storage', '--kubeconfig', cluster(), '-o', 'json', '-v']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).claims).toHaveLength(6);
    expect(r.err.trim().split('\n')).toHaveLength(5);
    expect(scope.isDone()).toBe(true);
  });
});
