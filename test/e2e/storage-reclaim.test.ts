// `storage reclaim` in the command flow (issue 14): usage errors before connecting, refusals
// with nothing changed, each declared verb denied alone, the declaration against the audit
// log, a concurrent change (409, re-plan), Ctrl-C at the question, and the same command twice.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminKube, freshNamespace, mlops, persistentVolume, repo, testPath, until } from './helpers.js';
import { expectDeclaredCovers, expectOneLineError, grantAllBut, kubeconfigAs, written } from './safety.js';
import { R, pathOf } from '../../src/kube/resources.js';
import { COMMAND_NEEDS, needLabel } from '../../src/commands/permissions.js';
import type { PersistentVolume } from '../../src/kube/types.js';

const unreachable = path.join(repo, 'test/fixtures/unreachable-kubeconfig.yaml');

describe('storage reclaim: usage errors exit 2 and never connect', () => {
  it.each([
    [['..', '--yes'], /^error: invalid PV "\.\."/],
    [['.', '--yes'], /^error: invalid PV "\."/],
    [['', '--yes'], /^error: PV must not be empty/],
    [['a/b', '--yes'], /^error: unsupported kind "a" in PV "a\/b"/],
    [['A_B', '--yes'], /^error: invalid PV "A_B"/],
    [['x'.repeat(300), '--yes'], /^error: invalid PV "x{80}…"/],
    [['deploy/web', '--yes'], /^error: unsupported kind "deploy" in PV "deploy\/web"/],
    [['pv/ok', '--timeout', '0', '--yes'], /^error: invalid value "0" for --timeout/],
    [['ok', '--timeout', '600h', '--yes'], /^error: invalid value "600h" for --timeout: at most 596h/],
    [['ok', '--dry-run=bogus'], /^error: invalid value "bogus" for --dry-run/],
    [['ok'], /^error: reclaiming persistentvolume\/ok needs confirmation: pass --yes \(stdin is not a terminal\)/],
    [[], /^error: missing required argument 'pv'/],
  ])('%j', async (args, pattern) => {
    const r = await mlops(['storage', 'reclaim', ...args], { kubeconfig: unreachable });
    expectOneLineError(r, 2, pattern);
    expect(r.out).toBe('');
  });
});

/** The plugin on a pty (util-linux `script`), so it asks; the test answers or presses Ctrl-C. */
function onTerminal(args: string[]) {
  const cmd = ['kubectl-mlops', ...args].map((a) => `'${a}'`).join(' ');
  const child = spawn('script', ['-qec', `stty cols 200 rows 40; ${cmd}`, '/dev/null'], {
    env: { ...process.env, PATH: testPath(), NO_COLOR: '1', KUBECONFIG: inject('cluster').kubeconfig },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  child.stdout.on('data', (d) => {
    out += d;
    for (const w of waiters.splice(0)) w.re.test(out) ? w.resolve() : waiters.push(w);
  });
  const done = new Promise<{ code: number; out: string }>((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, out })));
  return {
    asked: (re: RegExp) => (re.test(out) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ re, resolve }))),
    type: (s: string) => child.stdin.write(s),
    done,
  };
}

describe('storage reclaim against the local control plane', () => {
  const kube = adminKube();
  let ns = '';
  const pvs: string[] = [];
  let n = 0;

  /** A Retain volume whose claim is gone: the volume controller marks it Released. */
  async function released(policy = 'Retain', cls = `rcl-${ns}`): Promise<{ name: string; pv: PersistentVolume }> {
    const name = `rcl-${++n}-${ns}`.slice(0, 63);
    pvs.push(name);
    await kube.create(
      pathOf(R.pvs),
      persistentVolume(name, {
        storageClassName: cls,
        reclaimPolicy: policy,
        claimRef: { namespace: ns, name: `gone-${n}`, uid: `00000000-0000-0000-0000-${String(n).padStart(12, '0')}` },
      }),
    );
    const pv = await until(
      async () => {
        const v = await kube.get<PersistentVolume>(pathOf(R.pvs, { name }));
        return v.status?.phase === 'Released' ? v : undefined;
      },
      30_000,
      `${name} Released`,
    );
    return { name, pv };
  }
  const current = (name: string) => kube.get<PersistentVolume>(pathOf(R.pvs, { name }));

  beforeAll(async () => {
    ns = await freshNamespace(kube, 'reclaim');
  });
  afterAll(async () => {
    await Promise.all(pvs.map((p) => kube.delete(pathOf(R.pvs, { name: p })).catch(() => undefined)));
  });

  it("a missing volume: kubectl's NotFound, exit 1", async () => {
    const r = await mlops(['storage', 'reclaim', `nope-${ns}`, '--yes']);
    expectOneLineError(r, 1, new RegExp(`^Error from server \\(NotFound\\): persistentvolumes "nope-${ns}" not found$`));
  });

  it('refuses a volume still bound to a live claim; nothing changed', async () => {
    const name = `bound-${ns}`.slice(0, 63);
    pvs.push(name);
    await kube.create(pathOf(R.pvs), persistentVolume(name, { storageClassName: `bnd-${ns}` }));
    await kube.create(pathOf(R.pvcs, { namespace: ns }), {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'live' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: `bnd-${ns}` },
    });
    const bound = await until(async () => ((await current(name)).status?.phase === 'Bound' ? current(name) : undefined), 30_000, 'Bound');
    const r = await mlops(['storage', 'reclaim', name, '--yes']);
    expectOneLineError(r, 1, new RegExp(`^error: persistentvolume/${name} is Bound to ${ns}/live; only a Released volume can be reclaimed$`));
    expect(written(await current(name))).toBe(written(bound));
  });

  it('dry runs change nothing; the real run verifies Available; the same command twice converges', async () => {
    const { name, pv } = await released();
    const client = await mlops(['storage', 'reclaim', name, '--dry-run=client']);
    expect(client.out).toBe(`persistentvolume/${name} would be made Available (claimRef to ${ns}/gone-${n} cleared) (dry run)\n`);
    const server = await mlops(['storage', 'reclaim', name, '--dry-run=server']);
    expect(server.code, server.err).toBe(0);
    expect(server.out).toBe(`persistentvolume/${name} would be made Available (claimRef to ${ns}/gone-${n} cleared) (server dry run)\n`);
    expect(written(await current(name))).toBe(written(pv));

    const first = await mlops(['storage', 'reclaim', name, '--yes']);
    expect(first.code, first.err).toBe(0);
    expect(first.out).toBe(`persistentvolume/${name} reclaimed: Available\n`);
    expect(first.err).toBe(`Warning: the data of the former claim ${ns}/gone-${n} is still on the volume\n`);
    const after = await current(name);
    expect(after.status?.phase).toBe('Available');
    expect(after.spec?.claimRef).toBeUndefined();

    const second = await mlops(['storage', 'reclaim', name, '--yes']);
    expect(second).toEqual({ code: 0, out: `persistentvolume/${name} already Available\n`, err: '' });
    expect(written(await current(name))).toBe(written(after));
  });

  it('a claim waiting for that volume: storage names it as the near miss, reclaim frees it, the controller binds it', async () => {
    // A class of its own: no other volume of this file can serve the claim.
    const { name } = await released('Retain', `wait-${ns}`);
    await kube.create(pathOf(R.pvcs, { namespace: ns }), {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'waiting' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: `wait-${ns}` },
    });
    const before = await mlops(['storage', 'waiting', '-n', ns, '-o', 'json']);
    expect((JSON.parse(before.out) as { nearMisses: unknown[] }).nearMisses).toContainEqual({
      name,
      why: [`is Released and still holds the claimRef of ${ns}/gone-${n} (\`kubectl mlops storage reclaim ${name}\` frees it)`],
    });
    const r = await mlops(['storage', 'reclaim', name, '--yes']);
    expect(r.code, r.err).toBe(0);
    // The controller may bind the waiting claim before the wait sees Available: both are the truth.
    expect(r.out).toMatch(new RegExp(`^persistentvolume/${name} reclaimed: Available(, and at once claimed by ${ns}/waiting)?\n$`));
    await until(async () => (await current(name)).spec?.claimRef?.name === 'waiting' && (await current(name)).status?.phase === 'Bound', 30_000, 'bound to the waiting claim');
  });

  const needs = COMMAND_NEEDS['storage reclaim']!;
  it.each(needs.map((need) => [needLabel(need) + (need.cluster ? ' (cluster-wide)' : ''), need] as const))(
    'denied %s alone: refused, naming it, nothing changed',
    async (_label, need) => {
      const { name, pv } = await released();
      const user = `rcl-deny-${needs.indexOf(need)}-${ns}`.slice(0, 60);
      await grantAllBut(kube, ns, user, needs, need);
      const r = await mlops(['storage', 'reclaim', name, '--yes'], { kubeconfig: kubeconfigAs(user) });
      expectOneLineError(r, 1, new RegExp(`${need.verb}( resource "|\\s)${need.resource}`));
      expect(r.err).not.toContain('What this command did');
      expect(written(await current(name))).toBe(written(pv));
    },
  );

  it('the declaration covers every request it makes (audit log), and it works with exactly those permissions', async () => {
    const { name } = await released();
    const r = await expectDeclaredCovers(kube, ns, 'storage reclaim', ['storage', 'reclaim', name, '--yes']);
    expect(r.code, r.err).toBe(0);
    expect((await current(name)).status?.phase).toBe('Available');
  });

  it('a concurrent change while it asks: the guarded patch gets 409, re-plans on the new volume and keeps the other change', async () => {
    const { name } = await released();
    const t = onTerminal(['storage', 'reclaim', name, '-v']);
    await t.asked(/Make persistentvolume\/\S+ Available\?/);
    await kube.patch(pathOf(R.pvs, { name }), { metadata: { labels: { owner: 'colleague' } } }, 'merge');
    t.type('y\r');
    const r = await t.done;
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(new RegExp(`PATCH /api/v1/persistentvolumes/${name}(\\?\\S*)? 409 `));
    expect(r.out).toMatch(new RegExp(`PATCH /api/v1/persistentvolumes/${name}(\\?\\S*)? 200 `));
    expect(r.out).toContain(`persistentvolume/${name} reclaimed: Available`);
    const pv = await current(name);
    expect(pv.metadata?.labels).toEqual({ owner: 'colleague' });
    expect(pv.spec?.claimRef).toBeUndefined();
  });

  it('someone else clears the claimRef while it asks: nothing written, the end state verified', async () => {
    const { name } = await released();
    const t = onTerminal(['storage', 'reclaim', name]);
    await t.asked(/Make persistentvolume\/\S+ Available\?/);
    await kube.patch(pathOf(R.pvs, { name }), [{ op: 'remove', path: '/spec/claimRef' }], 'json');
    t.type('y\r');
    const r = await t.done;
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(`persistentvolume/${name} Available: its claimRef was cleared meanwhile by someone else; nothing written`);
  });

  it('Ctrl-C at the question: exit 130, nothing changed', async () => {
    const { name, pv } = await released();
    const t = onTerminal(['storage', 'reclaim', name]);
    await t.asked(/Make persistentvolume\/\S+ Available\?/);
    t.type('\x03');
    const r = await t.done;
    expect(r.code, r.out).toBe(130);
    expect(r.out).toContain(`error: aborted: reclaiming persistentvolume/${name} not done`);
    expect(written(await current(name))).toBe(written(pv));
  });
});
