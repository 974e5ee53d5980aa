// `storage reclaim` where the real control plane cannot be made to misbehave: a volume
// controller that never marks the volume Available (the timeout names the real state and the
// journal what was written), and a Delete-policy volume the local controller deletes too fast
// to catch Released.
import { describe, expect, it } from 'vitest';
import nock from 'nock';
import { MemStream, runCli, TEST_SERVER, useNockCluster } from '../helpers.js';
import { run } from '../../src/cli.js';
import { connect } from '../../src/kube/connect.js';
import { Journal } from '../../src/commands/flow.js';
import type { Deps } from '../../src/deps.js';

const released = (policy = 'Retain', claimRef: object | null = { kind: 'PersistentVolumeClaim', namespace: 'ml', name: 'gone', uid: 'u-1' }) => ({
  metadata: { name: 'pv1', resourceVersion: '10' },
  spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: policy, ...(claimRef ? { claimRef } : {}) },
  status: { phase: 'Released' },
});

function allowEverything(scope: nock.Scope): nock.Scope {
  return scope
    .post('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews')
    .query(true)
    .times(5)
    .reply(201, { status: { allowed: true } });
}

describe('storage reclaim', () => {
  const cluster = useNockCluster();

  it('a controller that never marks it Available: exit 4, the state as it is, and what was written', async () => {
    const scope = allowEverything(nock(TEST_SERVER).get('/api/v1/persistentvolumes/pv1').reply(200, released()))
      .get('/api/v1/namespaces/ml/persistentvolumeclaims/gone')
      .reply(404, { kind: 'Status', reason: 'NotFound', code: 404, message: 'persistentvolumeclaims "gone" not found' })
      .patch(
        '/api/v1/persistentvolumes/pv1',
        (b: { spec: { claimRef: null }; metadata: { resourceVersion: string } }) => b.spec.claimRef === null && b.metadata.resourceVersion === '10',
      )
      .query(true)
      .reply(200, released('Retain', null))
      .get('/api/v1/persistentvolumes')
      .query((q) => q.fieldSelector === 'metadata.name=pv1' && !q.watch)
      .reply(200, { items: [released('Retain', null)], metadata: { resourceVersion: '11' } })
      .get('/api/v1/persistentvolumes')
      .query((q) => q.watch === '1')
      .delay(5000)
      .reply(200, '');
    const r = await runCli(['storage', 'reclaim', 'pv1', '--yes', '--timeout', '1s', '--kubeconfig', cluster()]);
    expect(r.code).toBe(4);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      'error: persistentvolume/pv1 is Released with its claimRef cleared: the volume controller has not marked it Available within 1s\n' +
        'What this command did before it stopped:\n' +
        '  written:      persistentvolume/pv1: claimRef to ml/gone removed\n' +
        '  not verified: persistentvolume/pv1 Available\n' +
        '  to resume:    kubectl mlops storage reclaim pv1 --yes\n' +
        '  to undo:      kubectl patch pv pv1 --type json -p \'[{"op":"add","path":"/spec/claimRef","value":{"kind":"PersistentVolumeClaim","namespace":"ml","name":"gone","uid":"u-1"}}]\'\n',
    );
    expect(scope.pendingMocks().filter((m) => !m.includes('watch'))).toEqual([]);
  });

  it.each([
    ['Delete', 'deletes'],
    ['Recycle', 'recycles'],
  ])('a Released volume with reclaim policy %s is refused before any write', async (policy, verb) => {
    allowEverything(nock(TEST_SERVER).get('/api/v1/persistentvolumes/pv1').reply(200, released(policy)));
    const r = await runCli(['storage', 'reclaim', 'pv1', '--yes', '--kubeconfig', cluster()]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`error: persistentvolume/pv1 has reclaim policy ${policy}: the volume controller ${verb} it; only a Retain volume can be reclaimed\n`);
  });
});

describe('storage reclaim interrupted', () => {
  const cluster = useNockCluster();

  it('Ctrl-C during the wait: exit 130, names the wait, and the journal says what was written', async () => {
    allowEverything(nock(TEST_SERVER).get('/api/v1/persistentvolumes/pv1').reply(200, released()))
      .get('/api/v1/namespaces/ml/persistentvolumeclaims/gone')
      .reply(404, { kind: 'Status', reason: 'NotFound', code: 404, message: 'persistentvolumeclaims "gone" not found' })
      .patch('/api/v1/persistentvolumes/pv1')
      .query(true)
      .reply(200, released('Retain', null))
      .get('/api/v1/persistentvolumes')
      .query((q) => !q.watch)
      .reply(200, { items: [released('Retain', null)], metadata: { resourceVersion: '11' } })
      .get('/api/v1/persistentvolumes')
      .query((q) => q.watch === '1')
      .delay(5000)
      .reply(200, '');
    const controller = new AbortController();
    const err = new MemStream();
    const deps: Deps = {
      out: new MemStream(),
      err,
      env: {},
      now: () => new Date(),
      stdinIsTTY: false,
      confirm: () => Promise.resolve(false),
      connect: (flags) =>
        connect(
          flags,
          {},
          (l) => err.write(l + '\n'),
          () => Promise.resolve(),
        ),
      sleep: () => Promise.resolve(),
      signal: controller.signal,
      journal: new Journal(),
      version: '0',
    };
    const running = run(['storage', 'reclaim', 'pv1', '--yes', '-v', '--kubeconfig', cluster()], deps);
    // Interrupt once the watch is open (-v logs each request as it completes; the list precedes the watch).
    await until(() => /GET \/api\/v1\/persistentvolumes\?(?!\S*watch)\S*metadata\.name=pv1\S* 200/.test(err.text));
    controller.abort();
    expect(await running).toBe(130);
    const lines = err.text.split('\n').filter((l) => !/^(GET|POST|PATCH) /.test(l));
    expect(lines.join('\n')).toBe(
      'error: interrupted while waiting for the volume controller to mark persistentvolume/pv1 Available\n' +
        'What this command did before it stopped:\n' +
        '  written:      persistentvolume/pv1: claimRef to ml/gone removed\n' +
        '  not verified: persistentvolume/pv1 Available\n' +
        '  to resume:    kubectl mlops storage reclaim pv1 --yes\n' +
        '  to undo:      kubectl patch pv pv1 --type json -p \'[{"op":"add","path":"/spec/claimRef","value":{"kind":"PersistentVolumeClaim","namespace":"ml","name":"gone","uid":"u-1"}}]\'\n',
    );
  });
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error('condition not reached');
}
