// storage reads pods page by page and keeps only claimUser(pod): the join must not notice.
import { describe, expect, it } from 'vitest';
import { buildClaimViews, claimUser, type Inventory } from '../../src/storage/model.js';
import type { PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '../../src/kube/types.js';

const claim = (name: string, phase: string, extra: Partial<NonNullable<PersistentVolumeClaim['spec']>> = {}, deleting = false): PersistentVolumeClaim => ({
  metadata: {
    name,
    namespace: 'ml',
    creationTimestamp: '2026-11-26T10:00:00Z',
    ...(deleting ? { deletionTimestamp: '2026-11-26T10:05:00Z', finalizers: ['kubernetes.io/pvc-protection'] } : {}),
  },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } }, storageClassName: 'std', ...extra },
  status: { phase, ...(phase === 'Bound' ? { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'] } : {}) },
});
const classes: StorageClass[] = [
  { metadata: { name: 'std' }, provisioner: 'csi.example.com' },
  { metadata: { name: 'late' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' },
];
const volumes: PersistentVolume[] = [
  {
    metadata: { name: 'pv-a' },
    spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'std', persistentVolumeReclaimPolicy: 'Delete' },
    status: { phase: 'Bound' },
  },
  { metadata: { name: 'pv-late' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'late' }, status: { phase: 'Available' } },
];

/** A pod as the API server sends it: everything storage does not read included. */
function pod(name: string, volumesOf: NonNullable<Pod['spec']>['volumes'], opts: { node?: string; phase?: string; rs?: string; hash?: string } = {}): Pod {
  return {
    metadata: {
      name,
      namespace: 'ml',
      uid: `uid-${name}`,
      resourceVersion: '42',
      labels: { app: 'train', ...(opts.hash ? { 'pod-template-hash': opts.hash } : {}) },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-26T09:00:00Z' },
      ownerReferences: opts.rs ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: opts.rs, uid: 'rs-uid', controller: true, blockOwnerDeletion: true }] : [],
      managedFields: [{ manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } }],
    },
    spec: {
      nodeName: opts.node,
      containers: [{ name: 'app', image: 'registry.local/train:1', env: [{ name: 'A', value: 'b' }], resources: { requests: { cpu: '1' } } }],
      volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }, ...(volumesOf ?? [])],
    },
    status: {
      phase: opts.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'app', image: 'x', imageID: 'y', ready: true, restartCount: 0 }],
    },
  };
}

describe('claimUser: what storage keeps of a pod', () => {
  const pods = [
    pod('web-5d8f-abcde', [{ name: 'd', persistentVolumeClaim: { claimName: 'a' } }], { node: 'n1', rs: 'web-5d8f', hash: '5d8f' }),
    pod('other-1', [{ name: 'd', persistentVolumeClaim: { claimName: 'a' } }], { node: 'n2', rs: 'batch' }),
    pod('bare', [{ name: 'd', persistentVolumeClaim: { claimName: 'gone' } }], { node: 'n1' }),
    pod('waiting', [{ name: 'd', persistentVolumeClaim: { claimName: 'late' } }]),
    pod('eph', [{ name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } } }], {
      node: 'n1',
    }),
    pod('done', [{ name: 'd', persistentVolumeClaim: { claimName: 'a' } }], { node: 'n1', phase: 'Succeeded' }),
    pod('no-claims', [], { node: 'n1' }),
  ];
  const claims = [
    claim('a', 'Bound', { volumeName: 'pv-a' }),
    claim('late', 'Pending', { storageClassName: 'late' }),
    claim('eph-scratch', 'Bound', { volumeName: 'pv-x' }),
    claim('gone', 'Bound', { volumeName: 'pv-a' }, true),
  ];

  it('keeps nothing of a finished pod or one that mounts no claim', () => {
    expect(claimUser(pods[5]!)).toBeUndefined();
    expect(claimUser(pods[6]!)).toBeUndefined();
  });

  it('keeps name, namespace, node, phase, controller, pod-template-hash and claim volumes only', () => {
    expect(claimUser(pods[0]!)).toEqual({
      metadata: {
        name: 'web-5d8f-abcde',
        namespace: 'ml',
        labels: { 'pod-template-hash': '5d8f' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d8f', uid: 'rs-uid', controller: true }],
      },
      spec: { nodeName: 'n1', volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'a' } }], containers: [] },
      status: { phase: 'Running' },
    });
    expect(claimUser(pods[4]!)!.spec!.volumes).toEqual([{ name: 'scratch', ephemeral: {} }]);
  });

  it('gives the join exactly the views the whole pods give (used-by, nodes, RWO warning, Pending and Terminating reasons)', () => {
    const inv: Inventory = { claims, volumes, classes, pods, events: [] };
    const whole = buildClaimViews(inv);
    const reduced = buildClaimViews({ ...inv, pods: pods.map(claimUser).filter((p): p is Pod => Boolean(p)) });
    expect(reduced).toEqual(whole);
    // The fixture exercises what the reduction could lose.
    const byName = new Map(whole.map((v) => [v.name, v]));
    expect(byName.get('a')!.usedBy).toEqual([
      { pod: 'web-5d8f-abcde', node: 'n1', workload: 'deploy/web' },
      { pod: 'other-1', node: 'n2', workload: 'rs/batch' },
    ]);
    expect(byName.get('a')!.warnings.join()).toMatch(/ReadWriteOnce but used by pods on 2 nodes/);
    expect(byName.get('late')!.reason).toMatch(/waiting for pod waiting to be scheduled/);
    expect(byName.get('eph-scratch')!.usedBy).toEqual([{ pod: 'eph', node: 'n1', workload: null }]);
    expect(byName.get('gone')!.reason).toMatch(/pod bare still uses it/);
  });
});
