// `kubectl mlops gpus` against the local control plane. The fake kubelet offers 8
// nvidia.com/gpu on mlops-node-1 (labelled like GPU feature discovery) and MIG slices on the
// tainted mlops-node-mig, which only this file's pods tolerate. Oracles: `kubectl describe
// node` (Allocated resources), the scheduler itself (where a pod fits), kubectl's events.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { adminKube, deployment, freshNamespace, grantRestricted, mlops, repo, run, until, waitReady } from './helpers.js';
import { R, pathOf } from '../../src/kube/resources.js';
import type { Node, Pod } from '../../src/kube/types.js';
import type { Kube } from '../../src/kube/client.js';

const MIG = 'mlops-node-mig';
const TOLERATE = [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }];

const kubectl = (args: string[]) => run('kubectl', args, { env: { KUBECONFIG: inject('cluster').kubeconfig } });

interface GpuJson {
  summary: { total: number; inUse: number; free: number; waiting: number; waitingPods: number; wasted: number; wastedHolders: number };
  nodes: {
    name: string;
    state: string;
    ready: boolean;
    unschedulable: boolean;
    resources: { name: string; source: string; capacity: number; allocatable: number; inUse: number; free: number; product: string | null; memory: string | null }[];
    count: number | null;
    replicas: number | null;
  }[];
  holders: {
    namespace: string;
    pod: string | null;
    workload: string | null;
    node: string | null;
    resources: Record<string, number>;
    claims: string[];
    status: string;
    wasted: { reason: string; message: string } | null;
  }[];
  waiting: { namespace: string; pod: string; resources: Record<string, number>; reason: string; claims: string[] }[];
  fit?: {
    resource: string;
    count: number;
    fits: boolean;
    nodes: { node: string; free: number; fits: boolean; blocked: string | null }[];
    largest: { node: string; free: number } | null;
  };
}

async function gpusJson(args: string[]): Promise<GpuJson> {
  const r = await mlops(['gpus', '-o', 'json', ...args]);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as GpuJson;
}

/** A section of `kubectl describe node` as resource -> first number (Capacity, Allocatable, or Allocated resources' Requests). */
function describeSection(text: string, title: 'Capacity:' | 'Allocatable:' | 'Allocated resources:'): Record<string, number> {
  const lines = text.split('\n');
  const start = lines.indexOf(title);
  const out: Record<string, number> = {};
  for (const l of lines.slice(start + 1)) {
    if (/^\S/.test(l)) break;
    const m = /^\s+([\w./-]+):?\s+(\d+)(\s|$)/.exec(l);
    if (m && m[1] !== 'Resource') out[m[1]!] = Number(m[2]);
  }
  return out;
}

/**
 * kubectl's view and ours of one node, taken when kubectl's view did not change around ours
 * (pods of the previous test file may still be going away).
 */
async function sideBySide(node: string): Promise<{ allocated: Record<string, number>; allocatable: Record<string, number>; capacity: Record<string, number>; ours: GpuJson }> {
  return until(
    async () => {
      const before = await kubectl(['describe', 'node', node]);
      const ours = await gpusJson(['-A', '--node', node]);
      const after = await kubectl(['describe', 'node', node]);
      const a = describeSection(before.out, 'Allocated resources:');
      if (JSON.stringify(a) !== JSON.stringify(describeSection(after.out, 'Allocated resources:'))) return undefined;
      return { allocated: a, allocatable: describeSection(before.out, 'Allocatable:'), capacity: describeSection(before.out, 'Capacity:'), ours };
    },
    60_000,
    `a stable view of ${node}`,
  );
}

function gpuPod(name: string, resources: Record<string, string>, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'app', image: 'registry.local/train:1', resources: { limits: resources } }], ...extra },
  };
}

async function podWhere(kube: Kube, ns: string, name: string, ok: (p: Pod) => boolean, what: string): Promise<Pod> {
  return until(
    async () => {
      const p = await kube.getOptional<Pod>(pathOf(R.pods, { namespace: ns, name }));
      return p && ok(p) ? p : undefined;
    },
    60_000,
    `pod ${name} ${what}`,
  );
}

/**
 * The scheduler rewrites an unschedulable pod's message when nodes come and go; the pods whose
 * message names a node count are removed after their test so that later output is stable.
 */
async function deletePod(kube: Kube, ns: string, name: string): Promise<void> {
  await kube.delete(pathOf(R.pods, { namespace: ns, name }), { gracePeriodSeconds: 0 });
  await until(async () => !(await kube.getOptional(pathOf(R.pods, { namespace: ns, name }))), 60_000, `pod ${name} gone`);
}

const unschedulable = (p: Pod) => (p.status?.conditions ?? []).some((c) => c.type === 'PodScheduled' && c.status === 'False' && Boolean(c.message));

describe("gpus and kubectl's list conventions", () => {
  it('--no-headers drops every header, --sort-by orders each table, -l picks the pods shown (node totals unchanged), -w is refused', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'gpus-conv');
    const labelled = (name: string, team: string, gpus: string, extra: Record<string, unknown> = {}) => {
      const p = gpuPod(name, { 'nvidia.com/gpu': gpus }, extra);
      return { ...p, metadata: { name, labels: { team } } };
    };
    // Names and sizes chosen so that name order and size order differ; the gate keeps the waiting ones waiting.
    const gate = { schedulingGates: [{ name: 'example.com/quota' }] };
    await kube.create(pathOf(R.pods, { namespace: ns }), labelled('h-a', 'a', '2'));
    await kube.create(pathOf(R.pods, { namespace: ns }), labelled('h-b', 'b', '1'));
    await kube.create(pathOf(R.pods, { namespace: ns }), labelled('w-y', 'b', '2', gate));
    await kube.create(pathOf(R.pods, { namespace: ns }), labelled('w-z', 'a', '1', gate));
    for (const n of ['h-a', 'h-b']) await podWhere(kube, ns, n, (p) => p.status?.phase === 'Running', 'Running');
    try {
      const plain = await mlops(['gpus', '-n', ns]);
      expect(plain).toMatchObject({ code: 0, err: '' });
      const rowsOf = (out: string, re: RegExp) =>
        out
          .split('\n')
          .filter((l) => re.test(l))
          .map((l) => l.split(/ +/)[0]);
      expect(rowsOf(plain.out, /^pod\//)).toEqual(['pod/h-a', 'pod/h-b', 'pod/w-y', 'pod/w-z']);
      expect(plain.out).toMatch(/^NODE +RESOURCE /m);
      expect(plain.out).toMatch(/^HOLDER +WORKLOAD /m);
      expect(plain.out).toMatch(/^WAITING +WORKLOAD /m);

      // --no-headers: the same lines less the three headers.
      const bare = await mlops(['gpus', '-n', ns, '--no-headers']);
      expect(bare).toMatchObject({ code: 0, err: '' });
      expect(bare.out).not.toMatch(/^(NODE|HOLDER|WAITING) /m);
      const strip = (t: string) =>
        t
          .split('\n')
          .filter((l) => !/^(NODE|HOLDER|WAITING) /.test(l) && !/^GPUs: /.test(l))
          .map((l) => l.replace(/ +/g, ' ').replace(/ \d+s /, ' AGE '));
      expect(strip(bare.out)).toEqual(strip(plain.out));

      // --sort-by on each table's rows: by GPU count the holders and the waiting pods reverse;
      // the node rows have no such field and keep their order.
      const sorted = await mlops(['gpus', '-n', ns, '--sort-by={.resources.nvidia\\.com/gpu}']);
      expect(sorted).toMatchObject({ code: 0, err: '' });
      expect(rowsOf(sorted.out, /^pod\//)).toEqual(['pod/h-b', 'pod/h-a', 'pod/w-z', 'pod/w-y']);
      expect(rowsOf(sorted.out, /^mlops-node/)).toEqual(rowsOf(plain.out, /^mlops-node/));
      const byFree = await mlops(['gpus', '-n', ns, '--sort-by=.free', '--no-headers']);
      const free = byFree.out
        .split('\n')
        .filter((l) => /^mlops-node/.test(l))
        .map((l) => Number(l.split(/ +/)[5]));
      expect(free.length).toBeGreaterThan(1);
      expect(free).toEqual([...free].sort((a, b) => a - b));
      // --fit's table takes them too.
      const fit = await mlops(['gpus', '--fit', '1', '--sort-by=.free', '--no-headers']);
      expect(fit.code).toBe(0);
      expect(fit.out).not.toMatch(/^NODE /m);
      const fitFree = fit.out
        .split('\n')
        .filter(Boolean)
        .map((l) => Number(l.split(/ +/)[2]));
      expect(fitFree.length).toBeGreaterThan(0);
      expect(fitFree).toEqual([...fitFree].sort((a, b) => a - b));
      // A field no row has: kubectl's error, exit 1, nothing on stdout.
      const nope = await mlops(['gpus', '-n', ns, '--sort-by=.nope']);
      const knope = await kubectl(['get', 'pods', '-n', ns, '--sort-by=.nope', '-o', 'name']);
      expect(knope.code).toBe(1);
      expect(nope).toEqual({ code: 1, out: '', err: knope.err });

      // -l: the server picks the pods shown, as kubectl get pods -l; the nodes still count every pod.
      const team = await mlops(['gpus', '-n', ns, '-l', 'team=a']);
      expect(team).toMatchObject({ code: 0, err: '' });
      const kteam = await kubectl(['get', 'pods', '-n', ns, '-l', 'team=a', '-o', 'name', '--sort-by=.metadata.name']);
      expect(rowsOf(team.out, /^pod\//)).toEqual(kteam.out.trim().split('\n'));
      expect(rowsOf(team.out, /^mlops-node/)).toEqual(rowsOf(plain.out, /^mlops-node/));
      const [all, a] = await Promise.all([gpusJson(['-n', ns]), gpusJson(['-n', ns, '-l', 'team=a'])]);
      expect(a.nodes).toEqual(all.nodes);
      expect(a.summary).toMatchObject({ waiting: 1, waitingPods: 1, total: all.summary.total, inUse: all.summary.inUse });
      expect((JSON.parse((await mlops(['gpus', '-n', ns, '-l', 'team=a', '-o', 'json'])).out) as { scope: { selector: string } }).scope.selector).toBe('team=a');
      // A selector the server cannot parse: its words, as kubectl's.
      const bad = await mlops(['gpus', '-n', ns, '-l', 'team in (a']);
      const kbad = await kubectl(['get', 'pods', '-n', ns, '-l', 'team in (a']);
      expect(kbad.code).toBe(1);
      expect(bad).toEqual({ code: 1, out: '', err: kbad.err });

      // -w: one line naming the commands that have it, before any request.
      for (const flag of ['-w', '--watch', '--watch-only']) {
        const r = await mlops(['gpus', flag, '--kubeconfig', '/nonexistent']);
        expect(r).toEqual({
          code: 2,
          out: '',
          err: 'error: gpus prints a report of several tables and has no -w/--watch: storage, storage pv, debug-pod list and scale-to-zero --list have it\n',
        });
      }
      for (const [args, msg] of [
        [['-o', 'json', '--sort-by=.pod'], 'error: --sort-by orders the rows of the tables; -o json, yaml, jsonpath and custom-columns print the report in its documented order\n'],
        [['--fit', '1', '-l', 'team=a'], 'error: -l/--selector picks the pods shown; --fit counts every pod, so they are not used together\n'],
      ] as const) {
        expect(await mlops(['gpus', ...args, '--kubeconfig', '/nonexistent'])).toEqual({ code: 2, out: '', err: msg });
      }
    } finally {
      for (const n of ['h-a', 'h-b', 'w-y', 'w-z']) await deletePod(kube, ns, n);
    }
  });
});

describe('kubectl mlops gpus', () => {
  let trainNs = '';

  it('counts per node what the pods request, as kubectl describe node does, with GFD labels and MIG slices', async () => {
    const kube = adminKube();
    const ns = (trainNs = await freshNamespace(kube, 'gpus'));
    // An init container asking for more than the app: the pod holds the larger of the two (2).
    const d = deployment('trainer', { replicas: 2, gpus: 1 }) as ReturnType<typeof deployment> & { spec: { template: { spec: Record<string, unknown> } } };
    d.spec.template.spec.initContainers = [{ name: 'warm', image: 'registry.local/warm:1', resources: { limits: { 'nvidia.com/gpu': '2' } } }];
    await kube.create(pathOf(R.deployments, { namespace: ns }), d);
    // A sidecar (restartable init container) adds to the app: 1 + 1 MIG slices.
    await kube.create(
      pathOf(R.pods, { namespace: ns }),
      gpuPod(
        'mig-user',
        { 'nvidia.com/mig-1g.10gb': '1' },
        {
          tolerations: TOLERATE,
          initContainers: [{ name: 'side', image: 'registry.local/side:1', restartPolicy: 'Always', resources: { limits: { 'nvidia.com/mig-1g.10gb': '1' } } }],
        },
      ),
    );
    await waitReady(kube, ns, 'app=trainer', 2);
    await podWhere(kube, ns, 'mig-user', (p) => p.status?.phase === 'Running', 'Running');

    for (const node of ['mlops-node-1', MIG]) {
      const { allocated, allocatable, capacity, ours } = await sideBySide(node);
      const view = ours.nodes.find((n) => n.name === node)!;
      expect(view.resources.length).toBeGreaterThan(0);
      for (const r of view.resources) {
        const held = ours.holders.filter((h) => h.node === node).reduce((s, h) => s + (h.resources[r.name] ?? 0), 0);
        expect({ node, resource: r.name, inUse: r.inUse }).toEqual({ node, resource: r.name, inUse: held });
        expect({ node, resource: r.name, inUse: r.inUse, allocatable: r.allocatable, capacity: r.capacity }).toEqual({
          node,
          resource: r.name,
          inUse: allocated[r.name],
          allocatable: allocatable[r.name],
          capacity: capacity[r.name],
        });
        expect(r.free).toBe(r.allocatable - r.inUse);
      }
    }
    const all = await gpusJson(['-n', ns]);
    const node1 = all.nodes.find((n) => n.name === 'mlops-node-1')!;
    expect(node1).toMatchObject({ state: 'Ready', count: 8, replicas: 1 });
    expect(node1.resources[0]).toMatchObject({ name: 'nvidia.com/gpu', source: 'device-plugin', product: 'NVIDIA-A100-SXM4-80GB', memory: '80Gi' });
    const mig = all.nodes.find((n) => n.name === MIG)!;
    expect(mig.state).toBe('Ready,Tainted');
    expect(mig.resources.map((r) => [r.name, r.product, r.memory])).toEqual([
      ['nvidia.com/mig-1g.10gb', 'NVIDIA-H100-80GB-HBM3 (1g.10gb)', '9856Mi'],
      ['nvidia.com/mig-3g.40gb', 'NVIDIA-H100-80GB-HBM3 (3g.40gb)', '40192Mi'],
    ]);
    const trainers = all.holders.filter((h) => h.workload === 'deploy/trainer');
    expect(trainers.map((h) => [h.resources, h.node, h.status, h.wasted])).toEqual([
      [{ 'nvidia.com/gpu': 2 }, 'mlops-node-1', 'Running', null],
      [{ 'nvidia.com/gpu': 2 }, 'mlops-node-1', 'Running', null],
    ]);
    expect(all.holders.find((h) => h.pod === 'mig-user')).toMatchObject({ node: MIG, resources: { 'nvidia.com/mig-1g.10gb': 2 }, workload: null });

    const table = await mlops(['gpus', '-n', ns]);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(
      /^GPUs: \d+ total, \d+ in use, \d+ free, \d+ waiting \(\d+ pods?\), \d+ wasted \(\d+ holders?\) \[holders, waiting and wasted: namespace gpus-[\w-]+\]\n\nNODE +RESOURCE +CAPACITY +ALLOCATABLE +IN-USE +FREE +MODEL +STATE\n/,
    );
    const n1 = node1.resources[0]!;
    expect(table.out).toMatch(new RegExp(`\\nmlops-node-1 +nvidia\\.com/gpu +8 +8 +${n1.inUse} +${n1.free} +NVIDIA-A100-SXM4-80GB +Ready\\n`));
    expect(table.out).toMatch(/\nHOLDER +WORKLOAD +GPUS +NODE +AGE +STATE +WASTED\npod\/mig-user +<none> +nvidia\.com\/mig-1g\.10gb: 2 +mlops-node-mig +\d+s +Running\n/);
    const wide = await mlops(['gpus', '-n', ns, '-o', 'wide']);
    expect(wide.out).toMatch(
      /\nmlops-node-mig +nvidia\.com\/mig-1g\.10gb +4 +4 +\d+ +\d+ +NVIDIA-H100-80GB-HBM3 \(1g\.10gb\) +Ready,Tainted +9856Mi +nvidia\.com\/gpu=present:NoSchedule\n/,
    );
  });

  it("shows a Pending GPU pod with the scheduler's reason, from its condition or the latest event, a gated one, and one no scheduler looks at", async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'gpus-wait');
    await kube.create(pathOf(R.pods, { namespace: ns }), gpuPod('too-big', { 'nvidia.com/gpu': '64' }));
    await kube.create(pathOf(R.pods, { namespace: ns }), gpuPod('gated', { 'nvidia.com/gpu': '1' }, { schedulingGates: [{ name: 'example.com/quota' }] }));
    await kube.create(pathOf(R.pods, { namespace: ns }), gpuPod('orphan', { 'nvidia.com/gpu': '2' }, { schedulerName: 'e2e-absent-scheduler' }));
    // A second scheduler that reports only through events (as older or custom schedulers do): the latest one counts.
    const custom = await kube.create<Pod>(pathOf(R.pods, { namespace: ns }), gpuPod('custom', { 'nvidia.com/gpu': '4' }, { schedulerName: 'e2e-events-scheduler' }));
    for (const [name, message, at] of [
      ['custom.1', 'no node with 4 free GPUs (first try)', '2026-01-01T10:00:00Z'],
      ['custom.2', 'no node with 4 free GPUs in queue "research"', '2026-01-01T10:05:00Z'],
    ]) {
      await kube.create(pathOf(R.events, { namespace: ns }), {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name },
        involvedObject: { kind: 'Pod', namespace: ns, name: 'custom', uid: custom.metadata!.uid, apiVersion: 'v1' },
        reason: 'FailedScheduling',
        message,
        type: 'Warning',
        source: { component: 'e2e-events-scheduler' },
        firstTimestamp: at,
        lastTimestamp: at,
        count: 1,
      });
    }
    const big = await podWhere(kube, ns, 'too-big', unschedulable, 'Unschedulable');
    const condition = big.status!.conditions!.find((c) => c.type === 'PodScheduled')!.message!;
    expect(condition).toMatch(/^0\/\d+ nodes are available: .*Insufficient nvidia\.com\/gpu/);
    // kubectl's events carry the same words.
    const ev = await until(
      async () => {
        const r = await kubectl(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=too-big,reason=FailedScheduling', '-o', 'jsonpath={.items[*].message}']);
        return r.out.trim() || undefined;
      },
      60_000,
      'a FailedScheduling event',
    );
    expect(ev).toContain(condition);

    const r = await mlops(['gpus', '-n', ns, '-o', 'json', '-v']);
    expect(r.code).toBe(0);
    // Two pods have no PodScheduled message, so the events are read, once, by field selector.
    expect(r.err).toMatch(new RegExp(`GET /api/v1/namespaces/${ns}/events\\?fieldSelector=involvedObject\\.kind=Pod,reason=FailedScheduling&limit=500 200`));
    const j = JSON.parse(r.out) as GpuJson;
    expect(r.err.split('\n').filter((l) => l.includes('/events?')).length).toBe(1);
    expect(j.waiting.map((w) => [w.pod, w.resources, w.reason])).toEqual([
      ['custom', { 'nvidia.com/gpu': 4 }, 'no node with 4 free GPUs in queue "research"'],
      ['gated', { 'nvidia.com/gpu': 1 }, 'scheduling gated by example.com/quota'],
      ['orphan', { 'nvidia.com/gpu': 2 }, 'no message from scheduler "e2e-absent-scheduler" (spec.schedulerName); is it running?'],
      [
        'too-big',
        { 'nvidia.com/gpu': 64 },
        (await kube.get<Pod>(pathOf(R.pods, { namespace: ns, name: 'too-big' }))).status!.conditions!.find((c) => c.type === 'PodScheduled')!.message,
      ],
    ]);
    expect(j.summary).toMatchObject({ waiting: 71, waitingPods: 4 });
    const t = await mlops(['gpus', '-n', ns]);
    expect(t.out).toMatch(
      /\nWAITING +WORKLOAD +GPUS +AGE +REASON\npod\/custom +<none> +nvidia\.com\/gpu: 4 +\d+s +no node with 4 free GPUs in queue "research"\npod\/gated +<none> +nvidia\.com\/gpu: 1 +\d+s +scheduling gated by example\.com\/quota\n/,
    );
    expect(t.out).toContain(`nvidia.com/gpu: 64`);
    await deletePod(kube, ns, 'too-big');
  });

  it('flags a pod detached by debug-pod as holding GPUs, and past its --ttl', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'gpus-debug');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('serve', { replicas: 1, gpus: 1 }));
    const [victim] = await waitReady(kube, ns, 'app=serve', 1);
    const name = victim!.metadata!.name!;
    const d = await mlops(['debug-pod', name, '-n', ns, '--ttl', '1h']);
    expect(d.code).toBe(0);
    const j = await gpusJson(['-n', ns]);
    const held = j.holders.find((h) => h.pod === name)!;
    expect(held).toMatchObject({ workload: 'deploy/serve', resources: { 'nvidia.com/gpu': 1 }, node: 'mlops-node-1', status: 'Running' });
    const at = (await kube.get<Pod>(pathOf(R.pods, { namespace: ns, name }))).metadata!.annotations!['mlops.kubectl.io/detached-at'];
    expect(held.wasted).toEqual({ reason: 'detached', since: at, ttl: '1h', message: 'detached by debug-pod (--ttl 1h)' });
    expect((await mlops(['gpus', '-n', ns])).out).toMatch(
      new RegExp(`\\npod/${name} +deploy/serve +nvidia\\.com/gpu: 1 +mlops-node-1 +\\d+s +Running +detached by debug-pod \\d+s ago; --ttl 1h, 59m\\d*s? left\\n`),
    );
    // The replacement holds its own GPU and wastes nothing.
    expect(j.holders.filter((h) => h.pod !== name).map((h) => [h.workload, h.wasted])).toEqual([['deploy/serve', null]]);
    expect(j.summary).toMatchObject({ wasted: 1, wastedHolders: 1 });

    // As if the hour had passed: the ledger's ttl shortened, which `debug-pod list` reads too.
    await kubectl(['annotate', '--overwrite', 'pod', name, '-n', ns, 'mlops.kubectl.io/ttl=1s']);
    const expired = await until(
      async () => {
        const h = (await gpusJson(['-n', ns])).holders.find((x) => x.pod === name)!;
        return h.wasted?.reason === 'ttl-expired' ? h : undefined;
      },
      30_000,
      'ttl-expired',
    );
    expect(expired.wasted).toEqual({ reason: 'ttl-expired', since: at, ttl: '1s', message: 'detached by debug-pod; its --ttl 1s ran out' });
    const list = await mlops(['debug-pod', 'list', '-n', ns]);
    expect(list.out).toMatch(new RegExp(`\\n${name} .* EXPIRED\\n`));
    const t = await mlops(['gpus', '-n', ns]);
    expect(t.out).toMatch(
      new RegExp(`\\npod/${name} +deploy/serve +nvidia\\.com/gpu: 1 +mlops-node-1 +\\d+s +Running +detached by debug-pod \\d+s ago; its --ttl 1s ran out \\d+s ago\\n`),
    );
    expect(t.out).toMatch(/, 1 wasted \(1 holder\) \[/);
  });

  it('--fit agrees with the scheduler for a fitting and a non-fitting size; cordoned and NotReady nodes do not count', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'gpus-fit');
    const res = 'nvidia.com/mig-1g.10gb';
    const { allocated, allocatable } = await sideBySide(MIG);
    const free = allocatable[res]! - (allocated[res] ?? 0);
    expect(free).toBeGreaterThan(0);

    const yes = await mlops(['gpus', '--fit', String(free), '--resource', res]);
    expect(yes.code).toBe(0);
    expect(yes.out).toMatch(
      new RegExp(
        `^NODE +RESOURCE +FREE +ALLOCATABLE +FITS-${free} +HELD-BY\\n${MIG} +${res.replace(/\./g, '\\.')} +${free} +${allocatable[res]} +yes, if tolerating nvidia\\.com/gpu=present:NoSchedule +${trainNs}/mig-user \\(2\\)\\n$`,
      ),
    );
    const no = await mlops(['gpus', '--fit', String(free + 1), '--resource', res]);
    expect(no.code).toBe(1);
    expect(no.err).toBe(`error: no node has ${free + 1} ${res} free now: the largest free block is ${free} on ${MIG}\n`);
    expect(no.out).toMatch(new RegExp(`\\n${MIG} +\\S+ +${free} +${allocatable[res]} +no +`));
    const nj = JSON.parse((await mlops(['gpus', '--fit', String(free + 1), '--resource', res, '-o', 'json'])).out) as GpuJson;
    expect(nj.fit).toMatchObject({ resource: res, count: free + 1, fits: false, largest: { node: MIG, free } });

    // The scheduler's verdict on the same two sizes.
    await kube.create(pathOf(R.pods, { namespace: ns }), gpuPod('one-more', { [res]: String(free + 1) }, { tolerations: TOLERATE }));
    const refused = await podWhere(kube, ns, 'one-more', unschedulable, 'Unschedulable');
    expect(refused.status!.conditions!.find((c) => c.type === 'PodScheduled')!.message).toContain(`Insufficient ${res}`);
    await kube.create(pathOf(R.pods, { namespace: ns }), gpuPod('exact', { [res]: String(free) }, { tolerations: TOLERATE }));
    const placed = await podWhere(kube, ns, 'exact', (p) => Boolean(p.spec?.nodeName), 'scheduled');
    expect(placed.spec!.nodeName).toBe(MIG);
    await deletePod(kube, ns, 'one-more');
    const full = await mlops(['gpus', '--fit', '1', '--resource', res]);
    expect(full.code).toBe(1);
    expect(full.err).toBe(`error: no node has 1 ${res} free now: the largest free block is 0 on ${MIG}\n`);

    // Cordoned: kubectl's STATUS word, and no fit even with room.
    const other = 'nvidia.com/mig-3g.40gb';
    expect((await mlops(['gpus', '--fit', '1', '--resource', other])).code).toBe(0);
    expect((await kubectl(['cordon', MIG])).code).toBe(0);
    try {
      const kState = (await kubectl(['get', 'node', MIG, '--no-headers'])).out.split(/\s+/)[1];
      expect(kState).toBe('Ready,SchedulingDisabled');
      const j = await gpusJson(['--node', MIG]);
      expect(j.nodes[0]!.state).toBe(`${kState},Tainted`);
      const c = await mlops(['gpus', '--fit', '1', '--resource', other]);
      expect(c.code).toBe(1);
      expect(c.err).toBe(`error: no node has 1 ${other} free now: every node offering it is NotReady or cordoned\n`);
      expect(c.out).toMatch(new RegExp(`\\n${MIG} +\\S+ +1 +1 +no \\(SchedulingDisabled\\) +<none>\\n`));
    } finally {
      await kubectl(['uncordon', MIG]);
    }

    // A GPU node that stopped reporting: NotReady, offered GPUs not a fit.
    const ghost = `mlops-e2e-ghost-${process.pid}`;
    await kube.create(pathOf(R.nodes), { apiVersion: 'v1', kind: 'Node', metadata: { name: ghost } });
    try {
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      await kube.patch(
        pathOf(R.nodes, { name: ghost, subresource: 'status' }),
        {
          status: {
            capacity: { cpu: '8', memory: '64Gi', pods: '110', 'nvidia.com/gpu': '4' },
            allocatable: { cpu: '8', memory: '64Gi', pods: '110', 'nvidia.com/gpu': '4' },
            conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'e2e: stopped', lastHeartbeatTime: now, lastTransitionTime: now }],
          },
        },
        'strategic',
      );
      const kState = (await kubectl(['get', 'node', ghost, '--no-headers'])).out.split(/\s+/)[1];
      expect(kState).toBe('NotReady');
      const j = await gpusJson(['--node', ghost]);
      expect(j.nodes[0]).toMatchObject({ name: ghost, ready: false, resources: [{ name: 'nvidia.com/gpu', allocatable: 4, inUse: 0, free: 4 }] });
      expect(j.nodes[0]!.state).toMatch(/^NotReady/);
      const r = await mlops(['gpus', '--fit', '1', '--node', ghost]);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(new RegExp(`\\n${ghost} +nvidia\\.com/gpu +4 +4 +no \\(NotReady\\) +<none>\\n`));
      const sum = await mlops(['gpus', '-A']);
      expect(sum.out).toMatch(/^GPUs: \d+ total, \d+ in use, \d+ free \((\d+) on NotReady or cordoned nodes\),/);
    } finally {
      await kube.delete(pathOf(R.nodes, { name: ghost }));
    }
  });

  it("counts a DRA claim's device on its node: slice published as a driver would, claim allocated by the scheduler", async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'gpus-dra');
    const driver = `gpu-${process.pid}.e2e.example.com`;
    const slice = `e2e-${process.pid}-node-2`;
    await kube.create('/apis/resource.k8s.io/v1/deviceclasses', {
      apiVersion: 'resource.k8s.io/v1',
      kind: 'DeviceClass',
      metadata: { name: driver },
      spec: { selectors: [{ cel: { expression: `device.driver == "${driver}"` } }] },
    });
    try {
      await kube.create('/apis/resource.k8s.io/v1/resourceslices', {
        apiVersion: 'resource.k8s.io/v1',
        kind: 'ResourceSlice',
        metadata: { name: slice },
        spec: {
          driver,
          nodeName: 'mlops-node-2',
          pool: { name: 'mlops-node-2', generation: 1, resourceSliceCount: 1 },
          devices: [{ name: 'gpu-0' }, { name: 'gpu-1' }, { name: 'gpu-2' }],
        },
      });
      const claim = (name: string, count: number) => ({
        apiVersion: 'resource.k8s.io/v1',
        kind: 'ResourceClaim',
        metadata: { name },
        spec: { devices: { requests: [{ name: 'gpu', exactly: { deviceClassName: driver, allocationMode: 'ExactCount', count } }] } },
      });
      const claimPath = `/apis/resource.k8s.io/v1/namespaces/${ns}/resourceclaims`;
      await kube.create(claimPath, claim('one-gpu', 1));
      await kube.create(claimPath, claim('three-gpus', 3));
      const podWithClaim = (name: string, claimName: string) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name },
        spec: {
          resourceClaims: [{ name: 'gpu', resourceClaimName: claimName }],
          containers: [{ name: 'app', image: 'registry.local/train:1', resources: { claims: [{ name: 'gpu' }] } }],
        },
      });
      await kube.create(pathOf(R.pods, { namespace: ns }), podWithClaim('dra-user', 'one-gpu'));
      await kube.create(pathOf(R.pods, { namespace: ns }), podWithClaim('dra-waiter', 'three-gpus'));
      const running = await podWhere(kube, ns, 'dra-user', (p) => p.status?.phase === 'Running', 'Running');
      expect(running.spec!.nodeName).toBe('mlops-node-2');
      // The 1.35 scheduler allocated the claim from the slice and reserved it for the pod.
      const allocated = await kube.get<{ status: { allocation: { devices: { results: { driver: string; pool: string; device: string }[] } }; reservedFor: { name: string }[] } }>(
        `${claimPath}/one-gpu`,
      );
      expect(allocated.status.allocation.devices.results).toEqual([expect.objectContaining({ driver, pool: 'mlops-node-2', device: expect.stringMatching(/^gpu-[012]$/) })]);
      expect(allocated.status.reservedFor.map((r) => r.name)).toEqual(['dra-user']);
      await podWhere(kube, ns, 'dra-waiter', unschedulable, 'Unschedulable');

      // A pod whose claim comes from a template: the resourceclaim controller makes the claim.
      await kube.create(`/apis/resource.k8s.io/v1/namespaces/${ns}/resourceclaimtemplates`, {
        apiVersion: 'resource.k8s.io/v1',
        kind: 'ResourceClaimTemplate',
        metadata: { name: 'gpu-template' },
        spec: { spec: { devices: { requests: [{ name: 'gpu', exactly: { deviceClassName: driver } }] } } },
      });
      await kube.create(pathOf(R.pods, { namespace: ns }), {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'templated' },
        spec: {
          resourceClaims: [{ name: 'gpu', resourceClaimTemplateName: 'gpu-template' }],
          containers: [{ name: 'app', image: 'registry.local/train:1', resources: { claims: [{ name: 'gpu' }] } }],
        },
      });
      const templated = await podWhere(kube, ns, 'templated', (p) => p.status?.phase === 'Running', 'Running');
      const generated = templated.status!.resourceClaimStatuses![0]!.resourceClaimName!;

      // The last device, allocated to a claim no pod uses, as a scheduler or driver would write it.
      type Claim = { status?: { allocation?: { devices: { results: { device: string }[] } } } };
      const taken = (await kube.list<Claim>(claimPath)).items.flatMap((c) => c.status?.allocation?.devices.results.map((r) => r.device) ?? []);
      const last = ['gpu-0', 'gpu-1', 'gpu-2'].find((d) => !taken.includes(d))!;
      await kube.create(claimPath, claim('idle', 1));
      await kube.patch(
        `${claimPath}/idle/status`,
        {
          status: {
            allocation: {
              devices: { results: [{ request: 'gpu', driver, pool: 'mlops-node-2', device: last }] },
              nodeSelector: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['mlops-node-2'] }] }] },
            },
          },
        },
        'merge',
      );

      const j = await gpusJson(['-n', ns]);
      const node2 = j.nodes.find((n) => n.name === 'mlops-node-2')!;
      expect(node2.resources).toEqual([{ name: driver, source: 'dra', capacity: 3, allocatable: 3, inUse: 3, free: 0, product: null, memory: null }]);
      expect(j.holders).toEqual([
        expect.objectContaining({ pod: 'dra-user', node: 'mlops-node-2', resources: { [driver]: 1 }, claims: ['one-gpu'], wasted: null }),
        expect.objectContaining({ pod: null, claim: 'idle', node: 'mlops-node-2', resources: { [driver]: 1 }, wasted: expect.objectContaining({ reason: 'unused-claim' }) }),
        expect.objectContaining({ pod: 'templated', node: 'mlops-node-2', resources: { [driver]: 1 }, claims: [generated], wasted: null }),
      ]);
      expect(j.waiting).toEqual([
        expect.objectContaining({ pod: 'dra-waiter', resources: { [driver]: 3 }, claims: ['three-gpus'], reason: expect.stringMatching(/^0\/\d+ nodes are available: /) }),
      ]);
      expect(j.summary).toMatchObject({ wasted: 1, wastedHolders: 1 });
      const t = await mlops(['gpus', '-n', ns]);
      const d = driver.replace(/\./g, '\\.');
      expect(t.out).toMatch(new RegExp(`\\nmlops-node-2 +${d} \\(dra\\) +3 +3 +3 +0 +Ready\\n`));
      expect(t.out).toMatch(new RegExp(`\\nresourceclaim/idle +<none> +${d}: 1 +mlops-node-2 +\\d+s +Allocated +allocated, but no pod uses the claim\\n`));
      const one = await mlops(['gpus', '--fit', '1', '--resource', driver]);
      expect(one.code).toBe(1);
      expect(one.err).toBe(
        `error: no node has 1 ${driver} free now: the largest free block is 0 on mlops-node-2; it would fit on mlops-node-2 if its wasted holders (${ns}/claim/idle) were deleted\n`,
      );
      await kube.delete(`${claimPath}/idle`);
      await until(async () => (await mlops(['gpus', '--fit', '1', '--resource', driver])).code === 0, 30_000, 'the idle claim gone');

      // Bound by hand past the scheduler, with a claim nobody allocated: the (fake) kubelet does
      // not start it, and no device is counted for it.
      await kube.create(claimPath, claim('never', 1));
      const bypass = podWithClaim('bypass', 'never') as ReturnType<typeof podWithClaim> & { spec: { nodeName?: string } };
      bypass.spec.nodeName = 'mlops-node-2';
      await kube.create(pathOf(R.pods, { namespace: ns }), bypass);
      const stuck = await podWhere(kube, ns, 'bypass', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ContainerCreating', 'ContainerCreating');
      expect(stuck.status!.phase).toBe('Pending');
      expect(stuck.status!.containerStatuses![0]!.state!.waiting!.message).toBe('prepare dynamic resources: resourceclaim never is not allocated');
      const after = await gpusJson(['-n', ns]);
      expect(after.nodes.find((n) => n.name === 'mlops-node-2')!.resources[0]).toMatchObject({ allocatable: 3, inUse: 2, free: 1 });
      expect(after.holders.map((h) => h.pod)).toEqual(['dra-user', 'templated']);
    } finally {
      await deletePod(kube, ns, 'dra-waiter').catch(() => undefined);
      await kube.delete(`/apis/resource.k8s.io/v1/resourceslices/${slice}`).catch(() => undefined);
      await kube.delete(`/apis/resource.k8s.io/v1/deviceclasses/${driver}`).catch(() => undefined);
    }
  });

  it('-o json is stable and has the shape the README documents', async () => {
    // Every namespace: holders that waste (the detached pod) and waiting pods are in it.
    const a = await mlops(['gpus', '-A', '-o', 'json', '--fit', '1']);
    const b = await mlops(['gpus', '-A', '-o', 'json', '--fit', '1']);
    expect(a.code).toBe(0);
    expect(a.out).toBe(b.out);
    const readme = fs.readFileSync(path.join(repo, 'README.md'), 'utf8');
    const doc = /### gpus[\s\S]*?```json\n([\s\S]*?)```/.exec(readme);
    expect(doc).not.toBeNull();
    const real = JSON.parse(a.out) as Record<string, unknown>;
    const documented = JSON.parse(doc![1]!) as Record<string, unknown>;
    // Same keys at every level (maps keyed by resource name compared as maps); nulls stand for either.
    // Every key path, over all array elements; maps keyed by resource name count as one key.
    const keys = (v: unknown, at = ''): string[] =>
      Array.isArray(v)
        ? v.flatMap((x) => keys(x, `${at}[]`))
        : v && typeof v === 'object'
          ? Object.entries(v).flatMap(([k, x]) => (k === 'resources' && !Array.isArray(x) ? [`${at}.${k}{}`] : [`${at}.${k}`, ...keys(x, `${at}.${k}`)]))
          : [];
    expect(keys(real)).toContain('.holders[].wasted.reason');
    expect(keys(real)).toContain('.waiting[].reason');
    expect([...new Set(keys(documented))].sort()).toEqual([...new Set(keys(real))].sort());
  });

  it('makes the same number of requests for 2 pods as for 40', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'gpus-count');
    await kube.create(pathOf(R.pods, { namespace: ns }), gpuPod('holder', { 'nvidia.com/gpu': '1' }));
    await kube.create(pathOf(R.pods, { namespace: ns }), gpuPod('unseen', { 'nvidia.com/gpu': '1' }, { schedulerName: 'e2e-absent-scheduler' }));
    await podWhere(kube, ns, 'holder', (p) => p.status?.phase === 'Running', 'Running');
    const requests = async () => {
      const r = await mlops(['gpus', '-A', '-v']);
      expect(r.code).toBe(0);
      return r.err
        .split('\n')
        .filter((l) => /^GET \//.test(l))
        .map((l) => l.replace(/ \d+ms \(HTTP\/2\)$/, ''));
    };
    const few = await requests();
    expect([...few].sort()).toEqual([
      'GET /api/v1/events?fieldSelector=involvedObject.kind=Pod,reason=FailedScheduling&limit=500 200',
      'GET /api/v1/nodes?limit=500 200',
      'GET /api/v1/pods?fieldSelector=status.phase!=Succeeded,status.phase!=Failed&limit=500 200',
      'GET /apis/resource.k8s.io/v1/resourceclaims?limit=500 200',
      'GET /apis/resource.k8s.io/v1/resourceslices?limit=500 200',
    ]);
    const many = deployment('crowd', { replicas: 30 });
    await kube.create(pathOf(R.deployments, { namespace: ns }), many);
    for (let i = 0; i < 8; i++) await kube.create(pathOf(R.pods, { namespace: ns }), gpuPod(`unseen-${i}`, { 'nvidia.com/gpu': '1' }, { schedulerName: 'e2e-absent-scheduler' }));
    await waitReady(kube, ns, 'app=crowd', 30);
    const j = await gpusJson(['-n', ns]);
    expect(j.summary.waitingPods).toBe(9);
    expect([...(await requests())].sort()).toEqual([...few].sort());
  });

  it('a user who may not list nodes, or pods in all namespaces, gets what can be shown and one warning per hidden part', async () => {
    const kube = adminKube();
    await grantRestricted(kube, trainNs, 'gpus-reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }]);
    const restricted = inject('cluster').restrictedKubeconfig;
    const r = await until(
      async () => {
        const x = await mlops(['gpus', '-n', trainNs], { kubeconfig: restricted });
        return x.code === 0 ? x : undefined;
      },
      30_000,
      'the RoleBinding to apply',
    );
    expect(r.err).toBe(
      `Warning: you may not list nodes (forbidden): capacity and free GPUs are hidden; showing the GPU pods of namespace ${trainNs}\n` +
        'Warning: you may not list resourceclaims (forbidden): GPUs held through DRA claims are not shown\n',
    );
    expect(r.out).toMatch(
      new RegExp(
        `^GPUs: total and free unknown \\(nodes hidden\\), 6 in use in namespace ${trainNs}, 0 waiting \\(0 pods\\), 0 wasted \\(0 holders\\)\\n\\nHOLDER +WORKLOAD +GPUS +NODE +AGE +STATE +WASTED\\n`,
      ),
    );
    expect(r.out.match(/deploy\/trainer/g)).toHaveLength(2);
    const all = await mlops(['gpus', '-A'], { kubeconfig: restricted });
    expect(all.code).toBe(1);
    expect(all.err).toBe('Error from server (Forbidden): pods is forbidden: User "restricted" cannot list resource "pods" in API group "" at the cluster scope\n');
    const fit = await mlops(['gpus', '-n', trainNs, '--fit', '1'], { kubeconfig: restricted });
    expect(fit.code).toBe(1);
    expect(fit.err).toContain('error: --fit needs the nodes, which you may not list (forbidden)\n');

    // Allowed to list nodes but not every namespace's pods: IN-USE is the namespace's share, and says so.
    const name = `gpus-e2e-nodes-${process.pid}`;
    await kube.create('/apis/rbac.authorization.k8s.io/v1/clusterroles', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name },
      rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['list'] }],
    });
    await kube.create('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'User', name: 'restricted', apiGroup: 'rbac.authorization.k8s.io' }],
    });
    try {
      const n = await until(
        async () => {
          const x = await mlops(['gpus', '-n', trainNs, '-o', 'json'], { kubeconfig: restricted });
          return x.err.includes('may not list nodes') ? undefined : x;
        },
        30_000,
        'the ClusterRoleBinding to apply',
      );
      expect(n.code).toBe(0);
      expect(n.err).toBe(
        `Warning: you may not list pods in all namespaces (forbidden): IN-USE counts only the pods of namespace ${trainNs}\n` +
          'Warning: you may not list resourceslices (forbidden): devices of DRA drivers are not shown\n' +
          'Warning: you may not list resourceclaims (forbidden): GPUs held through DRA claims are not shown\n',
      );
      const j = JSON.parse(n.out) as GpuJson & { scope: { hidden: string[] } };
      expect(j.scope.hidden).toEqual(['podsOutsideNamespace', 'slices', 'claimsOutsideNamespace', 'claims']);
      const node1 = j.nodes.find((x) => x.name === 'mlops-node-1')!.resources[0]!;
      const mine = j.holders.filter((h) => h.node === 'mlops-node-1').reduce((s, h) => s + (h.resources['nvidia.com/gpu'] ?? 0), 0);
      expect(node1).toMatchObject({ allocatable: 8, inUse: mine });
      // A pod of another namespace holds a GPU there: "fits" would be a guess, so --fit refuses, and the summary says "at most".
      const table = await mlops(['gpus', '-n', trainNs], { kubeconfig: restricted });
      expect(table.out).toMatch(/^GPUs: \d+ total, at least \d+ in use, at most \d+ free/);
      const partialFit = await mlops(['gpus', '-n', trainNs, '--fit', '1'], { kubeconfig: restricted });
      expect(partialFit.code).toBe(1);
      expect(partialFit.out).toBe('');
      expect(partialFit.err).toContain('error: --fit needs the pods of all namespaces to know what is free, which you may not list (forbidden)\n');
    } finally {
      await kube.delete(`/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${name}`);
      await kube.delete(`/apis/rbac.authorization.k8s.io/v1/clusterroles/${name}`);
    }
  });

  it('refuses absurd flags before any request, and names a missing node like kubectl', async () => {
    for (const [args, msg] of [
      [['--fit', '0'], 'error: invalid value "0" for --fit: want a whole number of GPUs, 1 or more\n'],
      [['--fit', '1.5'], 'error: invalid value "1.5" for --fit: want a whole number of GPUs, 1 or more\n'],
      [['--fit', '-3'], 'error: invalid value "-3" for --fit: want a whole number of GPUs, 1 or more\n'],
      [
        ['--resource', 'no such/thing'],
        'error: invalid value "no such/thing" for --resource: want an extended resource such as nvidia.com/gpu or nvidia.com/mig-1g.10gb, or a DRA driver name\n',
      ],
      [['--resource', 'cpu'], 'error: invalid value "cpu" for --resource: want an extended resource such as nvidia.com/gpu or nvidia.com/mig-1g.10gb, or a DRA driver name\n'],
      [
        ['--resource', 'kubernetes.io/batch'],
        'error: invalid value "kubernetes.io/batch" for --resource: want an extended resource such as nvidia.com/gpu or nvidia.com/mig-1g.10gb, or a DRA driver name\n',
      ],
      [['--node', 'Bad_Node'], 'error: invalid --node "Bad_Node": a name is at most 253 lower-case letters, digits, "-" and ".", starting and ending with a letter or digit\n'],
      [
        ['-o', 'name'],
        'error: unable to match a printer suitable for the output format "name", allowed formats are: custom-columns,custom-columns-file,json,jsonpath,jsonpath-as-json,jsonpath-file,wide,yaml (-o/--output)\n',
      ],
      [['--not-ready-after', 'soon'], 'error: invalid value "soon" for --not-ready-after: want a duration such as 30s, 5m or 1h (time: invalid duration "soon")\n'],
      [['--not-ready-after', '-5m'], 'error: invalid value "-5m" for --not-ready-after: want 0 or a positive duration such as 10m\n'],
    ] as const) {
      const r = await mlops(['gpus', ...args, '-v']);
      expect({ args, code: r.code, err: r.err }).toEqual({ args, code: 2, err: msg });
    }
    const missing = await mlops(['gpus', '--node', 'no-such-node']);
    expect(missing).toMatchObject({ code: 1, out: '', err: 'Error from server (NotFound): nodes "no-such-node" not found\n' });
    const k = await kubectl(['get', 'node', 'no-such-node']);
    expect(k.err.trim()).toBe(missing.err.trim());
    const none = await mlops(['gpus', '--fit', '1', '--resource', 'example.com/none']);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/^error: no node offers example\.com\/none \(offered: .*nvidia\.com\/gpu.*; pick one with --resource\)\n$/);
    // Without --fit the report is still shown, and says the resource is offered nowhere.
    const shown = await mlops(['gpus', '--resource', 'example.com/none']);
    expect(shown.code).toBe(0);
    expect(shown.err).toContain('Warning: no node offers example.com/none\n');
    expect(shown.out).toMatch(/^GPUs: /);
    const node = await adminKube().get<Node>(pathOf(R.nodes, { name: 'mlops-node-1' }));
    expect(node.metadata!.labels!['nvidia.com/gpu.product']).toBe('NVIDIA-A100-SXM4-80GB');
  });
});
