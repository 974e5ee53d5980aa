import { describe, expect, it } from 'vitest';
import nock from 'nock';
import { planDetach, refusal, detachPatch, type Controller } from '../../src/workloads/detach.js';
import type { Pod, Service } from '../../src/kube/types.js';
import { runCli, TEST_SERVER, useNockCluster } from '../helpers.js';

const pod = (labels: Record<string, string>, owner: { kind: string; name: string } | null = { kind: 'ReplicaSet', name: 'web-1' }, extra: Partial<Pod['metadata']> = {}): Pod => ({
  metadata: {
    name: 'web-1-abc',
    namespace: 'ml',
    uid: 'pod-uid',
    resourceVersion: '100',
    labels,
    ownerReferences: owner ? [{ apiVersion: 'apps/v1', kind: owner.kind, name: owner.name, uid: 'rs-uid', controller: true }] : undefined,
    creationTimestamp: '2026-11-26T10:00:00Z',
    ...extra,
  },
  spec: { containers: [{ name: 'app', image: 'x' }], nodeName: 'n1' },
});

const rs: Controller = {
  kind: 'ReplicaSet',
  name: 'web-1',
  uid: 'rs-uid',
  selector: { matchLabels: { app: 'web', 'pod-template-hash': '1' } },
  replicas: 3,
  owner: { kind: 'Deployment', name: 'web', selector: { matchLabels: { app: 'web' } } },
};
const svc = (name: string, selector: Record<string, string>): Service => ({ metadata: { name }, spec: { selector } });

describe('refusal', () => {
  it.each([
    [null, 'has no controller'],
    [{ kind: 'StatefulSet', name: 'db' }, 'belongs to StatefulSet db, whose replacement would need the same name'],
    [{ kind: 'DaemonSet', name: 'agent' }, 'belongs to DaemonSet agent, which runs exactly one pod per node'],
    [{ kind: 'Job', name: 'train' }, 'belongs to Job train, which counts completions'],
    [{ kind: 'Widget', name: 'w' }, 'is controlled by Widget w, which debug-pod does not know'],
  ])('%j', (owner, text) => expect(refusal(pod({ app: 'x' }, owner))).toContain(text));
  it('a pod being deleted', () => expect(refusal(pod({}, undefined, { deletionTimestamp: '2026-11-26T10:00:00Z' }))).toContain('is being deleted'));
  it('a ReplicaSet pod is fine', () => expect(refusal(pod({ app: 'web' }))).toBeUndefined());
});

describe('planDetach', () => {
  it('changes a user-facing key (not pod-template-hash) and adds the marker', () => {
    const p = planDetach(pod({ app: 'web', 'pod-template-hash': '1' }), rs, [], {});
    expect(p.labels).toEqual({ app: 'web-debug', 'pod-template-hash': '1', 'mlops.kubectl.io/debug': 'true' });
    expect(p.changes).toEqual([
      { key: 'app', from: 'web', to: 'web-debug' },
      { key: 'mlops.kubectl.io/debug', from: undefined, to: 'true' },
    ]);
  });

  it('reports Services that still select the pod, and --isolate breaks them too', () => {
    const services = [svc('by-tier', { tier: 'front' }), svc('by-app', { app: 'web' }), svc('other', { app: 'db' })];
    const labels = { app: 'web', tier: 'front', 'pod-template-hash': '1' };
    const p = planDetach(pod(labels), rs, services, {});
    expect(p.stillServing.map((s) => s.metadata!.name)).toEqual(['by-tier']);
    const iso = planDetach(pod(labels), rs, services, { isolate: true });
    expect(iso.stillServing).toEqual([]);
    expect(iso.isolated.map((s) => s.metadata!.name)).toEqual(['by-tier']);
    expect(iso.labels.tier).toBe('front-debug');
  });

  it('--label must break the selector', () => {
    expect(planDetach(pod({ app: 'web', 'pod-template-hash': '1' }), rs, [], { label: ['app', 'to-be-fixed'] }).labels.app).toBe('to-be-fixed');
    expect(() => planDetach(pod({ app: 'web', 'pod-template-hash': '1', tier: 'a' }), rs, [], { label: ['tier', 'b'] })).toThrow(
      "--label tier=b does not take pod/web-1-abc out of ReplicaSet web-1's selector (app=web,pod-template-hash=1): choose a key the selector uses",
    );
  });

  it('breaks a matchExpressions selector by value, and refuses one that only excludes', () => {
    const exprs: Controller = { kind: 'ReplicaSet', name: 'e', uid: 'u', replicas: 1, selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api'] }] } };
    expect(planDetach(pod({ app: 'api' }), exprs, [], {}).labels.app).toBe('api-debug');
    const exists: Controller = { ...exprs, selector: { matchExpressions: [{ key: 'gpu', operator: 'Exists' }] } };
    expect(planDetach(pod({ gpu: 'a100' }), exists, [], {}).labels.gpu).toBeUndefined();
    const notIn: Controller = { ...exprs, selector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['db'] }] } };
    expect(() => planDetach(pod({ app: 'web' }), notIn, [], {})).toThrow(
      "cannot break ReplicaSet e's selector (app notin (db)) by relabelling: it only uses NotIn/DoesNotExist; pass --label KEY=VALUE",
    );
  });

  it('the patch changes the labels and records the ledger', () => {
    const p = pod({ app: 'web', 'pod-template-hash': '1' });
    const plan = planDetach(p, rs, [], {});
    expect(detachPatch(p, rs, plan, new Date('2026-11-26T12:00:00.123Z'), '2h')).toEqual({
      metadata: {
        labels: { app: 'web-debug', 'mlops.kubectl.io/debug': 'true' },
        annotations: {
          'mlops.kubectl.io/original-labels': '{"app":"web","pod-template-hash":"1"}',
          'mlops.kubectl.io/detached-from': 'ReplicaSet/web-1',
          'mlops.kubectl.io/detached-at': '2026-11-26T12:00:00Z',
          'mlops.kubectl.io/detached-from-owner': 'Deployment/web',
          'mlops.kubectl.io/ttl': '2h',
        },
      },
    });
  });
});

describe('debug-pod over HTTP (nock)', () => {
  const cluster = useNockCluster();

  const rsObj = { metadata: { name: 'web-1', namespace: 'ml', uid: 'rs-uid' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } } } };
  const ready = { conditions: [{ type: 'Ready', status: 'True' }], phase: 'Running' };
  const owned = (name: string, created: string, isReady = true) => ({
    metadata: {
      name,
      namespace: 'ml',
      labels: { app: 'web' },
      creationTimestamp: created,
      ownerReferences: [{ kind: 'ReplicaSet', name: 'web-1', uid: 'rs-uid', controller: true }],
    },
    status: isReady ? ready : { phase: 'Pending', containerStatuses: [{ name: 'app', state: { waiting: { reason: 'ImagePullBackOff' } } }] },
  });

  it('retries with a fresh pod after a 409 Conflict and then verifies the replacement', async () => {
    const future = new Date(Date.now() + 5000).toISOString();
    const patches: unknown[] = [];
    const scope = nock(TEST_SERVER)
      .get('/api/v1/namespaces/ml/pods/web-1-abc')
      .reply(200, { ...pod({ app: 'web' }), status: ready })
      .get('/apis/apps/v1/namespaces/ml/replicasets/web-1')
      .reply(200, rsObj)
      .get('/api/v1/namespaces/ml/services')
      .query(true)
      .reply(200, { items: [], metadata: { resourceVersion: '1' } })
      .get('/api/v1/namespaces/ml/resourcequotas')
      .query(true)
      .reply(200, { items: [], metadata: { resourceVersion: '1' } })
      // The ReplicaSet's pods before the patch.
      .get('/api/v1/namespaces/ml/pods')
      .query((q) => q.labelSelector === 'app=web' && !q.watch)
      .reply(200, { items: [{ ...pod({ app: 'web' }), status: ready }, owned('web-1-old', '2026-11-26T10:00:00Z')], metadata: { resourceVersion: '150' } })
      .post('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews')
      .query(true)
      .times(10)
      .reply(201, { status: { allowed: true } })
      .patch('/api/v1/namespaces/ml/pods/web-1-abc', (b) => {
        patches.push(b);
        return true;
      })
      .query(true)
      .reply(409, { kind: 'Status', reason: 'Conflict', message: 'Operation cannot be fulfilled on pods "web-1-abc": the object has been modified', code: 409 })
      .get('/api/v1/namespaces/ml/pods/web-1-abc')
      .reply(200, { ...pod({ app: 'web', extra: 'x' }, { kind: 'ReplicaSet', name: 'web-1' }, { resourceVersion: '101' }), status: ready })
      .patch('/api/v1/namespaces/ml/pods/web-1-abc', (b) => {
        patches.push(b);
        return true;
      })
      .query(true)
      .reply(200, pod({ app: 'web-debug', 'mlops.kubectl.io/debug': 'true' }, null))
      // Released at once; then watched by name beside the wait, in case someone deletes it.
      .get('/api/v1/namespaces/ml/pods')
      .query((q) => q.fieldSelector === 'metadata.name=web-1-abc' && !q.watch)
      .times(2)
      .reply(200, { items: [pod({ app: 'web-debug' }, null)], metadata: { resourceVersion: '200' } })
      .get('/api/v1/namespaces/ml/pods')
      .query((q) => q.labelSelector === 'app=web' && !q.watch)
      // No GET of the pod afterwards: table output does not need it.
      .reply(200, { items: [owned('web-1-old', '2026-11-26T10:00:00Z'), owned('web-1-new', future)], metadata: { resourceVersion: '201' } })
      // The ReplicaSet is watched beside, for terminal conditions; it says nothing here.
      .get('/apis/apps/v1/namespaces/ml/replicasets')
      .query((q) => q.fieldSelector === 'metadata.name=web-1' && !q.watch)
      .reply(200, { items: [rsObj], metadata: { resourceVersion: '202' } });
    nock(TEST_SERVER)
      .get('/apis/apps/v1/namespaces/ml/replicasets')
      .query((q) => q.watch === '1')
      .delay(5000)
      .reply(200, '');
    nock(TEST_SERVER)
      .get('/api/v1/namespaces/ml/pods')
      .query((q) => q.watch === '1' && q.fieldSelector === 'metadata.name=web-1-abc')
      .delay(5000)
      .reply(200, '');
    const r = await runCli(['debug-pod', 'web-1-abc', '--kubeconfig', cluster()]);
    expect(r.err).toContain('replacement: pod/web-1-new Ready; replicaset/web-1 has 2/2 Ready');
    expect(r.code).toBe(0);
    expect(r.out).toBe('pod/web-1-abc detached from replicaset/web-1\n');
    expect((patches[0] as { metadata: { resourceVersion: string } }).metadata.resourceVersion).toBe('100');
    expect((patches[1] as { metadata: { resourceVersion: string } }).metadata.resourceVersion).toBe('101');
    expect(scope.isDone()).toBe(true);
  });

  it('debug-pod list marks pods past their --ttl as EXPIRED', async () => {
    const detached = (name: string, at: string, ttl?: string) => ({
      metadata: {
        name,
        namespace: 'ml',
        labels: { 'mlops.kubectl.io/debug': 'true' },
        annotations: {
          'mlops.kubectl.io/detached-from': 'ReplicaSet/web-1',
          'mlops.kubectl.io/detached-from-owner': 'Deployment/web',
          'mlops.kubectl.io/detached-at': at,
          ...(ttl ? { 'mlops.kubectl.io/ttl': ttl } : {}),
        },
      },
      spec: { nodeName: 'n1', containers: [{ name: 'app', resources: { limits: { 'nvidia.com/gpu': '2' } } }] },
      status: { phase: 'Running', containerStatuses: [{ name: 'app', restartCount: 3, state: { running: {} } }] },
    });
    nock(TEST_SERVER)
      .get('/api/v1/namespaces/ml/pods')
      .query({ limit: '500' })
      .reply(200, {
        items: [detached('old', '2026-11-26T08:00:00Z', '2h'), detached('fresh', '2026-11-26T11:30:00Z', '2h'), detached('forever', '2026-11-26T11:00:00Z')],
        metadata: { resourceVersion: '9' },
      })
      .get('/apis/apps/v1/namespaces/ml/replicasets')
      .query(true)
      .reply(200, { items: [], metadata: { resourceVersion: '9' } });
    const r = await runCli(['debug-pod', 'list', '--kubeconfig', cluster()], { now: new Date('2026-11-26T12:00:00Z') });
    expect(r.err).toBe('');
    expect(r.out).toBe(
      [
        'NAME      DETACHED-FROM    AGE   NODE   STATUS    RESTARTS   GPUS   TTL',
        'forever   deployment/web   60m   n1     Running   3          2      <none>',
        'fresh     deployment/web   30m   n1     Running   3          2      90m left',
        'old       deployment/web   4h    n1     Running   3          2      EXPIRED',
        '',
      ].join('\n'),
    );
  });

  it('debug-pod done: POD and --expired together is a usage error', async () => {
    const both = await runCli(['debug-pod', 'done', 'x', '--expired', '--kubeconfig', cluster()]);
    expect(both).toMatchObject({ code: 2, err: 'error: give a POD or --expired, not both\n' });
  });
});
