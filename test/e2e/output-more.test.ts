// The last of kubectl's output conventions (issue 20) on a real API server: scale-to-zero
// --list -w over three kinds, -w ending after --request-timeout as kubectl get -w ends, -o name
// on debug-pod done and storage reclaim (kubectl delete/patch -o name on twins), and secret
// view -o custom-columns one row per key without a value.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, adminKube, deployment, freshNamespace, mlops, run, persistentVolume, statefulSet, stream, until, waitReady } from './helpers.js';
import { R, pathOf } from '../../src/kube/resources.js';
import { expectOneLineError } from './safety.js';
import type { PersistentVolume } from '../../src/kube/types.js';

const kube = adminKube();
const kubectl = (args: string[]) => run('kubectl', args, { env: { KUBECONFIG: inject('cluster').kubeconfig } });
let ns = '';
const pvs: string[] = [];

beforeAll(async () => {
  ns = await freshNamespace(kube, 'out-more');
});
afterAll(async () => {
  await Promise.all(pvs.map((p) => kube.delete(pathOf(R.pvs, { name: p })).catch(() => undefined)));
});

describe('scale-to-zero --list', () => {
  it('shows the live replicas beside the recorded count; -w prints a line per change of any of the three kinds, as kubectl get -w does for one', async () => {
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('web', { replicas: 2 }));
    await kube.create(pathOf(R.statefulsets, { namespace: ns }), statefulSet('db', { replicas: 1 }));
    await waitReady(kube, ns, 'app=web', 2);
    await waitReady(kube, ns, 'app=db', 1);
    expect((await mlops(['scale-to-zero', 'deploy/web', '-n', ns])).code).toBe(0);

    const table = await mlops(['scale-to-zero', '--list', '-n', ns]);
    expect(table).toMatchObject({ code: 0, err: '' });
    expect(table.out).toMatch(/^KIND\/NAME +RECORDED REPLICAS +REPLICAS +SINCE +HPA\ndeployment\.apps\/web +2 +0 +\d+s +<none>\n$/);

    const cols = ['-o', 'custom-columns=NAME:.name,RECORDED:.recordedReplicas,REPLICAS:.replicas'];
    const w = stream(BIN, ['scale-to-zero', '--list', '-n', ns, '-w', ...cols]);
    const only = stream(BIN, ['scale-to-zero', '--list', '-n', ns, '--watch-only', '-v', ...cols]);
    const k = stream('kubectl', [
      'get',
      'deploy',
      '-n',
      ns,
      '-l',
      'mlops.kubectl.io/scaled-to-zero=true',
      '-w',
      '-o',
      'custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas',
    ]);
    await w.waitFor(/^deployment\.apps\/web +2 +0$/);
    await k.waitFor(/^web +0$/);
    // --watch-only: nothing until the first change, then the header above its line (below).

    // --watch-only shows only changes after its watches start (one per kind; -v shows them).
    await until(async () => (only.err().match(/watch=1/g) ?? []).length >= 3, 60_000, `--watch-only watching: ${only.err()}`);
    // Someone scales it back up by hand: the line shows it.
    await kube.patch(pathOf(R.deployments, { namespace: ns, name: 'web' }), { spec: { replicas: 3 } }, 'merge');
    await w.waitFor(/^deployment\.apps\/web +2 +3$/);
    await only.waitFor(/^deployment\.apps\/web +2 +3$/);
    expect(only.lines()[0]).toMatch(/^NAME +RECORDED +REPLICAS$/);
    // Another kind joins the list.
    expect((await mlops(['scale-to-zero', 'sts/db', '-n', ns])).code).toBe(0);
    await w.waitFor(/^statefulset\.apps\/db +1 +0$/);
    // Every change of web, line for line as kubectl's (the deployment controller's status updates included).
    await until(
      async () => {
        const ours = w.lines().filter((l) => l.startsWith('deployment.apps/web '));
        const theirs = k.lines().filter((l) => l.startsWith('web '));
        return ours.length >= 2 && ours.length === theirs.length && ours.every((l, i) => l.split(/ +/)[2] === theirs[i]!.split(/ +/)[1]);
      },
      30_000,
      `web's lines as kubectl's: ${JSON.stringify(w.lines())} vs ${JSON.stringify(k.lines())}`,
    );
    expect(w.lines()[0]).toMatch(/^NAME +RECORDED +REPLICAS$/);
    expect(w.lines().filter((l) => /^NAME/.test(l))).toHaveLength(1);
    expect(await w.interrupt()).toBe(0);
    expect(await only.interrupt()).toBe(0);
    expect(await k.interrupt()).toBe(1);
    expect(w.err()).toBe('');

    // -w belongs to --list: refused before connecting otherwise.
    const r = await mlops(['scale-to-zero', 'deploy/web', '-w', '--kubeconfig', '/nonexistent']);
    expect(r).toEqual({ code: 2, out: '', err: 'error: -w/--watch and --watch-only are used with --list\n' });
  });
});

describe('-w and --request-timeout', () => {
  it('ends the watch that long after it started, exit 0 and nothing on stderr, as kubectl get -w does', async () => {
    await kube.create(pathOf(R.pvcs, { namespace: ns }), {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'timed' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'e2e-none' },
    });
    const timed = async (cmd: string, args: string[]) => {
      const start = Date.now();
      const r = await run(cmd, args, { env: { KUBECONFIG: inject('cluster').kubeconfig }, timeoutMs: 60_000 });
      return { ...r, ms: Date.now() - start };
    };
    const [ours, theirs, scaled, logged] = await Promise.all([
      timed(BIN, ['storage', '-n', ns, '-w', '--request-timeout=3s', '-o', 'name']),
      timed('kubectl', ['get', 'pvc', '-n', ns, '-w', '--request-timeout=3s', '-o', 'name']),
      timed(BIN, ['scale-to-zero', '--list', '-n', ns, '--watch-only', '--request-timeout', '3s']),
      timed(BIN, ['storage', '-n', ns, '-w', '--request-timeout=3s', '-v', '6']),
    ]);
    // The claims are read once for the rows; the watch starts from a one-object page's version.
    const requests = logged.err
      .split('\n')
      .filter((l) => l.startsWith('GET '))
      .map((l) => l.replace(/ \d+ms .*$/, '').replaceAll(ns, 'NS'));
    expect(requests.filter((l) => l.includes('/persistentvolumeclaims'))).toEqual([
      'GET /api/v1/namespaces/NS/persistentvolumeclaims?limit=1 200',
      'GET /api/v1/namespaces/NS/persistentvolumeclaims?limit=500 200',
      expect.stringMatching(/^GET \/api\/v1\/namespaces\/NS\/persistentvolumeclaims\?watch=1&allowWatchBookmarks=true&resourceVersion=\d+&timeoutSeconds=\d+ 200$/),
    ]);
    expect(theirs).toMatchObject({ code: 0, err: '', out: 'persistentvolumeclaim/timed\n' });
    expect(ours).toMatchObject({ code: 0, err: '', out: theirs.out });
    expect(scaled).toMatchObject({ code: 0, err: '', out: '' });
    for (const r of [ours, theirs, scaled]) expect(r.ms).toBeGreaterThanOrEqual(3000);
    // Well before the runner's kill: the timer, not the server's own watch timeout, ended it.
    for (const r of [ours, scaled]) expect(r.ms).toBeLessThan(30_000);
  });
});

// Each on a namespace of its own, so they run side by side.
describe.concurrent('kubectl get on fresh namespaces: empty lists, -w, --request-timeout', () => {
  it('the table says "No resources found"; -o name prints nothing, custom columns their header, jsonpath nothing', async () => {
    const empty = await freshNamespace(kube, 'out-none');
    const forms = [
      [[], []],
      [
        ['-o', 'wide'],
        ['-o', 'wide'],
      ],
      [
        ['-o', 'name'],
        ['-o', 'name'],
      ],
      [
        ['-o', 'custom-columns=NAME:.name'],
        ['-o', 'custom-columns=NAME:.metadata.name'],
      ],
      [
        ['-o', 'jsonpath={.claims[*].name}'],
        ['-o', 'jsonpath={.items[*].metadata.name}'],
      ],
      // kubectl's spellings: -o "" is the table, NAME is name.
      [
        ['-o', ''],
        ['-o', ''],
      ],
      [
        ['-o', 'NAME'],
        ['-o', 'NAME'],
      ],
    ];
    await Promise.all(
      forms.map(async ([ours, theirs]) => {
        const [m, k] = await Promise.all([mlops(['storage', '-n', empty, ...ours!]), kubectl(['get', 'pvc', '-n', empty, ...theirs!])]);
        expect(k.code).toBe(0);
        expect(m, ours!.join(' ')).toEqual({ code: 0, out: k.out, err: k.err });
      }),
    );
    // Both refuse what kubectl does not know (a usage error here, exit 2; kubectl exits 1).
    for (const bad of ['Wide', 'table']) {
      const [m, k] = await Promise.all([mlops(['storage', '-n', empty, '-o', bad]), kubectl(['get', 'pvc', '-n', empty, '-o', bad])]);
      expect(k.code, bad).toBe(1);
      expect(k.err).toContain(`unable to match a printer suitable for the output format "${bad}"`);
      expectOneLineError(m, 2, new RegExp(`^error: unable to match a printer suitable for the output format "${bad}", allowed formats are: `));
    }
    // -n "" is no override: the context's namespace (default here), as kubectl.
    const [m, k] = await Promise.all([mlops(['storage', '-n', '', '-o', 'name']), kubectl(['get', 'pvc', '-n', '', '-o', 'name'])]);
    expect(k.code).toBe(0);
    expect(m).toEqual({ code: 0, out: k.out, err: k.err });
  });

  it('says nothing of the empty list and puts the header above the first change', async () => {
    const empty = await freshNamespace(kube, 'out-empty');
    const ours = stream(BIN, ['storage', '-n', empty, '-w', '-v', '6']);
    const theirs = stream('kubectl', ['get', 'pvc', '-n', empty, '-w', '-v', '6']);
    await until(async () => ours.err().includes('watch=1') && theirs.err().includes('watch=true'), 60_000, `both watching: ${ours.err()} ${theirs.err()}`);
    await kube.create(pathOf(R.pvcs, { namespace: empty }), {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'first' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'e2e-none' },
    });
    await Promise.all([ours.waitFor(/^first /), theirs.waitFor(/^first /)]);
    for (const s of [ours, theirs]) {
      expect(s.lines()[0]).toMatch(/^NAME +STATUS +VOLUME +CAPACITY +ACCESS MODES +STORAGECLASS /);
      expect(s.lines()[1]).toMatch(/^first +Pending /);
      expect(s.err()).not.toContain('No resources found');
    }
    expect(await ours.interrupt()).toBe(0);
    await theirs.interrupt();
  });

  it("reads the changed claim's row in its own namespace (its pods), not every pod and claim of the cluster", async () => {
    const evns = await freshNamespace(kube, 'out-evt');
    const w = stream(BIN, ['storage', '-A', '-w', '-v', '6']);
    await until(async () => /persistentvolumeclaims\?watch=1/.test(w.err()), 60_000, `watching: ${w.err()}`);
    const startedAt = w.err().length;
    await kube.create(pathOf(R.pvcs, { namespace: evns }), {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'evt' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'e2e-none' },
    });
    await w.waitFor(new RegExp(`^${evns} +evt +Pending `));
    const after = w
      .err()
      .slice(startedAt)
      .split('\n')
      .filter((l) => l.startsWith('GET '));
    expect(
      after.some((l) => l.startsWith(`GET /api/v1/namespaces/${evns}/pods?`)),
      after.join('\n'),
    ).toBe(true);
    expect(
      after.filter((l) => l.startsWith('GET /api/v1/pods?') || l.startsWith('GET /api/v1/persistentvolumeclaims?limit')),
      after.join('\n'),
    ).toEqual([]);
    expect(await w.interrupt()).toBe(0);
  });

  it('"" and a negative duration are no limit, a whole number is seconds, past 24 days is accepted; "-5" is refused by both', async () => {
    const rt = await freshNamespace(kube, 'out-rt');
    await kube.create(pathOf(R.pvcs, { namespace: rt }), {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'timed' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'e2e-none' },
    });
    await Promise.all(
      ['', '-1s', '0', '30', '1000h', '1.5s'].map(async (value) => {
        const [ours, theirs] = await Promise.all([
          mlops(['storage', '-n', rt, `--request-timeout=${value}`, '-o', 'name']),
          kubectl(['get', 'pvc', '-n', rt, `--request-timeout=${value}`, '-o', 'name']),
        ]);
        expect(theirs, `kubectl ${value}`).toMatchObject({ code: 0, out: 'persistentvolumeclaim/timed\n' });
        expect(ours, `mlops ${value}`).toMatchObject({ code: 0, out: theirs.out, err: theirs.err });
      }),
    );
    const [ours, theirs] = await Promise.all([mlops(['storage', '-n', rt, '--request-timeout=-5']), kubectl(['get', 'pvc', '-n', rt, '--request-timeout=-5'])]);
    expect(theirs.code).not.toBe(0);
    expect(theirs.err).toContain('Invalid timeout value');
    expect(ours).toMatchObject({ code: 2, out: '' });
    // client-go's reason, word for word.
    expect(ours.err).toBe(`error: invalid value "-5" for --request-timeout: ${theirs.err.replace(/^error: Invalid timeout value\. /, '')}`);
  });
});

describe('-o name on commands that delete or patch', () => {
  it('debug-pod done -o name prints pod/NAME, as kubectl delete -o name (dry run too); other formats are refused', async () => {
    const pod = (name: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: { 'mlops.kubectl.io/debug': 'true' } },
      spec: { containers: [{ name: 'c', image: 'registry.local/my-app:1.0' }] },
    });
    for (const n of ['dbg', 'twin']) await kube.create(pathOf(R.pods, { namespace: ns }), pod(n));
    const dry = await mlops(['debug-pod', 'done', 'dbg', '-n', ns, '--dry-run=server', '-o', 'name']);
    const kdry = await kubectl(['delete', 'pod', 'twin', '-n', ns, '--dry-run=server', '-o', 'name']);
    expect(kdry).toMatchObject({ code: 0, out: 'pod/twin\n' });
    expect(dry).toMatchObject({ code: 0, out: 'pod/dbg\n' });
    const done = await mlops(['debug-pod', 'done', 'dbg', '-n', ns, '--yes', '-o', 'name']);
    const kdone = await kubectl(['delete', 'pod', 'twin', '-n', ns, '-o', 'name']);
    expect(kdone).toMatchObject({ code: 0, out: 'pod/twin\n' });
    expect(done).toMatchObject({ code: 0, out: 'pod/dbg\n' });
    expect(await kube.getOptional(pathOf(R.pods, { namespace: ns, name: 'dbg' }))).toBeUndefined();
    // --expired: a name per deleted pod, nothing else on stdout.
    const expired = (name: string) => {
      const p = pod(name);
      return { ...p, metadata: { ...p.metadata, annotations: { 'mlops.kubectl.io/detached-at': '2020-01-01T00:00:00Z', 'mlops.kubectl.io/ttl': '1h' } } };
    };
    for (const n of ['old-a', 'old-b']) await kube.create(pathOf(R.pods, { namespace: ns }), expired(n));
    const swept = await mlops(['debug-pod', 'done', '--expired', '-n', ns, '--yes', '-o', 'name']);
    expect(swept).toMatchObject({ code: 0, out: 'pod/old-a\npod/old-b\n' });
    for (const n of ['old-a', 'old-b']) expect(await kube.getOptional(pathOf(R.pods, { namespace: ns, name: n }))).toBeUndefined();
    const json = await mlops(['debug-pod', 'done', 'dbg', '-n', ns, '--yes', '-o', 'json', '--kubeconfig', '/nonexistent']);
    expect(json).toMatchObject({ code: 2, out: '' });
    expect(json.err).toMatch(/^error: unable to match a printer suitable for the output format "json", allowed formats are: name \(-o\/--output\)\n$/);
  });

  it('storage reclaim -o name prints persistentvolume/NAME, as kubectl patch -o name; again, already Available, the same line', async () => {
    const released = async (name: string, uid: string) => {
      pvs.push(name);
      await kube.create(pathOf(R.pvs), persistentVolume(name, { storageClassName: `none-${ns}`, claimRef: { namespace: ns, name: 'gone', uid } }));
      await until(async () => (await kube.get<PersistentVolume>(pathOf(R.pvs, { name }))).status?.phase === 'Released', 30_000, `${name} Released`);
    };
    const name = `rcl-${ns}`.slice(0, 63);
    const twin = `twin-${ns}`.slice(0, 63);
    await released(name, '00000000-0000-0000-0000-000000000001');
    await released(twin, '00000000-0000-0000-0000-000000000002');
    const r = await mlops(['storage', 'reclaim', name, '--yes', '-o', 'name']);
    const k = await kubectl(['patch', 'pv', twin, '--type', 'merge', '-p', '{"spec":{"claimRef":null}}', '-o', 'name']);
    expect(k).toMatchObject({ code: 0, out: `persistentvolume/${twin}\n` });
    expect(r).toMatchObject({ code: 0, out: `persistentvolume/${name}\n` });
    expect(r.err).toContain('Warning: the data of the former claim');
    const again = await mlops(['storage', 'reclaim', name, '--yes', '-o', 'name']);
    expect(again).toEqual({ code: 0, out: `persistentvolume/${name}\n`, err: '' });
    expect((await kube.get<PersistentVolume>(pathOf(R.pvs, { name }))).status?.phase).toBe('Available');
  });
});

describe('secret view -o custom-columns', () => {
  it('prints one row per key, as the table does, and never a value, whatever the columns ask for', async () => {
    expect((await mlops(['secret', 'creds', '--from-literal', 'password=s3cret', '--from-literal', 'user=admin', '-n', ns])).code).toBe(0);
    const r = await mlops(['secret', 'view', 'creds', '-n', ns, '-o', 'custom-columns=KEY:.key,SIZE:.size,TYPE:.type,DATA:.data,STRINGDATA:.stringData,VALUE:.value,ALL:.']);
    expect(r).toMatchObject({ code: 0, err: '' });
    const lines = r.out.split('\n');
    expect(lines.slice(0, 3).map((l) => l.split(/ +/).slice(0, 6))).toEqual([
      ['KEY', 'SIZE', 'TYPE', 'DATA', 'STRINGDATA', 'VALUE'],
      ['password', '6', 'text', '<none>', '<none>', '<none>'],
      ['user', '5', 'text', '<none>', '<none>', '<none>'],
    ]);
    expect(lines).toHaveLength(4);
    expect(r.out).not.toMatch(/s3cret|admin|czNjcmV0|YWRtaW4/);
    // The table shows the same rows.
    const t = await mlops(['secret', 'view', 'creds', '-n', ns]);
    expect(
      t.out
        .split('\n')
        .slice(2, 4)
        .map((l) => l.split(/ +/)[0]),
    ).toEqual(['password', 'user']);
    // --reveal would print values, which custom-columns never does: refused before connecting.
    const rev = await mlops(['secret', 'view', 'creds', '-n', ns, '--reveal', '-o', 'custom-columns=V:.value', '--kubeconfig', '/nonexistent']);
    expect(rev).toEqual({
      code: 2,
      out: '',
      err: 'error: --reveal prints values in the table, -o json, yaml or jsonpath; -o custom-columns shows keys, sizes and types only\n',
    });
  });
});
