// The hostile-case matrix for ship, rollback and history (issue 14): bad input exits 2 before
// connecting; missing objects, wrong kinds and unsafe states are refused with nothing changed;
// each declared verb denied alone refuses the command before any write; the declarations
// cover the requests really made; races, Ctrl-C in each wait and re-runs say exactly what
// happened.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminKube, freshNamespace, mlops, repo, until, waitReady } from './helpers.js';
import { expectDeclaredCovers, expectOneLineError, expectUnchanged, grantAllBut, kubeconfigAs, snapshot, startMlops } from './safety.js';
import { needsOf } from '../../src/commands/flow.js';
import { needLabel } from '../../src/commands/permissions.js';
import { R, pathOf } from '../../src/kube/resources.js';
import type { Kube } from '../../src/kube/client.js';
import type { Deployment, Pod, ReplicaSet } from '../../src/kube/types.js';
import { IMG, createDeployment, kubectl, rolledOut } from './rollout-fixtures.js';

const UNREACHABLE = path.join(repo, 'test/fixtures/unreachable-kubeconfig.yaml');
const LONG = 'a'.repeat(300);

describe.concurrent('usage errors exit 2 and never connect (the kubeconfig points at an unreachable server)', () => {
  it.each([
    [['ship', '..', 'app=x:1'], /invalid DEPLOYMENT "\.\."/],
    [['ship', '.', 'app=x:1'], /invalid DEPLOYMENT "\."/],
    [['ship', '', 'app=x:1'], /DEPLOYMENT must not be empty/],
    [['ship', 'a/b', 'app=x:1'], /unsupported kind "a" in DEPLOYMENT "a\/b"/],
    [['ship', 'A_B', 'app=x:1'], /invalid DEPLOYMENT "A_B"/],
    [['ship', LONG, 'app=x:1'], /invalid DEPLOYMENT "a{80}…": a name is at most 253/],
    [['ship', 'statefulset/web', 'app=x:1'], /unsupported kind "statefulset"/],
    [['ship', 'replicaset.apps/web', 'app=x:1'], /unsupported kind "replicaset\.apps"/],
    [['ship', 'web', 'app=x:1', '--timeout', '0'], /invalid value "0" for --timeout: want a positive duration/],
    [['ship', 'deployment.apps/web', 'app=x:1', '--timeout', '600h'], /invalid value "600h" for --timeout: at most 596h/],
    [['ship', 'web', 'app=x:1', '--timeout', 'soon'], /--timeout/],
    [['ship', 'web', 'app'], /invalid argument "app": want CONTAINER=IMAGE/],
    [['ship', 'web', 'app=Bad Image'], /invalid image reference "Bad Image" for container app/],
    [['ship', 'web', 'A_B=x:1'], /invalid container name "A_B"/],
    [['ship', 'web', 'app=x:1', 'app=x:2'], /container app is given twice/],
    [['ship', 'web', 'app=x:1', '--dry-run=maybe'], /invalid value "maybe" for --dry-run/],
    [['ship', 'web', 'app=x:1', '-o', 'wide'], /-o|output/],
    [['rollback', '..'], /invalid DEPLOYMENT "\.\."/],
    [['rollback', '.'], /invalid DEPLOYMENT "\."/],
    [['rollback', ''], /DEPLOYMENT must not be empty/],
    [['rollback', 'a/b'], /unsupported kind "a"/],
    [['rollback', 'A_B'], /invalid DEPLOYMENT "A_B"/],
    [['rollback', LONG], /at most 253/],
    [['rollback', 'svc/web'], /unsupported kind "svc"/],
    [['rollback', 'rs/..', 'app=x:1'], /invalid name in TARGET "rs\/\.\."/],
    [['rollback', 'web', '--timeout', '0'], /invalid value "0" for --timeout/],
    [['rollback', 'deployment.apps/web', '--timeout', '600h'], /at most 596h/],
    [['rollback', 'web', '--to-revision', '-1'], /invalid value "-1" for --to-revision/],
    [['rollback', 'web', '--to-revision', 'latest'], /invalid value "latest" for --to-revision/],
    [['rollback', 'web', '--to-revision', '99999999999999999999'], /for --to-revision: want a revision number/],
    [['rollback', 'web', '--keep-for-debug', '0'], /invalid value "0" for --keep-for-debug/],
    [['rollback', 'web', 'app=x:1'], /CONTAINER=IMAGE arguments apply to rs\/NAME/],
    [['rollback', 'replicaset.apps/web', 'app=x:1', '--to-revision', '2'], /--to-revision applies to Deployments/],
    [['rollback', 'rs/web', 'app=x:1', '--reason', 'x'], /--reason applies to Deployments/],
    [['rollback', 'rs/web'], /at least one CONTAINER=IMAGE is required/],
    [['history', '..'], /invalid DEPLOYMENT "\.\."/],
    [['history', '.'], /invalid DEPLOYMENT "\."/],
    [['history', ''], /DEPLOYMENT must not be empty/],
    [['history', 'a/b'], /unsupported kind "a"/],
    [['history', 'A_B'], /invalid DEPLOYMENT "A_B"/],
    [['history', LONG], /at most 253/],
    [['history', 'rs/web'], /unsupported kind "rs"/],
    [['history', 'web', '--revision', 'x'], /invalid value "x" for --revision/],
    [['history', 'web', '--diff', '1'], /--diff takes exactly two revisions/],
    [['history', 'web', '--revision', '1', '--diff', '1', '2'], /--revision and --diff cannot be used together/],
  ])('%j', async (args, pattern) => {
    const r = await mlops(args, { kubeconfig: UNREACHABLE });
    if (r.err.startsWith('error:')) expectOneLineError(r, 2, pattern);
    else {
      // commander's own usage errors (missing argument, unknown option) are printed by commander.
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(pattern);
    }
  });
});

/** A Deployment `web` at revision 2 (1.0 then 2.0, both with causes), rolled out. */
async function webAtRevision2(kube: Kube, prefix: string): Promise<string> {
  const ns = await freshNamespace(kube, prefix);
  await createDeployment(kube, ns, 'web', { cause: 'initial image 1.0' });
  await rolledOut(kube, ns, 'web');
  const s = await mlops(['ship', 'web', `app=${IMG('2.0')}`, '--cause', 'release 2.0', '-n', ns]);
  expect(s.code, s.err).toBe(0);
  await settled(kube, ns, 'app=web', 2);
  return ns;
}

/** No pod of the selector is still starting or terminating, so snapshots of the namespace hold still. */
async function settled(kube: Kube, ns: string, selector: string, n: number): Promise<void> {
  await until(
    async () => {
      const pods = (await kube.list<Pod>(pathOf(R.pods, { namespace: ns }), { labelSelector: selector })).items;
      return pods.length === n && pods.every((p) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running');
    },
    60_000,
    `${n} settled pods ${selector}`,
  );
}

/** A bare ReplicaSet `bare` with 2 Ready pods on 1.0. */
async function bareReplicaSet(kube: Kube, ns: string): Promise<void> {
  await kube.create(pathOf(R.replicasets, { namespace: ns }), {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'bare' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'bare' } },
      template: { metadata: { labels: { app: 'bare' } }, spec: { containers: [{ name: 'app', image: IMG('1.0') }] } },
    },
  });
  await waitReady(kube, ns, 'app=bare', 2);
}

describe.concurrent('refusals against the local control plane: one line, right exit code, nothing changed', () => {
  let kube: Kube;
  let ns = '';
  let ownedRs = '';
  beforeAll(async () => {
    kube = adminKube();
    ns = await webAtRevision2(kube, 'rollout-refuse');
    await bareReplicaSet(kube, ns);
    await createDeployment(kube, ns, 'lonely', { replicas: 1 });
    await createDeployment(kube, ns, 'held', { replicas: 1 });
    await rolledOut(kube, ns, 'held');
    await rolledOut(kube, ns, 'lonely');
    await settled(kube, ns, 'app in (lonely,held)', 2);
    await kube.patch(pathOf(R.deployments, { namespace: ns, name: 'held' }), { spec: { paused: true } }, 'merge');
    // Snapshots compare resourceVersions: let the controller finish writing the paused status first.
    await until(
      async () => {
        const d = await kube.get<Deployment>(pathOf(R.deployments, { namespace: ns, name: 'held' }));
        return d.status?.observedGeneration === d.metadata?.generation && d.status?.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'DeploymentPaused');
      },
      30_000,
      'held paused',
    );
    ownedRs = (await kube.list<ReplicaSet>(pathOf(R.replicasets, { namespace: ns }), { labelSelector: 'app=web' })).items[0]!.metadata!.name!;
  });

  it.each([
    [['ship', 'nope', 'app=x:1'], 1, /^Error from server \(NotFound\): deployments\.apps "nope" not found$/],
    [['rollback', 'nope'], 1, /^Error from server \(NotFound\): deployments\.apps "nope" not found$/],
    [['history', 'nope'], 1, /^Error from server \(NotFound\): deployments\.apps "nope" not found$/],
    [['rollback', 'rs/nope', 'app=x:1'], 1, /^Error from server \(NotFound\): replicasets\.apps "nope" not found$/],
    // Wrong kind: `bare` is a ReplicaSet, not a Deployment.
    [['ship', 'bare', 'app=x:1'], 1, /^Error from server \(NotFound\): deployments\.apps "bare" not found$/],
    [['history', 'deploy/bare'], 1, /deployments\.apps "bare" not found/],
    [['ship', 'web', 'nope=x:1'], 2, /^error: container "nope" not found in deployment\/web; containers: app$/],
    [
      ['ship', 'held', `app=${IMG('2.0')}`],
      1,
      /^error: deployment\/held is paused, and a paused Deployment does not roll out; resume it first: kubectl rollout resume deployment\/held -n /,
    ],
    [['rollback', 'held'], 1, /^error: deployment\/held is paused, and a paused Deployment does not roll back/],
    [['rollback', 'web', '--to-revision', '9'], 1, /^error: revision 9 not found for deployment\/web; revisions: 1, 2$/],
    [['rollback', 'lonely'], 1, /^error: deployment\/lonely has no previous revision to roll back to; revisions: 1$/],
    [['history', 'web', '--revision', '9'], 1, /^error: revision 9 not found for deployment\/web; revisions: 1, 2$/],
    [['rollback', 'rs/bare', 'nope=x:1'], 2, /^error: container "nope" not found in replicaset\/bare; containers: app$/],
    [['rollback', 'rs/bare', `app=${IMG('0.9')}`, '--keep-for-debug', '3'], 2, /^error: --keep-for-debug 3 is more than the 2 pod\(s\) of replicaset\/bare on the old template$/],
    [['rollback', 'web', '--keep-for-debug', '5'], 2, /^error: --keep-for-debug 5 is more than the 2 pod\(s\) deployment\/web runs on its current revision$/],
    // Off a terminal, deleting pods needs --yes.
    [['rollback', 'rs/bare', `app=${IMG('0.9')}`], 2, /needs confirmation: pass --yes/],
  ] as [string[], number, RegExp][])('%j', async (args, code, pattern) => {
    const before = await snapshot(kube, ns);
    const r = await mlops([...args, '-n', ns]);
    expectOneLineError(r, code, pattern);
    await expectUnchanged(kube, ns, before);
  });

  it.each([
    [
      ['ship', 'web', `app=${IMG('3.0')}`, '--dry-run=client'],
      /^deployment\.apps\/web: ship \(change-cause "image app=registry\.local\/my-app:3\.0"\) \(dry run\)\n  ~ containers\[app\]\.image: registry\.local\/my-app:2\.0 -> registry\.local\/my-app:3\.0\n$/,
    ],
    [['ship', 'web', `app=${IMG('3.0')}`, '--dry-run=server'], /\(server dry run\)\n  ~ containers\[app\]\.image/],
    [
      ['rollback', 'web', '--dry-run=client'],
      /^deployment\.apps\/web: rollback from revision 2 to 1 \(change-cause "rollback to revision 1 \("initial image 1\.0"\)"\) \(dry run\)\n/,
    ],
    [['rollback', 'web', '--dry-run=server'], /rollback from revision 2 to 1 .*\(server dry run\)/],
    [['rollback', 'rs/bare', `app=${IMG('0.9')}`, '--dry-run=server'], /pods to delete \(replaced by the ReplicaSet\): bare-/],
  ] as [string[], RegExp][])('dry run %j: exit 0, the plan on stdout, nothing changed', async (args, out) => {
    const before = await snapshot(kube, ns);
    const r = await mlops([...args, '-n', ns]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(out);
    expect(r.err).not.toMatch(/written|verifying/);
    await expectUnchanged(kube, ns, before);
  });

  it('rollback rs/NAME of a Deployment-owned ReplicaSet points at rollback deploy/NAME, nothing changed', async () => {
    const before = await snapshot(kube, ns);
    const r = await mlops(['rollback', `replicaset.apps/${ownedRs}`, 'app=x:1', '-n', ns]);
    expectOneLineError(r, 2, new RegExp(`^error: replicaset/${ownedRs} is managed by deployment/web`));
    await expectUnchanged(kube, ns, before);
  });
});

describe.concurrent('each declared verb denied alone: refused before the first write, naming verb and resource', () => {
  let kube: Kube;
  let ns = '';
  beforeAll(async () => {
    kube = adminKube();
    ns = await webAtRevision2(kube, 'rollout-rbac');
    await bareReplicaSet(kube, ns);
  });
  const cases = [
    ...needsOf('ship', (w) => w === 'wait').map((n) => ({ command: 'ship', active: ['wait'], args: ['ship', 'web', `app=${IMG('3.0')}`], deny: n })),
    ...needsOf('rollback', (w) => w === 'deployment').map((n) => ({ command: 'rollback', active: ['deployment'], args: ['rollback', 'web'], deny: n })),
    ...needsOf('rollback', (w) => w === 'deployment' || w === 'keep-for-debug')
      .filter((n) => n.when === 'keep-for-debug')
      .map((n) => ({ command: 'rollback', active: ['deployment', 'keep-for-debug'], args: ['rollback', 'web', '--keep-for-debug'], deny: n })),
    ...needsOf('rollback', (w) => w === 'replicaset').map((n) => ({
      command: 'rollback',
      active: ['replicaset'],
      args: ['rollback', 'rs/bare', `app=${IMG('0.9')}`, '--keep-for-debug', '1', '--yes'],
      deny: n,
    })),
  ];
  it.each(cases.map((c, i) => ({ ...c, i, label: `${c.args.slice(0, 3).join(' ')} without ${needLabel(c.deny)}` })))('$label', async ({ command, active, args, deny, i }) => {
    const user = `deny-${command}-${i}`;
    await grantAllBut(
      kube,
      ns,
      user,
      needsOf(command, (w) => active.includes(w)),
      deny,
    );
    const before = await snapshot(kube, ns);
    const r = await mlops([...args, '-n', ns], { kubeconfig: kubeconfigAs(user) });
    expectOneLineError(r, 1, new RegExp(`^error: not allowed to ${needLabel(deny).replace(/\./g, '\\.')} in namespace ${ns}: nothing was changed`));
    expect(r.err).not.toContain('written:');
    await expectUnchanged(kube, ns, before);
  });

  it.each(needsOf('history'))('history without $verb $resource: the server names the verb and resource (a read: no pre-flight)', async (deny) => {
    const user = `deny-history-${deny.verb}`;
    await grantAllBut(kube, ns, user, needsOf('history'), deny);
    const r = await mlops(['history', 'web', '-n', ns], { kubeconfig: kubeconfigAs(user) });
    expectOneLineError(r, 1, new RegExp(`^Error from server \\(Forbidden\\): .*cannot ${deny.verb} resource "${deny.resource}" in API group "${deny.group}"`));
  });
});

describe.concurrent('the declarations cover every request the commands make (audit log)', () => {
  it('ship (waiting, and failing with pods named) and history', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'rollout-audit-ship');
    await createDeployment(kube, ns, 'web', { progressDeadlineSeconds: 2 });
    await rolledOut(kube, ns, 'web');
    // Without the wait (server dry run, --no-wait) the wait's verbs are neither asked for nor used.
    const dry = await expectDeclaredCovers(kube, ns, 'ship', ['ship', 'web', `app=${IMG('2.0')}`, '--dry-run=server', '-n', ns]);
    expect(dry.code, dry.err).toBe(0);
    const noWait = await expectDeclaredCovers(kube, ns, 'ship', ['ship', 'web', `app=${IMG('1.5')}`, '--no-wait', '-n', ns]);
    expect(noWait.code, noWait.err).toBe(0);
    expect(noWait.out).toContain('deployment.apps/web updated\n');
    const ok = await expectDeclaredCovers(kube, ns, 'ship', ['ship', 'web', `app=${IMG('2.0')}`, '-n', ns], ['wait']);
    expect(ok.code, ok.err).toBe(0);
    const failing = await expectDeclaredCovers(kube, ns, 'ship', ['ship', 'web', `app=${IMG('fail-3.0')}`, '-n', ns], ['wait']);
    expectOneLineError(failing, 1, /exceeded its progress deadline \(2s\).*; pods not Ready: web-/);
    const h = await expectDeclaredCovers(kube, ns, 'history', ['history', 'web', '-n', ns]);
    expect(h.code, h.err).toBe(0);
    expect(h.out).toMatch(/^4\* +image app=registry\.local\/my-app:fail-3\.0 /m);
  });

  it('rollback of a Deployment, with --keep-for-debug, and of a bare ReplicaSet', async () => {
    const kube = adminKube();
    const ns = await webAtRevision2(kube, 'rollout-audit-rb');
    const rb = await expectDeclaredCovers(kube, ns, 'rollback', ['rollback', 'web', '--keep-for-debug', '-n', ns], ['deployment', 'keep-for-debug']);
    expect(rb.code, rb.err).toBe(0);
    expect(rb.out).toContain('deployment.apps/web rolled back to revision 1\n');
    const again = await expectDeclaredCovers(kube, ns, 'rollback', ['rollback', 'web', '--to-revision', '1', '-n', ns], ['deployment']);
    expect(again.code, again.err).toBe(0);
    await bareReplicaSet(kube, ns);
    const rs = await expectDeclaredCovers(kube, ns, 'rollback', ['rollback', 'rs/bare', `app=${IMG('0.9')}`, '--keep-for-debug', '1', '--yes', '-n', ns], ['replicaset']);
    expect(rs.code, rs.err).toBe(0);
    expect(rs.out).toContain(`replicaset.apps/bare rolled back: 2/2 Ready on ${IMG('0.9')}\n`);
  });
});

/** A Deployment whose revision 1 can never become Ready (a `fail` image) and whose revision 2 runs: a rollback to 1 waits. */
async function badRevision1(kube: Kube, prefix: string): Promise<string> {
  const ns = await freshNamespace(kube, prefix);
  await createDeployment(kube, ns, 'web', { image: IMG('fail-1.0'), cause: 'broken 1.0' });
  const s = await mlops(['ship', 'web', `app=${IMG('2.0')}`, '-n', ns]);
  expect(s.code, s.err).toBe(0);
  return ns;
}

const get = (kube: Kube, ns: string) => kube.get<Deployment>(pathOf(R.deployments, { namespace: ns, name: 'web' }));

describe.concurrent('during the wait: concurrent changes end it at once, Ctrl-C says what was written, re-runs converge', () => {
  it('ship: a concurrent `kubectl set image` wins the race → exit 1 naming what runs now', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'rollout-race-ship');
    await createDeployment(kube, ns, 'web');
    await rolledOut(kube, ns, 'web');
    const run = startMlops(['ship', 'web', `app=${IMG('fail-2.0')}`, '-v', '-n', ns]);
    await run.waitForErr(/watch=1/);
    expect((await kubectl(['set', 'image', 'deployment/web', `app=${IMG('3.0')}`, '-n', ns])).code).toBe(0);
    const r = await run.done;
    expectOneLineError(
      r,
      1,
      new RegExp(
        `^error: deployment/web was changed by someone else during the rollout: it now runs app=${IMG('3.0').replace(/\./g, '\\.')}, not app=registry\\.local/my-app:fail-2\\.0`,
      ),
    );
    expect(r.err).toContain(`  written:      deployment.apps/web images set to app=${IMG('fail-2.0')}`);
    expect(r.err).toContain(`  superseded:   deployment.apps/web was changed since to run app=${IMG('3.0')}; no resume or undo is offered`);
    expect(r.err).not.toMatch(/to (resume|undo):/);
    expect(r.out).not.toContain('rolled out');
  });

  it('ship: a concurrent `kubectl set env` (same images, another template) ends the wait too, superseded, with no undo that would drop it', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'rollout-race-env');
    await createDeployment(kube, ns, 'web');
    await rolledOut(kube, ns, 'web');
    const run = startMlops(['ship', 'web', `app=${IMG('fail-2.0')}`, '-v', '-n', ns]);
    await run.waitForErr(/watch=1/);
    expect((await kubectl(['set', 'env', 'deployment/web', 'FOO=bar', '-n', ns])).code).toBe(0);
    const r = await run.done;
    expectOneLineError(
      r,
      1,
      /^error: deployment\/web was changed by someone else during the rollout: its pod template is no longer the one this command wrote \(the images are still app=registry\.local\/my-app:fail-2\.0\)/,
    );
    expect(r.err).toContain("  superseded:   deployment.apps/web's pod template was changed since by someone else; no resume or undo is offered");
    expect(r.err).not.toMatch(/to (resume|undo):/);
  });

  it('rollback: a concurrent `kubectl set image` wins the race → never "rolled back", exit 1', async () => {
    const kube = adminKube();
    const ns = await badRevision1(kube, 'rollout-race-rb');
    const run = startMlops(['rollback', 'web', '-v', '-n', ns]);
    await run.waitForErr(/watch=1/);
    expect((await kubectl(['set', 'image', 'deployment/web', `app=${IMG('3.0')}`, '-n', ns])).code).toBe(0);
    const r = await run.done;
    expectOneLineError(
      r,
      1,
      /^error: deployment\/web was changed by someone else during the rollback: it now runs app=registry\.local\/my-app:3\.0, not revision 1's template; the rollback did not take effect/,
    );
    expect(r.out).not.toContain('rolled back to');
    expect(r.err).toContain(`  written:      deployment.apps/web template set to revision 1's (change-cause "rollback to revision 1 ("broken 1.0")")`);
    expect(r.err).toContain(`  superseded:   deployment.apps/web was changed since to run app=${IMG('3.0')}; no resume or undo is offered`);
    expect(r.err).not.toMatch(/to (resume|undo):/);
    // The revision the race produced is not a rollback, though it inherited the rollback's annotations: a bare rollback plans a real one.
    const next = await mlops(['rollback', 'web', '--dry-run=client', '-n', ns]);
    expect(next.code, next.err).toBe(0);
    expect(next.out).toMatch(/^deployment\.apps\/web: rollback from revision 4 to 3 /);
  });

  it('ship: paused or deleted during the wait → exit 1 at once', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'rollout-pause');
    await createDeployment(kube, ns, 'web');
    await rolledOut(kube, ns, 'web');
    const paused = startMlops(['ship', 'web', `app=${IMG('fail-2.0')}`, '-v', '-n', ns]);
    await paused.waitForErr(/watch=1/);
    expect((await kubectl(['rollout', 'pause', 'deployment/web', '-n', ns])).code).toBe(0);
    // Deliberate: a pause during the wait ends it at once, exit 1 (`kubectl rollout status` keeps waiting).
    expectOneLineError(await paused.done, 1, /^error: deployment\/web is paused, so its rollout cannot progress \(.*\); resume it: kubectl rollout resume deployment\/web/);
    await kube.patch(pathOf(R.deployments, { namespace: ns, name: 'web' }), { spec: { paused: false } }, 'merge');
    const deleted = startMlops(['ship', 'web', `app=${IMG('fail-2.0')}`, '-v', '-n', ns]);
    await deleted.waitForErr(/watch=1/);
    expect((await kubectl(['delete', 'deployment/web', '-n', ns, '--wait=false'])).code).toBe(0);
    expectOneLineError(await deleted.done, 1, /^error: deployment\/web was deleted during the rollout/);
  });

  it('ship: Ctrl-C in the wait → 130 with the journal; the re-run verifies and fails on ImagePullBackOff (never "nothing changed", exit 0)', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'rollout-int-ship');
    await createDeployment(kube, ns, 'web');
    await rolledOut(kube, ns, 'web');
    const run = startMlops(['ship', 'web', `app=${IMG('fail-2.0')}`, '-v', '-n', ns]);
    await run.waitForErr(/watch=1/);
    run.interrupt();
    const r = await run.done;
    expectOneLineError(r, 130, /^error: interrupted while waiting for deployment\/web to roll out$/);
    expect(r.err).toContain(`  written:      deployment.apps/web images set to app=${IMG('fail-2.0')}`);
    expect(r.err).toContain(`  not verified: rollout of deployment.apps/web on app=${IMG('fail-2.0')}`);
    expect(r.err).toContain(`  to resume:    kubectl mlops ship web app=${IMG('fail-2.0')} -n ${ns}`);
    expect(r.err).toContain(`  to undo:      kubectl mlops rollback web --to-revision 1 -n ${ns}`);
    // The controller keeps writing status; a spec write would bump the generation.
    const gen = (await get(kube, ns)).metadata!.generation;
    // Deliberate: our --timeout exits 4 (kubectl rollout status --timeout exits 1).
    const again = await mlops(['ship', 'web', `app=${IMG('fail-2.0')}`, '--timeout', '2s', '-n', ns]);
    expectOneLineError(again, 4, /^error: timed out after 2s waiting for deployment\/web to roll out \(.*\); pods not Ready: web-\w+-\w+ \(ImagePullBackOff/);
    expect(again.err).toMatch(/^deployment\.apps\/web already runs registry\.local\/my-app:fail-2\.0 \(revision 2\); nothing to change, verifying its rollout\n/);
    expect(again.err).not.toContain('written:');
    expect((await get(kube, ns)).metadata!.generation).toBe(gen);
    // The undo the journal named works.
    const undo = await mlops(['rollback', 'web', '--to-revision', '1', '-n', ns]);
    expect(undo.code, undo.err).toBe(0);
  });

  it('rollback --keep-for-debug: Ctrl-C in the wait → 130 with the journal (pod detached, template written); the resume command converges ("already at revision 3 (was 1)") and verifies', async () => {
    const kube = adminKube();
    const ns = await badRevision1(kube, 'rollout-int-rb');
    await settled(kube, ns, 'app=web', 2);
    const run = startMlops(['rollback', 'web', '--keep-for-debug', '-v', '-n', ns]);
    await run.waitForErr(/watch=1/);
    run.interrupt();
    const r = await run.done;
    expectOneLineError(r, 130, /^error: interrupted while waiting for deployment\/web to roll back$/);
    const kept = (await kube.list<Pod>(pathOf(R.pods, { namespace: ns }), { labelSelector: 'mlops.kubectl.io/debug=true' })).items.map((p) => p.metadata!.name!);
    expect(kept).toHaveLength(1);
    expect(r.err).toContain(`  written:      pod/${kept[0]} detached from deployment/web for debugging (remove it: kubectl mlops debug-pod done ${kept[0]} -n ${ns})`);
    expect(r.err).toContain(`  written:      deployment.apps/web template set to revision 1's`);
    expect(r.err).toContain(`  to resume:    kubectl mlops rollback web --to-revision 1 -n ${ns}`);
    expect(r.err).toContain(`  to undo:      kubectl mlops rollback web --to-revision 2 -n ${ns}`);
    // The controller keeps writing status; a spec write would bump the generation.
    const gen = (await get(kube, ns)).metadata!.generation;
    const again = await mlops(['rollback', 'web', '--to-revision', '1', '--timeout', '2s', '-n', ns]);
    expect(again.err).toMatch(
      /^deployment\.apps\/web is already at revision 3 \(was 1\); nothing to change, verifying its rollout\nerror: timed out after 2s waiting for deployment\/web to roll out/,
    );
    expectOneLineError(again, 4, /ImagePullBackOff/);
    expect((await get(kube, ns)).metadata!.generation).toBe(gen);
    // The undo the journal named brings revision 2 back, and history shows causes without nesting.
    const undo = await mlops(['rollback', 'web', '--to-revision', '2', '-n', ns]);
    expect(undo.code, undo.err).toBe(0);
    const h = JSON.parse((await mlops(['history', 'web', '-o', 'json', '-n', ns])).out) as { revisions: { revision: number; changeCause: string }[] };
    expect(h.revisions.map((x) => [x.revision, x.changeCause])).toEqual([
      [3, 'rollback to revision 1 ("broken 1.0")'],
      [4, 'rollback to revision 2 ("image app=registry.local/my-app:2.0")'],
    ]);
  });

  it('rollback rs/NAME: Ctrl-C in the wait → 130 naming the template change and the pods deleted; the re-run verifies', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'rollout-int-rs');
    await bareReplicaSet(kube, ns);
    const before = (await kube.list<Pod>(pathOf(R.pods, { namespace: ns }), { labelSelector: 'app=bare' })).items.map((p) => p.metadata!.name!).sort();
    const run = startMlops(['rollback', 'rs/bare', `app=${IMG('fail-0.9')}`, '--yes', '-v', '-n', ns]);
    await run.waitForErr(/watch=1/);
    run.interrupt();
    const r = await run.done;
    expectOneLineError(r, 130, /^error: interrupted while waiting for replicaset\/bare$/);
    expect(r.err).toContain(`  written:      replicaset.apps/bare template set to app=${IMG('fail-0.9')}`);
    for (const p of before) expect(r.err).toContain(`  written:      pod/${p} deleted (old template; the ReplicaSet replaces it)`);
    expect(r.err).toContain(`  to resume:    kubectl mlops rollback rs/bare app=${IMG('fail-0.9')} -n ${ns}`);
    await until(
      async () =>
        (await kube.list<Pod>(pathOf(R.pods, { namespace: ns }), { labelSelector: 'app=bare' })).items
          .filter((p) => !p.metadata?.deletionTimestamp)
          .every((p) => p.spec!.containers[0]!.image === IMG('fail-0.9')),
      30_000,
      'old pods gone',
    );
    const again = await mlops(['rollback', 'rs/bare', `app=${IMG('fail-0.9')}`, '--timeout', '2s', '-n', ns]);
    expect(again.err).toMatch(/^replicaset\.apps\/bare already runs registry\.local\/my-app:fail-0\.9 on every pod; nothing to change, verifying its pods\n/);
    expectOneLineError(again, 4, /^error: timed out waiting for replicaset\/bare to have 2 Ready pods on the new template \(0 Ready\)/);
  });
});
