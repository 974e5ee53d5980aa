// Pure rules of debug-pod that decide before any write: can a replacement be created (quota,
// replicas, ReplicaFailure), which pods were relabelled by hand, and how a detach is undone.
import { describe, expect, it } from 'vitest';
import { detachedLabels, quotaRefusal, quotaUsage, relabelArgs, relabelledFrom, replacementBlockers, type Controller, type ResourceQuota } from '../../src/workloads/detach.js';
import type { Pod, ReplicaSet } from '../../src/kube/types.js';

const pod = (name: string, labels: Record<string, string>, resources?: object, controlled = false): Pod => ({
  metadata: {
    name,
    namespace: 'ml',
    labels,
    ownerReferences: controlled ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d9c7b8f4', uid: 'rs-uid', controller: true }] : undefined,
  },
  spec: { containers: [{ name: 'app', image: 'x', resources }] },
});

const rsCtl: Controller = { kind: 'ReplicaSet', name: 'web-5d9c7b8f4', uid: 'rs-uid', replicas: 3, selector: { matchLabels: { app: 'web', 'pod-template-hash': '5d9c7b8f4' } } };

const quota = (name: string, hard: Record<string, string>, used: Record<string, string>, scoped = false): ResourceQuota => ({
  metadata: { name },
  spec: { hard, scopes: scoped ? ['BestEffort'] : undefined },
  status: { hard, used },
});

describe('quotaUsage', () => {
  it('counts one pod, its requests (defaulted from limits) and its limits under every quota key (extended resources as requests only)', () => {
    const p = pod('p', {}, { requests: { cpu: '100m' }, limits: { cpu: '500m', memory: '64Mi', 'nvidia.com/gpu': '1' } });
    expect(quotaUsage(p)).toEqual({
      pods: 1,
      'count/pods': 1,
      'requests.cpu': 0.1,
      cpu: 0.1,
      'requests.memory': 64 * 1024 ** 2,
      memory: 64 * 1024 ** 2,
      'requests.nvidia.com/gpu': 1,
      'limits.cpu': 0.5,
      'limits.memory': 64 * 1024 ** 2,
    });
  });
});

describe('quotaRefusal', () => {
  const p = pod('p', {}, { requests: { cpu: '100m', memory: '64Mi' } });
  it.each([
    ['pod count at the limit', { pods: '3' }, { pods: '3' }, 'resourcequota/q would refuse it (pods: 3/3 used, a replacement needs 1)'],
    ['count/pods at the limit', { 'count/pods': '2' }, { 'count/pods': '2' }, 'count/pods: 2/2 used'],
    ['cpu requests short', { 'requests.cpu': '1' }, { 'requests.cpu': '950m' }, 'requests.cpu: 950m/1 used, a replacement needs 100m'],
    ['memory short', { 'requests.memory': '256Mi' }, { 'requests.memory': '200Mi' }, 'requests.memory: 200Mi/256Mi used, a replacement needs 64Mi'],
    ['a quota on a resource the pod does not ask for', { 'requests.nvidia.com/gpu': '0' }, {}, undefined],
  ])('%s', (_, hard, used, text) => {
    const r = quotaRefusal(p, quota('q', hard, used));
    if (text) expect(r).toContain(text);
    else expect(r).toBeUndefined();
  });
  it('leaves room exactly at the limit', () => expect(quotaRefusal(p, quota('q', { pods: '4', 'requests.cpu': '1' }, { pods: '3', 'requests.cpu': '900m' }))).toBeUndefined());
  it('a scoped quota counts only the pods its scopes take in', () => expect(quotaRefusal(p, quota('q', { pods: '1' }, { pods: '1' }, true))).toBeUndefined());
  it('a quota the controller has not counted yet (no used) counts from zero', () => expect(quotaRefusal(p, quota('q', { pods: '1' }, {}))).toBeUndefined());
});

describe('replacementBlockers', () => {
  const p = pod('p', { app: 'web' });
  it('none for a healthy ReplicaSet without quota', () => expect(replacementBlockers(p, rsCtl, [])).toEqual([]));
  it('a ReplicaSet at 0, a Deployment at 0, a ReplicaFailure and a quota, each named', () => {
    const c: Controller = {
      ...rsCtl,
      replicas: 0,
      owner: { kind: 'Deployment', name: 'web', selector: {}, replicas: 0 },
      failure: { reason: 'FailedCreate', message: 'pods "web-x" is forbidden: exceeded quota: q', at: '2026-11-26T10:00:00Z' },
    };
    expect(replacementBlockers(p, c, [quota('q', { pods: '3' }, { pods: '3' })])).toEqual([
      'replicaset/web-5d9c7b8f4 is at 0 replicas, so it creates no replacement',
      'deployment/web is scaled to 0, so replicaset/web-5d9c7b8f4 keeps no replacement',
      'replicaset/web-5d9c7b8f4 already fails to create pods (FailedCreate: pods "web-x" is forbidden: exceeded quota: q)',
      'resourcequota/q would refuse it (pods: 3/3 used, a replacement needs 1)',
    ]);
  });
  it('a paused Deployment does not block: its ReplicaSet still replaces pods', () => {
    expect(replacementBlockers(p, { ...rsCtl, owner: { kind: 'Deployment', name: 'web', selector: {}, replicas: 3, paused: true } }, [])).toEqual([]);
  });
});

describe('relabelledFrom (kubectl label pod X app=to-be-fixed --overwrite)', () => {
  const rs: ReplicaSet = {
    metadata: { name: 'web-5d9c7b8f4', namespace: 'ml', uid: 'rs-uid' },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web', 'pod-template-hash': '5d9c7b8f4' } }, template: {} },
  };
  it.each([
    ['keeps the pod-template-hash', pod('other-name', { app: 'to-be-fixed', 'pod-template-hash': '5d9c7b8f4' }), true],
    ['hash removed, but named after the ReplicaSet', pod('web-5d9c7b8f4-x7k2p', { app: 'to-be-fixed' }), true],
    ['still matches the selector (an orphan about to be adopted)', pod('web-5d9c7b8f4-x7k2p', { app: 'web', 'pod-template-hash': '5d9c7b8f4' }), false],
    ['a bare pod of its own', pod('scratch', { app: 'scratch' }), false],
    ['a pod still controlled', pod('web-5d9c7b8f4-x7k2p', { app: 'to-be-fixed' }, undefined, true), false],
    ['detached by debug-pod (it has its own ledger)', pod('web-5d9c7b8f4-x7k2p', { app: 'web-debug', 'mlops.kubectl.io/debug': 'true' }), false],
    ['a name that only starts like the ReplicaSet', pod('web-5d9c7b8f4-extra-long', { app: 'x' }), false],
  ])('%s', (_, p, found) => expect(relabelledFrom(p, [rs])?.metadata?.name).toBe(found ? 'web-5d9c7b8f4' : undefined));
});

describe('undo and messages', () => {
  it('relabelArgs puts back changed values and removes added keys', () => {
    expect(
      relabelArgs([
        { key: 'app', from: 'web', to: 'web-debug' },
        { key: 'mlops.kubectl.io/debug', from: undefined, to: 'true' },
      ]),
    ).toBe('app=web mlops.kubectl.io/debug-');
  });
  it('detachedLabels names the selector keys the pod left', () => {
    expect(detachedLabels(pod('p', { app: 'to-be-fixed', 'pod-template-hash': '5d9c7b8f4' }), rsCtl)).toBe('app=to-be-fixed');
  });
});
