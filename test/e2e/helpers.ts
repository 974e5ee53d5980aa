import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { inject } from 'vitest';
import { resolveConfig } from '../../src/kube/config.js';
import { Kube } from '../../src/kube/client.js';
import { UnreachableError } from '../../src/errors.js';
import { R, pathOf } from '../../src/kube/resources.js';
import type { Pod } from '../../src/kube/types.js';
import { isReady } from '../../src/workloads/pods.js';
// @ts-expect-error plain ESM script
import { cacheRoot } from '../../scripts/cluster/cluster.mjs';

export const repo = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(repo, 'bin', 'kubectl-mlops');

/** PATH with our Node 22 and bin/ first, so `kubectl mlops` finds the plugin. */
export function testPath(): string {
  return [path.join(repo, 'node_modules', '.bin'), path.join(repo, 'bin'), process.env.PATH].join(path.delimiter);
}

export interface Run {
  code: number;
  out: string;
  err: string;
}

/** Every output of every run, so tests can assert that secrets never appear anywhere. */
export const allOutputs: string[] = [];

export function run(cmd: string, args: string[], opts: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, PATH: testPath(), NO_COLOR: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 150_000);
    child.on('error', reject);
    // A child that exits without reading stdin must not fail the test with EPIPE.
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => {
      clearTimeout(timer);
      allOutputs.push(out, err);
      resolve({ code: code ?? -1, out, err });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs the built plugin with the admin kubeconfig. */
export function mlops(args: string[], opts: { kubeconfig?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const kubeconfig = opts.kubeconfig ?? inject('cluster').kubeconfig;
  return run(BIN, args, { env: { KUBECONFIG: kubeconfig, ...opts.env } });
}

/** Direct API access for setting up and checking state (never through the code under test's CLI). */
export function adminKube(): Kube {
  const c = resolveConfig({ kubeconfig: inject('cluster').kubeconfig }, {});
  return new Kube({ auth: c.auth, server: c.server });
}

let nsCounter = 0;
export const createdNamespaces: string[] = [];
/** Deletes the namespaces this file made; with `wait`, until their pods (and the GPUs they hold) are gone. */
export async function deleteCreatedNamespaces(opts: { wait?: boolean } = {}): Promise<void> {
  const kube = adminKube();
  const names = createdNamespaces.splice(0);
  await Promise.all(names.map((ns) => kube.delete(pathOf(R.namespaces, { name: ns })).catch(() => undefined)));
  if (!opts.wait) return;
  // A Terminating namespace takes no new pods; its own controller would take seconds to start on the old ones.
  await Promise.all(names.map((ns) => kube.delete(pathOf(R.pods, { namespace: ns }), { gracePeriodSeconds: 0 }).catch(() => undefined)));
  await Promise.all(
    names.map((ns) => until(async () => (await kube.list<Pod>(pathOf(R.pods, { namespace: ns }))).items.length === 0, 120_000, `the pods of namespace ${ns} deleted`)),
  );
}

export async function freshNamespace(kube: Kube, prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid}-${++nsCounter}`.slice(0, 63);
  createdNamespaces.push(name);
  await kube.create(pathOf(R.namespaces), { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  // The ServiceAccount admission needs the namespace's default ServiceAccount before pods.
  await until(
    async () => Boolean(await kube.getOptional(pathOf({ ...R.pods, plural: 'serviceaccounts' }, { namespace: name, name: 'default' }))),
    30_000,
    `default ServiceAccount in ${name}`,
  );
  return name;
}

export async function until<T>(fn: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let v: T | undefined | false;
    try {
      v = await fn();
    } catch (e) {
      // A poll that could not reach the server (a TLS handshake slower than client-go's 10 s on a
      // loaded machine) is asked again; anything else is the test's failure.
      if (!(e instanceof UnreachableError) || Date.now() > deadline) throw e;
      v = undefined;
    }
    if (v) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function deployment(name: string, opts: { replicas?: number; image?: string; labels?: Record<string, string>; gpus?: number } = {}) {
  const labels = opts.labels ?? { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: opts.replicas ?? 3,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: 'app',
              image: opts.image ?? 'registry.local/my-app:1.0',
              resources: opts.gpus ? { limits: { 'nvidia.com/gpu': String(opts.gpus) } } : { requests: { cpu: '100m', memory: '64Mi' } },
            },
          ],
        },
      },
    },
  };
}

/** A StatefulSet of `replicas` pods labelled app=NAME (no volumes: the fake kubelet runs them as they are). */
/** A 1Gi hostPath PersistentVolume of `storageClassName`; `claimRef` pre-binds it (to a claim that may not exist: it goes Released). */
export function persistentVolume(name: string, opts: { storageClassName: string; reclaimPolicy?: string; claimRef?: { namespace: string; name: string; uid?: string } }) {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name },
    spec: {
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: opts.reclaimPolicy ?? 'Retain',
      storageClassName: opts.storageClassName,
      hostPath: { path: `/tmp/${name}` },
      ...(opts.claimRef ? { claimRef: { kind: 'PersistentVolumeClaim', ...opts.claimRef } } : {}),
    },
  };
}

export function statefulSet(name: string, opts: { replicas?: number; image?: string } = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      serviceName: name,
      replicas: opts.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: opts.image ?? 'registry.local/db:16' }] } },
    },
  };
}

export async function readyPods(kube: Kube, namespace: string, selector: string): Promise<Pod[]> {
  const l = await kube.list<Pod>(pathOf(R.pods, { namespace }), { labelSelector: selector });
  return l.items.filter(isReady);
}

export async function waitReady(kube: Kube, namespace: string, selector: string, n: number): Promise<Pod[]> {
  return until(
    async () => {
      const pods = await readyPods(kube, namespace, selector);
      return pods.length === n ? pods : undefined;
    },
    60_000,
    `${n} ready pods ${selector} in ${namespace}`,
  );
}

export function writeTemp(name: string, content: string | Buffer): string {
  const dir = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'mlops-e2e-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

/** Binds the restricted user to a Role with these rules in one namespace. */
export async function grantRestricted(kube: Kube, namespace: string, name: string, rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[]): Promise<void> {
  await kube.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/roles`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name }, rules });
  await kube.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'User', name: 'restricted', apiGroup: 'rbac.authorization.k8s.io' }],
  });
}

/**
 * The linux-amd64 release (archive + krew manifest), built once per e2e run and shared by the
 * files that need it (the control plane's work dir is new for every run; e2e files run one by one).
 */
/** What the release executable is made of: our sources, the locked dependencies, the build script and the Node that builds it. */
function releaseInputsHash(): string {
  const h = createHash('sha256').update(process.versions.node);
  const files = [
    'package.json',
    'package-lock.json',
    'scripts/release.mjs',
    ...fs.readdirSync(path.join(repo, 'src'), { recursive: true, encoding: 'utf8' }).map((f) => path.join('src', f)),
  ];
  for (const f of files.sort()) {
    const full = path.join(repo, f);
    if (fs.statSync(full).isFile()) h.update(f).update('\0').update(fs.readFileSync(full));
  }
  return h.digest('hex').slice(0, 16);
}

export async function releaseBuild(): Promise<{ dir: string; archive: string; manifest: string }> {
  const dir = path.join(inject('cluster').workDir, 'release');
  const archive = path.join(dir, 'kubectl-mlops_linux_amd64.tar.gz');
  // krew's validator wants the file named after the plugin.
  const manifest = path.join(dir, 'mlops.yaml');
  const done = path.join(dir, '.done');
  // Files run in parallel: the first to take the lock builds, the others wait for its .done.
  const lock = `${dir}.lock`;
  let mine = false;
  try {
    fs.mkdirSync(lock);
    mine = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  if (mine && !fs.existsSync(done)) {
    fs.rmSync(dir, { recursive: true, force: true });
    // The build (bundle, V8 snapshot, injection) is the heaviest step of the suite; a warm run
    // reuses the one made from the same sources, keyed by their hash, outside the repo.
    const cached = path.join((cacheRoot as () => string)(), `release-${releaseInputsHash()}`);
    if (fs.existsSync(path.join(cached, '.done'))) {
      fs.cpSync(cached, dir, { recursive: true });
    } else {
      // @ts-expect-error plain ESM script
      const { release } = (await import('../../scripts/release.mjs')) as { release: (o: object) => Promise<unknown> };
      await release({ platforms: ['linux-amd64'], out: dir, manifest });
      fs.writeFileSync(done, '');
      for (const old of fs.readdirSync(path.dirname(cached)).filter((n) => n.startsWith('release-'))) {
        fs.rmSync(path.join(path.dirname(cached), old), { recursive: true, force: true });
      }
      fs.cpSync(dir, `${cached}.tmp`, { recursive: true });
      fs.renameSync(`${cached}.tmp`, cached);
    }
  }
  await until(async () => fs.existsSync(done), 600_000, 'the release build of another test file');
  return { dir, archive, manifest };
}

/** A running plugin or kubectl whose stdout lines can be awaited. */
export function stream(cmd: string, args: string[]) {
  const child: ChildProcess = spawn(cmd, args, {
    env: { ...process.env, PATH: testPath(), NO_COLOR: '1', KUBECONFIG: inject('cluster').kubeconfig },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: { pred: (lines: string[]) => boolean; resolve: () => void }[] = [];
  const check = () => {
    const lines = out.split('\n').slice(0, -1);
    for (const w of [...waiters])
      if (w.pred(lines)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
  };
  child.stdout!.on('data', (d) => {
    out += d;
    check();
  });
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    lines: () => out.split('\n').slice(0, -1),
    err: () => err,
    exited,
    /** Resolves when a line matching `re` has appeared `count` times. */
    waitFor: (re: RegExp, count = 1) =>
      new Promise<void>((resolve, reject) => {
        const w = { pred: (lines: string[]) => lines.filter((l) => re.test(l)).length >= count, resolve };
        waiters.push(w);
        void exited.then(() => reject(new Error(`exited before ${count}x ${re}: ${out}${err}`)));
        // Not a wait: a deadline that turns a missing line into a readable failure.
        setTimeout(() => reject(new Error(`no ${count}x ${re} within 60s; stdout: ${JSON.stringify(out)} stderr: ${JSON.stringify(err)}`)), 60_000).unref();
        check();
      }),
    interrupt: async () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}
