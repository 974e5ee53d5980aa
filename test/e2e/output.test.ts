// kubectl's output conventions on a real API server: -o jsonpath/custom-columns, --no-headers,
// --sort-by, -l and -w on every printing command. Where kubectl prints the same objects
// (claims, volumes, pods, Deployments, ConfigMaps) it runs on the same objects with the
// equivalent template, and the bytes must be equal.
import { describe, expect, inject, it } from 'vitest';
import { BIN, adminKube, deployment, freshNamespace, mlops, run, stream, until, waitReady, writeTemp } from './helpers.js';
import { R, pathOf } from '../../src/kube/resources.js';
import type { Pod } from '../../src/kube/types.js';

const kubectl = (args: string[]) => run('kubectl', args, { env: { KUBECONFIG: inject('cluster').kubeconfig } });

const claim = (name: string, size: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name, labels },
  // A class nobody provisions: the claims stay Pending, which is all these tests need.
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } }, storageClassName: 'e2e-none' },
});

type Ran = { code: number; out: string; err: string };
/** Both ran fine and printed the same bytes; kubectl runs after ours, so it sees what ours left. */
async function same(ours: Promise<Ran>, theirs: () => Promise<Ran>): Promise<string> {
  const a = await ours;
  const b = await theirs();
  expect(b.code, b.err).toBe(0);
  expect({ code: a.code, err: a.err }).toEqual({ code: 0, err: '' });
  expect(a.out).toBe(b.out);
  return a.out;
}

describe('storage list: the same output as kubectl get pvc', () => {
  it("jsonpath, custom-columns, --no-headers, --sort-by and -l give kubectl's bytes", async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'out-pvc');
    // Names, sizes and labels chosen so that name order, size order and text order differ.
    await kube.create(pathOf(R.pvcs, { namespace: ns }), claim('alpha', '10Gi', { tier: 'a' }));
    await kube.create(pathOf(R.pvcs, { namespace: ns }), claim('beta', '512Mi', { tier: 'b' }));
    await kube.create(pathOf(R.pvcs, { namespace: ns }), claim('gamma', '2Gi', { tier: 'a' }));

    const names = await same(mlops(['storage', '-n', ns, '-o', 'jsonpath={.claims[*].name}']), () => kubectl(['get', 'pvc', '-n', ns, '-o', 'jsonpath={.items[*].metadata.name}']));
    expect(names).toBe('alpha beta gamma');
    await same(mlops(['storage', '-n', ns, '-o', 'jsonpath={range .claims[*]}{.name}{"\\t"}{.requested}{"\\n"}{end}']), () =>
      kubectl(['get', 'pvc', '-n', ns, '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.spec.resources.requests.storage}{"\\n"}{end}']),
    );
    await same(mlops(['storage', '-n', ns, '-o', 'jsonpath={.claims[?(@.requested=="2Gi")].name}']), () =>
      kubectl(['get', 'pvc', '-n', ns, '-o', 'jsonpath={.items[?(@.spec.resources.requests.storage=="2Gi")].metadata.name}']),
    );

    await same(mlops(['storage', '-n', ns, '-o', 'jsonpath-as-json={.claims[*].name}']), () =>
      kubectl(['get', 'pvc', '-n', ns, '-o', 'jsonpath-as-json={.items[*].metadata.name}']),
    );

    const cols = await same(mlops(['storage', '-n', ns, '-o', 'custom-columns=NAME:.name,SIZE:.requested,MODES:.accessModes']), () =>
      kubectl(['get', 'pvc', '-n', ns, '-o', 'custom-columns=NAME:.metadata.name,SIZE:.spec.resources.requests.storage,MODES:.spec.accessModes']),
    );
    expect(cols).toBe('NAME    SIZE    MODES\nalpha   10Gi    [ReadWriteOnce]\nbeta    512Mi   [ReadWriteOnce]\ngamma   2Gi     [ReadWriteOnce]\n');

    // Quantities sort by size (512Mi < 2Gi < 10Gi), not as text.
    const sorted = await same(mlops(['storage', '-n', ns, '--sort-by=.requested', '--no-headers', '-o', 'custom-columns=NAME:.name,SIZE:.requested']), () =>
      kubectl([
        'get',
        'pvc',
        '-n',
        ns,
        '--sort-by=.spec.resources.requests.storage',
        '--no-headers',
        '-o',
        'custom-columns=NAME:.metadata.name,SIZE:.spec.resources.requests.storage',
      ]),
    );
    expect(sorted).toBe('beta    512Mi\ngamma   2Gi\nalpha   10Gi\n');
    await same(mlops(['storage', '-n', ns, '--sort-by={.name}', '-o', 'jsonpath={.claims[*].name}', '-l', 'tier=a']), () =>
      kubectl(['get', 'pvc', '-n', ns, '--sort-by={.metadata.name}', '-o', 'jsonpath={.items[*].metadata.name}', '-l', 'tier=a']),
    );
    expect(await same(mlops(['storage', '-n', ns, '-l', 'tier=a', '-o', 'name']), () => kubectl(['get', 'pvc', '-n', ns, '-l', 'tier=a', '-o', 'name']))).toBe(
      'persistentvolumeclaim/alpha\npersistentvolumeclaim/gamma\n',
    );

    // The table itself: --no-headers drops exactly the header line, --sort-by orders the rows.
    const table = await mlops(['storage', '-n', ns, '--sort-by=.requested']);
    const bare = await mlops(['storage', '-n', ns, '--sort-by=.requested', '--no-headers']);
    expect(table.out.split('\n')[0]).toMatch(/^NAME +STATUS +VOLUME/);
    expect(bare.out.split('\n').map((l) => l.split(/ +/)[0])).toEqual(['beta', 'gamma', 'alpha', '']);
    expect(bare.out.split('\n')).toHaveLength(table.out.split('\n').length - 1);

    // A file template, and a selector that matches nothing.
    const tpl = writeTemp('names.jsonpath', '{range .claims[*]}{.name}{"\\n"}{end}');
    expect((await mlops(['storage', '-n', ns, '-o', `jsonpath-file=${tpl}`])).out).toBe('alpha\nbeta\ngamma\n');
    const cc = writeTemp('cols.txt', 'NAME      SIZE\n.name     .requested\n');
    await same(mlops(['storage', '-n', ns, '-o', `custom-columns-file=${cc}`]), () =>
      kubectl(['get', 'pvc', '-n', ns, '-o', `custom-columns=NAME:.metadata.name,SIZE:.spec.resources.requests.storage`]),
    );
    const none = await mlops(['storage', '-n', ns, '-l', 'tier=zzz']);
    expect(none).toMatchObject({ code: 0, out: '', err: `No resources found in ${ns} namespace.\n` });
  });

  it('fails as kubectl does on a missing key (with --allow-missing-template-keys=false) and a field no object has', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'out-err');
    await kube.create(pathOf(R.pvcs, { namespace: ns }), claim('only', '1Gi'));
    // Two: kubectl does not sort (nor check the field) for a table of one row.
    await kube.create(pathOf(R.pvcs, { namespace: ns }), claim('other', '1Gi'));
    expect((await mlops(['storage', '-n', ns, '-o', 'jsonpath={.claims[0].nope}'])).out).toBe('');
    const strict = await mlops(['storage', '-n', ns, '-o', 'jsonpath={.claims[0].nope}', '--allow-missing-template-keys=false']);
    const kstrict = await kubectl(['get', 'pvc', '-n', ns, '-o', 'jsonpath={.items[0].nope}', '--allow-missing-template-keys=false']);
    expect(kstrict.code).toBe(1);
    expect(kstrict.err).toContain('nope is not found');
    expect(strict).toEqual({ code: 1, out: '', err: 'error: error executing jsonpath "{.claims[0].nope}": nope is not found\n' });

    const sortMissing = await mlops(['storage', '-n', ns, '--sort-by=.nope']);
    // kubectl's object printers fail so; its table path (1.32) swallows the error and says
    // "No resources found", exit 0, which we do not copy.
    const ksortMissing = await kubectl(['get', 'pvc', '-n', ns, '--sort-by=.nope', '-o', 'name']);
    expect(ksortMissing).toMatchObject({ code: 1, err: 'error: couldn\'t find any field with path "{.nope}" in the list of objects\n' });
    expect(sortMissing).toEqual({ code: 1, out: '', err: 'error: couldn\'t find any field with path "{.nope}" in the list of objects\n' });

    // Refused before connecting: exit 2, nothing printed on stdout.
    const gt = await mlops(['storage', '-n', ns, '-o', 'go-template={{.name}}']);
    expect(gt).toEqual({ code: 2, out: '', err: "error: -o go-template is not supported: use -o jsonpath=TEMPLATE (kubectl's JSONPath dialect) or -o custom-columns=SPEC\n" });
    const bad = await mlops(['storage', '-n', ns, '-o', 'jsonpath={.claims[']);
    expect(bad).toEqual({ code: 2, out: '', err: 'error: error parsing jsonpath "{.claims[": unterminated array\n' });
  });
});

describe('the other list views', () => {
  it('storage pv and debug-pod list print what kubectl prints for the same volumes and pods', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'out-lists');
    for (const [name, size] of [
      ['a', '3Gi'],
      ['b', '1Gi'],
      ['c', '20Mi'],
    ] as const) {
      await kube.create(pathOf(R.pvs), {
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name: `${ns}-${name}`, labels: { e2e: ns } },
        spec: {
          capacity: { storage: size },
          accessModes: ['ReadWriteOnce'],
          persistentVolumeReclaimPolicy: 'Retain',
          storageClassName: 'e2e-none',
          hostPath: { path: `/tmp/${ns}-${name}` },
        },
      });
    }
    const pv = await same(mlops(['storage', 'pv', '-l', `e2e=${ns}`, '--sort-by=.capacity', '-o', 'custom-columns=NAME:.name,CAPACITY:.capacity']), () =>
      kubectl(['get', 'pv', '-l', `e2e=${ns}`, '--sort-by=.spec.capacity.storage', '-o', 'custom-columns=NAME:.metadata.name,CAPACITY:.spec.capacity.storage']),
    );
    expect(pv.split('\n').map((l) => l.split(/ +/)[1])).toEqual(['CAPACITY', '20Mi', '1Gi', '3Gi', undefined]);
    await same(mlops(['storage', 'pv', '-l', `e2e=${ns}`, '-o', 'name']), () => kubectl(['get', 'pv', '-l', `e2e=${ns}`, '-o', 'name']));

    // Detached pods as debug-pod leaves them (its label), plus one that is not detached.
    for (const [name, team] of [
      ['zeta', 'x'],
      ['eta', 'y'],
      ['theta', 'x'],
    ]) {
      await kube.create(pathOf(R.pods, { namespace: ns }), {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, labels: { 'mlops.kubectl.io/debug': 'true', team } },
        spec: { containers: [{ name: 'c', image: 'registry.local/my-app:1.0' }] },
      });
    }
    await kube.create(pathOf(R.pods, { namespace: ns }), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'other' },
      spec: { containers: [{ name: 'c', image: 'registry.local/my-app:1.0' }] },
    });
    const sel = ['-n', ns, '-l', 'mlops.kubectl.io/debug=true'];
    await same(mlops(['debug-pod', 'list', '-n', ns, '-o', 'jsonpath={.items[*].metadata.name}']), () =>
      kubectl(['get', 'pods', ...sel, '-o', 'jsonpath={.items[*].metadata.name}']),
    );
    await same(
      mlops(['debug-pod', 'list', '-n', ns, '-o', 'custom-columns=NAME:.metadata.name,TEAM:.metadata.labels.team', '--sort-by=.metadata.labels.team', '--no-headers']),
      () => kubectl(['get', 'pods', ...sel, '-o', 'custom-columns=NAME:.metadata.name,TEAM:.metadata.labels.team', '--sort-by=.metadata.labels.team', '--no-headers']),
    );
    expect(
      await same(mlops(['debug-pod', 'list', '-n', ns, '-l', 'team=x', '-o', 'name']), () =>
        kubectl(['get', 'pods', '-n', ns, '-l', 'mlops.kubectl.io/debug=true,team=x', '-o', 'name']),
      ),
    ).toBe('pod/theta\npod/zeta\n');
    const t = await mlops(['debug-pod', 'list', '-n', ns, '--no-headers', '--sort-by=.metadata.name']);
    expect(t.out.split('\n').map((l) => l.split(' ')[0])).toEqual(['eta', 'theta', 'zeta', '']);
    for (const name of ['a', 'b', 'c']) await kube.delete(pathOf(R.pvs, { name: `${ns}-${name}` }));
  });
});

describe('commands that print one object or a result', () => {
  it('ship, history, rollback, scale-to-zero, restore, config, secret view, version and doctor take jsonpath and custom-columns', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'out-objs');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('my-app', { replicas: 1 }));
    await waitReady(kube, ns, 'app=my-app', 1);

    const image = '{.spec.template.spec.containers[0].image}';
    const shipped = await mlops(['ship', 'my-app', 'app=registry.local/my-app:2.0', '-n', ns, '-o', `jsonpath=${image}`]);
    expect(shipped).toMatchObject({ code: 0, out: 'registry.local/my-app:2.0' });
    expect((await kubectl(['get', 'deploy', 'my-app', '-n', ns, '-o', `jsonpath=${image}`])).out).toBe(shipped.out);

    const hist = await mlops(['history', 'my-app', '-n', ns, '-o', 'jsonpath={.revisions[*].revision} {.currentRevision}']);
    expect(hist.out).toBe('1 2 2');
    const histCols = await mlops(['history', 'my-app', '-n', ns, '-o', 'custom-columns=REV:.revision,IMAGES:.images', '--sort-by=.revision', '--no-headers']);
    expect(histCols.out).toBe('1     [registry.local/my-app:1.0]\n2     [registry.local/my-app:2.0]\n');

    const cols = 'custom-columns=NAME:.metadata.name,IMAGE:.spec.template.spec.containers[*].image';
    await same(mlops(['rollback', 'my-app', '-n', ns, '-o', cols]), () => kubectl(['get', 'deploy', 'my-app', '-n', ns, '-o', cols]));
    expect((await kubectl(['get', 'deploy', 'my-app', '-n', ns, '-o', `jsonpath=${image}`])).out).toBe('registry.local/my-app:1.0');

    const zero = await mlops(['scale-to-zero', 'deploy/my-app', '-n', ns, '-o', 'jsonpath={.workloads[0].target} {.workloads[0].recorded} {.dryRun}']);
    expect(zero).toMatchObject({ code: 0, out: 'deployment.apps/my-app 1 none' });
    const listed = await mlops(['scale-to-zero', '--list', '-n', ns, '-o', 'custom-columns=NAME:.name,RECORDED:.recordedReplicas']);
    expect(listed.out).toBe('NAME                     RECORDED\ndeployment.apps/my-app   1\n');
    const restored = await mlops(['restore', 'deploy/my-app', '-n', ns, '-o', 'jsonpath={range .workloads[*]}{.target}={.replicas}{"\\n"}{end}']);
    expect(restored).toMatchObject({ code: 0, out: 'deployment.apps/my-app=1\n' });

    const cm = await mlops(['config', 'greeting-config', '--from-literal', 'MESSAGE=hello', '-n', ns, '-o', 'jsonpath={.kind}/{.metadata.name} {.data.MESSAGE}']);
    expect(cm).toMatchObject({ code: 0, out: 'ConfigMap/greeting-config hello' });
    await same(mlops(['config', 'greeting-config', '--from-literal', 'MESSAGE=hello', '-n', ns, '-o', 'custom-columns=K:.data']), () =>
      kubectl(['get', 'cm', 'greeting-config', '-n', ns, '-o', 'custom-columns=K:.data']),
    );
    // The dry-run suffix, kubectl's spelling.
    expect((await mlops(['config', 'greeting-config', '--from-literal', 'MESSAGE=bye', '-n', ns, '--dry-run=server'])).out).toContain(
      'configmap/greeting-config configured (server dry run)\n',
    );
    expect((await mlops(['config', 'greeting-config', '--from-literal', 'MESSAGE=bye', '-n', ns, '--dry-run=client'])).out).toContain(
      'configmap/greeting-config: update (dry run)\n',
    );

    await mlops(['secret', 'db-credentials', '--from-literal', 'password=s3cret', '--from-literal', 'user=admin', '-n', ns]);
    const keys = await mlops(['secret', 'view', 'db-credentials', '-n', ns, '-o', 'jsonpath={.keys[*].key}']);
    expect(keys).toEqual({ code: 0, out: 'password user', err: '' });
    // One row per key, as the table shows them (test/e2e/output-more.test.ts tries the values).
    expect((await mlops(['secret', 'view', 'db-credentials', '-n', ns, '-o', 'custom-columns=KEY:.key,SIZE:.size'])).out).toBe('KEY        SIZE\npassword   6\nuser       5\n');
    // Without --reveal no template can reach a value.
    const all = await mlops(['secret', 'view', 'db-credentials', '-n', ns, '-o', 'jsonpath={..}']);
    expect(all.code).toBe(0);
    expect(all.out).not.toMatch(/s3cret|admin|czNjcmV0|YWRtaW4/);
    // The secret command itself prints no JSON, so it takes no template either.
    expect((await mlops(['secret', 'db-credentials', '--from-literal', 'password=x', '-n', ns, '-o', 'jsonpath={.data}'])).code).toBe(2);

    const server = (await kubectl(['version', '-o', 'json'])).out;
    const v = await mlops(['version', '-o', 'jsonpath={.serverVersion}']);
    expect(v.out).toBe((JSON.parse(server) as { serverVersion: { gitVersion: string } }).serverVersion.gitVersion);
    const d = await mlops(['doctor', '-n', ns, '-o', 'jsonpath={.reachable} {.namespace} {.commands[?(@.command=="storage")].allowed}']);
    expect(d).toMatchObject({ code: 0, out: `true ${ns} true` });
  });

  it('debug-pod prints the detached pod through a template', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'out-debug');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('trainer', { replicas: 1 }));
    const [pod] = await waitReady(kube, ns, 'app=trainer', 1);
    const name = pod!.metadata!.name!;
    const r = await mlops(['debug-pod', name, '-n', ns, '-o', 'jsonpath={.metadata.name} {.metadata.labels.mlops\\.kubectl\\.io/debug} {.metadata.ownerReferences}']);
    expect(r).toMatchObject({ code: 0, out: `${name} true ` });
    await same(mlops(['debug-pod', 'list', '-n', ns, '-o', 'custom-columns=NAME:.metadata.name,APP:.metadata.labels.app']), () =>
      kubectl(['get', 'pods', '-n', ns, '-l', 'mlops.kubectl.io/debug=true', '-o', 'custom-columns=NAME:.metadata.name,APP:.metadata.labels.app']),
    );
  });
});

describe('-w/--watch', () => {
  /** kubectl get -w prints one line per event; once the events stop, both have printed as many lines for the object. */
  const sameCount = (ours: ReturnType<typeof stream>, theirs: ReturnType<typeof stream>, re: RegExp, atLeast: number) =>
    until(
      async () => {
        const n = ours.lines().filter((l) => re.test(l)).length;
        return n >= atLeast && n === theirs.lines().filter((l) => re.test(l)).length;
      },
      30_000,
      `as many ${re} lines as kubectl: ${JSON.stringify(ours.lines())} vs ${JSON.stringify(theirs.lines())}`,
    );

  it('storage -w prints the list, then a line per change (create, change, delete) until Ctrl-C, exit 0', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'out-watch');
    await kube.create(pathOf(R.pvcs, { namespace: ns }), claim('first', '1Gi'));
    const w = stream(BIN, ['storage', '-n', ns, '-w', '-o', 'custom-columns=NAME:.name,STATUS:.status,SIZE:.requested']);
    const k = stream('kubectl', ['get', 'pvc', '-n', ns, '-w']);
    await w.waitFor(/^first /);
    await k.waitFor(/^first /);

    await kube.create(pathOf(R.pvcs, { namespace: ns }), claim('second', '2Gi'));
    await w.waitFor(/^second +Pending +2Gi$/);
    await kube.patch(pathOf(R.pvcs, { namespace: ns, name: 'second' }), { metadata: { labels: { team: 'x' } } }, 'merge');
    await w.waitFor(/^second /, 2);
    await kube.delete(pathOf(R.pvcs, { namespace: ns, name: 'second' }));
    await until(async () => !(await kube.getOptional(pathOf(R.pvcs, { namespace: ns, name: 'second' }))), 30_000, 'claim gone');
    // Created, labelled, deleted (the protection finalizer adds a step): a line for each, as kubectl.
    await sameCount(w, k, /^second /, 3);

    const lines = w.lines();
    expect(lines[0]).toMatch(/^NAME +STATUS +SIZE$/);
    expect(lines[1]).toMatch(/^first +Pending +1Gi$/);
    expect(lines.slice(2).every((l) => /^second +(Pending|Terminating) +2Gi$/.test(l))).toBe(true);
    // STATUS line by line as kubectl's: Terminating once deleted (the protection finalizer holds it a moment).
    const statuses = (ls: string[]) => ls.filter((l) => l.startsWith('second ')).map((l) => l.split(/\s+/)[1]);
    expect(statuses(lines)).toEqual(statuses(k.lines()));
    expect(w.err()).toBe('');
    // kubectl get -w exits 1 on Ctrl-C; we exit 0 (README: deliberate difference).
    expect(await k.interrupt()).toBe(1);
    expect(await w.interrupt()).toBe(0);
  });

  it('storage pv --watch-only and debug-pod list -w follow their objects as kubectl does', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'out-watch2');
    const pvName = `${ns}-w`;
    const volume = (name: string) => ({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name, labels: { e2e: ns } },
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'e2e-none', hostPath: { path: `/tmp/${name}` } },
    });
    const debugPod = (name: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: { 'mlops.kubectl.io/debug': 'true' } },
      spec: { containers: [{ name: 'c', image: 'registry.local/my-app:1.0' }] },
    });
    // Sentinels in the first lists: once a list is printed, every later change reaches its watch
    // (both watch from the list's resourceVersion), so the counts below cannot race.
    await kube.create(pathOf(R.pvs), volume(`${ns}-s`));
    await kube.create(pathOf(R.pods, { namespace: ns }), debugPod('aaa'));
    const pvCols = ['-l', `e2e=${ns}`, '-o', 'custom-columns=NAME:.metadata.name,CAPACITY:.spec.capacity.storage'];
    const pvw = stream(BIN, ['storage', 'pv', '--watch-only', '-v', '-l', `e2e=${ns}`, '-o', 'custom-columns=NAME:.name,CAPACITY:.capacity']);
    const kpv = stream('kubectl', ['get', 'pv', '-w', ...pvCols]);
    const podCols = ['-o', 'custom-columns=NAME:.metadata.name,PHASE:.status.phase,NODE:.spec.nodeName'];
    const dpw = stream(BIN, ['debug-pod', 'list', '-n', ns, '-w', ...podCols]);
    const kdp = stream('kubectl', ['get', 'pods', '-n', ns, '-l', 'mlops.kubectl.io/debug=true', '-w', ...podCols]);
    // --watch-only prints nothing until a change: -v shows the list it watches from.
    await until(async () => /GET \/api\/v1\/persistentvolumes\?\S*labelSelector\S* 200 /.test(pvw.err()), 30_000, 'the volume list');
    await Promise.all([kpv.waitFor(new RegExp(`^${ns}-s `)), dpw.waitFor(/^aaa /), kdp.waitFor(/^aaa /)]);

    await kube.create(pathOf(R.pvs), volume(pvName));
    await pvw.waitFor(new RegExp(`^${pvName} +1Gi$`));
    // --watch-only: the header comes with the first change, as kubectl prints it.
    expect(pvw.lines()[0]).toMatch(/^NAME +CAPACITY$/);
    await kube.delete(pathOf(R.pvs, { name: pvName }));
    await until(async () => !(await kube.getOptional(pathOf(R.pvs, { name: pvName }))), 30_000, 'volume gone');
    const line = new RegExp(`^${pvName} +1Gi$`);
    await sameCount(pvw, kpv, line, 2);
    expect(pvw.lines().slice(1)).toEqual(kpv.lines().filter((l) => line.test(l)));

    await kube.create(pathOf(R.pods, { namespace: ns }), debugPod('dbg'));
    await dpw.waitFor(/^dbg +Running +/);
    // Each line is the event's copy of the pod: the same lines as kubectl's, in order.
    await sameCount(dpw, kdp, /^dbg /, 2);
    expect(dpw.lines()).toEqual(kdp.lines());
    for (const s of [pvw, dpw]) expect(await s.interrupt()).toBe(0);
    for (const s of [kpv, kdp]) expect(await s.interrupt()).toBe(1);
    expect(dpw.err()).toBe('');
    await kube.delete(pathOf(R.pvs, { name: `${ns}-s` }));
  });

  it('debug-pod list -w with jsonpath, json and yaml prints each object on its own, as kubectl get -w (YAML documents separated by ---)', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'out-watch3');
    const debugPod = (name: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: { 'mlops.kubectl.io/debug': 'true' } },
      spec: { containers: [{ name: 'c', image: 'registry.local/my-app:1.0' }] },
    });
    await kube.create(pathOf(R.pods, { namespace: ns }), debugPod('first'));
    const tpl = '-o=jsonpath={.metadata.name}{"\\n"}';
    const jp = stream(BIN, ['debug-pod', 'list', '-n', ns, '-w', tpl]);
    const kjp = stream('kubectl', ['get', 'pods', '-n', ns, '-l', 'mlops.kubectl.io/debug=true', '-w', tpl]);
    const js = stream(BIN, ['debug-pod', 'list', '-n', ns, '-w', '-o', 'json']);
    const ym = stream(BIN, ['debug-pod', 'list', '-n', ns, '-w', '-o', 'yaml']);
    await Promise.all([jp.waitFor(/^first$/), kjp.waitFor(/^first$/), js.waitFor(/^}$/), ym.waitFor(/^kind: Pod$/)]);
    await kube.create(pathOf(R.pods, { namespace: ns }), debugPod('second'));
    await sameCount(jp, kjp, /^second$/, 2);
    expect(jp.lines()).toEqual(kjp.lines());
    await js.waitFor(/^}$/, 3);
    await ym.waitFor(/^kind: Pod$/, 3);
    for (const s of [jp, js, ym]) expect(await s.interrupt()).toBe(0);
    await kjp.interrupt();
    // One JSON document per event, each a Pod (never a List), without managedFields.
    const docs = js
      .lines()
      .join('\n')
      .split(/(?<=^})\n(?={)/m)
      .map((d) => JSON.parse(d) as { kind: string; metadata: { name: string; managedFields?: unknown } });
    expect(docs.length).toBeGreaterThanOrEqual(3);
    expect(docs.every((d) => d.kind === 'Pod' && d.metadata.managedFields === undefined)).toBe(true);
    expect(docs[0]!.metadata.name).toBe('first');
    const yamlDocs = ym.lines().join('\n').split(/^---$/m);
    expect(yamlDocs.length).toBe(ym.lines().filter((l) => l === 'kind: Pod').length);
    expect(yamlDocs.every((d) => /^kind: Pod$/m.test(d) && !/^kind: List$/m.test(d))).toBe(true);
  });

  it("kubectl's flag spellings: -o=json, -n=NS, -l=SEL, --no-headers=true, -A=false", async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'out-flags');
    await kube.create(pathOf(R.pvcs, { namespace: ns }), claim('a1', '1Gi', { app: 'train' }));
    await kube.create(pathOf(R.pvcs, { namespace: ns }), claim('b1', '1Gi'));
    const ours = await mlops(['storage', `-n=${ns}`, '-l=app=train', '-o=jsonpath={.claims[*].name}', '-A=false']);
    expect(ours).toMatchObject({ code: 0, out: 'a1' });
    const theirs = await run('kubectl', ['get', 'pvc', `-n=${ns}`, '-l=app=train', '--no-headers=true', '-o=custom-columns=N:.metadata.name'], {
      env: { KUBECONFIG: inject('cluster').kubeconfig },
    });
    const ourCols = await mlops(['storage', `-n=${ns}`, '-l=app=train', '--no-headers=true', '-o=custom-columns=N:.name']);
    expect(theirs.err).toBe('');
    expect(ourCols.out).toBe(theirs.out);
    expect((await mlops(['storage', `-n=${ns}`, '-o', 'JSON'])).code).toBe(0);
  });

  it('-w is refused with one CLAIM (usage, exit 2, before connecting)', async () => {
    const r = await mlops(['storage', 'myclaim', '-w', '--kubeconfig', '/nonexistent']);
    expect(r).toEqual({ code: 2, out: '', err: 'error: -w/--watch, --watch-only and -l/--selector are for the list of claims, not one CLAIM\n' });
  });
});
