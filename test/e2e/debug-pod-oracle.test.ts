// kubectl as the oracle for debug-pod (issue 16): twin Deployments, the tutorial's
// `kubectl label pod X app=to-be-fixed --overwrite` on one and `kubectl mlops debug-pod Y
// --label app=to-be-fixed` on the other, then the end states compared: the pod's labels, the
// ownerReference released, the ReplicaSet's Ready replacement, the Services' endpoints; and
// `debug-pod done` against `kubectl delete pod`.
//
// Deliberate differences (one line each, also in the README):
// - debug-pod adds the label mlops.kubectl.io/debug=true and a ledger in annotations (original labels, ReplicaSet, time, ttl).
// - debug-pod returns only once the ReplicaSet released the pod and has a Ready replacement; kubectl label returns at once.
// - debug-pod refuses when no replacement can be created (quota, 0 replicas) unless --force; kubectl label goes ahead.
// - debug-pod refuses StatefulSet/DaemonSet/Job/bare pods and a second, different --label; kubectl labels anything.
// - debug-pod done deletes only detached pods (by debug-pod or relabelled by hand); kubectl delete pod deletes any pod.
import { describe, expect, it } from 'vitest';
import { adminKube, deployment, freshNamespace, mlops, until, waitReady } from './helpers.js';
import { getPod, kubectl, settled } from './debug-pod-shared.js';
import { R, pathOf } from '../../src/kube/resources.js';
import { isReady } from '../../src/workloads/pods.js';
import type { Kube } from '../../src/kube/client.js';
import type { Pod, ReplicaSet } from '../../src/kube/types.js';
import { expectOneLineError, expectUnchanged, snapshot } from './safety.js';

const DEBUG = 'mlops.kubectl.io/debug';

interface Twin {
  name: string;
  rs: ReplicaSet;
  pods: string[];
}

/** Two identical Deployments (and Services) but for their names: `k` is handled with kubectl, `m` with the plugin. */
async function twins(kube: Kube, ns: string, opts: { replicas?: number; tier?: boolean; bareReplicaSet?: boolean } = {}): Promise<{ k: Twin; m: Twin }> {
  const make = async (name: string): Promise<Twin> => {
    const labels = opts.tier ? { app: name, tier: `${name}-tier` } : { app: name };
    const d = deployment(name, { replicas: opts.replicas ?? 2, labels });
    // The tutorial's ReplicaSet section uses a ReplicaSet of its own, without a Deployment.
    if (opts.bareReplicaSet) await kube.create(pathOf(R.replicasets, { namespace: ns }), { ...d, kind: 'ReplicaSet' });
    else await kube.create(pathOf(R.deployments, { namespace: ns }), d);
    const selector = opts.tier ? { tier: `${name}-tier` } : { app: name };
    await kube.create(pathOf(R.services, { namespace: ns }), { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector, ports: [{ port: 80 }] } });
    const pods = (await waitReady(kube, ns, `app=${name}`, opts.replicas ?? 2)).map((p) => p.metadata!.name!).sort();
    const rs = (await kube.list<ReplicaSet>(pathOf(R.replicasets, { namespace: ns }))).items.find((r) => r.spec?.selector.matchLabels?.app === name)!;
    return { name, rs, pods };
  };
  const [k, m] = await Promise.all([make('twin-k'), make('twin-m')]);
  return { k: k!, m: m! };
}

/** Labels without what is specific to one twin: the debug marker (a deliberate difference), names and the template hash. */
function comparable(pod: Pod, twin: Twin): Record<string, string> {
  const out: Record<string, string> = {};
  const hash = twin.rs.metadata?.labels?.['pod-template-hash'];
  for (const [key, v] of Object.entries(pod.metadata?.labels ?? {})) {
    if (key === DEBUG) continue;
    out[key] = (hash ? v.replace(hash, 'HASH') : v).replace(twin.name, 'TWIN');
  }
  return out;
}

/** Ready pods the twin's ReplicaSet owns, and how many of them are new. */
async function replacement(kube: Kube, ns: string, twin: Twin): Promise<{ ready: number; fresh: number }> {
  const pods = (await kube.list<Pod>(pathOf(R.pods, { namespace: ns }))).items.filter((p) => p.metadata?.ownerReferences?.some((o) => o.uid === twin.rs.metadata!.uid));
  const ready = pods.filter(isReady);
  return { ready: ready.length, fresh: ready.filter((p) => !twin.pods.includes(p.metadata!.name!)).length };
}

/** The pods behind a Service, from its EndpointSlices. */
async function endpoints(kube: Kube, ns: string, service: string): Promise<string[]> {
  const l = await kube.list<{ endpoints?: { targetRef?: { name?: string } }[] }>(`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, {
    labelSelector: `kubernetes.io/service-name=${service}`,
  });
  return l.items.flatMap((s) => (s.endpoints ?? []).map((e) => e.targetRef?.name ?? '')).sort();
}

/**
 * The tutorial's `kubectl label pod K app=to-be-fixed --overwrite` on k's first pod and
 * `debug-pod M --label app=to-be-fixed` on m's, at once; both pods once released and replaced.
 */
async function relabelTwins(kube: Kube, ns: string, k: Twin, m: Twin): Promise<{ mPod: Pod; kPod: Pod }> {
  const [K, M] = [k.pods[0]!, m.pods[0]!];
  const [byKubectl, byMlops] = await Promise.all([
    kubectl(['label', 'pod', K, 'app=to-be-fixed', '--overwrite', '-n', ns]),
    mlops(['debug-pod', M, '--label', 'app=to-be-fixed', '-n', ns]),
  ]);
  expect(byKubectl.code, byKubectl.err).toBe(0);
  expect(byMlops.code, byMlops.err).toBe(0);
  expect(byKubectl.out).toBe(`pod/${K} labeled\n`);
  expect(byMlops.out).toBe(`pod/${M} detached from replicaset/${m.rs.metadata!.name}\n`);
  // debug-pod has already waited for the release and a Ready replacement: checked at once.
  const mPod = (await getPod(kube, ns, M))!;
  expect(mPod.metadata!.ownerReferences ?? []).toEqual([]);
  expect(await replacement(kube, ns, m)).toEqual({ ready: 2, fresh: 1 });
  // kubectl label returns at once; the controller catches up.
  const kPod = await released(kube, ns, K);
  await until(async () => (await replacement(kube, ns, k)).fresh === 1 && (await replacement(kube, ns, k)).ready === 2, 60_000, 'the kubectl twin replaced');
  return { mPod, kPod };
}

/** kubectl label returns at once: the pod once its ReplicaSet has let it go. */
function released(kube: Kube, ns: string, name: string) {
  return until(
    async () => {
      const p = await getPod(kube, ns, name);
      return p && (p.metadata?.ownerReferences ?? []).length === 0 ? p : undefined;
    },
    60_000,
    `${name} released`,
  );
}
describe.concurrent('debug-pod against kubectl on twin Deployments and ReplicaSets', () => {
  it('the tutorial: kubectl label app=to-be-fixed --overwrite vs debug-pod --label app=to-be-fixed; then kubectl delete pod vs debug-pod done', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'dp-oracle');
    const { k, m } = await twins(kube, ns);
    const [K, M] = [k.pods[0]!, m.pods[0]!];
    await until(async () => (await endpoints(kube, ns, 'twin-k')).length === 2 && (await endpoints(kube, ns, 'twin-m')).length === 2, 60_000, 'both Services with 2 endpoints');

    const { mPod, kPod } = await relabelTwins(kube, ns, k, m);

    expect(comparable(mPod, m)).toEqual(comparable(kPod, k));
    expect(comparable(kPod, k)).toEqual({ app: 'to-be-fixed', 'pod-template-hash': 'HASH' });
    expect(mPod.metadata!.labels![DEBUG]).toBe('true');
    // Both pods leave their Service, which keeps 2 endpoints (the replacement took the place).
    await until(
      async () => {
        const [ek, em] = await Promise.all([endpoints(kube, ns, 'twin-k'), endpoints(kube, ns, 'twin-m')]);
        return ek.length === 2 && em.length === 2 && !ek.includes(K) && !em.includes(M);
      },
      60_000,
      'both Services without the relabelled pods',
    );

    // list shows both: one from its ledger, one relabelled by hand.
    const list = await mlops(['debug-pod', 'list', '-n', ns]);
    expect(list.code, list.err).toBe(0);
    expect(list.out).toMatch(new RegExp(`\\n${K} +deployment/twin-k \\(relabelled by hand\\) +\\S+ +mlops-node-\\d +Running +0 +0 +<none>\\n`));
    expect(list.out).toMatch(new RegExp(`\\n${M} +deployment/twin-m +\\S+ +mlops-node-\\d +Running +0 +0 +<none>\\n`));
    const wide = await mlops(['debug-pod', 'list', '-n', ns, '-o', 'wide']);
    // REPLICASET holds names, as kubectl's wide columns do (the kind is in the header).
    expect(wide.out).toMatch(new RegExp(`\\n${K} +deployment/twin-k \\(relabelled by hand\\) .* ${k.rs.metadata!.name}\\n`));
    expect(wide.out).toMatch(new RegExp(`\\n${M} +deployment/twin-m .* twin-m-[a-z0-9]+\\n`));
    // With -l, the same names as kubectl's get of the tutorial's label: both pods, however detached.
    const [byLabel, kubectlByLabel] = await Promise.all([
      mlops(['debug-pod', 'list', '-n', ns, '-l', 'app=to-be-fixed', '-o', 'name']),
      kubectl(['get', 'pods', '-n', ns, '-l', 'app=to-be-fixed', '-o', 'name']),
    ]);
    expect(byLabel.out).toBe(kubectlByLabel.out);
    expect(byLabel.out.split('\n').filter(Boolean).sort()).toEqual([`pod/${K}`, `pod/${M}`].sort());

    // debug-pod on the pod kubectl relabelled: already detached, verified; another --label refused.
    await settled(kube, ns);
    const before = await snapshot(kube, ns);
    const again = await mlops(['debug-pod', K, '-n', ns]);
    expect(again.code, again.err).toBe(0);
    expect(again.err).toContain(`pod/${K} is already detached from replicaset/${k.rs.metadata!.name} (relabelled by hand (app=to-be-fixed)); verifying its replacement`);
    expect(again.err).toMatch(new RegExp(`replacement: .*Ready; replicaset/${k.rs.metadata!.name} has 2/2 Ready`));
    const other = await mlops(['debug-pod', K, '-n', ns, '--label', 'app=other']);
    expectOneLineError(
      other,
      1,
      new RegExp(
        `pod/${K} is already detached from replicaset/${k.rs.metadata!.name} \\(relabelled by hand \\(app=to-be-fixed\\)\\); --label app=other would detach it a second time`,
      ),
    );
    await expectUnchanged(kube, ns, before);

    // kubectl delete pod on the plugin's pod, debug-pod done on kubectl's: same output, both gone on return.
    const [deleted, done] = await Promise.all([kubectl(['delete', 'pod', M, '-n', ns]), mlops(['debug-pod', 'done', K, '-n', ns, '--yes'])]);
    expect(deleted.code, deleted.err).toBe(0);
    expect(done.code, done.err).toBe(0);
    expect(deleted.out).toBe(`pod "${M}" deleted\n`);
    expect(done.out).toBe(`pod "${K}" deleted\n`);
    expect(done.err).toBe(`pod/${K} was relabelled by hand out of replicaset/${k.rs.metadata!.name}\n`);
    expect(await getPod(kube, ns, M)).toBeUndefined();
    expect(await getPod(kube, ns, K)).toBeUndefined();
    expect(await replacement(kube, ns, k)).toEqual({ ready: 2, fresh: 1 });
    expect(await replacement(kube, ns, m)).toEqual({ ready: 2, fresh: 1 });
  });

  it('the tutorial on bare ReplicaSets: the same end states; list and done find the pod kubectl relabelled by its name', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'dp-oracle-rs');
    const { k, m } = await twins(kube, ns, { bareReplicaSet: true });
    const [K, M] = [k.pods[0]!, m.pods[0]!];
    const { mPod, kPod } = await relabelTwins(kube, ns, k, m);
    expect(comparable(mPod, m)).toEqual(comparable(kPod, k));
    expect(comparable(kPod, k)).toEqual({ app: 'to-be-fixed' });

    const list = await mlops(['debug-pod', 'list', '-n', ns]);
    expect(list.out).toMatch(new RegExp(`\\n${K} +replicaset/twin-k \\(relabelled by hand\\) `));
    expect(list.out).toMatch(new RegExp(`\\n${M} +replicaset/twin-m `));
    const [deleted, done] = await Promise.all([kubectl(['delete', 'pod', M, '-n', ns]), mlops(['debug-pod', 'done', K, '-n', ns, '--yes'])]);
    expect([deleted.code, done.code]).toEqual([0, 0]);
    expect([deleted.out, done.out]).toEqual([`pod "${M}" deleted\n`, `pod "${K}" deleted\n`]);
    expect(await getPod(kube, ns, K)).toBeUndefined();
    expect(await getPod(kube, ns, M)).toBeUndefined();
  });

  it('--isolate vs kubectl label of the Service key too: the same labels, both out of the Service', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'dp-oracle-iso');
    const { k, m } = await twins(kube, ns, { tier: true });
    const [K, M] = [k.pods[0]!, m.pods[0]!];
    const [byKubectl, byMlops] = await Promise.all([
      kubectl(['label', 'pod', K, 'app=to-be-fixed', 'tier=twin-k-tier-debug', '--overwrite', '-n', ns]),
      mlops(['debug-pod', M, '--label', 'app=to-be-fixed', '--isolate', '-n', ns]),
    ]);
    expect(byKubectl.code, byKubectl.err).toBe(0);
    expect(byMlops.code, byMlops.err).toBe(0);
    expect(byMlops.err).toContain(`pod/${M} taken out of service/twin-m`);
    const mPod = (await getPod(kube, ns, M))!;
    const kPod = await released(kube, ns, K);
    expect(comparable(mPod, m)).toEqual(comparable(kPod, k));
    expect(comparable(mPod, m)).toEqual({ app: 'to-be-fixed', tier: 'TWIN-tier-debug', 'pod-template-hash': 'HASH' });
    expect(await replacement(kube, ns, m)).toEqual({ ready: 2, fresh: 1 });
    await until(
      async () => {
        const [ek, em] = await Promise.all([endpoints(kube, ns, 'twin-k'), endpoints(kube, ns, 'twin-m')]);
        return ek.length === 2 && em.length === 2 && !ek.includes(K) && !em.includes(M);
      },
      60_000,
      'both Services without the relabelled pods',
    );
  });

  it('a paused Deployment still gets its replacement, with kubectl and with debug-pod (not refused)', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'dp-oracle-paused');
    const { k, m } = await twins(kube, ns);
    for (const t of ['twin-k', 'twin-m']) expect((await kubectl(['rollout', 'pause', `deploy/${t}`, '-n', ns])).code).toBe(0);
    const [byKubectl, byMlops] = await Promise.all([
      kubectl(['label', 'pod', k.pods[0]!, 'app=to-be-fixed', '--overwrite', '-n', ns]),
      mlops(['debug-pod', m.pods[0]!, '--label', 'app=to-be-fixed', '-n', ns]),
    ]);
    expect(byKubectl.code, byKubectl.err).toBe(0);
    expect(byMlops.code, byMlops.err).toBe(0);
    expect(await replacement(kube, ns, m)).toEqual({ ready: 2, fresh: 1 });
    await until(async () => (await replacement(kube, ns, k)).fresh === 1 && (await replacement(kube, ns, k)).ready === 2, 60_000, 'the kubectl twin replaced while paused');
  });

  it('a full ResourceQuota: kubectl label leaves the ReplicaSet failing to replace; debug-pod refuses and changes nothing (deliberate)', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'dp-oracle-quota');
    await kube.create(`/api/v1/namespaces/${ns}/resourcequotas`, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'team' }, spec: { hard: { pods: '2' } } });
    const { k, m } = await twins(kube, ns, { replicas: 1 });
    await until(
      async () => (await kube.get<{ status?: { used?: { pods?: string } } }>(`/api/v1/namespaces/${ns}/resourcequotas/team`)).status?.used?.pods === '2',
      30_000,
      'quota usage counted',
    );
    await settled(kube, ns);
    const before = await snapshot(kube, ns);
    const byMlops = await mlops(['debug-pod', m.pods[0]!, '--label', 'app=to-be-fixed', '-n', ns]);
    expectOneLineError(byMlops, 1, /resourcequota\/team would refuse it \(pods: 2\/2 used, a replacement needs 1\); nothing was changed/);
    await expectUnchanged(kube, ns, before);

    const byKubectl = await kubectl(['label', 'pod', k.pods[0]!, 'app=to-be-fixed', '--overwrite', '-n', ns]);
    expect(byKubectl.code, byKubectl.err).toBe(0);
    // What the plugin refused to produce: no Ready pod left behind the ReplicaSet.
    const failure = await until(
      async () => {
        const rs = await kube.get<ReplicaSet>(pathOf(R.replicasets, { namespace: ns, name: k.rs.metadata!.name! }));
        return rs.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
      },
      60_000,
      'ReplicaFailure on the kubectl twin',
    );
    expect(failure.message).toMatch(/exceeded quota: team/);
    expect(await replacement(kube, ns, k)).toEqual({ ready: 0, fresh: 0 });
  });
});
