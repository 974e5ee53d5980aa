// debug-pod list reads every pod and ReplicaSet page by page and keeps only the answer
// (findDetached). nock orders the answers so the ReplicaSets arrive after the last pod page:
// pods without a controller wait for them, the rest is dropped as it arrives.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import nock from 'nock';
import { resolveConfig } from '../../src/kube/config.js';
import { Kube } from '../../src/kube/client.js';
import { findDetached } from '../../src/workloads/detach.js';
import type { Pod, ReplicaSet } from '../../src/kube/types.js';
import { TEST_SERVER, tempDir, writeKubeconfig } from '../helpers.js';

function kube() {
  const config = resolveConfig({ kubeconfig: writeKubeconfig(tempDir()) }, {});
  return new Kube({ auth: config.auth, server: config.server, sleep: async () => undefined, pageSize: 2 });
}

const pod = (name: string, labels: Record<string, string>, opts: { rs?: string; deleting?: boolean } = {}): Pod => ({
  metadata: {
    name,
    namespace: 'ml',
    labels,
    ...(opts.deleting ? { deletionTimestamp: '2026-11-27T00:00:00Z' } : {}),
    ownerReferences: opts.rs ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: opts.rs, uid: 'rs-uid', controller: true }] : [],
  },
  spec: { containers: [{ name: 'app', image: 'x' }] },
});
const rs: ReplicaSet = {
  metadata: {
    name: 'web-5d8f',
    namespace: 'ml',
    uid: 'rs-uid',
    labels: { app: 'web', 'pod-template-hash': '5d8f' },
    annotations: { 'deployment.kubernetes.io/revision': '3' },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true }],
  },
  spec: { replicas: 2, selector: { matchLabels: { app: 'web', 'pod-template-hash': '5d8f' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [] } } },
};
const list = (items: unknown[], cont?: string) => ({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: '7', continue: cont }, items });

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('findDetached, streaming', () => {
  const detached = pod('web-5d8f-aaaaa', { app: 'web-debug', 'mlops.kubectl.io/debug': 'true', 'pod-template-hash': '5d8f' });
  const byHand = pod('web-5d8f-bbbbb', { app: 'to-be-fixed', 'pod-template-hash': '5d8f' });
  const controlled = pod('web-5d8f-ccccc', { app: 'web', 'pod-template-hash': '5d8f' }, { rs: 'web-5d8f' });
  const deleting = pod('web-5d8f-ddddd', { app: 'gone', 'pod-template-hash': '5d8f' }, { deleting: true });
  const bare = pod('scratch', { app: 'scratch' });

  function serve(replicaSets: { status: number; body: unknown }) {
    let lastPodPage!: () => void;
    const podsRead = new Promise<void>((r) => (lastPodPage = r));
    const scope = nock(TEST_SERVER)
      .get('/api/v1/pods')
      .query({ limit: '2' })
      .reply(200, list([detached, controlled], 't1'))
      .get('/api/v1/pods')
      .query({ limit: '2', continue: 't1' })
      .reply(200, list([byHand, deleting], 't2'))
      .get('/api/v1/pods')
      .query({ limit: '2', continue: 't2' })
      .reply(200, () => (lastPodPage(), list([bare])))
      // The ReplicaSets answer only once every pod page has been asked for.
      .get('/apis/apps/v1/replicasets')
      .query({ limit: '2' })
      .reply(async () => {
        await podsRead;
        return [replicaSets.status, replicaSets.body];
      });
    return scope;
  }

  it('keeps detached pods whole and finds the one relabelled by hand once the ReplicaSets arrive', async () => {
    const scope = serve({ status: 200, body: list([rs]) });
    const found = await findDetached(kube(), undefined);
    expect(scope.isDone()).toBe(true);
    expect(found.replicaSetsHidden).toBe(false);
    expect(found.items.map((p) => p.metadata?.name).sort()).toEqual(['web-5d8f-aaaaa', 'web-5d8f-bbbbb']);
    // Printed with -o json: the pod as the server sent it, not a reduction.
    expect(found.items.find((p) => p.metadata?.name === 'web-5d8f-aaaaa')).toEqual(detached);
    // The ReplicaSet kept is what DETACHED-FROM and REPLICASET read: name, selector, its Deployment.
    expect(found.byHand.get('ml/web-5d8f-bbbbb')).toEqual({
      metadata: { name: 'web-5d8f', namespace: 'ml', labels: { 'pod-template-hash': '5d8f' }, ownerReferences: [rs.metadata!.ownerReferences![0]] },
      spec: { selector: rs.spec!.selector },
    });
    expect([...found.byHand.keys()]).toEqual(['ml/web-5d8f-bbbbb']);
  });

  it('without list replicasets (403): only the pods detached by debug-pod, and says so', async () => {
    const scope = serve({
      status: 403,
      body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message: 'replicasets.apps is forbidden' },
    });
    const found = await findDetached(kube(), undefined);
    expect(scope.isDone()).toBe(true);
    expect(found.replicaSetsHidden).toBe(true);
    expect(found.items.map((p) => p.metadata?.name)).toEqual(['web-5d8f-aaaaa']);
    expect(found.byHand.size).toBe(0);
  });
});
