// kubectl is the oracle (issue 16): the same claims and volumes seen through `kubectl get
// pvc/pv`, `kubectl get -o json` and `kubectl describe pvc`, and through `storage`. Columns
// and fields that mean the same thing must agree; where the plugin says more (REASON, USED-BY,
// the near-miss volumes), the scenario checks that against the real volume controller.
// Deliberate differences (also in the README):
// - USED-BY leaves out Succeeded/Failed pods (they no longer hold the claim); kubectl describe lists them.
// - CAPACITY adds "(asked X)" when the bound size differs from the request.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminKube, freshNamespace, mlops, run, until, waitReady } from './helpers.js';
import { R, pathOf } from '../../src/kube/resources.js';
import type { KEvent, PersistentVolume, PersistentVolumeClaim } from '../../src/kube/types.js';
import { bestMatch } from '../../src/storage/binder.js';

const kubectl = (args: string[]) => run('kubectl', args, { env: { KUBECONFIG: inject('cluster').kubeconfig } });

/** Rows of a kubectl-style table, cut at the header's column starts (headers may hold one space: ACCESS MODES). */
function parseTable(text: string): Record<string, string>[] {
  const [head, ...rows] = text.trimEnd().split('\n');
  const cols = [...head!.matchAll(/\S+(?: \S+)*/g)].map((m) => ({ name: m[0], at: m.index }));
  return rows.map((row) => Object.fromEntries(cols.map((c, i) => [c.name, row.slice(c.at, cols[i + 1]?.at ?? row.length).trim()])));
}

/** `kubectl describe`'s multi-line field (Used By:), one value per line, [] for <none>. */
function describeField(text: string, field: string): string[] {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.startsWith(`${field}:`));
  if (i < 0) throw new Error(`no ${field} in:\n${text}`);
  const values = [lines[i]!.slice(field.length + 1).trim()];
  for (const l of lines.slice(i + 1)) {
    if (!/^\s+\S/.test(l)) break;
    values.push(l.trim());
  }
  return values.filter((v) => v && v !== '<none>');
}

function describeEventReasons(text: string): string[] {
  const at = text.indexOf('\nEvents:');
  if (at < 0 || /\nEvents:\s+<none>/.test(text)) return [];
  return text
    .slice(at)
    .split('\n')
    .slice(4)
    .map((l) => l.trim().split(/\s+/)[1])
    .filter((x): x is string => Boolean(x));
}

const claim = (name: string, cls: string, size: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } }, storageClassName: cls, ...extra },
});
const volume = (name: string, cls: string, size: string, extra: { modes?: string[]; labels?: Record<string, string>; volumeMode?: string } = {}) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name, labels: extra.labels ?? {} },
  spec: {
    capacity: { storage: size },
    accessModes: extra.modes ?? ['ReadWriteOnce'],
    persistentVolumeReclaimPolicy: 'Retain',
    storageClassName: cls,
    ...(extra.volumeMode ? { volumeMode: extra.volumeMode } : {}),
    hostPath: { path: `/tmp/${name}` },
  },
});
const podUsing = (name: string, claimName: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: name } },
  spec: {
    containers: [{ name: 'c', image: 'registry.local/app:1', volumeMounts: [{ name: 'd', mountPath: '/d' }] }],
    volumes: [{ name: 'd', persistentVolumeClaim: { claimName } }],
  },
});

describe('storage against kubectl, on the same claims and volumes', () => {
  const kube = adminKube();
  let ns = '';
  const pvs: string[] = [];
  const cls = { size: '', block: '', sel: '' };
  let dataPv = '';

  beforeAll(async () => {
    ns = await freshNamespace(kube, 'stor-oracle');
    cls.size = `sz-${ns}`;
    cls.block = `blk-${ns}`;
    cls.sel = `sel-${ns}`;
    const vols = [
      volume(`small-${ns}`, cls.size, '1Gi'),
      volume(`rox-${ns}`, cls.size, '5Gi', { modes: ['ReadOnlyMany'] }),
      volume(`fs-${ns}`, cls.block, '5Gi'),
      volume(`silver-${ns}`, cls.sel, '5Gi', { labels: { tier: 'silver' } }),
    ];
    for (const v of vols) pvs.push(v.metadata.name);
    await Promise.all(vols.map((v) => kube.create(pathOf(R.pvs), v)));
    const claims = [
      claim('data', 'standard', '1Gi'),
      claim('held', 'standard', '1Gi'),
      claim('big', cls.size, '2Gi'),
      claim('raw', cls.block, '2Gi', { volumeMode: 'Block' }),
      claim('picky', cls.sel, '2Gi', { selector: { matchLabels: { tier: 'gold' } } }),
      claim('typo', 'no-such-class', '1Gi'),
    ];
    await Promise.all(claims.map((c) => kube.create(pathOf(R.pvcs, { namespace: ns }), c)));
    await Promise.all([podUsing('reader', 'data'), podUsing('holder', 'held')].map((p) => kube.create(pathOf(R.pods, { namespace: ns }), p)));
    await Promise.all([waitReady(kube, ns, 'app=reader', 1), waitReady(kube, ns, 'app=holder', 1)]);
    // A claim in use is only marked for deletion: the pvc-protection finalizer holds it while the pod runs.
    await kube.delete(pathOf(R.pvcs, { namespace: ns, name: 'held' }));
    // So is a bound volume (pv-protection): the volume of `data` stays, Terminating.
    dataPv = (await kube.get<PersistentVolumeClaim>(pathOf(R.pvcs, { namespace: ns, name: 'data' }))).spec!.volumeName!;
    await kube.delete(pathOf(R.pvs, { name: dataPv }));
    await until(async () => Boolean((await kube.get<PersistentVolume>(pathOf(R.pvs, { name: dataPv }))).metadata?.deletionTimestamp), 30_000, 'data volume Terminating');
    await until(
      async () => Boolean((await kube.get<PersistentVolumeClaim>(pathOf(R.pvcs, { namespace: ns, name: 'held' }))).metadata?.deletionTimestamp),
      30_000,
      'held Terminating',
    );
    // The volume controller has looked at every Pending claim once it has said why (an event each).
    await until(
      async () => {
        const ev = await kube.list<KEvent>(pathOf(R.events, { namespace: ns }), { fieldSelector: 'involvedObject.kind=PersistentVolumeClaim' });
        return ['big', 'raw', 'picky', 'typo'].every((n) => ev.items.some((e) => e.involvedObject?.name === n));
      },
      30_000,
      'events of the Pending claims',
    );
  });

  afterAll(async () => {
    await Promise.all(pvs.map((p) => kube.delete(pathOf(R.pvs, { name: p })).catch(() => undefined)));
  });

  it('the table: STATUS (incl. Terminating), VOLUME, CAPACITY, ACCESS MODES, STORAGECLASS as `kubectl get pvc`', async () => {
    const [k, m] = await Promise.all([kubectl(['get', 'pvc', '-n', ns]), mlops(['storage', '-n', ns])]);
    expect(k.code, k.err).toBe(0);
    expect(m.code, m.err).toBe(0);
    const theirs = parseTable(k.out);
    const ours = parseTable(m.out);
    expect(ours.map((r) => r.NAME)).toEqual(theirs.map((r) => r.NAME));
    for (const col of ['STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS']) {
      expect(
        ours.map((r) => `${r.NAME} ${r[col]}`),
        col,
      ).toEqual(theirs.map((r) => `${r.NAME} ${r[col]}`));
    }
    expect(Object.fromEntries(ours.map((r) => [r.NAME, r.STATUS]))).toMatchObject({ data: 'Bound', held: 'Terminating', big: 'Pending', typo: 'Pending' });
  });

  it('-o json: status, phase, volume, capacity, access modes, class and deletion as `kubectl get pvc -o json`', async () => {
    const [k, m, kpv] = await Promise.all([kubectl(['get', 'pvc', '-n', ns, '-o', 'json']), mlops(['storage', '-n', ns, '-o', 'json']), kubectl(['get', 'pv', '-o', 'json'])]);
    const theirs = (JSON.parse(k.out) as { items: PersistentVolumeClaim[] }).items;
    const volumes = new Map((JSON.parse(kpv.out) as { items: PersistentVolume[] }).items.map((v) => [v.metadata!.name!, v]));
    const ours = (JSON.parse(m.out) as { claims: Record<string, unknown>[] }).claims;
    expect(ours).toHaveLength(theirs.length);
    for (const c of theirs) {
      const named = Boolean(c.spec?.volumeName);
      const o = ours.find((x) => x.name === c.metadata?.name)!;
      expect(o, c.metadata?.name).toMatchObject({
        status: c.metadata?.deletionTimestamp ? 'Terminating' : c.status?.phase,
        phase: c.status?.phase,
        deletionTimestamp: c.metadata?.deletionTimestamp ?? null,
        finalizers: c.metadata?.finalizers ?? [],
        volume: named ? { name: c.spec?.volumeName } : null,
        capacity: named ? ((c.status?.capacity as Record<string, string>).storage ?? null) : null,
        boundAccessModes: named ? c.status?.accessModes : [],
        accessModes: c.spec?.accessModes,
        requested: (c.spec?.resources?.requests as Record<string, string>).storage,
        storageClass: { name: c.spec?.storageClassName },
      });
      const v = named ? volumes.get(c.spec!.volumeName!) : undefined;
      if (v) {
        expect(o.volume, c.metadata?.name).toEqual({
          name: v.metadata?.name,
          status: v.metadata?.deletionTimestamp ? 'Terminating' : v.status?.phase,
          phase: v.status?.phase,
          reclaimPolicy: v.spec?.persistentVolumeReclaimPolicy,
          capacity: (v.spec?.capacity as Record<string, string>).storage,
          volumeMode: v.spec?.volumeMode,
        });
      }
    }
  });

  it.each(['data', 'held', 'big', 'typo'])('tree of %s: Used By and events as `kubectl describe pvc`', async (name) => {
    const [k, m, j] = await Promise.all([kubectl(['describe', 'pvc', name, '-n', ns]), mlops(['storage', name, '-n', ns]), mlops(['storage', name, '-n', ns, '-o', 'json'])]);
    expect(k.code, k.err).toBe(0);
    expect(m.code, m.err).toBe(0);
    const view = JSON.parse(j.out) as { status: string; usedBy: { pod: string }[]; events: { reason: string }[] };
    expect(view.usedBy.map((u) => u.pod).sort()).toEqual(describeField(k.out, 'Used By').sort());
    for (const pod of describeField(k.out, 'Used By')) expect(m.out).toContain(`├─ used by: pod/${pod} `);
    // describe may show more than our last ten, never other ones.
    const theirs = describeEventReasons(k.out);
    expect(new Set(view.events.map((e) => e.reason))).toEqual(new Set(theirs.slice(-10)));
    expect(describeField(k.out, 'Status')[0]).toMatch(new RegExp(`^${view.status}\\b`));
    expect(m.out.split('\n')[0]).toMatch(new RegExp(`^persistentvolumeclaim/${name} \\(${view.status}, `));
  });

  it('a Terminating claim says which pod holds it; a Terminating volume shows in the tree', async () => {
    const d = await mlops(['storage', 'data', '-n', ns]);
    expect(d.out).toContain(`├─ volume: ${dataPv} (1Gi, Terminating, reclaim Delete)\n`);
    const m = await mlops(['storage', 'held', '-n', ns]);
    expect(m.out).toContain('├─ terminating: deleted, but pod holder still uses it (kubernetes.io/pvc-protection); it goes when they stop\n');
  });

  it('Pending on static volumes: the near-miss volume and why, by the binder rules; the class blamed only when it does not exist', async () => {
    const m = await mlops(['storage', '-n', ns, '-o', 'json']);
    const claims = (JSON.parse(m.out) as { claims: { name: string; reason: string; nearMisses: { name: string; why: string[] }[] }[] }).claims;
    const by = (n: string) => claims.find((c) => c.name === n)!;
    expect(by('big').nearMisses).toEqual([
      { name: `rox-${ns}`, why: ['has access modes ROX (asked RWO)'] },
      { name: `small-${ns}`, why: ['is too small (1Gi < 2Gi asked)'] },
    ]);
    expect(by('raw').nearMisses).toEqual([{ name: `fs-${ns}`, why: ['has volumeMode Filesystem (asked Block)'] }]);
    expect(by('picky').nearMisses).toEqual([{ name: `silver-${ns}`, why: ['does not match the selector tier=gold'] }]);
    expect(by('big').reason).toBe(
      `no PersistentVolume fits (size >= 2Gi, modes RWO, class "${cls.size}"): rox-${ns} has access modes ROX (asked RWO); small-${ns} is too small (1Gi < 2Gi asked); StorageClass "${cls.size}" does not exist, so nothing provisions one; last warning: ProvisioningFailed: storageclass.storage.k8s.io "${cls.size}" not found`,
    );
    // The controller agrees that nothing fits: it tried to provision, which needs the class.
    const k = await kubectl(['describe', 'pvc', 'big', '-n', ns]);
    expect(k.out).toMatch(/ProvisioningFailed .*storageclass\.storage\.k8s\.io "sz-[^"]+" not found/);

    const tree = await mlops(['storage', 'big', '-n', ns]);
    expect(tree.out).toContain(`│  └─ rox-${ns}: has access modes ROX (asked RWO)\n│  └─ small-${ns}: is too small (1Gi < 2Gi asked)\n`);
  });

  it('`storage pv` as `kubectl get pv`, and an Available volume says by whom it can be claimed', async () => {
    const [k, m] = await Promise.all([kubectl(['get', 'pv']), mlops(['storage', 'pv'])]);
    const mine = (rows: Record<string, string>[]) => rows.filter((r) => pvs.includes(r.NAME!) || r.NAME === dataPv);
    const byName = (a: Record<string, string>, b: Record<string, string>) => (a.NAME! < b.NAME! ? -1 : 1);
    const theirs = mine(parseTable(k.out)).sort(byName);
    const ours = mine(parseTable(m.out)).sort(byName);
    expect(ours).toHaveLength(pvs.length + 1);
    expect(ours.find((r) => r.NAME === dataPv)?.STATUS).toBe('Terminating');
    for (const col of ['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS']) {
      expect(
        ours.map((r) => r[col]),
        col,
      ).toEqual(theirs.map((r) => r[col]));
    }
    const small = ours.find((r) => r.NAME === `small-${ns}`)!;
    expect(small.NOTE).toBe(`can be claimed by a claim of class "${cls.size}", asking <= 1Gi, modes within RWO; not Pending ${ns}/big (it is too small (1Gi < 2Gi asked))`);
  });

  it('local volumes (WaitForFirstConsumer): a volume pinned to a node that does not exist is named; the scheduler agrees', async () => {
    const local = `local-${ns}`;
    const pinned = `pinned-${ns}`;
    pvs.push(pinned);
    await kube.create('/apis/storage.k8s.io/v1/storageclasses', {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: local },
      provisioner: 'kubernetes.io/no-provisioner',
      volumeBindingMode: 'WaitForFirstConsumer',
    });
    try {
      const v = volume(pinned, local, '5Gi');
      await kube.create(pathOf(R.pvs), {
        ...v,
        spec: {
          ...v.spec,
          hostPath: undefined,
          local: { path: '/mnt/disk' },
          nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['no-such-node'] }] }] } },
        },
      });
      await kube.create(pathOf(R.pvcs, { namespace: ns }), claim('scratch', local, '1Gi'));
      await kube.create(pathOf(R.pods, { namespace: ns }), podUsing('local-user', 'scratch'));
      // The oracle: the scheduler reports why the pod cannot go anywhere.
      const why = await until(
        async () => {
          const ev = await kube.list<KEvent>(pathOf(R.events, { namespace: ns }), { fieldSelector: 'involvedObject.name=local-user,reason=FailedScheduling' });
          return ev.items[0]?.message;
        },
        60_000,
        'FailedScheduling of local-user',
      );
      expect(why).toMatch(/volume node affinity conflict|didn't find available persistent volumes/);
      const m = await mlops(['storage', 'scratch', '-n', ns, '-o', 'json']);
      const view = JSON.parse(m.out) as { reason: string; nearMisses: { name: string; why: string[] }[] };
      expect(view.nearMisses).toEqual([{ name: pinned, why: ['has a node affinity that no node matches'] }]);
      expect(view.reason).toMatch(
        new RegExp(
          `^waiting for pod local-user to be scheduled \\(WaitForFirstConsumer\\); no PersistentVolume fits \\(size >= 1Gi, modes RWO, class "${local}"\\): ${pinned} has a node affinity that no node matches`,
        ),
      );
      const pvRow = parseTable((await mlops(['storage', 'pv'])).out).find((r) => r.NAME === pinned)!;
      expect(pvRow.NOTE).toBe(
        `can be claimed by a claim of class "${local}", asking <= 5Gi, modes within RWO; usable only on nodes with kubernetes.io/hostname in (no-such-node); fits Pending ${ns}/scratch`,
      );
    } finally {
      await kube.delete(`/apis/storage.k8s.io/v1/storageclasses/${local}`);
    }
  });

  it('the binder agrees: once fitting volumes exist, the controller binds the one our rules pick (the smallest that fits)', async () => {
    const big = `fit-big-${ns}`;
    const fit = `fit-${ns}`;
    pvs.push(big, fit);
    const [bigVol, fitVol] = [volume(big, cls.size, '9Gi'), volume(fit, cls.size, '3Gi')];
    const live = await kube.get<PersistentVolumeClaim>(pathOf(R.pvcs, { namespace: ns, name: 'big' }));
    const asAvailable = (v: object) => ({ ...v, status: { phase: 'Available' } }) as PersistentVolume;
    const existing = (await kube.list<PersistentVolume>(pathOf(R.pvs))).items;
    expect(bestMatch(live, [...existing, asAvailable(bigVol), asAvailable(fitVol)])?.metadata?.name).toBe(fit);
    await Promise.all([kube.create(pathOf(R.pvs), bigVol), kube.create(pathOf(R.pvs), fitVol)]);
    const bound = await until(
      async () => {
        const c = await kube.get<PersistentVolumeClaim>(pathOf(R.pvcs, { namespace: ns, name: 'big' }));
        return c.status?.phase === 'Bound' ? c : undefined;
      },
      30_000,
      'big bound',
    );
    expect(bound.spec?.volumeName).toBe(fit);
    const pv = await kube.get<PersistentVolume>(pathOf(R.pvs, { name: big }));
    expect(pv.status?.phase).toBe('Available');
  });
});
