// npm run demo — the main job: start a local control plane, apply the tutorial's example
// workloads, run every plugin command on them with real output, and stop the cluster.
import { spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, startCluster } from './cluster/cluster.mjs';
import { resolveConfig } from '../dist/kube/config.js';
import { Kube } from '../dist/kube/client.js';

const bin = path.join(repoRoot, 'bin');
const nodeBin = path.join(repoRoot, 'node_modules', '.bin');
const PATH = [nodeBin, bin, process.env.PATH].join(path.delimiter);
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
const ns = 'mlops-demo';
const say = (s) => process.stdout.write(`\n\x1b[1m# ${s}\x1b[0m\n`);

let cluster;
function mlops(args, { allowFail = false } = {}) {
  const argv = hasKubectl ? ['kubectl', 'mlops', ...args] : ['kubectl-mlops', ...args];
  process.stdout.write(`$ ${argv.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ')}\n`);
  const r = spawnSync(argv[0], argv.slice(1), { env: { ...process.env, PATH, KUBECONFIG: cluster.kubeconfig }, encoding: 'utf8' });
  process.stdout.write(r.stdout + r.stderr);
  if (r.status !== 0 && !allowFail) throw new Error(`command failed with exit ${r.status}: ${argv.join(' ')}`);
  return r;
}

async function until(fn, what, ms = 60_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-demo-'));
try {
  say('starting a local control plane (etcd, kube-apiserver, controller-manager, scheduler, fake kubelet)');
  cluster = await startCluster({ stopOnSignal: true });
  console.log(`up in ${(cluster.startMs / 1000).toFixed(1)}s at ${cluster.server}`);
  const c = resolveConfig({ kubeconfig: cluster.kubeconfig }, {});
  const kube = new Kube({ auth: c.auth, server: c.server });
  const ready = async (sel, n) =>
    until(async () => {
      const l = await kube.list(`/api/v1/namespaces/${ns}/pods`, { labelSelector: sel });
      const r = l.items.filter((p) => !p.metadata.deletionTimestamp && p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'));
      return r.length === n ? r : undefined;
    }, `${n} ready pods ${sel}`);

  say("applying the tutorial's examples: the 3-replica my-app Deployment, its Service, a PVC");
  await kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await until(() => kube.getOptional(`/api/v1/namespaces/${ns}/serviceaccounts/default`), 'default ServiceAccount');
  await kube.create(`/apis/apps/v1/namespaces/${ns}/deployments`, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'my-app' },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'my-app' } },
      template: {
        metadata: { labels: { app: 'my-app' } },
        spec: {
          containers: [
            { name: 'my-app', image: 'yoonjeong/my-app:1.0', resources: { requests: { cpu: '100m', memory: '128Mi' } }, volumeMounts: [{ name: 'data', mountPath: '/data' }] },
          ],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'app-data' } }],
        },
      },
    },
  });
  await kube.create(`/api/v1/namespaces/${ns}/services`, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'my-app' },
    spec: { selector: { app: 'my-app' }, ports: [{ port: 80, targetPort: 8080 }] },
  });
  await kube.create(`/api/v1/namespaces/${ns}/persistentvolumeclaims`, {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'app-data' },
    spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } },
  });
  const pods = await ready('app=my-app', 3);

  say('version and doctor');
  mlops(['version']);
  mlops(['doctor', '-n', ns]);

  say('workflow 1: relabel-to-debug — detach a misbehaving pod, a replacement keeps users served');
  const victim = pods[0].metadata.name;
  mlops(['debug-pod', victim, '-n', ns]);
  mlops(['debug-pod', victim, '-n', ns]);
  mlops(['debug-pod', 'list', '-n', ns]);
  mlops(['debug-pod', 'done', victim, '-n', ns, '--yes']);

  say('workflow 3: ship images with their change-cause, history, rollback');
  mlops(['ship', 'my-app', 'my-app=yoonjeong/my-app:2.0', '--cause', 'release 2.0: new model', '-n', ns]);
  mlops(['ship', 'my-app', 'my-app=yoonjeong/my-app:3.0', '-n', ns]);
  mlops(['history', 'my-app', '-n', ns]);
  mlops(['history', 'my-app', '--diff', '1', '3', '-n', ns]);
  mlops(['rollback', 'my-app', '--to-revision', '7', '-n', ns], { allowFail: true });
  mlops(['rollback', 'my-app', '--to-revision', '2', '--reason', '3.0 answers slowly', '--keep-for-debug', '1', '-n', ns]);
  mlops(['history', 'my-app', '-n', ns]);
  mlops(['debug-pod', 'list', '-n', ns]);

  say('the relabel-to-debug rollback on a ReplicaSet (tutorial: pod template image change)');
  await kube.create(`/apis/apps/v1/namespaces/${ns}/replicasets`, {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'blue' },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'blue' } },
      template: { metadata: { labels: { app: 'blue' } }, spec: { containers: [{ name: 'app', image: 'yoonjeong/my-app:1.0' }] } },
    },
  });
  await ready('app=blue', 3);
  await kube.patch(
    `/apis/apps/v1/namespaces/${ns}/replicasets/blue`,
    { spec: { template: { spec: { containers: [{ name: 'app', image: 'yoonjeong/my-app:2.0' }] } } } },
    'strategic',
  );
  for (const p of await ready('app=blue', 3)) await kube.delete(`/api/v1/namespaces/${ns}/pods/${p.metadata.name}`);
  await until(async () => (await ready('app=blue', 3)).every((p) => p.spec.containers[0].image.endsWith(':2.0')), '2.0 pods');
  mlops(['rollback', 'rs/blue', 'app=yoonjeong/my-app:1.0', '--keep-for-debug', '-n', ns]);
  mlops(['debug-pod', 'list', '-n', ns]);

  say('workflow 4: ConfigMap and Secret bootstrap, wired into the Deployment');
  const env = path.join(tmp, 'app.env');
  fs.writeFileSync(env, '# served model\nMODEL_NAME="resnet-50"\nGREETING="hello\nfrom a multiline value"\nTHRESHOLD=0.8\n');
  mlops(['config', 'app-config', '--from-env-file', env, '--wire', 'deploy/my-app', '-n', ns]);
  mlops(['config', 'app-config', '--from-env-file', env, '-n', ns]);
  fs.writeFileSync(env, fs.readFileSync(env, 'utf8').replace('0.8', '0.9'));
  mlops(['config', 'app-config', '--from-env-file', env, '--wire', 'deploy/my-app', '-n', ns]);
  mlops(['secret', 'db-credentials', '--from-literal', 'username=ml', '--from-literal', 'password=demo-only-secret', '-n', ns]);
  mlops(['secret', 'view', 'db-credentials', '-n', ns]);

  say('workflow 5: storage at a glance');
  mlops(['storage', '-n', ns]);
  mlops(['storage', 'app-data', '-n', ns]);
  mlops(['storage', 'pv']);

  say('workflow 2: graceful scale-to-zero and restore');
  mlops(['scale-to-zero', 'deploy/my-app', '-n', ns]);
  mlops(['scale-to-zero', '--list', '-n', ns]);
  mlops(['restore', 'deploy/my-app', '-n', ns]);
  say('done');
} finally {
  cluster?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}
