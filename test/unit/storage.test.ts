import { describe, expect, it } from 'vitest';
import nock from 'nock';
import { buildClaimViews, workloadOf } from '../../src/storage/model.js';
import type { PersistentVolumeClaim, Pod, StorageClass } from '../../src/kube/types.js';
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
  metadata: { name, namespace: 'ml', labels: hash ? { 'pod-template-hash': hash } : {}, ownerReferences: owner ? [{ apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: 'u', controller: true }] : [] },
  spec: { nodeName: node, containers: [], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: claim } }] },
  status: { phase: 'Running' },
});
const reasonOf = (claims: PersistentVolumeClaim[], classes: StorageClass[], pods: Pod[] = [], events: never[] = []) =>
  buildClaimViews({ claims, volumes: [], classes, pods, events }).map((v) => [v.reason, ...v.warnings].filter(Boolean).join('; '));

describe('Pending reasons', () => {
  it('no class and no default class', () => {
    expect(reasonOf([pvc('a', undefined)], [sc('fast')])).toEqual(['no StorageClass given and the cluster has no default StorageClass; no Available PV matches either']);
  });
  it('a missing class', () => {
    expect(reasonOf([pvc('a', 'gold')], [])[0]).toBe('StorageClass "gold" does not exist, and no Available PV of that class matches (size >= 5Gi, modes RWO)');
  });
  it('WaitForFirstConsumer without a pod, and with an unscheduled pod', () => {
    const wffc = sc('local', { volumeBindingMode: 'WaitForFirstConsumer' });
    expect(reasonOf([pvc('a', 'local')], [wffc])[0]).toBe('StorageClass local binds on first use (WaitForFirstConsumer): waiting for a pod to use the claim');
    expect(reasonOf([pvc('a', 'local')], [wffc], [pod('p', 'a')])[0]).toBe('waiting for pod p to be scheduled (WaitForFirstConsumer)');
  });
  it('a provisioner that has not acted, with the latest warning event', () => {
    const ev = { type: 'Warning', reason: 'ProvisioningFailed', message: 'quota exceeded', involvedObject: { kind: 'PersistentVolumeClaim', namespace: 'ml', name: 'a' }, lastTimestamp: '2026-11-26T10:01:00Z', metadata: {} };
    expect(buildClaimViews({ claims: [pvc('a', null)], volumes: [], classes: [sc('std', {}, true)], pods: [], events: [ev as never] })[0]!.reason).toBe(
      'waiting for provisioner csi.example.com to create a volume; last warning: ProvisioningFailed: quota exceeded',
    );
  });
  it('flags ReadWriteOnce claims used on several nodes', () => {
    expect(reasonOf([pvc('a', 'std', 'Bound')], [sc('std')], [pod('p1', 'a', 'n1'), pod('p2', 'a', 'n2')])[0]).toBe(
      'ReadWriteOnce but used by pods on 2 nodes (n1, n2): only one node can mount it',
    );
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
      .get('/api/v1/namespaces/ml/persistentvolumeclaims').query((q) => !q.continue).reply(200, list(claims.slice(0, 3), 'p2'))
      .get('/api/v1/namespaces/ml/persistentvolumeclaims').query((q) => q.continue === 'p2').reply(200, list(claims.slice(3)))
      .get('/api/v1/persistentvolumes').query(true).reply(200, list(claims.map((_, i) => ({ metadata: { name: `pv${i}` }, spec: { capacity: { storage: '5Gi' } }, status: { phase: 'Bound' } }))))
      .get('/apis/storage.k8s.io/v1/storageclasses').query(true).reply(200, list([sc('std')]))
      .get('/api/v1/namespaces/ml/pods').query((q) => q.fieldSelector === 'status.phase!=Succeeded,status.phase!=Failed').reply(200, list([pod('p0', 'c0', 'n1')]));
    const r = await runCli(['storage', '--kubeconfig', cluster(), '-o', 'json', '-v']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).claims).toHaveLength(6);
    expect(r.err.trim().split('\n')).toHaveLength(5);
    expect(scope.isDone()).toBe(true);
  });
});
