import { afterAll, describe, expect, inject, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adminKube, allOutputs, deployment, freshNamespace, grantRestricted, mlops, until, waitReady } from './helpers.js';
import { R, pathOf } from '../../src/kube/resources.js';
import type { ConfigMap, Deployment, ReplicaSet, Secret } from '../../src/kube/types.js';
import { conflictProxy } from './proxy.js';
import { expectDeclaredCovers, expectOneLineError, expectUnchanged, grantAllBut, kubeconfigAs, snapshot, startMlops } from './safety.js';
import { needsOf } from '../../src/commands/flow.js';
import { needLabel } from '../../src/commands/permissions.js';

const SECRET_VALUES = ['pa55-w0rd-never-printed', 'api-token-9f8e7d6c'];

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-cfg-'));
}

function cert(dir: string, name: string, days: number): { crt: string; key: string } {
  const crt = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', String(days), '-subj', `/CN=${name}`], { stdio: 'ignore' });
  return { crt, key };
}

describe('config', () => {
  it('builds a ConfigMap from an .env file and a folder, is idempotent, and rolls a wired Deployment on change', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'config');
    const dir = tmp();
    const env = path.join(dir, 'app.env');
    fs.writeFileSync(
      env,
      '# model settings\nexport MODEL_NAME="resnet-50"\nGREETING="hello\nworld"\nQUOTED=\'a "b" c\'\nTHRESHOLD=0.8 # inline comment\nPATH_TPL=${HOME}/models\n',
    );
    const folder = path.join(dir, 'conf');
    fs.mkdirSync(path.join(folder, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(folder, 'labels.txt'), 'cat\ndog\n');
    fs.writeFileSync(path.join(folder, 'sub', 'extra.json'), '{"x":1}');
    fs.writeFileSync(path.join(folder, 'weights.bin'), Buffer.from([0, 1, 2, 255, 254]));
    const args = ['config', 'app-config', '--from-dotenv', env, '--from-file', folder, '--recursive', '-n', ns];

    const r1 = await mlops(args);
    expect(r1.err).toBe('');
    expect(r1.code).toBe(0);
    expect(r1.out).toBe(
      [
        'configmap/app-config: create',
        '  + GREETING: "hello\\nworld"',
        '  + MODEL_NAME: "resnet-50"',
        '  + PATH_TPL: "${HOME}/models"',
        '  + QUOTED: "a \\"b\\" c"',
        '  + THRESHOLD: "0.8"',
        '  + labels.txt: "cat\\ndog\\n"',
        '  + sub__extra.json: "{\\"x\\":1}"',
        '  + weights.bin: <binary, 5 bytes>',
        'configmap/app-config created',
        '',
      ].join('\n'),
    );
    const cmPath = pathOf(R.configmaps, { namespace: ns, name: 'app-config' });
    const cm = await kube.get<ConfigMap>(cmPath);
    expect(cm.data).toEqual({
      GREETING: 'hello\nworld',
      MODEL_NAME: 'resnet-50',
      PATH_TPL: '${HOME}/models',
      QUOTED: 'a "b" c',
      THRESHOLD: '0.8',
      'labels.txt': 'cat\ndog\n',
      'sub__extra.json': '{"x":1}',
    });
    expect(cm.binaryData).toEqual({ 'weights.bin': Buffer.from([0, 1, 2, 255, 254]).toString('base64') });

    const r2 = await mlops(args);
    expect(r2.out).toBe('configmap/app-config unchanged\n');
    expect((await kube.get<ConfigMap>(cmPath)).metadata!.resourceVersion).toBe(cm.metadata!.resourceVersion);

    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('model', { replicas: 1 }));
    await waitReady(kube, ns, 'app=model', 1);
    const wired = await mlops([...args, '--wire', 'deploy/model']);
    expect(wired.code).toBe(0);
    expect(wired.out).toContain(
      `deployment.apps/model: envFrom configmap/app-config in container app; stamp configmap/app-config resourceVersion ${cm.metadata!.resourceVersion} (pods restart when the data changes)`,
    );
    expect(wired.out).toContain('deployment.apps/model rolled out');
    const rsCount = async () => (await kube.list<ReplicaSet>(pathOf(R.replicasets, { namespace: ns }))).items.length;
    expect(await rsCount()).toBe(2);

    fs.writeFileSync(env, fs.readFileSync(env, 'utf8').replace('THRESHOLD=0.8', 'THRESHOLD=0.9'));
    const changed = await mlops([...args, '--wire', 'deploy/model']);
    expect(changed.code).toBe(0);
    expect(changed.out).toContain('  ~ THRESHOLD: "0.8" -> "0.9"\nconfigmap/app-config configured\n');
    expect(changed.out).toContain('deployment.apps/model rolled out');
    expect(await rsCount()).toBe(3);
    const d = await kube.get<Deployment>(pathOf(R.deployments, { namespace: ns, name: 'model' }));
    expect(d.spec!.template!.spec!.containers[0]!.envFrom).toEqual([{ configMapRef: { name: 'app-config' } }]);
    const cmNow = await kube.get<ConfigMap>(cmPath);
    expect(d.metadata!.annotations!['kubernetes.io/change-cause']).toBe(`kubectl mlops: configmap/app-config resourceVersion ${cmNow.metadata!.resourceVersion}`);
    expect(d.spec!.template!.metadata!.annotations!['mlops.kubectl.io/stamp-cm-app-config']).toBe(`${cmNow.metadata!.uid}/${cmNow.metadata!.resourceVersion}`);

    // Same inputs again: nothing written, the rollout is verified, exit 0.
    const same = await mlops([...args, '--wire', 'deploy/model']);
    expect(same).toMatchObject({ code: 0, out: 'configmap/app-config unchanged\ndeployment.apps/model rolled out\n' });
    expect(same.err).toBe('deployment.apps/model already uses configmap/app-config and carries its current stamp; nothing to roll out\n');
    expect(await rsCount()).toBe(3);

    // Keys only in the cluster go away unless --merge.
    const fewer = await mlops(['config', 'app-config', '--from-literal', 'ONLY=1', '--merge', '-n', ns]);
    expect(fewer.out).toContain('  + ONLY: "1"');
    expect(fewer.out).toContain('  = THRESHOLD (only in the cluster, kept)');
    expect(Object.keys((await kube.get<ConfigMap>(cmPath)).data!)).toContain('THRESHOLD');
    const exact = await mlops(['config', 'app-config', '--from-literal', 'ONLY=1', '-n', ns]);
    expect(exact.out).toContain('  - THRESHOLD');
    const after = await kube.get<ConfigMap>(cmPath);
    expect(after.data).toEqual({ ONLY: '1' });
    expect(after.binaryData ?? {}).toEqual({});
  });

  it('--merge moves a key between data and binaryData when its new value is binary (never both)', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'cfg-move');
    await kube.create(pathOf(R.configmaps, { namespace: ns }), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'm' }, data: { blob: 'text', other: '1' } });
    const bin = path.join(tmp(), 'blob');
    fs.writeFileSync(bin, Buffer.from([0xff, 0xfe]));
    const r = await mlops(['config', 'm', '--from-file', `blob=${bin}`, '--merge', '-n', ns]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe('configmap/m: update\n  ~ blob: "text" -> <binary, 2 bytes>\n  = other (only in the cluster, kept)\nconfigmap/m configured\n');
    const cm = await kube.get<ConfigMap>(pathOf(R.configmaps, { namespace: ns, name: 'm' }));
    expect(cm.data).toEqual({ other: '1' });
    expect(cm.binaryData).toEqual({ blob: Buffer.from([0xff, 0xfe]).toString('base64') });
  });

  it('a 300 KiB file works (no last-applied annotation, so no 256 KiB limit)', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'bigcfg');
    const file = path.join(tmp(), 'vocab.txt');
    fs.writeFileSync(file, 'token\n'.repeat((300 * 1024) / 6));
    const r = await mlops(['config', 'vocab', '--from-file', file, '-n', ns]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const cm = await kube.get<ConfigMap>(pathOf(R.configmaps, { namespace: ns, name: 'vocab' }));
    expect(cm.data!['vocab.txt']!.length).toBe(fs.statSync(file).size);
    const again = await mlops(['config', 'vocab', '--from-file', file, '-n', ns]);
    expect(again.out).toBe('configmap/vocab unchanged\n');
  });

  it('rejects bad input before sending anything', async () => {
    const dir = tmp();
    const env = path.join(dir, 'bad.env');
    fs.writeFileSync(env, 'A=1\nB="never closed\n');
    const r = await mlops(['config', 'x', '--from-dotenv', env, '-n', 'default']);
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err).toBe(`error: ${env}:2: unterminated double-quoted value for B\n`);
    const badKey = path.join(dir, 'bad key.txt');
    fs.writeFileSync(badKey, 'x');
    const k = await mlops(['config', 'x', '--from-file', badKey]);
    expect(k.code).toBe(2);
    expect(k.err).toBe(
      `error: invalid key "bad key.txt" from file ${badKey}: a key must be 253 characters or less and consist of letters, digits, "-", "_" or ".", and must not be "." or ".." nor start with ".."\n`,
    );
    const dup = await mlops(['config', 'x', '--from-literal', 'A=1', '--from-literal', 'A=2']);
    expect(dup.err).toBe('error: key "A" is given twice: by --from-literal A, twice\n');
    const big = path.join(dir, 'big.bin');
    fs.writeFileSync(big, Buffer.alloc(1024 * 1024 + 10, 1));
    const b = await mlops(['config', 'x', '--from-file', big]);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/^error: the data is \d+ bytes, over the 1 MiB \(1048576 bytes\) limit of one Kubernetes object\n$/);
  });
});

describe('secret', () => {
  it('creates Opaque and TLS secrets (with ca.crt), refuses a mismatched key, and never prints values', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'secret');
    const dir = tmp();
    const env = path.join(dir, 'creds.env');
    fs.writeFileSync(env, `DB_PASSWORD="${SECRET_VALUES[0]}"\nAPI_TOKEN=${SECRET_VALUES[1]}\n`);
    const r = await mlops(['secret', 'creds', '--from-dotenv', env, '-n', ns]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('secret/creds: create\n  + API_TOKEN\n  + DB_PASSWORD\nsecret/creds created\n');
    const s = await kube.get<Secret>(pathOf(R.secrets, { namespace: ns, name: 'creds' }));
    expect(Buffer.from(s.data!.DB_PASSWORD!, 'base64').toString()).toBe(SECRET_VALUES[0]);

    fs.writeFileSync(env, `DB_PASSWORD="${SECRET_VALUES[0]}-2"\nAPI_TOKEN=${SECRET_VALUES[1]}\n`);
    const changed = await mlops(['secret', 'creds', '--from-dotenv', env, '-n', ns]);
    expect(changed.out).toBe('secret/creds: update\n  ~ DB_PASSWORD (changed)\nsecret/creds configured\n');

    const view = await mlops(['secret', 'view', 'creds', '-n', ns]);
    expect(view.out).toBe('secret/creds (type Opaque)\nKEY           SIZE   TYPE   VALUE\nAPI_TOKEN     18B    text   ********\nDB_PASSWORD   25B    text   ********\n');

    const ca = cert(dir, 'ca', 365);
    const good = cert(dir, 'serving', 10);
    const other = cert(dir, 'other', 365);
    const tls = await mlops(['secret', 'web-tls', '--tls', '--cert', good.crt, '--key', good.key, '--ca', ca.crt, '-n', ns]);
    expect(tls.code).toBe(0);
    expect(tls.err).toMatch(/^Warning: the certificate in .*serving\.crt expires in (9|10) day\(s\)/);
    const t = await kube.get<Secret>(pathOf(R.secrets, { namespace: ns, name: 'web-tls' }));
    expect(t.type).toBe('kubernetes.io/tls');
    expect(Object.keys(t.data!).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    expect(Buffer.from(t.data!['ca.crt']!, 'base64').toString()).toBe(fs.readFileSync(ca.crt, 'utf8'));

    const mismatch = await mlops(['secret', 'bad-tls', '--tls', '--cert', good.crt, '--key', other.key, '-n', ns]);
    expect(mismatch.code).toBe(2);
    expect(mismatch.err).toBe(`error: --key ${other.key} does not match the certificate in --cert ${good.crt}\n`);
    expect(await kube.getOptional(pathOf(R.secrets, { namespace: ns, name: 'bad-tls' }))).toBeUndefined();
  });

  it('--wire --wire-as volume mounts a Secret into a Deployment and rolls it out', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'wirevol');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('api', { replicas: 1 }));
    await waitReady(kube, ns, 'app=api', 1);
    const r = await mlops(['secret', 'api-keys', '--from-literal', `key=${SECRET_VALUES[1]}`, '--wire', 'deploy/api', '--wire-as', 'volume', '--mount-path', '/etc/api', '-n', ns]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      'deployment.apps/api: volume secret-api-keys from secret/api-keys; mount secret-api-keys at /etc/api in container app; stamp secret/api-keys resourceVersion',
    );
    expect(r.out).toContain('deployment.apps/api rolled out');
    const d = await kube.get<Deployment>(pathOf(R.deployments, { namespace: ns, name: 'api' }));
    expect(d.spec!.template!.spec!.volumes).toEqual([{ name: 'secret-api-keys', secret: { secretName: 'api-keys', defaultMode: 420 } }]);
    expect(d.spec!.template!.spec!.containers[0]!.volumeMounts).toEqual([{ name: 'secret-api-keys', mountPath: '/etc/api', readOnly: true }]);
    const again = await mlops([
      'secret',
      'api-keys',
      '--from-literal',
      `key=${SECRET_VALUES[1]}`,
      '--wire',
      'deploy/api',
      '--wire-as',
      'volume',
      '--mount-path',
      '/etc/api',
      '-n',
      ns,
    ]);
    expect(again.err).toBe('deployment.apps/api already uses secret/api-keys and carries its current stamp; nothing to roll out\n');
    expect(again).toMatchObject({ code: 0, out: 'secret/api-keys unchanged\ndeployment.apps/api rolled out\n' });
  });

  it('view KEY --reveal prints the raw value alone, for pipes', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'reveal');
    await mlops(['secret', 'tok', '--from-literal', 'token=abc def', '-n', ns]);
    const r = await mlops(['secret', 'view', 'tok', 'token', '--reveal', '-n', ns]);
    expect(r.out).toBe('abc def');
    const missing = await mlops(['secret', 'view', 'tok', 'nope', '-n', ns]);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe('error: secret/tok has no key "nope"; keys: token\n');
  });

  afterAll(() => {
    // The secret values appear in no command's stdout or stderr (the --reveal test uses its own value).
    for (const text of allOutputs) for (const v of SECRET_VALUES) expect(text).not.toContain(v);
  });
});

describe('config and secret validate everything before the first write', () => {
  it.each([
    [['config', '..', '--from-literal', 'a=b'], 'error: invalid NAME "..": a name is at most 253 lower-case letters'],
    [['config', '.', '--from-literal', 'a=b'], 'error: invalid NAME ".": a name is at most 253 lower-case letters'],
    [['config', '', '--from-literal', 'a=b'], 'error: NAME must not be empty'],
    [['config', 'a/b', '--from-literal', 'a=b'], 'error: unsupported kind "a" in NAME "a/b"'],
    [['config', 'UPPER', '--from-literal', 'a=b'], 'error: invalid NAME "UPPER"'],
    [['secret', '..', '--from-literal', 'a=b'], 'error: invalid NAME ".."'],
    [['secret', 'view', '..'], 'error: invalid NAME ".."'],
    [['secret', 'view', 'secret/..'], 'error: invalid name in NAME "secret/.."'],
    [['config', 'x', '--from-literal', 'a=b', '--wire', 'bogus/x'], 'error: unsupported kind "bogus" in --wire "bogus/x"'],
    [['config', 'x', '--from-literal', 'a=b', '--wire', 'job/x'], 'error: unsupported kind "job" in --wire "job/x"'],
    [['config', 'x', '--from-literal', 'a=b', '--wire', 'deploy/..'], 'error: invalid name in --wire "deploy/.."'],
    [['config', 'x', '--from-literal', 'a=b', '--wire', 'deploy/x', '--wire-as', 'volume', '--mount-path', 'rel'], 'error: invalid value "rel" for --mount-path'],
    [['config', 'x', '--from-literal', 'a=b', '--wire', 'deploy/x', '--timeout', '0'], 'error: invalid value "0" for --timeout'],
    [['config', 'x', '--from-literal', 'a=b', '--wire', 'deploy/x', '--timeout', '600h'], 'error: invalid value "600h" for --timeout'],
    [['config', 'x', '--from-literal', 'a=b', '--prefix', 'P_'], 'error: --container, --wire-as, --mount-path, --prefix, --no-restart and --timeout are used with --wire'],
  ])('%j exits 2 before connecting', async (args, msg) => {
    // The unreachable kubeconfig proves no request was attempted: connecting would exit 3.
    const r = await mlops([...args, '--kubeconfig', path.join(import.meta.dirname, '../fixtures/unreachable-kubeconfig.yaml')]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.split('\n')[0]).toContain(msg);
  });

  it("--as is kubectl's impersonation on config and secret too (the wire mode is --wire-as)", async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'cfg-as');
    const r = await mlops(['config', 'cfg', '--from-literal', 'a=b', '--as', 'volume', '-n', ns]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`Error from server (Forbidden): configmaps "cfg" is forbidden: User "volume" cannot get resource "configmaps" in API group "" in the namespace "${ns}"\n`);
    expect(await kube.getOptional(pathOf(R.configmaps, { namespace: ns, name: 'cfg' }))).toBeUndefined();
  });

  it('a missing Deployment, a missing container, a wire the server refuses: nothing is written', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'wire-first');
    const two = deployment('two', { replicas: 1 });
    two.spec.template.spec.containers.push({ ...two.spec.template.spec.containers[0]!, name: 'sidecar' });
    await kube.create(pathOf(R.deployments, { namespace: ns }), two);
    const before = await kube.get<Deployment>(pathOf(R.deployments, { namespace: ns, name: 'two' }));
    const cases: [string[], number, string][] = [
      [['--wire', 'deploy/missing'], 1, 'error: deployment.apps/missing not found in namespace ' + ns + ' (--wire); nothing was written\n'],
      [['--wire', 'sts/missing'], 1, 'error: statefulset.apps/missing not found in namespace ' + ns + ' (--wire); nothing was written\n'],
      [['--wire', 'deploy/two'], 2, 'error: deploy/two has 2 containers (app, sidecar): pick one with --container\n'],
      [['--wire', 'deploy/two', '--container', 'nope'], 2, 'error: container "nope" (--container) not found in deploy/two; containers: app, sidecar\n'],
      // The server's own validation, reached through a server dry run before the ConfigMap is written.
      [['--wire', 'deploy/two', '--container', 'app', '--prefix', 'BAD=PREFIX'], 1, 'error: deployment.apps/two cannot be wired (--wire): '],
    ];
    for (const [extra, code, err] of cases) {
      for (const kind of ['config', 'secret']) {
        const r = await mlops([kind, 'early', '--from-literal', 'a=b', ...extra, '-n', ns]);
        expect(r.code, `${kind} ${extra.join(' ')}: ${r.err}`).toBe(code);
        expect(r.err.startsWith(err), r.err).toBe(true);
        expect(r.out).toBe('');
      }
    }
    expect(await kube.getOptional(pathOf(R.configmaps, { namespace: ns, name: 'early' }))).toBeUndefined();
    expect(await kube.getOptional(pathOf(R.secrets, { namespace: ns, name: 'early' }))).toBeUndefined();
    const after = await kube.get<Deployment>(pathOf(R.deployments, { namespace: ns, name: 'two' }));
    // The controller writes status; the spec (generation) is what a wire would change.
    expect(after.metadata!.generation).toBe(before.metadata!.generation);
    expect(after.spec).toEqual(before.spec);
  });

  it('without permission to patch the Deployment, --wire is refused by the access pre-flight before the ConfigMap is written', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'wire-rbac');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('web', { replicas: 1 }));
    await grantRestricted(kube, ns, 'cm-writer', [
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'create', 'patch'] },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch'] },
    ]);
    const r = await mlops(['config', 'cfg', '--from-literal', 'a=b', '--wire', 'deploy/web', '-n', ns], { kubeconfig: inject('cluster').restrictedKubeconfig });
    expect(r.code).toBe(1);
    expect(r.err).toBe(`error: not allowed to patch deployments.apps in namespace ${ns}: nothing was changed (ask for this permission, or see \`kubectl mlops doctor\`)\n`);
    expect(await kube.getOptional(pathOf(R.configmaps, { namespace: ns, name: 'cfg' }))).toBeUndefined();
  });
});

describe('config --wire after the first write', () => {
  it('a rollout that does not complete: exit 4 with what was written; the same command again re-checks and fails again, never "nothing changed" with exit 0', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'wire-stuck');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('stuck', { replicas: 1, image: 'registry.local/stuck:fail-1' }));
    const args = ['config', 'cfg', '--from-literal', 'a=b', '--wire', 'deploy/stuck', '--timeout', '3s', '-n', ns];
    const first = await mlops(args);
    expect(first.code).toBe(4);
    const cm = await kube.get<ConfigMap>(pathOf(R.configmaps, { namespace: ns, name: 'cfg' }));
    expect(first.err).toContain(
      [
        'What this command did before it stopped:',
        `  written:      configmap/cfg created (resourceVersion ${cm.metadata!.resourceVersion})`,
        `  written:      deployment.apps/stuck: envFrom configmap/cfg in container app; stamp configmap/cfg resourceVersion ${cm.metadata!.resourceVersion} (pods restart when the data changes)`,
        '  not verified: deployment.apps/stuck rolled out with configmap/cfg',
        '  to resume:    the same command again (it converges: unchanged data is not written twice)',
        '',
      ].join('\n'),
    );
    expect(first.err).toMatch(/error: timed out after 3s waiting for deployment\/stuck to roll out[^\n]*; pods not Ready: stuck-\S+ \(ImagePullBackOff/);
    const again = await mlops(args);
    expect(again.code).toBe(4);
    expect(again.out).toBe('configmap/cfg unchanged\n');
    expect(again.err).toContain('deployment.apps/stuck already uses configmap/cfg and carries its current stamp; nothing to roll out\n');
    expect(again.err).toMatch(/error: timed out after 3s waiting for deployment\/stuck to roll out/);
  });

  it('an immutable ConfigMap whose data would change is refused, unchanged', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'immutable');
    await kube.create(pathOf(R.configmaps, { namespace: ns }), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'frozen' }, immutable: true, data: { a: '1' } });
    const same = await mlops(['config', 'frozen', '--from-literal', 'a=1', '-n', ns]);
    expect(same).toMatchObject({ code: 0, out: 'configmap/frozen unchanged\n' });
    const r = await mlops(['config', 'frozen', '--from-literal', 'a=2', '-n', ns]);
    expect(r.code).toBe(1);
    expect(r.err).toBe('error: configmap/frozen is immutable: its data cannot change; delete it first or choose another name\n');
    expect((await kube.get<ConfigMap>(pathOf(R.configmaps, { namespace: ns, name: 'frozen' }))).data).toEqual({ a: '1' });
  });
});

describe('config against a colleague writing at the same time (real 409s through a proxy)', () => {
  it('created meanwhile (409 AlreadyExists): read again, the diff shows their keys, then applied on their version', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'race-create');
    const proxy = await conflictProxy(
      tmp(),
      (method, url) => method === 'POST' && url.startsWith(pathOf(R.configmaps, { namespace: ns })),
      () => kube.create(pathOf(R.configmaps, { namespace: ns }), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shared' }, data: { theirs: 't', a: 'old' } }),
    );
    try {
      const r = await mlops(['config', 'shared', '--from-literal', 'a=1', '-n', ns], { kubeconfig: proxy.kubeconfig });
      expect(r.code, r.err).toBe(0);
      expect(proxy.statuses()).toEqual([409]);
      expect(r.out).toBe('configmap/shared: create\n  + a: "1"\nconfigmap/shared: update\n  ~ a: "old" -> "1"\n  - theirs\nconfigmap/shared configured\n');
      expect(r.err).toMatch(/^Warning: configmap\/shared was changed by someone else while this command ran \(409 Conflict\); planned again on resourceVersion \d+:\n$/);
      expect((await kube.get<ConfigMap>(pathOf(R.configmaps, { namespace: ns, name: 'shared' }))).data).toEqual({ a: '1' });
    } finally {
      proxy.close();
    }
  });

  it('--merge: changed meanwhile (409 Conflict), their new key is listed as kept and kept', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'race-merge');
    const cmPath = pathOf(R.configmaps, { namespace: ns, name: 'shared' });
    await kube.create(pathOf(R.configmaps, { namespace: ns }), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shared' }, data: { a: 'old' } });
    const proxy = await conflictProxy(
      tmp(),
      (method, url) => method === 'PATCH' && url.startsWith(cmPath),
      () => kube.patch(cmPath, { data: { theirs: 't' } }, 'merge'),
    );
    try {
      const r = await mlops(['config', 'shared', '--from-literal', 'a=1', '--merge', '-n', ns], { kubeconfig: proxy.kubeconfig });
      expect(r.code, r.err).toBe(0);
      expect(proxy.statuses()).toEqual([409]);
      expect(r.out).toBe(
        'configmap/shared: update\n  ~ a: "old" -> "1"\nconfigmap/shared: update\n  ~ a: "old" -> "1"\n  = theirs (only in the cluster, kept)\nconfigmap/shared configured\n',
      );
      expect((await kube.get<ConfigMap>(cmPath)).data).toEqual({ a: '1', theirs: 't' });
    } finally {
      proxy.close();
    }
  });
});

describe('config and secret permissions', () => {
  it('the declared permissions (permissions.ts) cover every request the API server saw: create + wire, then update', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'cfg-audit');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('web', { replicas: 1 }));
    const created = await expectDeclaredCovers(kube, ns, 'config', ['config', 'cfg', '--from-literal', 'a=1', '--wire', 'deploy/web', '-n', ns], ['new', 'wire:deployments']);
    expect(created.code, created.err).toBe(0);
    const updated = await expectDeclaredCovers(kube, ns, 'config', ['config', 'cfg', '--from-literal', 'a=2', '--wire', 'deploy/web', '-n', ns], ['existing', 'wire:deployments']);
    expect(updated.code, updated.err).toBe(0);
    const secret = await expectDeclaredCovers(kube, ns, 'secret', ['secret', 's', '--from-literal', 'a=1', '-n', ns], ['new']);
    expect(secret.code, secret.err).toBe(0);
  });
});

describe('config --wire interrupted', () => {
  it('Ctrl-C during the rollout wait: exit 130, the journal names what was written and what was not verified; the same command again converges', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'wire-int');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('slow', { replicas: 1, image: 'registry.local/slow:fail-1' }));
    const args = ['config', 'cfg', '--from-literal', 'a=b', '--wire', 'deploy/slow', '-v', '-n', ns];
    const running = startMlops(args);
    await running.waitForErr(/watch=1/);
    running.interrupt();
    const r = await running.done;
    expect(r.code).toBe(130);
    const cm = await kube.get<ConfigMap>(pathOf(R.configmaps, { namespace: ns, name: 'cfg' }));
    expect(r.err).toContain(`  written:      configmap/cfg created (resourceVersion ${cm.metadata!.resourceVersion})\n`);
    expect(r.err).toContain('  written:      deployment.apps/slow: envFrom configmap/cfg in container app; stamp configmap/cfg resourceVersion');
    expect(r.err).toContain('  not verified: deployment.apps/slow rolled out with configmap/cfg\n');
    // Fixed: the image now works; the same command writes nothing and verifies the rollout.
    await kube.patch(
      pathOf(R.deployments, { namespace: ns, name: 'slow' }),
      { spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.local/slow:1.0' }] } } } },
      'strategic',
    );
    const again = await mlops(args.filter((a) => a !== '-v'));
    expect(again).toMatchObject({ code: 0, out: 'configmap/cfg unchanged\ndeployment.apps/slow rolled out\n' });
    expect((await kube.get<ConfigMap>(pathOf(R.configmaps, { namespace: ns, name: 'cfg' }))).metadata!.resourceVersion).toBe(cm.metadata!.resourceVersion);
  });
});

describe('config --wire with one declared permission missing', () => {
  it('each denied verb refuses the command with one line, exit 1, and nothing changed', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'cfg-deny');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('web', { replicas: 1 }));
    // Settled first, so that the controllers' own status writes are not taken for ours.
    await until(
      async () => {
        const d = await kube.get<Deployment>(pathOf(R.deployments, { namespace: ns, name: 'web' }));
        return d.status?.availableReplicas === 1 && d.status.observedGeneration === d.metadata!.generation;
      },
      60_000,
      'deployment/web available',
    );
    const flags = ['new', 'wire:deployments'];
    const needs = needsOf('config', (when) => flags.includes(when));
    expect(needs.map(needLabel)).toEqual([
      'get configmaps',
      'create configmaps',
      'get deployments.apps',
      'patch deployments.apps',
      'list deployments.apps',
      'watch deployments.apps',
    ]);
    for (const [i, deny] of needs.entries()) {
      const user = `cfg-deny-${i}`;
      await grantAllBut(kube, ns, user, needs, deny);
      const before = await snapshot(kube, ns);
      const r = await mlops(['config', 'cfg', '--from-literal', 'a=1', '--wire', 'deploy/web', '-n', ns], { kubeconfig: kubeconfigAs(user) });
      expectOneLineError(
        r,
        1,
        needLabel(deny) === 'get configmaps'
          ? /^Error from server \(Forbidden\): /
          : new RegExp(`^error: not allowed to ${needLabel(deny).replace('.', '\\.')} in namespace ${ns}: nothing was changed`),
      );
      await expectUnchanged(kube, ns, before);
    }
  });
});

describe('config --wire into a StatefulSet and a DaemonSet', () => {
  it.each([
    ['sts', R.statefulsets, { serviceName: 'db', replicas: 1 }],
    ['ds', R.daemonsets, {}],
  ] as const)('--wire %s/NAME adds envFrom and the stamp to the template', async (alias, res, extra) => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, `wire-${alias}`);
    const d = deployment('db', { replicas: 1 });
    const { replicas: _r, ...spec } = d.spec;
    await kube.create(pathOf(res, { namespace: ns }), { apiVersion: 'apps/v1', kind: res.kind, metadata: { name: 'db' }, spec: { ...spec, ...extra } });
    const r = await mlops(['config', 'cfg', '--from-literal', 'a=1', '--wire', `${alias}/db`, '-n', ns]);
    expect(r.code, r.err).toBe(0);
    const cm = await kube.get<ConfigMap>(pathOf(R.configmaps, { namespace: ns, name: 'cfg' }));
    const w = await kube.get<Deployment>(pathOf(res, { namespace: ns, name: 'db' }));
    expect(w.spec!.template!.spec!.containers[0]!.envFrom).toEqual([{ configMapRef: { name: 'cfg' } }]);
    expect(w.spec!.template!.metadata!.annotations!['mlops.kubectl.io/stamp-cm-cfg']).toBe(`${cm.metadata!.uid}/${cm.metadata!.resourceVersion}`);
    const again = await mlops(['config', 'cfg', '--from-literal', 'a=1', '--wire', `${alias}/db`, '-n', ns]);
    expect(again).toMatchObject({ code: 0, out: 'configmap/cfg unchanged\n' });
  });
});
