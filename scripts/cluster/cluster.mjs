// Runs a real Kubernetes control plane as local processes: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and our fake kubelet. Used by `npm run cluster:up`,
// the vitest global setup, the demo and the benchmark.
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, fetch } from 'undici';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../..');

export function readVersions() {
  const text = fs.readFileSync(path.join(here, 'versions.env'), 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => /^[A-Z0-9_]+=/.test(l))
      .map((l) => l.split('=')),
  );
}

export function cacheRoot() {
  return process.env.MLOPS_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'kubectl-mlops');
}

export function binaries() {
  const v = readVersions();
  const k8s = path.join(cacheRoot(), `k8s-${v.K8S_VERSION}`);
  return {
    etcd: path.join(cacheRoot(), `etcd-${v.ETCD_VERSION}`, 'etcd'),
    apiserver: path.join(k8s, 'kube-apiserver'),
    controllerManager: path.join(k8s, 'kube-controller-manager'),
    scheduler: path.join(k8s, 'kube-scheduler'),
  };
}

/** Builds the binaries when they are missing (cold: 15-30 min), fails clearly without Go. */
export function ensureBinaries({ log = (m) => process.stderr.write(m + '\n') } = {}) {
  const bins = binaries();
  const missing = Object.values(bins).filter((b) => !fs.existsSync(b));
  if (missing.length === 0) return bins;
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      `the local control plane needs ${missing.map((m) => path.basename(m)).join(', ')}, which are built from source with Go, ` +
        'but `go` is not on PATH: install Go >= 1.25 (or copy the binaries into ' +
        cacheRoot() +
        ')',
    );
  }
  log(`[cluster] building missing binaries: ${missing.join(', ')}`);
  execFileSync('bash', [path.join(here, 'build.sh'), 'all'], { stdio: ['ignore', 'inherit', 'inherit'] });
  return bins;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function kubeconfigYaml({ server, ca, token, user, context, namespace }) {
  return [
    'apiVersion: v1',
    'kind: Config',
    `current-context: ${context}`,
    'clusters:',
    '- name: mlops-local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${ca}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    `- name: ${context}`,
    '  context:',
    '    cluster: mlops-local',
    `    user: ${user}`,
    ...(namespace ? [`    namespace: ${namespace}`] : []),
    '',
  ].join('\n');
}

async function waitFor(what, fn, { timeoutMs = 120_000, intervalMs = 250, logFile } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  while (Date.now() < deadline) {
    try {
      const r = await fn();
      if (r) return r;
    } catch (e) {
      lastErr = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const tail = logFile && fs.existsSync(logFile) ? '\n--- ' + logFile + ' (tail) ---\n' + fs.readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n') : '';
  throw new Error(`timed out waiting for ${what}${lastErr ? ': ' + lastErr.message : ''}${tail}`);
}

/**
 * Starts a cluster in workDir. Returns { workDir, kubeconfig, restrictedKubeconfig, server, stop }.
 * PIDs go to workDir/pids.json so another process can stop it (cluster:down).
 */
export async function startCluster({ workDir, nodes = 2, log = (m) => process.stderr.write(m + '\n'), auditLog = false, stopOnSignal = false } = {}) {
  const bins = ensureBinaries({ log });
  workDir = workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-cluster-'));
  fs.mkdirSync(workDir, { recursive: true });
  const started = Date.now();
  const procs = [];
  const pidFile = path.join(workDir, 'pids.json');
  const savePids = () => fs.writeFileSync(pidFile, JSON.stringify(procs.map((p) => p.pid)));

  const launch = (name, bin, args, env = {}) => {
    const logFile = path.join(workDir, `${name}.log`);
    const fd = fs.openSync(logFile, 'a');
    const child = spawn(bin, args, { stdio: ['ignore', fd, fd], detached: true, env: { ...process.env, ...env } });
    fs.closeSync(fd);
    child.unref();
    child.name = name;
    child.logFile = logFile;
    procs.push(child);
    savePids();
    return child;
  };
  const stop = () => stopPids(procs.map((p) => p.pid));

  try {
    const [etcdPort, apiPort] = [await freePort(), await freePort()];
    const certDir = path.join(workDir, 'certs');
    fs.mkdirSync(certDir, { recursive: true });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const saKey = path.join(workDir, 'sa.key');
    fs.writeFileSync(saKey, privateKey.export({ type: 'pkcs1', format: 'pem' }));
    const adminToken = randomBytes(16).toString('hex');
    const restrictedToken = randomBytes(16).toString('hex');
    const controllerToken = randomBytes(16).toString('hex');
    fs.writeFileSync(
      path.join(workDir, 'tokens.csv'),
      [
        `${adminToken},admin,admin,"system:masters"`,
        `${restrictedToken},restricted,restricted`,
        `${controllerToken},mlops-controllers,mlops-controllers,"system:masters"`,
        '',
      ].join('\n'),
    );

    launch('etcd', bins.etcd, [
      '--data-dir',
      path.join(workDir, 'etcd'),
      '--listen-client-urls',
      `http://127.0.0.1:${etcdPort}`,
      '--advertise-client-urls',
      `http://127.0.0.1:${etcdPort}`,
      '--listen-peer-urls',
      'http://127.0.0.1:0',
      '--unsafe-no-fsync',
      '--log-level',
      'warn',
    ]);
    const auditArgs = [];
    if (auditLog) {
      const policy = path.join(workDir, 'audit-policy.yaml');
      fs.writeFileSync(
        policy,
        'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: ["RequestReceived"]\nrules:\n- level: None\n  userGroups: ["system:nodes", "system:serviceaccounts:kube-system"]\n- level: None\n  users: ["system:kube-controller-manager", "system:kube-scheduler", "system:apiserver"]\n- level: Metadata\n',
      );
      auditArgs.push('--audit-policy-file', policy, '--audit-log-path', path.join(workDir, 'audit.log'), '--audit-log-format', 'json');
    }
    const apiLog = launch('kube-apiserver', bins.apiserver, [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      '--advertise-address=127.0.0.1',
      '--endpoint-reconciler-type=none',
      `--cert-dir=${certDir}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${saKey}`,
      `--service-account-signing-key-file=${saKey}`,
      `--token-auth-file=${path.join(workDir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--allow-privileged=true',
      '--enable-priority-and-fairness=false',
      '--kubelet-preferred-address-types=InternalIP',
      ...auditArgs,
    ]).logFile;

    const server = `https://127.0.0.1:${apiPort}`;
    const certFile = path.join(certDir, 'apiserver.crt');
    await waitFor('the API server certificate', () => fs.existsSync(certFile), { logFile: apiLog });
    const ca = certFile;
    const dispatcher = new Agent({ connect: { ca: fs.readFileSync(ca) } });
    const api = async (method, p, body) => {
      const res = await fetch(server + p, {
        method,
        dispatcher,
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: await res.text() };
    };
    await waitFor('kube-apiserver /readyz', async () => (await api('GET', '/readyz')).status === 200, { logFile: apiLog });

    const kubeconfig = path.join(workDir, 'kubeconfig');
    fs.writeFileSync(kubeconfig, kubeconfigYaml({ server, ca, token: adminToken, user: 'admin', context: 'mlops-local' }));
    const restrictedKubeconfig = path.join(workDir, 'kubeconfig-restricted');
    fs.writeFileSync(restrictedKubeconfig, kubeconfigYaml({ server, ca, token: restrictedToken, user: 'restricted', context: 'mlops-restricted' }));
    const controllersKubeconfig = path.join(workDir, 'kubeconfig-controllers');
    fs.writeFileSync(controllersKubeconfig, kubeconfigYaml({ server, ca, token: controllerToken, user: 'mlops-controllers', context: 'controllers' }));

    launch('kube-controller-manager', bins.controllerManager, [
      `--kubeconfig=${controllersKubeconfig}`,
      `--authentication-kubeconfig=${controllersKubeconfig}`,
      `--authorization-kubeconfig=${controllersKubeconfig}`,
      '--bind-address=127.0.0.1',
      '--secure-port=0',
      '--leader-elect=false',
      '--controllers=*',
      '--use-service-account-credentials=false',
      `--service-account-private-key-file=${saKey}`,
      `--root-ca-file=${ca}`,
      '--enable-hostpath-provisioner',
      '--concurrent-deployment-syncs=10',
      '--concurrent-replicaset-syncs=10',
      // The HPA acts within seconds instead of 15 s, so the HPA twin tests wait on it briefly.
      '--horizontal-pod-autoscaler-sync-period=2s',
      '--kube-api-qps=500',
      '--kube-api-burst=1000',
    ]);
    launch('kube-scheduler', bins.scheduler, [
      `--kubeconfig=${controllersKubeconfig}`,
      `--authentication-kubeconfig=${controllersKubeconfig}`,
      `--authorization-kubeconfig=${controllersKubeconfig}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      '--secure-port=0',
      '--kube-api-qps=500',
      '--kube-api-burst=1000',
    ]);
    launch('fake-kubelet', process.execPath, [path.join(here, 'fake-kubelet.mjs')], {
      MLOPS_SERVER: server,
      MLOPS_CA: ca,
      MLOPS_TOKEN: controllerToken,
      MLOPS_NODES: String(nodes),
      MLOPS_TLS_CERT: path.join(certDir, 'apiserver.crt'),
      MLOPS_TLS_KEY: path.join(certDir, 'apiserver.key'),
    });

    await waitFor('the default ServiceAccount', async () => (await api('GET', '/api/v1/namespaces/default/serviceaccounts/default')).status === 200, {
      logFile: path.join(workDir, 'kube-controller-manager.log'),
    });
    // The fake kubelet adds one MIG node (mlops-node-mig) to the `nodes` plain ones.
    await waitFor(
      `${nodes + 1} Ready nodes`,
      async () => {
        const r = await api('GET', '/api/v1/nodes');
        const items = JSON.parse(r.body).items ?? [];
        return items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length >= nodes + 1;
      },
      { logFile: path.join(workDir, 'fake-kubelet.log') },
    );

    // A StorageClass for dynamic provisioning through the in-tree hostPath provisioner.
    await api('POST', '/apis/storage.k8s.io/v1/storageclasses', {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'kubernetes.io/host-path',
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'Immediate',
    });
    await dispatcher.close();
    const info = { workDir, kubeconfig, restrictedKubeconfig, server, ca, adminToken, pids: procs.map((p) => p.pid), startMs: Date.now() - started };
    fs.writeFileSync(path.join(workDir, 'cluster.json'), JSON.stringify(info, null, 2));
    if (stopOnSignal) {
      // The processes run in their own process groups, so Ctrl-C would not reach them.
      for (const sig of ['SIGINT', 'SIGTERM']) {
        process.once(sig, () => {
          stop();
          process.exit(130);
        });
      }
    }
    return { ...info, stop };
  } catch (e) {
    stop();
    throw e;
  }
}

export function stopPids(pids) {
  for (const pid of [...pids].reverse()) {
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
  }
  const deadline = Date.now() + 10_000;
  for (const pid of pids) {
    while (Date.now() < deadline && alive(pid)) execFileSync('sleep', ['0.1']);
    if (alive(pid)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
