// The canary suite (issue 17): every path that touches a Secret runs with canary values, and
// everything the plugin prints or writes outside the Secret (stdout, stderr, the Deployment,
// its ReplicaSets and pods, events, the Secret's own metadata) is searched for the canaries and
// for every digest of them a test can compute. Nothing about a value may be derivable from
// anything but the Secret's data.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { adminKube, deployment, freshNamespace, grantRestricted, mlops, waitReady, type Run } from './helpers.js';
import { R, pathOf } from '../../src/kube/resources.js';
import type { Deployment, Secret } from '../../src/kube/types.js';
import type { Kube } from '../../src/kube/client.js';
import { conflictProxy } from './proxy.js';

const rand = () => randomBytes(8).toString('hex');
/** key -> canary value. PIN is low-entropy on purpose: only its digests are searched (its digits occur in any resourceVersion). */
const CANARY: Record<string, string> = {
  PIN: '4821',
  TOKEN: `tok-${rand()}`,
  TOKEN2: `tok2-${rand()}`,
  ENV_PW: `envpw-${rand()}`,
  DOT_PW: `dotpw-${rand()}`,
  'creds.txt': `file-${rand()}`,
  'in-folder.txt': `folder-${rand()}`,
  OUTSIDE: `outside-${rand()}`,
  COLLEAGUE: `colleague-${rand()}`,
  DRY: `dry-${rand()}`,
  ERR: `err-${rand()}`,
  CM_VALUE: `cm-${rand()}`,
};

const runs: Run[] = [];
async function plugin(args: string[], opts: { kubeconfig?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const r = await mlops(args, opts);
  runs.push(r);
  return r;
}

const ALGOS = ['sha256', 'sha1', 'md5', 'sha512'] as const;

/** Full-length needles (searched anywhere) and hex digests (their 8..16-character prefixes searched too). */
function needles(): { exact: string[]; hex: string[] } {
  const exact = new Set<string>();
  const hex = new Set<string>();
  const digestsOf = (input: string | Buffer) => {
    for (const a of ALGOS) {
      const d = createHash(a).update(input).digest();
      hex.add(d.toString('hex'));
      exact.add(d.toString('base64').replace(/=+$/, ''));
      exact.add(d.toString('base64url'));
    }
  };
  const pairs = Object.entries(CANARY);
  for (const [k, v] of pairs) {
    if (v.length >= 8) {
      exact.add(v);
      exact.add(Buffer.from(v).toString('base64').replace(/=+$/, ''));
    }
    for (const input of [v, `${k}=${v}`, `${k}${v}`, `${k}:${v}`, `${k}\0${v}\0`, `${k}=${v}\n`, Buffer.from(v).toString('base64')]) digestsOf(input);
  }
  // What earlier versions stamped: sha256 over the sorted `key\0value\0` of the whole data.
  for (let n = 1; n <= pairs.length; n++) {
    const h = createHash('sha256');
    for (const [k, v] of pairs.slice(0, n).sort(([a], [b]) => (a < b ? -1 : 1))) h.update(k).update('\0').update(v).update('\0');
    hex.add(h.digest('hex'));
  }
  return { exact: [...exact], hex: [...hex] };
}

/** Every leak of a canary or a digest of one in `text`, described. */
function leaks(text: string): string[] {
  const { exact, hex } = needles();
  const found: string[] = [];
  const lower = text.toLowerCase();
  for (const n of exact) if (text.includes(n)) found.push(`"${n}"`);
  for (const h of hex) {
    // 12+ hex characters anywhere; 8..11 at the start of a hex run (random 8-character runs, as in uids, would match by chance elsewhere).
    if (lower.includes(h.slice(0, 12))) found.push(`hex ${h.slice(0, 12)}...`);
  }
  const runsOfHex = new Set(lower.match(/[0-9a-f]{8,}/g) ?? []);
  for (const h of hex) for (const t of runsOfHex) if (h.startsWith(t.slice(0, 8))) found.push(`hex prefix ${t}`);
  return [...new Set(found)];
}

let kube: Kube;
let ns: string;
let dir: string;

/** Everything outside the Secrets' data the plugin or the controllers wrote in the namespace. */
async function clusterText(namespace: string): Promise<string> {
  const parts: unknown[] = [];
  for (const res of [R.deployments, R.replicasets, R.pods, R.events, R.configmaps, R.statefulsets, R.daemonsets]) {
    parts.push((await kube.list(pathOf(res, { namespace }))).items);
  }
  const secrets = (await kube.list<Secret>(pathOf(R.secrets, { namespace }))).items;
  parts.push(secrets.map(({ data: _data, ...rest }) => rest));
  return JSON.stringify(parts);
}

function write(rel: string, content: string | Buffer): string {
  const f = path.join(dir, rel);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, content);
  return f;
}

const secretPath = (name: string, namespace = ns) => pathOf(R.secrets, { namespace, name });
const decoded = (s: Secret) => Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

beforeAll(async () => {
  kube = adminKube();
  ns = await freshNamespace(kube, 'canary');
  dir = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'mlops-canary-'));
  await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('app', { replicas: 1 }));
  await waitReady(kube, ns, 'app=app', 1);
});

describe('no Secret value, nor any digest of one, leaves the Secret', () => {
  it('the leak detector finds what earlier versions leaked (a sha256 prefix of key and value in the change-cause)', () => {
    const old = createHash('sha256').update('PIN').update('\0').update('4821').update('\0').digest('hex');
    expect(leaks(`kubectl mlops: secret/x data sha256:${old.slice(0, 12)}`)).not.toEqual([]);
    expect(leaks(`{"stamp":"${old.slice(0, 8)}"}`)).not.toEqual([]);
    expect(leaks(`expected KEY=VALUE, got "PASSWORD ${CANARY.ENV_PW}"`)).not.toEqual([]);
    expect(leaks('kubectl mlops: secret/x resourceVersion 4821')).toEqual([]);
  });

  it('create, --wire, update, re-run, dry runs, -o name, -v, view, --merge and --tls leak nothing', async () => {
    const env = write('creds.env', `ENV_PW=${CANARY.ENV_PW}\n`);
    const dot = write('creds.dotenv', `export DOT_PW="${CANARY.DOT_PW}"\n`);
    const file = write('creds.txt', CANARY['creds.txt']!);
    write('folder/in-folder.txt', CANARY['in-folder.txt']!);
    // A symlink in the folder to a file outside it: kubectl skips it, so must the plugin.
    fs.symlinkSync(write('outside/OUTSIDE', CANARY.OUTSIDE!), path.join(dir, 'folder', 'OUTSIDE'));
    const sources = [
      '--from-literal',
      `PIN=${CANARY.PIN}`,
      '--from-literal',
      `TOKEN=${CANARY.TOKEN}`,
      '--from-env-file',
      env,
      '--from-dotenv',
      dot,
      '--from-file',
      file,
      '--from-file',
      path.join(dir, 'folder'),
    ];

    const created = await plugin(['secret', 'creds', ...sources, '--wire', 'deploy/app', '-v', '-n', ns]);
    expect(created.code, created.err).toBe(0);
    expect(created.err).toContain('Warning: skipped in');
    expect(created.err).toContain('OUTSIDE (symbolic link)');
    const s1 = await kube.get<Secret>(secretPath('creds'));
    expect(decoded(s1)).toEqual({
      PIN: CANARY.PIN,
      TOKEN: CANARY.TOKEN,
      ENV_PW: CANARY.ENV_PW,
      DOT_PW: CANARY.DOT_PW,
      'creds.txt': CANARY['creds.txt'],
      'in-folder.txt': CANARY['in-folder.txt'],
    });
    expect(JSON.stringify(s1)).not.toContain(Buffer.from(CANARY.OUTSIDE!).toString('base64').slice(0, 16));
    const d1 = await kube.get<Deployment>(pathOf(R.deployments, { namespace: ns, name: 'app' }));
    expect(d1.metadata!.annotations!['kubernetes.io/change-cause']).toBe(`kubectl mlops: secret/creds resourceVersion ${s1.metadata!.resourceVersion}`);
    expect(d1.spec!.template!.metadata!.annotations!['mlops.kubectl.io/stamp-secret-creds']).toBe(`${s1.metadata!.uid}/${s1.metadata!.resourceVersion}`);

    const updated = await plugin(['secret', 'creds', ...sources.map((a) => (a === `TOKEN=${CANARY.TOKEN}` ? `TOKEN=${CANARY.TOKEN2}` : a)), '--wire', 'deploy/app', '-n', ns]);
    expect(updated.code, updated.err).toBe(0);
    expect(updated.out).toContain('  ~ TOKEN (changed)\nsecret/creds configured\n');
    expect(updated.out).toContain('deployment.apps/app rolled out');
    const again = await plugin(['secret', 'creds', ...sources.map((a) => (a === `TOKEN=${CANARY.TOKEN}` ? `TOKEN=${CANARY.TOKEN2}` : a)), '--wire', 'deploy/app', '-n', ns]);
    expect(again).toMatchObject({ code: 0, out: 'secret/creds unchanged\ndeployment.apps/app rolled out\n' });

    const before = (await kube.get<Secret>(secretPath('creds'))).metadata!.resourceVersion;
    for (const [dry, suffix] of [
      ['client', '(dry run)'],
      ['server', '(server dry run)'],
    ]) {
      const r = await plugin(['secret', 'creds', '--from-literal', `DRY=${CANARY.DRY}`, '--merge', '--wire', 'deploy/app', `--dry-run=${dry}`, '-n', ns]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain(`secret/creds: update ${suffix}\n  + DRY\n`);
      expect(r.out).toContain(`deployment.apps/app: stamp secret/creds (its new resourceVersion) (pods restart when the data changes) ${suffix}\n`);
    }
    expect((await kube.get<Secret>(secretPath('creds'))).metadata!.resourceVersion).toBe(before);
    const named = await plugin(['secret', 'creds', '--from-literal', `DRY=${CANARY.DRY}`, '--merge', '-o', 'name', '-n', ns]);
    expect(named).toMatchObject({ code: 0, out: 'secret/creds\n' });

    for (const o of [[], ['-o', 'json'], ['-o', 'yaml'], ['TOKEN'], ['TOKEN', '-o', 'json']]) {
      const v = await plugin(['secret', 'view', 'creds', ...o, '-n', ns]);
      expect(v.code, v.err).toBe(0);
    }

    const crt = path.join(dir, 'tls.crt');
    const key = path.join(dir, 'tls.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', '90', '-subj', '/CN=canary'], { stdio: 'ignore' });
    CANARY['tls.key'] = fs.readFileSync(key, 'utf8');
    CANARY.TLS_KEY_BODY = fs.readFileSync(key, 'utf8').split('\n')[1]!;
    const tls = await plugin([
      'secret',
      'web-tls',
      '--tls',
      '--cert',
      crt,
      '--key',
      key,
      '--wire',
      'deploy/app',
      '--wire-as',
      'volume',
      '--mount-path',
      '/etc/tls',
      '-v',
      '-n',
      ns,
    ]);
    expect(tls.code, tls.err).toBe(0);
    // The type cannot change: refused, and the refusal quotes nothing.
    const retype = await plugin(['secret', 'creds', '--tls', '--cert', crt, '--key', key, '-n', ns]);
    expect(retype.code).toBe(1);

    const text = runs.map((r) => r.out + r.err).join('\n') + (await clusterText(ns));
    expect(leaks(text)).toEqual([]);
  });

  it('every error path names file, line and key, never the value', async () => {
    const e = CANARY.ERR!;
    const big = write('big.bin', Buffer.concat([Buffer.from(e), Buffer.alloc(1024 * 1024 + 10, 0x61)]));
    const cases: [string[], number, string][] = [
      [['--from-literal', `=${e}`], 2, 'error: the 1st --from-literal: the key before "=" is empty (the value is not shown)\n'],
      [['--from-literal', e], 2, 'error: the 1st --from-literal: want KEY=VALUE, found no "=" (the text is not shown: it may hold a value)\n'],
      [['--from-literal', `A=1`, '--from-literal', `bad key=${e}`], 2, 'error: invalid key from the 2nd --from-literal: '],
      [['--from-literal', `TOKEN=${e}`, '--from-literal', `TOKEN=${e}`], 2, 'error: key "TOKEN" is given twice: by --from-literal TOKEN, twice\n'],
      [
        ['--from-env-file', write('e1.env', `A=1\nPASSWORD ${e}\n`)],
        2,
        `error: ${dir}/e1.env:2: not KEY=VALUE, and not a variable name that takes its value from the environment (the line is not shown: it may hold a value)\n`,
      ],
      [['--from-env-file', write('e2.env', `export PASSWORD=${e}\n`)], 2, `error: ${dir}/e2.env:1: the key starts with "export "`],
      [['--from-env-file', write('e3.env', Buffer.concat([Buffer.from(`A=1\nPW=${e}`), Buffer.from([0xe9, 0x0a])]))], 2, `error: ${dir}/e3.env:2: not valid UTF-8`],
      [['--from-env-file', write('e4.env', `A=1\nPW=${e}${'x'.repeat(70_000)}\n`)], 2, `error: ${dir}/e4.env:2: the line is longer than 64 KiB`],
      [['--from-env-file', write('e5.env', `${e.toUpperCase().replace(/-/g, '_')} = x\n`)], 2, `error: ${dir}/e5.env:1: character `],
      [['--from-dotenv', write('d1.env', `A=1\nPW="${e}\n`)], 2, `error: ${dir}/d1.env:2: unterminated double-quoted value for PW\n`],
      [['--from-dotenv', write('d2.env', `PW="${e}" ${e}\n`)], 2, `error: ${dir}/d2.env:1: unexpected text after the closing quote of PW\n`],
      [['--from-dotenv', write('d3.env', `${e}\n`)], 2, `error: ${dir}/d3.env:1: expected KEY=VALUE (the line is not shown: it may hold a value)\n`],
      [['--from-dotenv', write('d4.env', `1${e}=x\n`)], 2, `error: ${dir}/d4.env:1: invalid key`],
      [['--from-file', big], 2, 'error: the data is '],
      [['--from-literal', `PW=${e}`, '--wire', 'deploy/missing'], 1, `error: deployment.apps/missing not found in namespace ${ns} (--wire); nothing was written\n`],
      [['--from-literal', `PW=${e}`, '--wire', 'job/x'], 2, 'error: unsupported kind "job" in --wire "job/x"'],
      [['--from-literal', `PW=${e}`, '--wire', 'deploy/app', '--container', 'nope'], 2, 'error: container "nope" (--container) not found in deploy/app; containers: app\n'],
      [['--from-literal', `PW=${e}`, '-o', 'json'], 2, 'error: unable to match a printer suitable for the output format "json"'],
      [['--from-literal', `PW=${e}`, '--dry-run=bogus'], 2, 'error: invalid value "bogus" for --dry-run'],
    ];
    for (const [args, code, msg] of cases) {
      const r = await plugin(['secret', 'errs', ...args, '-v', '-n', ns]);
      expect(r.code, `${args.join(' ').slice(0, 120)}: ${r.err}`).toBe(code);
      expect(
        r.err
          .split('\n')
          .filter((l) => !/^(GET|PATCH|POST) /.test(l))
          .join('\n')
          .startsWith(msg),
        r.err,
      ).toBe(true);
      expect(leaks(r.out + r.err), args.join(' ').slice(0, 80)).toEqual([]);
    }
    expect(await kube.getOptional(secretPath('errs'))).toBeUndefined();

    // A rollout that never completes: the journal lists what was written, nothing of the value.
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('stuck', { replicas: 1, image: 'registry.local/stuck:fail-1' }));
    const stuck = await plugin(['secret', 'stuck-creds', '--from-literal', `PW=${e}`, '--wire', 'deploy/stuck', '--timeout', '2s', '-v', '-n', ns]);
    expect(stuck.code).toBe(4);
    expect(stuck.err).toContain('  written:      secret/stuck-creds created (resourceVersion ');
    expect(leaks(stuck.out + stuck.err)).toEqual([]);

    // Denied by RBAC: the access pre-flight names the verb, nothing of the value.
    await grantRestricted(kube, ns, 'reader', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]);
    const denied = await plugin(['secret', 'creds', '--from-literal', `PW=${e}`, '-n', ns], { kubeconfig: inject('cluster').restrictedKubeconfig });
    expect(denied.code).toBe(1);
    expect(denied.err).toBe(`error: not allowed to patch secrets in namespace ${ns}: nothing was changed (ask for this permission, or see \`kubectl mlops doctor\`)\n`);
    expect(leaks(denied.out + denied.err)).toEqual([]);
    expect(leaks(await clusterText(ns))).toEqual([]);
  });

  it('two Secrets with the same data in two namespaces get different stamps; a ConfigMap is stamped the same way', async () => {
    const stamps: string[] = [];
    for (let i = 0; i < 2; i++) {
      const n = await freshNamespace(kube, `twin-stamp-${i}`);
      await kube.create(pathOf(R.deployments, { namespace: n }), deployment('app', { replicas: 1 }));
      const w = await plugin(['secret', 'same', '--from-literal', `PIN=${CANARY.PIN}`, '--wire', 'deploy/app', '-n', n]);
      expect(w.code, w.err).toBe(0);
      const d = await kube.get<Deployment>(pathOf(R.deployments, { namespace: n, name: 'app' }));
      stamps.push(d.spec!.template!.metadata!.annotations!['mlops.kubectl.io/stamp-secret-same']!);
      // Not through plugin(): a ConfigMap's values are printed by design.
      const c = await mlops(['config', 'cfg', '--from-literal', `V=${CANARY.CM_VALUE}`, '--wire', 'deploy/app', '-n', n]);
      expect(c.code, c.err).toBe(0);
      expect(leaks((c.out + c.err).replaceAll(CANARY.CM_VALUE!, ''))).toEqual([]);
      const withCm = await kube.get<Deployment>(pathOf(R.deployments, { namespace: n, name: 'app' }));
      expect(withCm.spec!.template!.metadata!.annotations!['mlops.kubectl.io/stamp-cm-cfg']).toMatch(/^[0-9a-f-]{36}\/\d+$/);
      // The ConfigMap's value is printed by design; its digests must not be on the template.
      const template = JSON.stringify([withCm, (await kube.list(pathOf(R.replicasets, { namespace: n }))).items]);
      expect(leaks(template.replaceAll(CANARY.CM_VALUE!, ''))).toEqual([]);
      expect(leaks(await clusterText(n).then((t) => t.replaceAll(CANARY.CM_VALUE!, '')))).toEqual([]);
    }
    expect(stamps[0]).toMatch(/^[0-9a-f-]{36}\/\d+$/);
    expect(stamps[0]).not.toBe(stamps[1]);
  });

  it('a Deployment stamped by an earlier version (a sha256 of the data) loses that digest at the next --wire', async () => {
    const n = await freshNamespace(kube, 'legacy-stamp');
    const old = createHash('sha256').update('PIN').update('\0').update(CANARY.PIN!).update('\0').digest('hex');
    const d = deployment('app', { replicas: 1 });
    (d.spec.template.metadata as { annotations?: Record<string, string> }).annotations = { 'mlops.kubectl.io/checksum-secret-legacy': old };
    await kube.create(pathOf(R.deployments, { namespace: n }), d);
    await waitReady(kube, n, 'app=app', 1);
    const r = await plugin(['secret', 'legacy', '--from-literal', `PIN=${CANARY.PIN}`, '--wire', 'deploy/app', '-n', n]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('remove the data checksum of earlier versions (mlops.kubectl.io/checksum-secret-legacy)');
    const after = await kube.get<Deployment>(pathOf(R.deployments, { namespace: n, name: 'app' }));
    expect(leaks(JSON.stringify(after))).toEqual([]);
    expect(after.spec!.template!.metadata!.annotations).not.toHaveProperty('mlops.kubectl.io/checksum-secret-legacy');
    // The old ReplicaSet keeps its template (history): the README says so.
    expect(leaks(await clusterText(n))).not.toEqual([]);
  });

  it('a Secret changed by a colleague between the diff and the write: 409, re-read, the new diff shows their key, nothing of any value', async () => {
    await kube.create(pathOf(R.secrets, { namespace: ns }), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'race' },
      type: 'Opaque',
      data: { MINE: Buffer.from(CANARY.TOKEN!).toString('base64') },
    });
    const racePath = secretPath('race');
    // A proxy in front of the real API server: before the plugin's first write to the Secret
    // reaches the server, the colleague's write does; the server answers the plugin 409.
    const proxy = await conflictProxy(
      dir,
      (method, url) => method === 'PATCH' && url.startsWith(racePath),
      () => kube.patch(racePath, { data: { COLLEAGUE: Buffer.from(CANARY.COLLEAGUE!).toString('base64') } }, 'merge'),
    );
    try {
      const r = await plugin(['secret', 'race', '--from-literal', `MINE=${CANARY.TOKEN2}`, '-n', ns], { kubeconfig: proxy.kubeconfig });
      expect(r.code, r.err).toBe(0);
      expect(proxy.statuses()).toContain(409);
      expect(r.out).toBe('secret/race: update\n  ~ MINE (changed)\nsecret/race: update\n  ~ MINE (changed)\n  - COLLEAGUE\nsecret/race configured\n');
      expect(r.err).toMatch(/^Warning: secret\/race was changed by someone else while this command ran \(409 Conflict\); planned again on resourceVersion \d+:\n$/);
      expect(decoded(await kube.get<Secret>(racePath))).toEqual({ MINE: CANARY.TOKEN2 });
      expect(leaks(r.out + r.err)).toEqual([]);
    } finally {
      proxy.close();
    }
  });

  afterAll(() => {
    // Belt and braces: nothing any run in this file printed holds a canary or a digest.
    expect(leaks(runs.map((r) => r.out + r.err).join('\n'))).toEqual([]);
  });
});
