import { describe, expect, it } from 'vitest';
import nock from 'nock';
import type { KEvent, Node, Pod } from '../../src/kube/types.js';
import { buildReport, type Inventory, type Scope } from '../../src/gpus/model.js';
import { draDevices, type ResourceClaim, type ResourceSlice } from '../../src/gpus/dra.js';
import { effectiveRequests, extendedResources, freeOnNodes } from '../../src/workloads/pods.js';
import { wasteOf, wasteText, waitingReason } from '../../src/gpus/pods.js';
import { fit } from '../../src/gpus/fit.js';
import { runCli, TEST_SERVER, useNockCluster } from '../helpers.js';

const NOW = new Date('2026-11-26T12:00:00Z');
const scope = (s: Partial<Scope> = {}): Scope => ({ now: NOW, notReadyAfterMs: 10 * 60_000, extra: [], ...s });

const node = (
  name: string,
  alloc: Record<string, string>,
  opts: { labels?: Record<string, string>; ready?: boolean; unschedulable?: boolean; taints?: { key: string; value?: string; effect: string }[] } = {},
): Node => ({
  metadata: { name, labels: opts.labels ?? {} },
  spec: { unschedulable: opts.unschedulable, taints: opts.taints },
  status: { capacity: { cpu: '8', ...alloc }, allocatable: { cpu: '8', ...alloc }, conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
});

const pod = (
  name: string,
  o: {
    ns?: string;
    node?: string;
    gpus?: Record<string, string>;
    phase?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ready?: boolean;
    readySince?: string;
    waiting?: string;
    owner?: { kind: string; name: string };
    extra?: Partial<Pod['spec']>;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  } = {},
): Pod => ({
  metadata: {
    name,
    namespace: o.ns ?? 'ml',
    uid: `uid-${name}`,
    creationTimestamp: '2026-11-26T11:00:00Z',
    labels: o.labels,
    annotations: o.annotations,
    ownerReferences: o.owner ? [{ apiVersion: 'x', kind: o.owner.kind, name: o.owner.name, uid: 'o', controller: true }] : undefined,
  },
  spec: { nodeName: o.node, containers: [{ name: 'app', image: 'x', resources: o.gpus ? { limits: o.gpus } : {} }], ...o.extra },
  status: {
    phase: o.phase ?? (o.node ? 'Running' : 'Pending'),
    conditions: o.conditions ?? (o.node ? [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: o.readySince ?? '2026-11-26T11:00:00Z' }] : []),
    containerStatuses: o.waiting ? [{ name: 'app', image: 'x', imageID: '', ready: false, restartCount: 7, state: { waiting: { reason: o.waiting } } }] : undefined,
  },
});

const inv = (i: Partial<Inventory>): Inventory => ({ nodes: [], pods: [], podsCluster: true, events: [], slices: [], claims: [], ...i });

describe('effectiveRequests (the rule of kubectl describe node and the scheduler)', () => {
  it.each([
    ['containers add up', { containers: [{ r: '1' }, { r: '2' }] }, 3],
    ['an init container larger than the app wins', { containers: [{ r: '1' }], init: [{ r: '4' }] }, 4],
    ['a smaller init container does not count', { containers: [{ r: '3' }], init: [{ r: '1' }] }, 3],
    ['sidecars add to the app', { containers: [{ r: '1' }], init: [{ r: '1', always: true }] }, 2],
    ['an init container after a sidecar runs beside it', { containers: [{ r: '1' }], init: [{ r: '1', always: true }, { r: '3' }] }, 4],
    ['overhead is added', { containers: [{ r: '1' }], overhead: '1' }, 2],
  ])('%s', (_, spec, want) => {
    const c = (x: { r: string; always?: boolean }, i: number) => ({
      name: `c${i}`,
      image: 'x',
      restartPolicy: x.always ? 'Always' : undefined,
      resources: { limits: { 'nvidia.com/gpu': x.r } },
    });
    const p: Pod = {
      spec: {
        containers: spec.containers.map(c),
        initContainers: (spec as { init?: { r: string; always?: boolean }[] }).init?.map(c),
        overhead: (spec as { overhead?: string }).overhead ? { 'nvidia.com/gpu': (spec as { overhead?: string }).overhead! } : undefined,
      },
    };
    expect(effectiveRequests(p)['nvidia.com/gpu']).toBe(want);
  });

  it('debug-pod, rollback and scale-to-zero count a pod the same way (extendedResources, freeOnNodes)', () => {
    const gpu = (n: string) => ({ resources: { limits: { 'nvidia.com/gpu': n } } });
    const p: Pod = {
      spec: {
        nodeName: 'n1',
        containers: [{ name: 'app', image: 'x', ...gpu('1') }],
        initContainers: [
          { name: 'warmup', image: 'x', ...gpu('3') },
          { name: 'sidecar', image: 'x', restartPolicy: 'Always', ...gpu('1') },
        ],
      },
    };
    expect(extendedResources(p)).toEqual({ 'nvidia.com/gpu': 3 });
    const node: Node = { metadata: { name: 'n1' }, status: { allocatable: { 'nvidia.com/gpu': '8' } } };
    expect(freeOnNodes('nvidia.com/gpu', [node], [p])).toEqual([{ node: 'n1', free: 5, allocatable: 8 }]);
  });

  it('requests win over limits when both are set', () => {
    expect(effectiveRequests({ spec: { containers: [{ name: 'a', resources: { requests: { cpu: '250m' }, limits: { cpu: '1' } } }] } }).cpu).toBe(0.25);
  });
});

describe('wasteOf and wasteText', () => {
  const detached = (ttl?: string) =>
    pod('d', {
      node: 'n1',
      gpus: { 'nvidia.com/gpu': '1' },
      labels: { 'mlops.kubectl.io/debug': 'true' },
      annotations: { 'mlops.kubectl.io/detached-at': '2026-11-26T11:30:00Z', ...(ttl ? { 'mlops.kubectl.io/ttl': ttl } : {}) },
    });

  it('a detached pod without --ttl, within it, and past it', () => {
    const no = wasteOf(detached(), NOW, 600_000)!;
    expect(no).toEqual({ reason: 'detached', since: '2026-11-26T11:30:00Z', ttl: null, message: 'detached by debug-pod (no --ttl)' });
    expect(wasteText(no, NOW)).toBe('detached by debug-pod 30m ago; no --ttl');
    const within = wasteOf(detached('1h'), NOW, 600_000)!;
    expect(within.reason).toBe('detached');
    expect(wasteText(within, NOW)).toBe('detached by debug-pod 30m ago; --ttl 1h, 30m left');
    const past = wasteOf(detached('10m'), NOW, 600_000)!;
    expect(past).toEqual({ reason: 'ttl-expired', since: '2026-11-26T11:30:00Z', ttl: '10m', message: 'detached by debug-pod; its --ttl 10m ran out' });
    expect(wasteText(past, NOW)).toBe('detached by debug-pod 30m ago; its --ttl 10m ran out 20m ago');
  });

  it('a bad --ttl in the ledger is read as no expiry, not as an error', () => {
    expect(wasteOf(detached('soon'), NOW, 600_000)!.reason).toBe('detached');
  });

  it('CrashLoopBackOff, and not Ready only past the threshold', () => {
    expect(wasteOf(pod('c', { node: 'n1', ready: false, waiting: 'CrashLoopBackOff' }), NOW, 600_000)).toMatchObject({
      reason: 'crash-loop',
      message: 'CrashLoopBackOff (7 restarts)',
    });
    const stale = pod('s', { node: 'n1', ready: false, readySince: '2026-11-26T11:45:00Z', waiting: 'ImagePullBackOff' });
    expect(wasteOf(stale, NOW, 20 * 60_000)).toBeNull();
    const w = wasteOf(stale, NOW, 10 * 60_000)!;
    expect(w).toEqual({ reason: 'not-ready', since: '2026-11-26T11:45:00Z', ttl: null, message: 'not Ready (ImagePullBackOff)' });
    expect(wasteText(w, NOW)).toBe('not Ready (ImagePullBackOff) for 15m');
    expect(wasteOf(pod('ok', { node: 'n1' }), NOW, 0)).toBeNull();
  });
});

describe('waitingReason', () => {
  const ev = (message: string, t: { lastTimestamp?: string; series?: string }, name = 'w'): KEvent =>
    ({
      metadata: { name: `${name}.${message.length}` },
      involvedObject: { kind: 'Pod', name, namespace: 'ml', uid: `uid-${name}` },
      reason: 'FailedScheduling',
      message,
      lastTimestamp: t.lastTimestamp,
      series: t.series ? { count: 2, lastObservedTime: t.series } : undefined,
    }) as KEvent;

  it('prefers the PodScheduled message, names scheduling gates, falls back to the latest event', () => {
    expect(
      waitingReason(
        pod('w', { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/2 nodes are available: 2 Insufficient nvidia.com/gpu.' }] }),
        [],
      ),
    ).toBe('0/2 nodes are available: 2 Insufficient nvidia.com/gpu.');
    expect(
      waitingReason(
        pod('w', { extra: { schedulingGates: [{ name: 'a' }, { name: 'b' }] }, conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] }),
        [],
      ),
    ).toBe('scheduling gated by a, b');
    const events = [
      ev('older', { lastTimestamp: '2026-11-26T11:00:00Z' }),
      ev('newest', { series: '2026-11-26T11:59:00Z' }),
      ev('middle', { lastTimestamp: '2026-11-26T11:30:00Z' }),
      ev('other pod', { lastTimestamp: '2026-11-26T11:59:59Z' }, 'x'),
    ];
    expect(waitingReason(pod('w'), events)).toBe('newest');
    // events.k8s.io-style eventTime with microseconds, compared as a time, not as text.
    const micro = { ...ev('micro', {}), eventTime: '2026-11-26T11:59:00.500000Z' } as KEvent;
    expect(waitingReason(pod('w'), [...events, micro])).toBe('micro');
    expect(waitingReason(pod('w', { extra: { schedulerName: 'volcano' } }), [])).toBe('no message from scheduler "volcano" (spec.schedulerName); is it running?');
    expect(waitingReason(pod('w'), [])).toBe('not scheduled yet (no scheduler message)');
  });
});

describe('DRA devices', () => {
  const slice = (driver: string, pool: string, generation: number, devices: string[], nodeName?: string, perDevice?: string): ResourceSlice => ({
    spec: { driver, nodeName, pool: { name: pool, generation }, devices: devices.map((name) => ({ name, nodeName: perDevice })) },
  });

  it('keeps only the newest generation of a pool, and only GPU drivers unless --resource names one', () => {
    const d = draDevices(
      [
        slice('gpu.nvidia.com', 'p', 1, ['old-0'], 'n1'),
        slice('gpu.nvidia.com', 'p', 2, ['gpu-0', 'gpu-1'], 'n1'),
        slice('net.example.com', 'q', 1, ['nic-0'], 'n1'),
        slice('gpu.x.com', 'r', 1, ['g'], undefined, 'n2'),
      ],
      [],
    );
    expect([...d.entries()]).toEqual([
      ['gpu.nvidia.com/p/gpu-0', { driver: 'gpu.nvidia.com', node: 'n1' }],
      ['gpu.nvidia.com/p/gpu-1', { driver: 'gpu.nvidia.com', node: 'n1' }],
      ['gpu.x.com/r/g', { driver: 'gpu.x.com', node: 'n2' }],
    ]);
    expect(draDevices([slice('net.example.com', 'q', 1, ['nic-0'], 'n1')], ['net.example.com']).size).toBe(1);
  });

  it('counts a device once however many claims name it; an allocated claim nobody reserves wastes it', () => {
    const claim = (name: string, device: string, reservedBy?: string): ResourceClaim => ({
      metadata: { name, namespace: 'ml', creationTimestamp: '2026-11-26T11:00:00Z' },
      status: {
        allocation: { devices: { results: [{ request: 'r', driver: 'gpu.nvidia.com', pool: 'p', device }] } },
        reservedFor: reservedBy ? [{ resource: 'pods', name: reservedBy, uid: `uid-${reservedBy}` }] : [],
      },
    });
    const r = buildReport(
      inv({
        nodes: [node('n1', {})],
        slices: [slice('gpu.nvidia.com', 'p', 1, ['gpu-0', 'gpu-1', 'gpu-2'], 'n1')],
        claims: [claim('shared-a', 'gpu-0', 'a'), claim('shared-b', 'gpu-0', 'b'), claim('idle', 'gpu-1')],
        pods: [pod('a', { node: 'n1' }), pod('b', { node: 'n1' })],
      }),
      scope(),
    );
    expect(r.nodes[0]!.resources).toEqual([{ name: 'gpu.nvidia.com', source: 'dra', capacity: 3, allocatable: 3, inUse: 2, free: 1, product: null, memory: null }]);
    expect(r.holders.map((h) => [h.pod ?? `claim/${h.claim}`, h.resources, h.claims, h.wasted?.reason ?? null])).toEqual([
      ['a', { 'gpu.nvidia.com': 1 }, ['shared-a'], null],
      ['b', { 'gpu.nvidia.com': 1 }, ['shared-b'], null],
      ['claim/idle', { 'gpu.nvidia.com': 1 }, ['idle'], 'unused-claim'],
    ]);
  });
});

describe('buildReport and fit', () => {
  const nodes = [
    node(
      'a',
      { 'nvidia.com/gpu': '8' },
      { labels: { 'nvidia.com/gpu.product': 'A100', 'nvidia.com/gpu.memory': '40960', 'nvidia.com/gpu.replicas': '2', 'nvidia.com/gpu.count': '4' } },
    ),
    node('b', { 'nvidia.com/gpu': '4' }, { unschedulable: true }),
    node(
      'c',
      { 'nvidia.com/gpu': '4' },
      {
        taints: [
          { key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' },
          { key: 'soft', effect: 'PreferNoSchedule' },
        ],
      },
    ),
    node('d', { 'gpu.intel.com/i915': '2', 'gpu.intel.com/millicores': '2000' }, { ready: false }),
    node('cpu-only', {}),
  ];
  const pods = [
    pod('train-0', { node: 'a', gpus: { 'nvidia.com/gpu': '3' }, owner: { kind: 'Job', name: 'train' } }),
    pod('dbg', {
      node: 'a',
      gpus: { 'nvidia.com/gpu': '2' },
      labels: { 'mlops.kubectl.io/debug': 'true' },
      annotations: {
        'mlops.kubectl.io/detached-from': 'ReplicaSet/web-1',
        'mlops.kubectl.io/detached-from-owner': 'Deployment/web',
        'mlops.kubectl.io/detached-at': '2026-11-26T11:00:00Z',
      },
    }),
    pod('other-ns', { ns: 'team', node: 'c', gpus: { 'nvidia.com/gpu': '1' }, owner: { kind: 'StatefulSet', name: 'db' } }),
    pod('wait', { gpus: { 'nvidia.com/gpu': '6' }, conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'no room' }] }),
    pod('web', { node: 'cpu-only' }),
  ];

  it('per node, per resource; state like kubectl get nodes; device totals leave out Intel millicores', () => {
    const r = buildReport(inv({ nodes, pods }), scope());
    expect(
      r.nodes.map((n) => [
        n.name,
        n.state,
        n.taints,
        n.count,
        n.replicas,
        n.resources.map((x) => `${x.name} ${x.allocatable}/${x.inUse}/${x.free} ${x.product ?? '-'} ${x.memory ?? '-'}`),
      ]),
    ).toEqual([
      ['a', 'Ready', [], 4, 2, ['nvidia.com/gpu 8/5/3 A100 40Gi']],
      ['b', 'Ready,SchedulingDisabled', [], null, null, ['nvidia.com/gpu 4/0/4 - -']],
      ['c', 'Ready,Tainted', ['nvidia.com/gpu=present:NoSchedule'], null, null, ['nvidia.com/gpu 4/1/3 - -']],
      ['d', 'NotReady', [], null, null, ['gpu.intel.com/i915 2/0/2 - -', 'gpu.intel.com/millicores 2000/0/2000 - -']],
    ]);
    expect(r.summary).toEqual({
      total: 18,
      inUse: 6,
      free: 12,
      freeSchedulable: 6,
      waiting: 6,
      waitingPods: 1,
      wasted: 2,
      wastedHolders: 1,
      resources: {
        'gpu.intel.com/i915': { allocatable: 2, inUse: 0, free: 2 },
        'gpu.intel.com/millicores': { allocatable: 2000, inUse: 0, free: 2000 },
        'nvidia.com/gpu': { allocatable: 16, inUse: 6, free: 10 },
      },
    });
    expect(r.holders.map((h) => [h.namespace, h.pod, h.workload])).toEqual([
      ['ml', 'dbg', 'deploy/web'],
      ['ml', 'train-0', 'job/train'],
      ['team', 'other-ns', 'sts/db'],
    ]);
    expect(r.waiting.map((w) => [w.pod, w.reason])).toEqual([['wait', 'no room']]);
  });

  it('-n: node totals keep every namespace, holders only the namespace; hidden nodes leave totals unknown', () => {
    const r = buildReport(inv({ nodes, pods }), scope({ namespace: 'team' }));
    expect(r.nodes.find((n) => n.name === 'a')!.resources[0]!.inUse).toBe(5);
    expect(r.holders.map((h) => h.pod)).toEqual(['other-ns']);
    expect(r.waiting).toEqual([]);
    const hidden = buildReport(inv({ nodes: undefined, pods }), scope({ namespace: 'ml' }));
    expect(hidden.summary).toMatchObject({ total: null, free: null, inUse: 5, wasted: 2 });
  });

  it('fit: Ready, schedulable, enough free; taints named; the largest block and what wasted holders would free', () => {
    const r = buildReport(inv({ nodes, pods }), scope());
    const three = fit(r, 'nvidia.com/gpu', 3);
    expect(three.fits).toBe(true);
    expect(three.nodes.map((n) => [n.node, n.free, n.fits, n.blocked, n.taints.length])).toEqual([
      ['a', 3, true, null, 0],
      ['c', 3, true, null, 1],
      ['b', 4, false, 'SchedulingDisabled', 0],
    ]);
    const five = fit(r, 'nvidia.com/gpu', 5);
    expect(five.fits).toBe(false);
    expect(five.largest).toEqual({ node: 'a', free: 3 });
    const a = five.nodes.find((n) => n.node === 'a')!;
    expect(a.reclaimable).toBe(5);
    expect(a.heldBy).toEqual([
      { holder: 'ml/dbg', count: 2, wasted: true },
      { holder: 'ml/train-0', count: 3, wasted: false },
    ]);
    expect(fit(r, 'gpu.intel.com/i915', 1)).toMatchObject({ fits: false, largest: null });
  });
});

describe('gpus against a fake API server', () => {
  const cluster = useNockCluster();
  const list = (items: unknown[]) => ({ items, metadata: { resourceVersion: '1' } });

  it('prints the summary and tables; a server without the DRA API (404) is not an error', async () => {
    const scope = nock(TEST_SERVER)
      .get('/api/v1/nodes')
      .query({ limit: '500' })
      .reply(200, list([nodes1()]))
      .get('/api/v1/pods')
      .query({ fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed', limit: '500' })
      .reply(
        200,
        list([pod('train-0', { node: 'gpu-1', gpus: { 'nvidia.com/gpu': '2' }, owner: { kind: 'Job', name: 'train' } }), pod('big', { gpus: { 'nvidia.com/gpu': '16' } })]),
      )
      .get('/apis/resource.k8s.io/v1/resourceslices')
      .query(true)
      .reply(404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'the server could not find the requested resource' })
      .get('/apis/resource.k8s.io/v1/resourceclaims')
      .query(true)
      .reply(404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'the server could not find the requested resource' })
      .get('/api/v1/namespaces/ml/events')
      .query({ fieldSelector: 'involvedObject.kind=Pod,reason=FailedScheduling', limit: '500' })
      .reply(
        200,
        list([
          {
            metadata: { name: 'e' },
            involvedObject: { kind: 'Pod', name: 'big', namespace: 'ml', uid: 'uid-big' },
            reason: 'FailedScheduling',
            message: '0/1 nodes are available: 1 Insufficient nvidia.com/gpu.',
            lastTimestamp: '2026-11-26T11:58:00Z',
          },
        ]),
      );
    const r = await runCli(['gpus', '--kubeconfig', cluster()], { now: NOW });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        'GPUs: 8 total, 2 in use, 6 free, 16 waiting (1 pod), 0 wasted (0 holders) [holders, waiting and wasted: namespace ml]',
        '',
        'NODE    RESOURCE         CAPACITY   ALLOCATABLE   IN-USE   FREE   MODEL   STATE',
        'gpu-1   nvidia.com/gpu   8          8             2        6      H100    Ready',
        '',
        'HOLDER        WORKLOAD    GPUS                NODE    AGE   STATE     WASTED',
        'pod/train-0   job/train   nvidia.com/gpu: 2   gpu-1   60m   Running',
        '',
        'WAITING   WORKLOAD   GPUS                 AGE   REASON',
        'pod/big   <none>     nvidia.com/gpu: 16   60m   0/1 nodes are available: 1 Insufficient nvidia.com/gpu.',
        '',
      ].join('\n'),
    );
    expect(scope.isDone()).toBe(true);
    const y = nock(TEST_SERVER)
      .get('/api/v1/nodes')
      .query(true)
      .reply(200, list([nodes1()]))
      .get('/api/v1/pods')
      .query(true)
      .reply(200, list([]))
      .get('/apis/resource.k8s.io/v1/resourceslices')
      .query(true)
      .reply(404, {})
      .get('/apis/resource.k8s.io/v1/resourceclaims')
      .query(true)
      .reply(404, {});
    const yaml = await runCli(['gpus', '-A', '-o', 'yaml', '--kubeconfig', cluster()], { now: NOW });
    expect(yaml.code).toBe(0);
    expect(yaml.out).toMatch(
      /^apiVersion: mlops\.kubectl\.io\/v1alpha1\nkind: GPUReport\nscope:\n  namespace: null\n  allNamespaces: true\n  node: null\n  selector: null\n  dra: absent\n  hidden: \[\]\n/,
    );
    expect(y.isDone()).toBe(true);
  });

  it("--node narrows every list by field selector and a server error is kubectl's line", async () => {
    const scope = nock(TEST_SERVER)
      .get('/api/v1/nodes')
      .query({ fieldSelector: 'metadata.name=gpu-1', limit: '500' })
      .reply(200, list([nodes1()]))
      .get('/api/v1/pods')
      .query({ fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed,spec.nodeName=gpu-1', limit: '500' })
      .reply(200, list([]))
      .get('/apis/resource.k8s.io/v1/resourceslices')
      .query({ fieldSelector: 'spec.nodeName=gpu-1', limit: '500' })
      .reply(200, list([]))
      .get('/apis/resource.k8s.io/v1/resourceclaims')
      .query({ limit: '500' })
      .reply(200, list([]));
    const r = await runCli(['gpus', '--node', 'gpu-1', '--fit', '6', '--kubeconfig', cluster()], { now: NOW });
    expect(r.out).toBe('NODE    RESOURCE         FREE   ALLOCATABLE   FITS-6   HELD-BY\ngpu-1   nvidia.com/gpu   8      8             yes      <none>\n');
    expect(r.code).toBe(0);
    expect(scope.isDone()).toBe(true);
    nock(TEST_SERVER)
      .get('/api/v1/nodes')
      .query(true)
      .reply(500, { kind: 'Status', code: 500, reason: 'InternalError', message: 'etcd is down' })
      .persist()
      .get(/.*/)
      .query(true)
      .reply(200, list([]))
      .persist();
    const bad = await runCli(['gpus', '--kubeconfig', cluster()], { now: NOW });
    expect(bad).toMatchObject({ code: 1, out: '', err: 'Error from server (InternalError): etcd is down\n' });
  });
});

function nodes1(): Node {
  return node('gpu-1', { 'nvidia.com/gpu': '8' }, { labels: { 'nvidia.com/gpu.product': 'H100' } });
}

describe('completion', () => {
  const cluster = useNockCluster();
  it('completes --node with node names', async () => {
    nock(TEST_SERVER)
      .get('/api/v1/nodes')
      .query({ limit: '200' })
      .reply(200, { items: [{ metadata: { name: 'gpu-1' } }, { metadata: { name: 'gpu-2' } }, { metadata: { name: 'cpu-1' } }], metadata: { resourceVersion: '1' } });
    const r = await runCli(['__complete', 'gpus', '--kubeconfig', cluster(), '--node', 'gpu']);
    expect(r.out).toBe('gpu-1\ngpu-2\n:4\n');
  });
});

describe('gpus on a cluster without GPUs, and without a server', () => {
  const cluster = useNockCluster();
  it('prints the summary, says on stderr that no node offers GPUs, exits 0', async () => {
    nock(TEST_SERVER)
      .get('/api/v1/nodes')
      .query(true)
      .reply(200, { items: [node('cpu-1', {})], metadata: { resourceVersion: '1' } })
      .get('/api/v1/pods')
      .query(true)
      .reply(200, { items: [pod('web', { node: 'cpu-1' })], metadata: { resourceVersion: '1' } })
      .get('/apis/resource.k8s.io/v1/resourceslices')
      .query(true)
      .reply(200, { items: [], metadata: { resourceVersion: '1' } })
      .get('/apis/resource.k8s.io/v1/resourceclaims')
      .query(true)
      .reply(200, { items: [], metadata: { resourceVersion: '1' } });
    const r = await runCli(['gpus', '-A', '--kubeconfig', cluster()], { now: NOW });
    expect(r).toMatchObject({ code: 0, out: 'GPUs: 0 total, 0 in use, 0 free, 0 waiting (0 pods), 0 wasted (0 holders)\n', err: 'No node offers GPUs.\n' });
  });

  it('an unreachable server is exit 3 with one line', async () => {
    const { closedPort, tempDir, writeKubeconfig } = await import('../helpers.js');
    const port = await closedPort();
    nock.enableNetConnect('127.0.0.1');
    const r = await runCli(['gpus', '--kubeconfig', writeKubeconfig(tempDir(), { server: `https://127.0.0.1:${port}` })]);
    expect(r).toMatchObject({ code: 3, out: '', err: `error: cannot reach the API server at https://127.0.0.1:${port}: connection refused\n` });
  });
});
