// kubectl is the oracle (issue 16): twin workloads, `kubectl scale --replicas=0` / `--replicas=N`
// on one and `scale-to-zero` / `restore` on the other; the end states and exit codes must match.
// Deliberate differences, one line each (also in the README):
// - while at zero the plugin's twin carries mlops.kubectl.io/recorded-replicas, -scaled-to-zero-at
//   and the scaled-to-zero label (restore needs the count; kubectl asks for --replicas); restore removes them;
// - the plugin returns once the pods are gone (or N are Ready); kubectl scale returns at once;
// - the plugin writes spec.replicas on the workload, kubectl the /scale subresource: same field, no new revision;
// - restore removes the record after the replicas are Ready: for a Deployment that is one more metadata.generation;
// - `job/x` and other kinds kubectl scale refuses at the server are usage errors here (exit 2, before connecting).
import { describe, expect, it } from 'vitest';
import type { Kube } from '../../src/kube/client.js';
import { R, pathOf } from '../../src/kube/resources.js';
import type { Deployment, HPA, Pod, StatefulSet } from '../../src/kube/types.js';
import { adminKube, deployment, freshNamespace, mlops, statefulSet, until, waitReady } from './helpers.js';
import { dPath, hpaFor, hpaScalingActive, kubectl, readyDeployment, replicaSets, scalingDisabled } from './scale-helpers.js';

const OURS = /^mlops\.kubectl\.io\//;

/** The object with the twin's name replaced, server-set and our recorded metadata removed. */
function comparable(obj: { metadata?: Record<string, unknown>; spec?: unknown; status?: unknown }, name: string, { keepOurs = false, generation = true } = {}) {
  const m = obj.metadata as { labels?: Record<string, string>; annotations?: Record<string, string>; generation?: number };
  const drop = (r?: Record<string, string>) => Object.fromEntries(Object.entries(r ?? {}).filter(([k]) => keepOurs || !OURS.test(k)));
  const text = JSON.stringify({ labels: drop(m.labels), annotations: drop(m.annotations), generation: generation ? m.generation : undefined, spec: obj.spec });
  return JSON.parse(text.replaceAll(`"${name}"`, '"TWIN"')) as unknown;
}

async function pods(kube: Kube, ns: string, app: string): Promise<Pod[]> {
  return (await kube.list<Pod>(pathOf(R.pods, { namespace: ns }), { labelSelector: `app=${app}` })).items;
}

async function rsShape(kube: Kube, ns: string, app: string) {
  return (await replicaSets(kube, ns, `app=${app}`)).map((rs) => ({ revision: rs.metadata?.annotations?.['deployment.kubernetes.io/revision'], replicas: rs.spec?.replicas }));
}

type Condition = { type: string; status: string; reason?: string };
const conditions = (h: HPA) => ((h.status?.conditions ?? []) as Condition[]).map((c) => ({ type: c.type, status: c.status, reason: c.reason }));

describe.concurrent('kubectl scale is the oracle for scale-to-zero and restore', () => {
  it('Deployment twins: same spec, generation, revision and ReplicaSets after each step (scaling creates no revision)', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'orcd');
    await Promise.all([readyDeployment(kube, ns, 'k', { replicas: 3 }), readyDeployment(kube, ns, 'p', { replicas: 3 })]);
    const rsBefore = await rsShape(kube, ns, 'k');
    expect(rsBefore).toEqual([{ revision: '1', replicas: 3 }]);

    const [ko, po] = await Promise.all([kubectl(['scale', 'deploy/k', '--replicas=0', '-n', ns]), mlops(['scale-to-zero', 'deploy/p', '-n', ns])]);
    expect([ko.code, po.code]).toEqual([0, 0]);
    expect(ko.out).toBe('deployment.apps/k scaled\n');
    expect(po.out).toMatch(/^deployment\.apps\/p scaled to zero \(3 recorded\)\n/);
    // The plugin has waited for its pods; kubectl has not: wait for the twin's before comparing.
    expect(await pods(kube, ns, 'p')).toEqual([]);
    await until(async () => (await pods(kube, ns, 'k')).length === 0, 60_000, 'the kubectl twin has no pods');
    const [k0, p0] = await Promise.all([kube.get<Deployment>(dPath(ns, 'k')), kube.get<Deployment>(dPath(ns, 'p'))]);
    expect(comparable(p0, 'p')).toEqual(comparable(k0, 'k'));
    expect(p0.spec!.replicas).toBe(0);
    // The one deliberate difference at zero: the record.
    expect(
      Object.keys(p0.metadata!.annotations!)
        .filter((a) => OURS.test(a))
        .sort(),
    ).toEqual(['mlops.kubectl.io/recorded-replicas', 'mlops.kubectl.io/scaled-to-zero-at']);
    expect(p0.metadata!.labels!['mlops.kubectl.io/scaled-to-zero']).toBe('true');
    expect(await rsShape(kube, ns, 'p')).toEqual([{ revision: '1', replicas: 0 }]);
    expect(await rsShape(kube, ns, 'k')).toEqual([{ revision: '1', replicas: 0 }]);

    const [kb, pb] = await Promise.all([kubectl(['scale', 'deploy/k', '--replicas=3', '-n', ns]), mlops(['restore', 'deploy/p', '-n', ns])]);
    expect([kb.code, pb.code]).toEqual([0, 0]);
    expect(pb.out).toBe('deployment.apps/p restored to 3 replicas\n');
    await waitReady(kube, ns, 'app=k', 3);
    const [k1, p1] = await Promise.all([kube.get<Deployment>(dPath(ns, 'k')), kube.get<Deployment>(dPath(ns, 'p'))]);
    // After restore nothing of ours is left: labels, annotations and spec compare equal. The
    // generation is one ahead: removing the record's annotations counts as a Deployment change.
    expect(comparable(p1, 'p', { keepOurs: true, generation: false })).toEqual(comparable(k1, 'k', { keepOurs: true, generation: false }));
    expect(p1.metadata!.generation).toBe(k1.metadata!.generation! + 1);
    expect(p1.status!.readyReplicas).toBe(3);
    expect(await rsShape(kube, ns, 'p')).toEqual([{ revision: '1', replicas: 3 }]);
    expect(await rsShape(kube, ns, 'k')).toEqual([{ revision: '1', replicas: 3 }]);
  });

  it('StatefulSet twins: same spec and generation after each step', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'orcs');
    const sts = (name: string) => statefulSet(name, { replicas: 2 });
    const sPath = (name: string) => pathOf(R.statefulsets, { namespace: ns, name });
    await Promise.all(['k', 'p'].map((n) => kube.create(pathOf(R.statefulsets, { namespace: ns }), sts(n))));
    await Promise.all([waitReady(kube, ns, 'app=k', 2), waitReady(kube, ns, 'app=p', 2)]);

    const [ko, po] = await Promise.all([kubectl(['scale', 'sts/k', '--replicas=0', '-n', ns]), mlops(['scale-to-zero', 'sts/p', '-n', ns])]);
    expect([ko.code, po.code]).toEqual([0, 0]);
    await until(async () => (await pods(kube, ns, 'k')).length === 0, 60_000, 'the kubectl twin has no pods');
    expect(await pods(kube, ns, 'p')).toEqual([]);
    const [k0, p0] = await Promise.all([kube.get<StatefulSet>(sPath('k')), kube.get<StatefulSet>(sPath('p'))]);
    expect(comparable(p0, 'p')).toEqual(comparable(k0, 'k'));

    const [kb, pb] = await Promise.all([kubectl(['scale', 'sts/k', '--replicas=2', '-n', ns]), mlops(['restore', 'sts/p', '-n', ns])]);
    expect([kb.code, pb.code]).toEqual([0, 0]);
    await waitReady(kube, ns, 'app=k', 2);
    const [k1, p1] = await Promise.all([kube.get<StatefulSet>(sPath('k')), kube.get<StatefulSet>(sPath('p'))]);
    expect(comparable(p1, 'p', { keepOurs: true })).toEqual(comparable(k1, 'k', { keepOurs: true }));
    expect(p1.status!.readyReplicas).toBe(2);
  });

  it('HPA twins: the HPA raises a target to its minimum, but leaves one at 0 alone (ScalingDisabled) under kubectl and the plugin alike; restore hands it back', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'orch');
    for (const n of ['k', 'p']) {
      await kube.create(pathOf(R.deployments, { namespace: ns }), deployment(n, { replicas: 1 }));
      await kube.create(pathOf(R.hpas, { namespace: ns }), hpaFor(n, 2, 4));
    }
    // The HPA is active: below its minimum it scales the target up (no metrics needed for that).
    await until(
      async () => {
        const [k, p] = await Promise.all([kube.get<Deployment>(dPath(ns, 'k')), kube.get<Deployment>(dPath(ns, 'p'))]);
        return k.spec!.replicas === 2 && p.spec!.replicas === 2;
      },
      90_000,
      'the HPAs raise both twins to 2',
    );
    await Promise.all([waitReady(kube, ns, 'app=k', 2), waitReady(kube, ns, 'app=p', 2)]);

    const [ko, po] = await Promise.all([kubectl(['scale', 'deploy/k', '--replicas=0', '-n', ns]), mlops(['scale-to-zero', 'deploy/p', '-n', ns])]);
    expect([ko.code, po.code]).toEqual([0, 0]);
    expect(po.err).toBe('horizontalpodautoscaler.autoscaling/p (min 2, max 4) stays: it is inactive while deployment.apps/p is at 0 replicas and resumes after restore\n');
    // Once the controller has seen zero it says so, and it leaves both at 0.
    const [hk, hp] = await Promise.all([hpaScalingActive(kube, ns, 'k', scalingDisabled), hpaScalingActive(kube, ns, 'p', scalingDisabled)]);
    expect(conditions(hp)).toEqual(conditions(hk));
    expect(comparable(hp as never, 'p')).toEqual(comparable(hk as never, 'k'));
    expect(hp.status!.desiredReplicas).toBe(0);
    const [k0, p0] = await Promise.all([kube.get<Deployment>(dPath(ns, 'k')), kube.get<Deployment>(dPath(ns, 'p'))]);
    expect([k0.spec!.replicas, p0.spec!.replicas]).toEqual([0, 0]);
    expect(comparable(p0, 'p')).toEqual(comparable(k0, 'k'));

    const [kb, pb] = await Promise.all([kubectl(['scale', 'deploy/k', '--replicas=2', '-n', ns]), mlops(['restore', 'deploy/p', '-n', ns])]);
    expect([kb.code, pb.code]).toEqual([0, 0]);
    expect(pb.out).toBe('deployment.apps/p restored to 2 replicas\n');
    // The HPA takes over again: ScalingActive leaves ScalingDisabled for both.
    const active = (c: Condition | undefined) => Boolean(c) && !scalingDisabled(c);
    const [hk1, hp1] = await Promise.all([hpaScalingActive(kube, ns, 'k', active), hpaScalingActive(kube, ns, 'p', active)]);
    expect(conditions(hp1)).toEqual(conditions(hk1));
    expect(comparable(hp1 as never, 'p')).toEqual(comparable(hk1 as never, 'k'));
    const [k1, p1] = await Promise.all([kube.get<Deployment>(dPath(ns, 'k')), kube.get<Deployment>(dPath(ns, 'p'))]);
    expect(comparable(p1, 'p', { keepOurs: true, generation: false })).toEqual(comparable(k1, 'k', { keepOurs: true, generation: false }));
    expect(p1.metadata!.generation).toBe(k1.metadata!.generation! + 1);
  });

  it('exit codes: a missing object fails (1) under both; a kind kubectl cannot scale is a usage error here (2)', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'orcx');
    const [kMissing, pMissing, rMissing] = await Promise.all([
      kubectl(['scale', 'deploy/nope', '--replicas=0', '-n', ns]),
      mlops(['scale-to-zero', 'deploy/nope', '-n', ns]),
      mlops(['restore', 'deploy/nope', '-n', ns]),
    ]);
    expect([kMissing.code, pMissing.code, rMissing.code]).toEqual([1, 1, 1]);
    expect(kMissing.err).toContain('deployments.apps "nope" not found');
    expect(pMissing.err).toBe('Error from server (NotFound): deployments.apps "nope" not found\n');
    const [kJob, pJob] = await Promise.all([kubectl(['scale', 'job/x', '--replicas=0', '-n', ns]), mlops(['scale-to-zero', 'job/x', '-n', ns])]);
    expect(kJob.code).toBe(1);
    expect(pJob.code).toBe(2);
  });
});
