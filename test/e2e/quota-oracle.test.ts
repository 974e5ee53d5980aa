// The API server's quota admission is the oracle for debug-pod's "no replacement possible"
// check (issue 14: debug-pod detached the last Ready pod under a full ResourceQuota; scoped
// quotas and init containers were not counted). Each ResourceQuota sits alone in its own
// namespace; each candidate pod is created there with dryRun=All, so the real admission
// decides, and quotaRefusal (what debug-pod checks before it writes) must agree with it.
import { describe, expect, it } from 'vitest';
import { adminKube, deployment, freshNamespace, mlops, until, waitReady } from './helpers.js';
import { expectOneLineError } from './safety.js';
import { R, pathOf } from '../../src/kube/resources.js';
import { ApiError } from '../../src/errors.js';
import { quotaRefusal, RESOURCE_QUOTAS, type ResourceQuota } from '../../src/workloads/detach.js';
import type { Pod, ReplicaSet } from '../../src/kube/types.js';

const PC = `mlops-quota-oracle-${process.pid}`;
const PRIORITY_CLASSES = { kind: 'PriorityClass', group: 'scheduling.k8s.io', version: 'v1', plural: 'priorityclasses', namespaced: false, aliases: [] };

const container = (name: string, resources?: object) => ({ name, image: 'registry.local/my-app:1.0', resources });
const CANDIDATES: Record<string, Pod['spec']> = {
  'best-effort': { containers: [container('app')] },
  burstable: { containers: [container('app', { requests: { cpu: '100m', memory: '64Mi' } })] },
  guaranteed: { containers: [container('app', { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '100m', memory: '64Mi' } })] },
  terminating: { activeDeadlineSeconds: 600, containers: [container('app', { requests: { cpu: '100m' } })] },
  'priority-class': { priorityClassName: PC, containers: [container('app')] },
  'cross-namespace-affinity': {
    containers: [container('app')],
    affinity: {
      podAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 1, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', namespaces: ['other'], labelSelector: { matchLabels: { a: 'b' } } } },
        ],
      },
    },
  },
  'heavy-init-container': {
    initContainers: [container('warmup', { requests: { cpu: '2', 'nvidia.com/gpu': '2' }, limits: { 'nvidia.com/gpu': '2' } })],
    containers: [container('app', { requests: { cpu: '500m', 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '1' } })],
  },
  'gpu-sidecar': {
    initContainers: [{ ...container('proxy', { requests: { 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '1' } }), restartPolicy: 'Always' }],
    containers: [container('app', { requests: { cpu: '100m', 'nvidia.com/gpu': '1' }, limits: { 'nvidia.com/gpu': '1' } })],
  },
};

type Spec = NonNullable<ResourceQuota['spec']>;
const full: Spec['hard'] = { pods: '0' };
const QUOTA_SPECS: Record<string, Spec> = {
  BestEffort: { hard: full, scopes: ['BestEffort'] },
  NotBestEffort: { hard: full, scopes: ['NotBestEffort'] },
  Terminating: { hard: full, scopes: ['Terminating'] },
  NotTerminating: { hard: full, scopes: ['NotTerminating'] },
  'NotBestEffort+NotTerminating': { hard: full, scopes: ['NotBestEffort', 'NotTerminating'] },
  'PriorityClass In': { hard: full, scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: [PC] }] } },
  'PriorityClass NotIn': { hard: full, scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'NotIn', values: [PC] }] } },
  'PriorityClass Exists': { hard: full, scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'Exists' }] } },
  'PriorityClass DoesNotExist': { hard: full, scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'DoesNotExist' }] } },
  CrossNamespacePodAffinity: { hard: full, scopes: ['CrossNamespacePodAffinity'] },
  'cpu and GPUs (unscoped)': { hard: { 'requests.cpu': '1500m', 'requests.nvidia.com/gpu': '2' } },
  'GPUs only (unscoped)': { hard: { 'requests.nvidia.com/gpu': '1' } },
  'limits.memory (unscoped)': { hard: { 'limits.memory': '1Gi' } },
};

describe.concurrent('ResourceQuota: quotaRefusal agrees with the API server’s quota admission', () => {
  it.each(Object.entries(QUOTA_SPECS))('%s', async (label, spec) => {
    const kube = adminKube();
    await kube
      .create(pathOf(PRIORITY_CLASSES), {
        apiVersion: 'scheduling.k8s.io/v1',
        kind: 'PriorityClass',
        metadata: { name: PC },
        value: 1000,
      })
      .catch((e: unknown) => {
        if (!(e instanceof ApiError && e.status === 409)) throw e;
      });
    const ns = await freshNamespace(kube, 'quota-oracle');
    const path = pathOf(RESOURCE_QUOTAS, { namespace: ns });
    await kube.create(path, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' }, spec });
    // quotaRefusal reads status (hard, used), which the quota controller fills in.
    const quota = await until(
      async () => {
        const q = await kube.get<ResourceQuota>(`${path}/q`);
        return q.status?.hard ? q : undefined;
      },
      30_000,
      `resourcequota q in ${ns} counted`,
    );
    const verdicts = await Promise.all(
      Object.entries(CANDIDATES).map(async ([name, podSpec]) => {
        const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec: podSpec };
        const server = await kube.create(pathOf(R.pods, { namespace: ns }), pod, { dryRun: 'server' }).then(
          () => 'admitted',
          (e: unknown) => {
            if (e instanceof ApiError && e.status === 403 && /(exceeded|failed) quota: q\b/.test(e.message)) return 'refused';
            throw e;
          },
        );
        return { name, server, ours: quotaRefusal(pod, quota) ? 'refused' : 'admitted' };
      }),
    );
    expect(
      verdicts.map((v) => `${v.name}: ${v.ours}`),
      label,
    ).toEqual(verdicts.map((v) => `${v.name}: ${v.server}`));
    // The case table is not trivial: every quota refuses some candidate and admits another.
    expect(new Set(verdicts.map((v) => v.server)).size, label).toBe(2);
  });
});

describe('debug-pod judges the replacement by the ReplicaSet template, not by the pod', () => {
  it('a pod that got its cpu request from a LimitRange since deleted: the replacement would be refused, so debug-pod refuses before writing', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'quota-template');
    const limitRanges = { kind: 'LimitRange', group: '', version: 'v1', plural: 'limitranges', namespaced: true, aliases: [] };
    await kube.create(pathOf(limitRanges, { namespace: ns }), {
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: { name: 'defaults' },
      spec: { limits: [{ type: 'Container', defaultRequest: { cpu: '50m' } }] },
    });
    const d = deployment('web', { replicas: 1 });
    delete (d.spec.template.spec.containers[0] as { resources?: unknown }).resources;
    await kube.create(pathOf(R.deployments, { namespace: ns }), d);
    const [pod] = await waitReady(kube, ns, 'app=web', 1);
    await kube.delete(pathOf(limitRanges, { namespace: ns, name: 'defaults' }));
    await kube.create(pathOf(RESOURCE_QUOTAS, { namespace: ns }), { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'cpu' }, spec: { hard: { 'requests.cpu': '10' } } });
    await until(async () => (await kube.get<ResourceQuota>(pathOf(RESOURCE_QUOTAS, { namespace: ns, name: 'cpu' }))).status?.hard, 30_000, 'quota counted');
    // The oracle: the API server refuses a pod made from the template.
    const rs = (await kube.list<ReplicaSet>(pathOf(R.replicasets, { namespace: ns }))).items[0]!;
    const fromTemplate = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'probe' }, spec: rs.spec!.template!.spec };
    await expect(kube.create(pathOf(R.pods, { namespace: ns }), fromTemplate, { dryRun: 'server' })).rejects.toThrow(/must specify requests\.cpu/);

    const name = pod!.metadata!.name!;
    const r = await mlops(['debug-pod', name, '-n', ns]);
    expectOneLineError(r, 1, /resourcequota\/cpu would refuse it \(must specify requests\.cpu for: app\)/);
    const after = await kube.get<Pod>(pathOf(R.pods, { namespace: ns, name }));
    expect(after.metadata!.labels).toEqual(pod!.metadata!.labels);
  });
});
