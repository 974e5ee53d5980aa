// The bad-input matrix of debug-pod, list and done (issue 14), against the local control plane:
// usage errors before connecting, missing objects and wrong kinds, each declared verb denied
// alone, the declarations against the audit log, no replacement possible (quota, scaled to 0),
// concurrent changes and Ctrl-C during the wait, re-runs after each failure, the same command twice.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminKube, deployment, freshNamespace, mlops, repo, until, waitReady } from './helpers.js';
import { getPod, kubectl, settled } from './debug-pod-shared.js';
import { expectDeclaredCovers, expectOneLineError, expectUnchanged, grantAllBut, kubeconfigAs, snapshot, startMlops, written } from './safety.js';
import { R, pathOf } from '../../src/kube/resources.js';
import { needsOf } from '../../src/commands/flow.js';
import { needLabel, type Need } from '../../src/commands/permissions.js';
import type { Kube } from '../../src/kube/client.js';
import type { Pod, ReplicaSet } from '../../src/kube/types.js';

const UNREACHABLE = path.join(repo, 'test/fixtures/unreachable-kubeconfig.yaml');
const FAILING = 'registry.local/my-app:fail-pull';

/** A namespace with the tutorial's Deployment; `failing` pods never become Ready (ImagePullBackOff). */
async function tutorial(kube: Kube, prefix: string, opts: { replicas?: number; failing?: boolean } = {}): Promise<{ ns: string; pods: string[] }> {
  const ns = await freshNamespace(kube, prefix);
  const replicas = opts.replicas ?? 2;
  await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('web', { replicas, image: opts.failing ? FAILING : undefined }));
  const pods = opts.failing
    ? await until(
        async () => {
          const l = (await kube.list<Pod>(pathOf(R.pods, { namespace: ns }), { labelSelector: 'app=web' })).items;
          const pulled = l.filter((p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff');
          return pulled.length === replicas ? pulled : undefined;
        },
        60_000,
        `${replicas} ImagePullBackOff pods in ${ns}`,
      )
    : await waitReady(kube, ns, 'app=web', replicas);
  if (!opts.failing) await settled(kube, ns);
  return { ns, pods: pods.map((p) => p.metadata!.name!).sort() };
}

/** The server's own 403 (a read of the plan step) or the pre-flight's refusal, both naming verb and resource. */
function denied(deny: Need, ns: string): RegExp {
  const res = deny.subresource ? `${deny.resource}/${deny.subresource}` : deny.resource;
  return new RegExp(`cannot ${deny.verb} resource "${res}"|not allowed to ${needLabel(deny).replace(/\./g, '\\.')} in namespace ${ns}: nothing was changed`);
}

/** The `-v` line of the wait for a Ready replacement: a watch of the ReplicaSet's pods. */
function replacementWatch(ns: string): RegExp {
  return new RegExp(`GET /api/v1/namespaces/${ns}/pods\\?(?=[^\\n]*watch=1)(?=[^\\n]*labelSelector=app=web)`);
}

async function readySet(kube: Kube, ns: string): Promise<ReplicaSet> {
  return until(
    async () => {
      const rs = (await kube.list<ReplicaSet>(pathOf(R.replicasets, { namespace: ns }))).items[0];
      return rs && (rs.status?.readyReplicas ?? 0) === rs.spec?.replicas ? rs : undefined;
    },
    60_000,
    `the ReplicaSet in ${ns} Ready`,
  );
}

describe.concurrent('debug-pod usage errors: exit 2 before connecting (unreachable kubeconfig)', () => {
  it.each([
    [['debug-pod', '..'], /invalid POD "\.\."/],
    [['debug-pod', '.'], /invalid POD "\."/],
    [['debug-pod', ''], /POD must not be empty/],
    [['debug-pod', 'a/b'], /unsupported kind "a" in POD "a\/b"/],
    [['debug-pod', 'deploy/web'], /unsupported kind "deploy"/],
    [['debug-pod', 'A_B'], /invalid POD "A_B"/],
    [['debug-pod', 'x'.repeat(300)], /invalid POD "x{80}…": a name is at most 253/],
    [['debug-pod', 'web', '--timeout', '0'], /invalid value "0" for --timeout: want a positive duration/],
    [['debug-pod', 'web', '--timeout', '600h'], /invalid value "600h" for --timeout: at most 596h/],
    [['debug-pod', 'web', '--timeout', 'soon'], /--timeout/],
    [['debug-pod', 'web', '--ttl', '0s'], /invalid value "0s" for --ttl/],
    [['debug-pod', 'web', '--ttl', 'forever'], /--ttl/],
    [['debug-pod', 'web', '--logs', '0'], /invalid value "0" for --logs/],
    [['debug-pod', 'web', '--logs', '1.5'], /invalid value "1.5" for --logs/],
    [['debug-pod', 'web', '--logs', '1e3'], /invalid value "1e3" for --logs/],
    [['debug-pod', 'web', '--label', 'app'], /invalid value "app" for --label: want KEY=VALUE/],
    [['debug-pod', 'web', '--label', 'a b=c'], /invalid label key "a b"/],
    [['debug-pod', 'web', '--label', 'app=-bad'], /invalid label value "-bad"/],
    [['debug-pod', 'web', '--label', 'mlops.kubectl.io/debug=false'], /mlops\.kubectl\.io\/debug is the marker debug-pod sets itself/],
    [['debug-pod', 'web', '--dry-run=maybe'], /invalid value "maybe" for --dry-run/],
    [['debug-pod', 'web', '-o', 'wide'], /output/],
    [['debug-pod', 'list', '-o', 'jsonpath-nope'], /output/],
    [['debug-pod', 'done'], /give the POD to delete, or --expired/],
    [['debug-pod', 'done', 'web', '--expired'], /give a POD or --expired, not both/],
    [['debug-pod', 'done', 'web', '-A'], /-A\/--all-namespaces is used with --expired/],
    [['debug-pod', 'done', '..', '--yes'], /invalid POD "\.\."/],
    [['debug-pod', 'done', 'web', '--timeout', '0', '--yes'], /invalid value "0" for --timeout/],
  ])('%j', async (args, pattern) => {
    const r = await mlops(args, { kubeconfig: UNREACHABLE });
    expectOneLineError(r, 2, pattern);
    expect(r.err).not.toMatch(/cannot reach/);
    expect(r.out).toBe('');
  });
});

describe.concurrent('debug-pod: missing objects and wrong kinds change nothing', () => {
  it('a missing pod, for debug-pod and done', async () => {
    const kube = adminKube();
    const { ns } = await tutorial(kube, 'dp-missing');
    const before = await snapshot(kube, ns);
    expectOneLineError(await mlops(['debug-pod', 'nope', '-n', ns]), 1, /^Error from server \(NotFound\): pods "nope" not found$/);
    expectOneLineError(await mlops(['debug-pod', 'done', 'nope', '-n', ns, '--yes']), 1, /^Error from server \(NotFound\): pods "nope" not found$/);
    await expectUnchanged(kube, ns, before);
  });

  it('StatefulSet, DaemonSet, Job and bare pods are refused with what to do instead', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'dp-kinds');
    const tpl = (app: string) => ({ metadata: { labels: { app } }, spec: { containers: [{ name: 'c', image: 'registry.local/x:1' }] } });
    await kube.create(pathOf(R.statefulsets, { namespace: ns }), {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db' },
      spec: { serviceName: 'db', replicas: 1, selector: { matchLabels: { app: 'db' } }, template: tpl('db') },
    });
    await kube.create(pathOf(R.daemonsets, { namespace: ns }), {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent' },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: tpl('agent') },
    });
    await kube.create(`/apis/batch/v1/namespaces/${ns}/jobs`, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'train' },
      spec: { template: { ...tpl('train'), spec: { ...tpl('train').spec, restartPolicy: 'Never' } } },
    });
    await kube.create(pathOf(R.pods, { namespace: ns }), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bare', labels: { app: 'bare' } }, spec: tpl('bare').spec });
    await waitReady(kube, ns, 'app=db', 1);
    const agent = (await waitReady(kube, ns, 'app=agent', 2))[0]!.metadata!.name!;
    const job = (await waitReady(kube, ns, 'app=train', 1))[0]!.metadata!.name!;
    await waitReady(kube, ns, 'app=bare', 1);
    const before = await snapshot(kube, ns);
    for (const [pod, pattern] of [
      ['db-0', /belongs to StatefulSet db, whose replacement would need the same name and volumes/],
      [agent, /belongs to DaemonSet agent, which runs exactly one pod per node/],
      [job, /belongs to Job train, which counts completions, not replicas/],
      ['bare', /pod\/bare has no controller, so no replacement would be created/],
    ] as const) {
      expectOneLineError(await mlops(['debug-pod', pod, '-n', ns]), 1, pattern);
      expectOneLineError(await mlops(['debug-pod', 'done', pod, '-n', ns, '--yes']), 1, /is not a detached debug pod .*refusing to delete it/);
    }
    await expectUnchanged(kube, ns, before);
    // A bare pod or a Job pod is not "relabelled by hand": list does not show them.
    expect((await mlops(['debug-pod', 'list', '-n', ns])).err).toBe(`No detached debug pods found in ${ns} namespace.\n`);
  });
});

describe.concurrent('debug-pod: each declared verb denied alone refuses before any write', () => {
  let ns: string;
  let victim: string;
  let detached: string;
  beforeAll(async () => {
    const kube = adminKube();
    const t = await tutorial(kube, 'dp-rbac', { replicas: 3 });
    ns = t.ns;
    [victim, detached] = t.pods as [string, string];
    expect((await mlops(['debug-pod', detached, '-n', ns])).code).toBe(0);
    await settled(kube, ns);
  });

  const detachNeeds = needsOf('debug-pod', () => true);
  it.each(detachNeeds.map((n, i) => [needLabel(n), i] as const))('debug-pod without %s', async (_, i) => {
    const kube = adminKube();
    const deny = detachNeeds[i]!;
    const user = `dp-deny-${i}`;
    await grantAllBut(kube, ns, user, detachNeeds, deny);
    const before = await snapshot(kube, ns);
    const r = await mlops(['debug-pod', victim, '-n', ns, '--logs', '3'], { kubeconfig: kubeconfigAs(user) });
    // Reads of the plan step are refused by the server itself; the rest by the pre-flight.
    expectOneLineError(r, 1, denied(deny, ns));
    expect(r.err).not.toContain('written:');
    await expectUnchanged(kube, ns, before);
    expect((await getPod(kube, ns, victim))!.metadata!.ownerReferences).toHaveLength(1);
  });

  const doneNeeds = needsOf('debug-pod done');
  it.each(doneNeeds.map((n, i) => [needLabel(n), i] as const))('debug-pod done without %s', async (_, i) => {
    const kube = adminKube();
    const deny = doneNeeds[i]!;
    const user = `dp-done-deny-${i}`;
    await grantAllBut(kube, ns, user, doneNeeds, deny);
    const before = await snapshot(kube, ns);
    const r = await mlops(['debug-pod', 'done', detached, '-n', ns, '--yes'], { kubeconfig: kubeconfigAs(user) });
    expectOneLineError(r, 1, denied(deny, ns));
    await expectUnchanged(kube, ns, before);
  });

  it('debug-pod list: without list pods it fails; without list replicasets it still lists, with a warning', async () => {
    const kube = adminKube();
    // In one namespace, as the command runs here (no -A, no -w).
    const listNeeds = needsOf('debug-pod list', (w) => w === 'relabelled-by-hand');
    await grantAllBut(
      kube,
      ns,
      'dp-list-nopods',
      listNeeds,
      listNeeds.find((n) => n.resource === 'pods'),
    );
    expectOneLineError(await mlops(['debug-pod', 'list', '-n', ns], { kubeconfig: kubeconfigAs('dp-list-nopods') }), 1, /cannot list resource "pods"/);
    await grantAllBut(
      kube,
      ns,
      'dp-list-nors',
      listNeeds,
      listNeeds.find((n) => n.resource === 'replicasets'),
    );
    // No pod without a controller here: nothing could have been relabelled by hand, so ReplicaSets are not read.
    const r = await mlops(['debug-pod', 'list', '-n', ns, '-o', 'name'], { kubeconfig: kubeconfigAs('dp-list-nors') });
    expect(r).toEqual({ code: 0, out: `pod/${detached}\n`, err: '' });
    // A pod without a controller (maybe relabelled by hand) in another namespace: the ReplicaSets are needed, and their denial is said.
    const other = await freshNamespace(kube, 'dp-list-nors');
    await kube.create(pathOf(R.pods, { namespace: other }), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'loner' },
      spec: { containers: [{ name: 'app', image: 'registry.local/my-app:1.0' }] },
    });
    await grantAllBut(
      kube,
      other,
      'dp-list-nors',
      listNeeds,
      listNeeds.find((n) => n.resource === 'replicasets'),
    );
    const w = await mlops(['debug-pod', 'list', '-n', other, '-o', 'name'], { kubeconfig: kubeconfigAs('dp-list-nors') });
    expect(w).toMatchObject({ code: 0, out: '' });
    expect(w.err).toContain('Warning: you may not list replicasets, so pods relabelled by hand are not shown\n');
  });

  it('re-run after a denial converges once the permission is there', async () => {
    const kube = adminKube();
    // Its own namespace: it writes, and the other cases here compare snapshots.
    const {
      ns,
      pods: [victim],
    } = await tutorial(kube, 'dp-rbac-rerun');
    const user = 'dp-deny-then-allow';
    await grantAllBut(
      kube,
      ns,
      user,
      detachNeeds,
      detachNeeds.find((n) => n.verb === 'watch' && n.resource === 'pods'),
    );
    const denied = await mlops(['debug-pod', victim, '-n', ns], { kubeconfig: kubeconfigAs(user) });
    expectOneLineError(denied, 1, /not allowed to watch pods in namespace .*: nothing was changed/);
    await kube.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: `${user}-watch` },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['watch'] }],
    });
    await kube.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `${user}-watch` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${user}-watch` },
      subjects: [{ kind: 'User', name: user, apiGroup: 'rbac.authorization.k8s.io' }],
    });
    const r = await until(
      async () => {
        const x = await mlops(['debug-pod', victim, '-n', ns], { kubeconfig: kubeconfigAs(user) });
        return x.code === 0 || !/not allowed to watch/.test(x.err) ? x : undefined;
      },
      30_000,
      'the RoleBinding to take effect',
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(`pod/${victim} detached from replicaset/${(await getPod(kube, ns, victim!))!.metadata!.annotations!['mlops.kubectl.io/detached-from']!.split('/')[1]}\n`);
  });
});

describe.concurrent('debug-pod: the declarations cover every request (audit log)', () => {
  it('debug-pod --logs, list and done', async () => {
    const kube = adminKube();
    const { ns, pods } = await tutorial(kube, 'dp-audit');
    const r = await expectDeclaredCovers(kube, ns, 'debug-pod', ['debug-pod', pods[0]!, '-n', ns, '--logs', '2'], ['logs']);
    expect(r.code, r.err).toBe(0);
    // The same command twice: the re-run verifies, with the same permissions.
    expect((await expectDeclaredCovers(kube, ns, 'debug-pod', ['debug-pod', pods[0]!, '-n', ns])).code).toBe(0);
    expect((await expectDeclaredCovers(kube, ns, 'debug-pod list', ['debug-pod', 'list', '-n', ns], ['relabelled-by-hand'])).out).toContain(pods[0]!);
    expect((await expectDeclaredCovers(kube, ns, 'debug-pod done', ['debug-pod', 'done', pods[0]!, '-n', ns, '--yes'])).code).toBe(0);
  });

  it('debug-pod list -A -w: pods listed cluster-wide, then watched (the watch ends at --request-timeout, exit 0)', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'dp-audit-w');
    const r = await expectDeclaredCovers(
      kube,
      ns,
      'debug-pod list',
      ['debug-pod', 'list', '-A', '-w', '--request-timeout', '3s'],
      ['relabelled-by-hand', 'all-namespaces', 'watch', 'watch-all-namespaces'],
    );
    expect(r.code, r.err).toBe(0);
  });
});

describe.concurrent('debug-pod: no replacement possible', () => {
  it('a ResourceQuota full for pods: refused with nothing changed; --force detaches and ends at once on FailedCreate; the re-run fails too; the undo line of the journal puts it back', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'dp-quota');
    await kube.create(`/api/v1/namespaces/${ns}/resourcequotas`, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'team' }, spec: { hard: { pods: '2' } } });
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('web', { replicas: 2 }));
    const [a] = (await waitReady(kube, ns, 'app=web', 2)).map((p) => p.metadata!.name!).sort();
    await until(
      async () => (await kube.get<{ status?: { used?: { pods?: string } } }>(`/api/v1/namespaces/${ns}/resourcequotas/team`)).status?.used?.pods === '2',
      30_000,
      'quota usage counted',
    );
    await settled(kube, ns);
    const before = await snapshot(kube, ns);

    const refused = await mlops(['debug-pod', a!, '-n', ns]);
    expectOneLineError(
      refused,
      1,
      new RegExp(
        `no replacement can be created for pod/${a}: resourcequota/team would refuse it \\(pods: 2/2 used, a replacement needs 1\\); nothing was changed \\(pass --force to detach it anyway\\)`,
      ),
    );
    await expectUnchanged(kube, ns, before);

    const forced = await mlops(['debug-pod', a!, '-n', ns, '--force', '--timeout', '5m']);
    // Terminal at once: far inside the 5 minutes, exit 1 (not 4), with the journal.
    expectOneLineError(forced, 1, new RegExp(`replicaset/web-\\w+ cannot create a replacement for pod/${a}: FailedCreate: .*exceeded quota: team`));
    expect(forced.err).toContain(`Warning: no replacement can be created for pod/${a}: resourcequota/team would refuse it`);
    expect(forced.err).toMatch(new RegExp(`written: +pod/${a} relabelled \\(app: web -> web-debug, mlops.kubectl.io/debug: <none> -> true\\), detached from replicaset/web-`));
    expect(forced.err).toMatch(/not verified: replicaset\/web-\w+ back at 2 Ready with a new replacement/);
    expect(forced.err).toContain(`to undo:      kubectl label pod ${a} -n ${ns} --overwrite app=web mlops.kubectl.io/debug-`);

    // Issue 14: the re-run used to say "nothing changed", exit 0.
    const rerun = await mlops(['debug-pod', a!, '-n', ns, '--timeout', '5m']);
    expectOneLineError(
      rerun,
      1,
      new RegExp(
        `pod/${a} is already detached from replicaset/web-\\w+ \\(since .*\\), but replicaset/web-\\w+ already fails to create pods \\(FailedCreate: .*exceeded quota: team`,
      ),
    );

    // The undo the journal printed, then done on a fresh detach: the quota lets the replacement in.
    const undo = await kubectl(['label', 'pod', a!, '-n', ns, '--overwrite', 'app=web', 'mlops.kubectl.io/debug-']);
    expect(undo.code, undo.err).toBe(0);
    await until(async () => (await getPod(kube, ns, a!))?.metadata?.ownerReferences?.length === 1, 30_000, 'the ReplicaSet to adopt the pod back');
    const rs = await readySet(kube, ns);
    expect(rs.spec?.replicas).toBe(2);
  });

  it('someone scales the Deployment to 0 during the wait: ends at once saying so; the re-run refuses naming the 0 replicas', async () => {
    const kube = adminKube();
    const { ns, pods } = await tutorial(kube, 'dp-scaled', { failing: true });
    const victim = pods[0]!;
    const m = startMlops(['debug-pod', victim, '-n', ns, '--timeout', '5m', '-v']);
    // The wait for a Ready replacement: a watch of every pod in the namespace.
    await m.waitForErr(replacementWatch(ns));
    expect((await kubectl(['scale', 'deploy/web', '--replicas=0', '-n', ns])).code).toBe(0);
    const r = await m.done;
    expectOneLineError(r, 1, new RegExp(`replicaset/web-\\w+ was scaled from 2 to 0 replicas by someone else \\(deployment/web\\) while waiting for it to replace pod/${victim}`));
    expect(r.err).toContain(`written:      pod/${victim} relabelled`);

    const rerun = await mlops(['debug-pod', victim, '-n', ns]);
    expectOneLineError(rerun, 1, new RegExp(`pod/${victim} is already detached from replicaset/web-\\w+ \\(since .*, app=web-debug\\), but replicaset/web-\\w+ is at 0 replicas`));
    expect(rerun.err).not.toContain('written:');
  });

  it('someone deletes the detached pod during the wait: ends at once saying so', async () => {
    const kube = adminKube();
    const { ns, pods } = await tutorial(kube, 'dp-deleted', { failing: true });
    const victim = pods[0]!;
    const m = startMlops(['debug-pod', victim, '-n', ns, '--timeout', '5m', '-v']);
    await m.waitForErr(replacementWatch(ns));
    expect((await kubectl(['delete', 'pod', victim, '-n', ns, '--wait=false'])).code).toBe(0);
    const r = await m.done;
    expectOneLineError(r, 1, new RegExp(`pod/${victim} was deleted by someone else while waiting for replicaset/web-\\w+ to replace it`));
    expect(r.err).toMatch(/verified: +replicaset\/web-\w+ released pod/);
  });
});

describe.concurrent('debug-pod: waits that never end well, interrupts and re-runs', () => {
  it('Ctrl-C in the wait: exit 130 naming the wait and the journal; the re-run verifies and times out (exit 4) while the replacement is not Ready', async () => {
    const kube = adminKube();
    const { ns, pods } = await tutorial(kube, 'dp-int', { failing: true });
    const victim = pods[0]!;
    const m = startMlops(['debug-pod', victim, '-n', ns, '-v']);
    await m.waitForErr(replacementWatch(ns));
    m.interrupt();
    const r = await m.done;
    expectOneLineError(r, 130, new RegExp(`^error: interrupted while waiting for replicaset/web-\\w+ to release pod/${victim} and to have a Ready replacement$`));
    expect(r.err).toContain(`written:      pod/${victim} relabelled (app: web -> web-debug, mlops.kubectl.io/debug: <none> -> true)`);
    expect(r.err).toContain(`to resume:    kubectl mlops debug-pod ${victim} -n ${ns}`);
    expect((await getPod(kube, ns, victim))!.metadata!.labels!['mlops.kubectl.io/debug']).toBe('true');

    // Issue 14: a re-run must not say "nothing changed", exit 0, while pods sit in ImagePullBackOff.
    const rerun = await mlops(['debug-pod', victim, '-n', ns, '--timeout', '2s']);
    expectOneLineError(
      rerun,
      4,
      new RegExp(`timed out waiting for replicaset/web-\\w+ to have 2 Ready pods: 0 Ready, not ready: .*ImagePullBackOff.*pod/${victim} is detached and still running`),
    );
    expect(rerun.out).toBe('');
  });

  it('the first run times out (exit 4) with the state and the journal', async () => {
    const kube = adminKube();
    const { ns, pods } = await tutorial(kube, 'dp-timeout', { failing: true });
    const r = await mlops(['debug-pod', pods[0]!, '-n', ns, '--timeout', '2s']);
    expectOneLineError(r, 4, /timed out waiting for replicaset\/web-\w+ to have 2 Ready pods: 0 Ready, not ready: web-\w+-\w+ \(ImagePullBackOff\)/);
    expect(r.err).toMatch(/written: +pod\/\S+ relabelled/);
    expect(r.err).toMatch(/not verified: replicaset\/web-\w+ back at 2 Ready/);
  });

  it('the same command twice; a different --label on a detached pod is refused naming the detachment; done twice', async () => {
    const kube = adminKube();
    const { ns, pods } = await tutorial(kube, 'dp-twice');
    const victim = pods[0]!;
    const first = await mlops(['debug-pod', victim, '-n', ns]);
    expect(first.code, first.err).toBe(0);
    const rv = written((await getPod(kube, ns, victim))!);
    await settled(kube, ns);
    const before = await snapshot(kube, ns);
    const second = await mlops(['debug-pod', victim, '-n', ns]);
    expect(second.code, second.err).toBe(0);
    expect(second.out).toBe(`pod/${victim} already detached\n`);
    // The pods created since the detach (second precision: an original created in that same second is listed too).
    expect(second.err).toMatch(/replacement: (pod\/web-[\w-]+(, )?)+ Ready; replicaset\/web-\w+ has 2\/2 Ready/);
    const other = await mlops(['debug-pod', victim, '-n', ns, '--label', 'app=to-be-fixed']);
    expectOneLineError(
      other,
      1,
      new RegExp(`pod/${victim} is already detached from replicaset/web-\\w+ \\(since .*, app=web-debug\\); --label app=to-be-fixed would detach it a second time`),
    );
    await expectUnchanged(kube, ns, before);
    expect(written((await getPod(kube, ns, victim))!)).toBe(rv);

    const done = await mlops(['debug-pod', 'done', victim, '-n', ns, '--yes']);
    expect(done.code, done.err).toBe(0);
    expect(done.out).toBe(`pod "${victim}" deleted\n`);
    // done waits until the pod is gone, as kubectl delete does.
    expect(await getPod(kube, ns, victim)).toBeUndefined();
    expectOneLineError(await mlops(['debug-pod', 'done', victim, '-n', ns, '--yes']), 1, /NotFound/);
  });

  it('done on a pod held by a finalizer: timeout exit 4 saying Terminating, with the journal; Ctrl-C exit 130 naming the wait; the re-run converges when it goes', async () => {
    const kube = adminKube();
    const { ns, pods } = await tutorial(kube, 'dp-done-wait');
    const victim = pods[0]!;
    const podPath = pathOf(R.pods, { namespace: ns, name: victim });
    expect((await mlops(['debug-pod', victim, '-n', ns])).code).toBe(0);
    await kube.patch(podPath, { metadata: { finalizers: ['example.com/hold'] } }, 'merge');

    const timedOut = await mlops(['debug-pod', 'done', victim, '-n', ns, '--yes', '--timeout', '2s']);
    expectOneLineError(timedOut, 4, new RegExp(`^error: timed out waiting for pod/${victim} to be gone: it is Terminating$`));
    expect(timedOut.err).toContain(`written:      pod/${victim} deleted (uid `);
    expect(timedOut.err).toContain(`not verified: pod/${victim} gone`);
    expect(timedOut.err).toContain(`to resume:    kubectl mlops debug-pod done ${victim} -n ${ns}`);

    // The wait for the pod to be gone: a watch of that one pod.
    const watching = new RegExp(`GET /api/v1/namespaces/${ns}/pods\\?(?=[^\\n]*watch=1)(?=[^\\n]*fieldSelector=metadata\\.name=${victim})`);
    const interrupted = startMlops(['debug-pod', 'done', victim, '-n', ns, '--yes', '-v']);
    await interrupted.waitForErr(watching);
    interrupted.interrupt();
    const r = await interrupted.done;
    expectOneLineError(r, 130, new RegExp(`^error: interrupted while waiting for pod/${victim} to be gone$`));
    expect(r.err).toContain(`pod/${victim} is already being deleted`);

    const rerun = startMlops(['debug-pod', 'done', victim, '-n', ns, '--yes', '-v']);
    await rerun.waitForErr(watching);
    await kube.patch(podPath, { metadata: { finalizers: null } }, 'merge');
    const ok = await rerun.done;
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toBe(`pod "${victim}" deleted\n`);
    expect(await getPod(kube, ns, victim)).toBeUndefined();
  });

  it('dry runs change nothing', async () => {
    const kube = adminKube();
    const { ns, pods } = await tutorial(kube, 'dp-dry');
    const before = await snapshot(kube, ns);
    const client = await mlops(['debug-pod', pods[0]!, '-n', ns, '--dry-run=client']);
    expect(client.code, client.err).toBe(0);
    expect(client.out).toMatch(new RegExp(`^pod/${pods[0]} would be detached from replicaset/web-\\w+ \\(dry run\\)\\n`));
    const server = await mlops(['debug-pod', pods[0]!, '-n', ns, '--dry-run=server', '-o', 'name']);
    expect(server.code, server.err).toBe(0);
    expect(server.out).toBe(`pod/${pods[0]}\n`);
    await expectUnchanged(kube, ns, before);
  });
});
