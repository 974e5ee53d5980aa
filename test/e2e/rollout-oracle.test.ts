// kubectl is the oracle (issue 16): twin Deployments, kubectl's routine on one, the plugin's
// command on the other, and the end states and exit codes compared. Each deliberate
// difference is named in a one-line comment here and in README ("Deliberate differences").
import { describe, expect, it } from 'vitest';
import { adminKube, freshNamespace, mlops } from './helpers.js';
import { R, pathOf } from '../../src/kube/resources.js';
import type { Deployment, ReplicaSet } from '../../src/kube/types.js';
import { cleanTemplate } from '../../src/workloads/rollout.js';
import { IMG, createDeployment, kubectl, norm, parseKubectlHistory, rolledOut, twinStates } from './rollout-fixtures.js';

const K = 'twin-kubectl';
/** One `error:` line, matching. */
const expectOneLine = (err: string, re: RegExp) => {
  const lines = err.split('\n').filter((l) => l.startsWith('error:'));
  expect(lines, err).toHaveLength(1);
  expect(lines[0]).toMatch(re);
};
const M = 'twin-mlops';

describe.concurrent('rollout commands against kubectl on twin Deployments', () => {
  it('ship = kubectl set image + annotate change-cause + rollout status', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'oracle-ship');
    for (const n of [K, M]) await createDeployment(kube, ns, n, { cause: 'initial image 1.0' });
    await Promise.all([rolledOut(kube, ns, K), rolledOut(kube, ns, M)]);

    const [set, annotate] = [
      await kubectl(['set', 'image', `deployment/${K}`, `app=${IMG('2.0')}`, '-n', ns]),
      await kubectl(['annotate', `deployment/${K}`, 'kubernetes.io/change-cause=release 2.0', '--overwrite', '-n', ns]),
    ];
    expect([set.code, annotate.code], set.err + annotate.err).toEqual([0, 0]);
    const [status, ship] = await Promise.all([
      kubectl(['rollout', 'status', `deployment/${K}`, '--timeout=120s', '-n', ns]),
      mlops(['ship', `deployment.apps/${M}`, `app=${IMG('2.0')}`, '--cause', 'release 2.0', '-n', ns]),
    ]);
    expect(ship.err).not.toMatch(/^error/m);
    expect([ship.code, status.code]).toEqual([status.code, 0]);
    expect(ship.out).toBe(`deployment.apps/${M}: ship (change-cause "release 2.0")\n  ~ containers[app].image: ${IMG('1.0')} -> ${IMG('2.0')}\ndeployment.apps/${M} rolled out\n`);

    const [k, m] = await twinStates(kube, ns, K, M, (a, b) => JSON.stringify(a) === JSON.stringify(b));
    expect(m).toEqual(k);
    expect(m.causes).toEqual({ 1: 'initial image 1.0', 2: 'release 2.0' });

    // history = kubectl rollout history: same revisions, same causes.
    const [kh, mh] = await Promise.all([kubectl(['rollout', 'history', `deployment/${K}`, '-n', ns]), mlops(['history', M, '-o', 'json', '-n', ns])]);
    expect([kh.code, mh.code]).toEqual([0, 0]);
    const ours = JSON.parse(mh.out) as { currentRevision: number; revisions: { revision: number; changeCause: string | null }[] };
    expect(Object.fromEntries(ours.revisions.map((r) => [r.revision, r.changeCause ?? '']))).toEqual(parseKubectlHistory(kh.out));
    expect(ours.currentRevision).toBe(Number(k.revision));
    // history --revision N = kubectl rollout history --revision=N (kubectl prints the ReplicaSet; we print its template without the hash).
    const [kr, mr] = await Promise.all([
      kubectl(['rollout', 'history', `deployment/${K}`, '--revision=1', '-o', 'json', '-n', ns]),
      mlops(['history', M, '--revision', '1', '-o', 'json', '-n', ns]),
    ]);
    expect([kr.code, mr.code]).toEqual([0, 0]);
    const theirs = JSON.parse(kr.out) as ReplicaSet;
    const mine = JSON.parse(mr.out) as { revision: number; changeCause: string; template: unknown };
    expect(norm(mine.template, M)).toEqual(norm(cleanTemplate(theirs.spec?.template), K));
    expect(mine.changeCause).toBe(theirs.metadata?.annotations?.['kubernetes.io/change-cause']);

    // Same command twice: kubectl set image says "unchanged"-ish and exits 0; ship verifies the rollout again and exits 0.
    const [set2, ship2] = await Promise.all([
      kubectl(['set', 'image', `deployment/${K}`, `app=${IMG('2.0')}`, '-n', ns]),
      mlops(['ship', M, `app=${IMG('2.0')}`, '--cause', 'release 2.0', '-n', ns]),
    ]);
    expect([ship2.code, set2.code]).toEqual([0, 0]);
    expect(ship2.err).toBe(`deployment.apps/${M} already runs ${IMG('2.0')} (revision 2); nothing to change, verifying its rollout\n`);
    expect(ship2.out).toBe(`deployment.apps/${M} rolled out\n`);
    const [k2, m2] = await twinStates(kube, ns, K, M);
    expect(m2).toEqual(k2);
    expect(m2.revision).toBe('2');
  });

  it('rollback = kubectl rollout undo (to the previous revision and --to-revision), change-causes never nest', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'oracle-undo');
    for (const n of [K, M]) await createDeployment(kube, ns, n, { cause: 'initial image 1.0' });
    for (const v of ['2.0', '3.0']) {
      for (const n of [K, M]) {
        expect((await mlops(['ship', n, `app=${IMG(v)}`, '--cause', `release ${v}`, '-n', ns])).code).toBe(0);
      }
    }
    const [k0, m0] = await twinStates(kube, ns, K, M, (a, b) => JSON.stringify(a) === JSON.stringify(b));
    expect(m0).toEqual(k0);

    // To the previous revision.
    const undo = await kubectl(['rollout', 'undo', `deployment/${K}`, '-n', ns]);
    const [status, rb] = await Promise.all([kubectl(['rollout', 'status', `deployment/${K}`, '--timeout=120s', '-n', ns]), mlops(['rollback', M, '-n', ns])]);
    expect(rb.err).not.toMatch(/^error/m);
    expect([undo.code, status.code, rb.code]).toEqual([0, 0, 0]);
    expect(rb.out).toContain(`deployment.apps/${M} rolled back to revision 2\n`);
    let [k, m] = await twinStates(kube, ns, K, M);
    expect(m).toEqual({ ...k, causes: m.causes });
    expect(m.revisions.map((r) => [r.revision, r.formerly])).toEqual([
      [1, ''],
      [3, ''],
      [4, '2'],
    ]);
    // Deliberate: kubectl copies revision 2's cause as is; the plugin says it is a rollback, and why.
    expect(k.causes[4]).toBe('release 2.0');
    expect(m.causes[4]).toBe('rollback to revision 2 ("release 2.0")');

    // --to-revision 1.
    const undo1 = await kubectl(['rollout', 'undo', `deployment/${K}`, '--to-revision=1', '-n', ns]);
    const [status1, rb1] = await Promise.all([
      kubectl(['rollout', 'status', `deployment/${K}`, '--timeout=120s', '-n', ns]),
      mlops(['rollback', `deploy/${M}`, '--to-revision', '1', '--reason', '2.0 leaks memory', '-n', ns]),
    ]);
    expect([undo1.code, status1.code, rb1.code]).toEqual([0, 0, 0]);
    [k, m] = await twinStates(kube, ns, K, M);
    expect(m).toEqual({ ...k, causes: m.causes });
    expect(k.causes[5]).toBe('initial image 1.0');
    expect(m.causes[5]).toBe('rollback to revision 1 ("initial image 1.0"): 2.0 leaks memory');

    // Back to revision 4, itself a rollback: kubectl's cause is revision 4's; ours names 4 and the original cause, not a cause of a cause.
    const undo4 = await kubectl(['rollout', 'undo', `deployment/${K}`, '--to-revision=4', '-n', ns]);
    const [status4, rb4] = await Promise.all([
      kubectl(['rollout', 'status', `deployment/${K}`, '--timeout=120s', '-n', ns]),
      mlops(['rollback', M, '--to-revision', '4', '-n', ns]),
    ]);
    expect([undo4.code, status4.code, rb4.code]).toEqual([0, 0, 0]);
    [k, m] = await twinStates(kube, ns, K, M);
    expect(m).toEqual({ ...k, causes: m.causes });
    expect(k.causes[6]).toBe('release 2.0');
    expect(m.causes[6]).toBe('rollback to revision 4 ("release 2.0")');

    // The same command again: kubectl no longer finds revision 4 (it became 6) and fails; the plugin converges.
    const [again4k, again4m] = await Promise.all([
      kubectl(['rollout', 'undo', `deployment/${K}`, '--to-revision=4', '-n', ns]),
      mlops(['rollback', M, '--to-revision', '4', '-n', ns]),
    ]);
    expect(again4k.code).toBe(1);
    // Deliberate: a re-run converges ("already at revision 6 (was 4)") and verifies the rollout instead of failing.
    expect(again4m.code).toBe(0);
    expect(again4m.err).toBe(`deployment.apps/${M} is already at revision 6 (was 4); nothing to change, verifying its rollout\n`);
    // Deliberate: a bare rollback right after a rollback does not toggle back to the bad revision (kubectl undo does).
    const bare = await mlops(['rollback', M, '-n', ns]);
    expect(bare.code).toBe(0);
    expect(bare.err).toBe(
      `deployment.apps/${M} is already at revision 6 (was 4), the result of a rollback; to go further back give --to-revision; nothing to change, verifying its rollout\n`,
    );
    const [k6, m6] = await twinStates(kube, ns, K, M);
    expect(m6).toEqual({ ...k6, causes: m6.causes });

    // history = kubectl rollout history (revision numbers; causes differ only where a rollback wrote them).
    const [kh, mh] = await Promise.all([kubectl(['rollout', 'history', `deployment/${K}`, '-n', ns]), mlops(['history', M, '-o', 'json', '-n', ns])]);
    const ours = JSON.parse(mh.out) as { revisions: { revision: number; changeCause: string | null }[] };
    expect(ours.revisions.map((r) => r.revision)).toEqual(Object.keys(parseKubectlHistory(kh.out)).map(Number));
    expect(ours.revisions.map((r) => r.changeCause)).toEqual([
      'release 3.0',
      'rollback to revision 1 ("initial image 1.0"): 2.0 leaks memory',
      'rollback to revision 4 ("release 2.0")',
    ]);

    // A paused Deployment: both refuse, exit 1, nothing changed.
    for (const n of [K, M]) await kube.patch(pathOf(R.deployments, { namespace: ns, name: n }), { spec: { paused: true } }, 'merge');
    // The controller writes status as it observes the pause; a spec write would bump the generation.
    const genBefore = (await kube.get<Deployment>(pathOf(R.deployments, { namespace: ns, name: M }))).metadata!.generation;
    const [pk, pm] = await Promise.all([kubectl(['rollout', 'undo', `deployment/${K}`, '--to-revision=3', '-n', ns]), mlops(['rollback', M, '--to-revision', '3', '-n', ns])]);
    expect([pk.code, pm.code]).toEqual([1, 1]);
    expect(pm.err).toBe(`error: deployment/${M} is paused, and a paused Deployment does not roll back; resume it first: kubectl rollout resume deployment/${M} -n ${ns}\n`);
    const after = await kube.get<Deployment>(pathOf(R.deployments, { namespace: ns, name: M }));
    expect(after.metadata!.generation).toBe(genBefore);
    expect(after.spec!.template!.spec!.containers[0]!.image).toBe(IMG('2.0'));
  });

  it('a failing image with a progress deadline: ship fails like `kubectl rollout status`, at the deadline, well before --timeout', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'oracle-deadline');
    for (const n of [K, M]) await createDeployment(kube, ns, n, { progressDeadlineSeconds: 3 });
    await Promise.all([rolledOut(kube, ns, K), rolledOut(kube, ns, M)]);

    expect((await kubectl(['set', 'image', `deployment/${K}`, `app=${IMG('fail-2.0')}`, '-n', ns])).code).toBe(0);
    const [status, ship] = await Promise.all([
      kubectl(['rollout', 'status', `deployment/${K}`, '--timeout=150s', '-n', ns]),
      mlops(['ship', M, `app=${IMG('fail-2.0')}`, '--timeout', '150s', '-n', ns]),
    ]);
    expect(status.code).toBe(1);
    expect(status.err).toContain(`deployment "${K}" exceeded its progress deadline`);
    // Same exit code (1, not our timeout's 4): the wait ended at the deadline, before --timeout.
    expect(ship.code).toBe(status.code);
    expect(ship.err).toMatch(
      new RegExp(
        `^error: deployment/${M} exceeded its progress deadline \\(3s\\): ReplicaSet "${M}-\\w+" has timed out progressing; pods not Ready: ${M}-\\w+-\\w+ \\(ImagePullBackOff: Back-off pulling image "registry\\.local/my-app:fail-2\\.0"\\)`,
      ),
    );
    expect(ship.err).toContain(`  written:      deployment.apps/${M} images set to app=${IMG('fail-2.0')} (change-cause "image app=${IMG('fail-2.0')}")`);
    expect(ship.err).toContain(`  not verified: rollout of deployment.apps/${M} on app=${IMG('fail-2.0')}`);
    expect(ship.err).toContain(`  to undo:      kubectl mlops rollback ${M} --to-revision 1 -n ${ns}`);
    const [k, m] = await twinStates(kube, ns, K, M);
    expect(m).toEqual({ ...k, causes: m.causes });
    expect(m.conditions).toContainEqual({ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' });
    // Deliberate: ship records a change-cause; kubectl set image records none.
    expect([k.causes[2], m.causes[2]]).toEqual(['', `image app=${IMG('fail-2.0')}`]);

    // The same again: both still fail at once (never "nothing changed", exit 0).
    const [status2, ship2] = await Promise.all([
      kubectl(['rollout', 'status', `deployment/${K}`, '--timeout=150s', '-n', ns]),
      mlops(['ship', M, `app=${IMG('fail-2.0')}`, '--timeout', '150s', '-n', ns]),
    ]);
    expect([ship2.code, status2.code]).toEqual([1, 1]);
    expect(ship2.err).toMatch(
      /^deployment\.apps\/twin-mlops already runs registry\.local\/my-app:fail-2\.0 \(revision 2\); nothing to change, verifying its rollout\nerror: deployment\/twin-mlops exceeded its progress deadline/,
    );

    // And back: rollback = rollout undo.
    const undo = await kubectl(['rollout', 'undo', `deployment/${K}`, '-n', ns]);
    const [status3, rb] = await Promise.all([kubectl(['rollout', 'status', `deployment/${K}`, '--timeout=120s', '-n', ns]), mlops(['rollback', M, '-n', ns])]);
    expect([undo.code, status3.code, rb.code]).toEqual([0, 0, 0]);
    const [k3, m3] = await twinStates(kube, ns, K, M);
    expect(m3).toEqual({ ...k3, causes: m3.causes });
    expect(m3.conditions).toContainEqual({ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' });
  });
  it('a rollback to a revision that cannot become Ready: rollback fails like `kubectl rollout undo` + `rollout status`, at the deadline', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'oracle-undo-deadline');
    for (const n of [K, M]) await createDeployment(kube, ns, n, { image: IMG('fail-1.0'), cause: 'broken 1.0', progressDeadlineSeconds: 3 });
    for (const n of [K, M]) expect((await mlops(['ship', n, `app=${IMG('2.0')}`, '--cause', 'release 2.0', '-n', ns])).code).toBe(0);
    const undo = await kubectl(['rollout', 'undo', `deployment/${K}`, '-n', ns]);
    const [status, rb] = await Promise.all([kubectl(['rollout', 'status', `deployment/${K}`, '--timeout=150s', '-n', ns]), mlops(['rollback', M, '--timeout', '150s', '-n', ns])]);
    expect(undo.code).toBe(0);
    expect(status.code).toBe(1);
    expect(status.err).toContain(`deployment "${K}" exceeded its progress deadline`);
    // Same exit code; ended at the deadline, not at --timeout (that would be 4).
    expect(rb.code).toBe(status.code);
    expectOneLine(rb.err, new RegExp(`^error: deployment/${M} exceeded its progress deadline \\(3s\\).*; pods not Ready: ${M}-\\w+-\\w+ \\(ImagePullBackOff`));
    expect(rb.out).not.toContain('rolled back to');
    expect(rb.err).toContain(`  to undo:      kubectl mlops rollback ${M} --to-revision 2 -n ${ns}`);
    const [k, m] = await twinStates(kube, ns, K, M);
    expect(m).toEqual({ ...k, causes: m.causes });
    expect(m.conditions).toContainEqual({ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' });
  });
  it('a paused Deployment: kubectl set image patches it and rollout status runs to its timeout; ship refuses before writing', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'oracle-paused');
    for (const n of [K, M]) await createDeployment(kube, ns, n);
    await Promise.all([rolledOut(kube, ns, K), rolledOut(kube, ns, M)]);
    for (const n of [K, M]) expect((await kubectl(['rollout', 'pause', `deployment/${n}`, '-n', ns])).code).toBe(0);
    const genBefore = (await kube.get<Deployment>(pathOf(R.deployments, { namespace: ns, name: M }))).metadata!.generation;
    const set = await kubectl(['set', 'image', `deployment/${K}`, `app=${IMG('2.0')}`, '-n', ns]);
    const [status, ship] = await Promise.all([kubectl(['rollout', 'status', `deployment/${K}`, '--timeout=2s', '-n', ns]), mlops(['ship', M, `app=${IMG('2.0')}`, '-n', ns])]);
    expect([set.code, status.code]).toEqual([0, 1]);
    expect(status.err).toContain('timed out waiting for the condition');
    // Deliberate: ship refuses a paused Deployment before writing (exit 1 at once); kubectl patches it and rollout status waits out its timeout.
    expect(ship.code).toBe(1);
    expect(ship.err).toBe(`error: deployment/${M} is paused, and a paused Deployment does not roll out; resume it first: kubectl rollout resume deployment/${M} -n ${ns}\n`);
    expect((await kube.get<Deployment>(pathOf(R.deployments, { namespace: ns, name: M }))).metadata!.generation).toBe(genBefore);

    // Resumed, both reach the same state.
    for (const n of [K, M]) expect((await kubectl(['rollout', 'resume', `deployment/${n}`, '-n', ns])).code).toBe(0);
    const [status2, ship2] = await Promise.all([kubectl(['rollout', 'status', `deployment/${K}`, '--timeout=120s', '-n', ns]), mlops(['ship', M, `app=${IMG('2.0')}`, '-n', ns])]);
    expect([status2.code, ship2.code]).toEqual([0, 0]);
    const [k, m] = await twinStates(kube, ns, K, M);
    expect(m).toEqual({ ...k, causes: m.causes });
  });
});
