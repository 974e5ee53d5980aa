// npm run bench [-- --quick] [--claims N] [--pods N] [--deployments N] [--revisions N] [--runs N] [--render-only]
//                [--only storage,debug-pod] [--plugin [LABEL=]PATH ...] [--scheduled-pods N] [--hold]
// Starts a local control plane with an audit log, seeds it at scale, runs each plugin command
// and its nearest kubectl equivalent interleaved (A B A B ...), and writes bench/results.md and
// bench/results.json: medians, min/max, ratios, requests counted at the server, peak RSS.
// It asserts nothing about time; it reports.
//
// --only: just those rows (by the start of their name: storage, debug-pod, version, history,
// gpus, scale, config, startup), timed at both sizes, a tenth of the pods and all of them, with
// the claims the same at both (the memory goal is about pods); only what they need is seeded,
// and the results go to bench/results-only-<pods>.{md,json}, never to results.md.
// --plugin: the executable(s) to measure instead of the krew build, each run interleaved with
// kubectl (e.g. --plugin before=/tmp/old/bin/kubectl-mlops --plugin after=bin/kubectl-mlops).
//
// Pods: up to 6,000 come from Deployments, scheduled onto the fake kubelet's nodes and
// Running; beyond that (--pods 60000) they come from Deployments whose pods name a scheduler
// nobody runs, so the two fake nodes (5,000 pods each) and the fake kubelet's 5 s sweeps are not
// asked to carry them; the bench then writes a Running status like the fake kubelet's onto
// each, so they weigh on the wire what a Running pod weighs.
import { spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, startCluster, readVersions, cacheRoot } from './cluster/cluster.mjs';
import { resolveConfig } from '../dist/kube/config.js';
import { Kube } from '../dist/kube/client.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const num = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const many = (name) => argv.flatMap((a, i) => (a === `--${name}` ? [argv[i + 1]] : []));
const only = argv.includes('--only')
  ? many('only')
      .flatMap((x) => x.split(','))
      .filter(Boolean)
  : null;
const plugins = many('plugin').map((x) => {
  const eq = x.indexOf('=');
  const file = path.resolve(eq > 0 ? x.slice(eq + 1) : x);
  return { label: eq > 0 ? x.slice(0, eq) : path.basename(path.dirname(path.dirname(file))), bin: file };
});
const wanted = (name) => !only || only.some((o) => name.startsWith(o));
// Pods beyond this many are not scheduled (see the header).
const SCHEDULED_PODS = num('scheduled-pods', 6000);
const size = {
  claims: num('claims', quick ? 200 : 2000),
  pods: num('pods', quick ? 300 : 6000),
  podDeployments: num('pod-deployments', quick ? 3 : 30),
  deployments: num('deployments', quick ? 5 : 50),
  revisions: num('revisions', quick ? 4 : 10),
  runs: num('runs', quick ? 3 : 10),
};
const log = (m) => process.stderr.write(`[bench] ${m}\n`);
const NS = 'bench';
const BULK_NS = 'bench-bulk';
const nodeBin = path.join(repoRoot, 'node_modules', '.bin');
const GNU_TIME = fs.existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-f', '%M', 'true'], { encoding: 'utf8' }).status === 0 ? '/usr/bin/time' : null;

async function pool(items, limit, fn) {
  let i = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (i < items.length) {
      const idx = i++;
      await fn(items[idx], idx);
    }
  });
  await Promise.all(workers);
}

async function until(fn, what, ms = 900_000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    // A loaded API server times a request out now and then (60 s handler timeout): ask again.
    last = await fn().catch((e) => `error: ${e.message}`);
    if (last === true) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (${last})`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function pluginExecutable(work) {
  // The krew build (a Node single executable) is what most users run; build it when missing.
  const archive = path.join(repoRoot, 'release', 'kubectl-mlops_linux_amd64.tar.gz');
  if (!fs.existsSync(archive)) {
    log('building the linux-amd64 executable (npm run release -- --platforms linux-amd64)');
    execFileSync(path.join(nodeBin, 'node'), [path.join(repoRoot, 'scripts/release.mjs'), '--platforms', 'linux-amd64', '--manifest', 'none'], { stdio: 'inherit' });
  }
  const dir = path.join(work, 'sea');
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['xzf', archive, '-C', dir]);
  return path.join(dir, 'kubectl-mlops');
}

/** One timed run: wall milliseconds and peak RSS (KiB) of the command (or shell pipeline). */
function timed(cmd, env) {
  const shell = ['sh', '-c', cmd];
  const full = GNU_TIME ? [GNU_TIME, '-f', '__RSS__%M', ...shell] : shell;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(full[0], full.slice(1), { env, encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const m = /__RSS__(\d+)/.exec(r.stderr ?? '');
  if (r.status !== 0) throw new Error(`failed (${r.status}): ${cmd}\n${(r.stderr ?? '').slice(-2000)}`);
  return { ms, rssKiB: m ? Number(m[1]) : null };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Counts API requests by user agent in the audit log between two calls. */
class AuditCounter {
  constructor(file) {
    this.file = file;
  }
  mark() {
    return fs.existsSync(this.file) ? fs.statSync(this.file).size : 0;
  }
  since(offset, agentPrefix) {
    const fd = fs.openSync(this.file, 'r');
    const len = fs.statSync(this.file).size - offset;
    const buf = Buffer.alloc(Math.max(len, 0));
    fs.readSync(fd, buf, 0, buf.length, offset);
    fs.closeSync(fd);
    const ids = new Set();
    for (const line of buf.toString('utf8').split('\n')) {
      if (!line) continue;
      const ev = JSON.parse(line);
      if ((ev.userAgent ?? '').startsWith(agentPrefix)) ids.add(ev.auditID);
    }
    return ids.size;
  }
}

async function seed(kube, from, to) {
  // Claims and volumes, pre-bound in pairs so the volume controller only has to confirm.
  const pairs = Array.from({ length: to.claims - from.claims }, (_, i) => from.claims + i);
  await pool(pairs, 40, async (i) => {
    const name = `data-${i}`;
    await kube.create('/api/v1/persistentvolumes', {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `bench-pv-${i}` },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: 'bench',
        hostPath: { path: `/tmp/bench-pv-${i}` },
        claimRef: { namespace: NS, name },
      },
    });
    await kube.create(`/api/v1/namespaces/${NS}/persistentvolumeclaims`, {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'bench', volumeName: `bench-pv-${i}` },
    });
  });
  // Pods across Deployments.
  const scheduled = Math.min(to.pods, SCHEDULED_PODS);
  const per = Math.ceil(scheduled / to.podDeployments);
  await pool(
    Array.from({ length: to.podDeployments }, (_, i) => i),
    10,
    async (i) => {
      const replicas = Math.max(0, Math.min(per, scheduled - i * per));
      const name = `serve-${i}`;
      const exists = await kube.getOptional(`/apis/apps/v1/namespaces/${NS}/deployments/${name}`);
      if (exists) await kube.patch(`/apis/apps/v1/namespaces/${NS}/deployments/${name}`, { spec: { replicas } }, 'merge');
      else
        await kube.create(`/apis/apps/v1/namespaces/${NS}/deployments`, {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name, labels: { tier: 'serve' } },
          spec: {
            replicas,
            selector: { matchLabels: { app: name } },
            template: {
              metadata: { labels: { app: name } },
              spec: { containers: [{ name: 'app', image: 'registry.local/serve:1', resources: { requests: { cpu: '1m', memory: '1Mi' } } }] },
            },
          },
        });
    },
  );
  await seedUnscheduled(kube, to.pods - scheduled);
  // Deployments with history: zero replicas, so each revision is a ReplicaSet and no pods.
  await pool(
    Array.from({ length: wanted('history') ? to.deployments - from.deployments : 0 }, (_, i) => from.deployments + i),
    10,
    async (i) => {
      const name = `model-${i}`;
      await kube.create(`/apis/apps/v1/namespaces/${NS}/deployments`, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, annotations: { 'kubernetes.io/change-cause': 'release 1' } },
        spec: {
          replicas: 0,
          revisionHistoryLimit: 20,
          selector: { matchLabels: { app: name } },
          template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'registry.local/model:1' }] } },
        },
      });
      for (let r = 2; r <= to.revisions; r++) {
        await until(async () => {
          const d = await kube.get(`/apis/apps/v1/namespaces/${NS}/deployments/${name}`);
          return (d.status?.observedGeneration ?? 0) >= d.metadata.generation;
        }, `${name} observed`);
        await kube.patch(
          `/apis/apps/v1/namespaces/${NS}/deployments/${name}`,
          {
            metadata: { annotations: { 'kubernetes.io/change-cause': `release ${r}` } },
            spec: { template: { spec: { containers: [{ name: 'app', image: `registry.local/model:${r}` }] } } },
          },
          'strategic',
        );
      }
    },
  );
  log(`waiting for ${scheduled} Running pods`);
  await until(async () => {
    // The Deployments' counts, not a list of every pod: cheap for a server that is busy enough.
    const ds = (await kube.list(`/apis/apps/v1/namespaces/${NS}/deployments`, { labelSelector: 'tier=serve' })).items;
    const ready = ds.reduce((sum, d) => sum + (d.status?.readyReplicas ?? 0), 0);
    return ready >= scheduled || `${ready} Running and Ready`;
  }, 'pods Running');
  await until(async () => {
    const l = await kube.list(`/api/v1/namespaces/${NS}/persistentvolumeclaims`, { limit: 5000 });
    const bound = l.items.filter((c) => c.status?.phase === 'Bound').length;
    return bound >= to.claims || `${bound} Bound`;
  }, 'claims Bound');
}

/**
 * Pods beyond what the fake nodes hold: Deployments (2,000 replicas each, in their own
 * namespace) whose pods name a scheduler nobody runs, so they stay unbound; each then gets the
 * Running status the fake kubelet would write, so it is as large on the wire as a Running pod.
 */
async function seedUnscheduled(kube, count) {
  const per = 2000;
  const want = Array.from({ length: Math.ceil(Math.max(0, count) / per) }, (_, i) => ({ name: `bulk-${i}`, replicas: Math.min(per, count - i * per) }));
  if (!want.length) return;
  if (!(await kube.getOptional(`/api/v1/namespaces/${BULK_NS}`))) await kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: BULK_NS } });
  await until(async () => Boolean(await kube.getOptional(`/api/v1/namespaces/${BULK_NS}/serviceaccounts/default`)), 'default SA', 60_000);
  const t0 = Date.now();
  log(`creating ${count} unscheduled pods in ${want.length} Deployments (namespace ${BULK_NS})`);
  for (const d of want) {
    const path_ = `/apis/apps/v1/namespaces/${BULK_NS}/deployments`;
    if (await kube.getOptional(`${path_}/${d.name}`)) await kube.patch(`${path_}/${d.name}`, { spec: { replicas: d.replicas } }, 'merge');
    else
      await kube.create(path_, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: d.name, labels: { tier: 'bulk' } },
        spec: {
          replicas: d.replicas,
          selector: { matchLabels: { app: d.name } },
          template: {
            metadata: { labels: { app: d.name } },
            spec: {
              schedulerName: 'bench-nobody',
              containers: [{ name: 'app', image: 'registry.local/serve:1', resources: { requests: { cpu: '1m', memory: '1Mi' } } }],
            },
          },
        },
      });
  }
  const podsPath = `/api/v1/namespaces/${BULK_NS}/pods`;
  await until(async () => {
    const ds = (await kube.list(`/apis/apps/v1/namespaces/${BULK_NS}/deployments`, { labelSelector: 'tier=bulk' })).items;
    const n = ds.reduce((sum, d) => sum + (d.status?.replicas ?? 0), 0);
    return n >= count || `${n} of ${count} created`;
  }, 'unscheduled pods created');
  log(`created ${count} pods in ${((Date.now() - t0) / 1000).toFixed(0)} s; writing Running statuses`);
  const t1 = Date.now();
  let ip = 0;
  for (let more = true; more;) {
    more = false;
    // Page by page (the pager under test), so the bench holds one page, not 54,000 pods.
    for await (const page of kube.pages(podsPath, { fieldSelector: 'status.phase!=Running', limit: 2000 })) {
      more ||= page.items.length > 0;
      await pool(page.items, 32, async (p) => {
        ip++;
        const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        const podIP = `10.245.${Math.floor(ip / 250) % 250}.${(ip % 250) + 2}`;
        const status = {
          phase: 'Running',
          hostIP: '127.0.0.1',
          podIP,
          podIPs: [{ ip: podIP }],
          startTime: now,
          conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: now })),
          containerStatuses: p.spec.containers.map((c) => ({
            name: c.name,
            image: c.image,
            imageID: `fake://${c.image}`,
            containerID: `fake://${p.metadata.uid}/${c.name}`,
            ready: true,
            started: true,
            restartCount: 0,
            state: { running: { startedAt: now } },
          })),
        };
        try {
          await kube.patch(`${podsPath}/${p.metadata.name}/status`, { status }, 'merge');
        } catch (e) {
          if (e.status !== 404) throw e;
        }
      });
    }
  }
  log(`wrote ${count} statuses in ${((Date.now() - t1) / 1000).toFixed(0)} s`);
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-bench-'));
  log(`sizes: ${JSON.stringify(size)}`);
  const cluster = await startCluster({ workDir: path.join(work, 'cluster'), auditLog: true, nodes: 2, stopOnSignal: true });
  try {
    // The plugins measured: the krew build unless --plugin says otherwise.
    const runs = plugins.length ? plugins : [{ label: 'krew', bin: pluginExecutable(work) }];
    const plugin = runs[0].bin;
    const c = resolveConfig({ kubeconfig: cluster.kubeconfig }, {});
    const kube = new Kube({ auth: c.auth, server: c.server });
    // kubectl of the server's version (built once into the cache): the machine's kubectl may be
    // older, or a dispatcher wrapper that adds its own start-up time.
    const kubectlDir = path.join(cacheRoot(), `kubectl-${readVersions().K8S_VERSION}`);
    if (!fs.existsSync(path.join(kubectlDir, 'kubectl'))) execFileSync('bash', [path.join(repoRoot, 'scripts/cluster/build.sh'), 'kubectl'], { stdio: 'inherit' });
    const env = { ...process.env, KUBECONFIG: cluster.kubeconfig, PATH: [path.dirname(plugin), kubectlDir, process.env.PATH].join(path.delimiter), NO_COLOR: '1' };
    const npmEnv = { ...env, PATH: [path.join(repoRoot, 'bin'), nodeBin, process.env.PATH].join(path.delimiter) };
    const audit = new AuditCounter(path.join(cluster.workDir, 'audit.log'));
    await kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await until(async () => Boolean(await kube.getOptional(`/api/v1/namespaces/${NS}/serviceaccounts/default`)), 'default SA', 60_000);

    const all = (s) => [
      { name: 'startup: --help', plugin: `kubectl-mlops --help`, kubectl: 'kubectl --help' },
      { name: 'version', plugin: 'kubectl-mlops version', kubectl: 'kubectl version' },
      { name: 'history (10 revisions)', plugin: `kubectl-mlops history model-0 -n ${NS}`, kubectl: `kubectl rollout history deployment/model-0 -n ${NS}` },
      { name: `storage -A (${s.claims} claims, ${s.pods} pods)`, plugin: 'kubectl-mlops storage -A', kubectl: 'kubectl get pvc,pv -A >/dev/null && kubectl get pods -A -o json' },
      // The same answer from kubectl: detached pods and pods relabelled by hand (issue 16) are
      // found only by reading every pod and ReplicaSet.
      {
        name: `debug-pod list -A (${s.pods} pods)`,
        plugin: 'kubectl-mlops debug-pod list -A',
        kubectl: 'kubectl get rs -A -o json >/dev/null && kubectl get pods -A -o json',
      },
      // Only what debug-pod labelled: one selected list, as kubectl's label query.
      {
        name: `debug-pod list -A -l mlops.kubectl.io/debug=true (${s.pods} pods)`,
        plugin: 'kubectl-mlops debug-pod list -A -l mlops.kubectl.io/debug=true',
        kubectl: 'kubectl get pods -A -l mlops.kubectl.io/debug=true',
      },
      { name: `gpus -A (${s.pods} pods)`, plugin: 'kubectl-mlops gpus -A', kubectl: 'kubectl describe nodes >/dev/null && kubectl get pods -A -o json' },
      {
        name: 'scale-to-zero + restore (10 pods)',
        plugin: `kubectl-mlops scale-to-zero deploy/scaler -n ${NS} && kubectl-mlops restore deploy/scaler -n ${NS}`,
        kubectl: `kubectl scale deployment/scaler --replicas=0 -n ${NS} && kubectl wait --for=delete pod -l app=scaler -n ${NS} --timeout=120s; kubectl scale deployment/scaler --replicas=10 -n ${NS} && kubectl rollout status deployment/scaler -n ${NS} --timeout=120s`,
      },
      {
        name: 'config re-run (unchanged)',
        plugin: `kubectl-mlops config bench-config --from-env-file ${path.join(work, 'bench.env')} -n ${NS}`,
        kubectl: `kubectl create configmap bench-config-k --from-env-file=${path.join(work, 'bench.env')} -n ${NS} --dry-run=client -o yaml | kubectl apply -f -`,
      },
    ];
    const cmds = (s) => all(s).filter((c) => wanted(c.name));
    // The same command line with another plugin executable in place of kubectl-mlops.
    const as = (cmd, bin) => cmd.replace(/(^|&& )kubectl-mlops /g, (_, pre) => `${pre}'${bin}' `);
    fs.writeFileSync(path.join(work, 'bench.env'), Array.from({ length: 50 }, (_, i) => `KEY_${i}=value-${i}`).join('\n') + '\n');

    // Requests at a tenth of the size and at full size: the count may grow by pages only.
    // --only: the claims are the same at both sizes, so what changes is the pods.
    const small = {
      claims: only ? size.claims : Math.ceil(size.claims / 10),
      pods: Math.ceil(size.pods / 10),
      podDeployments: size.podDeployments,
      deployments: size.deployments,
      revisions: size.revisions,
    };
    log(`seeding ${JSON.stringify(small)}`);
    await seed(kube, { claims: 0, deployments: 0 }, small);
    // Fixtures the compared commands need: a small deployment to scale, a few debug pods, a config.
    if (wanted('scale')) {
      await kube.create(`/apis/apps/v1/namespaces/${NS}/deployments`, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'scaler' },
        spec: {
          replicas: 10,
          selector: { matchLabels: { app: 'scaler' } },
          template: { metadata: { labels: { app: 'scaler' } }, spec: { containers: [{ name: 'app', image: 'registry.local/scaler:1' }] } },
        },
      });
      await until(async () => (await kube.get(`/apis/apps/v1/namespaces/${NS}/deployments/scaler`)).status?.readyReplicas === 10, 'scaler ready');
    }
    if (wanted('debug-pod')) {
      const serve0 = (await kube.list(`/api/v1/namespaces/${NS}/pods`, { labelSelector: 'app=serve-0' })).items.slice(0, 3);
      for (const p of serve0) timed(`'${plugin}' debug-pod ${p.metadata.name} -n ${NS}`, env);
    }
    const configRow = cmds(small).find((c) => c.name.startsWith('config'));
    if (configRow) {
      timed(as(configRow.plugin, plugin), env);
      timed(configRow.kubectl, env);
    }

    const requests = {};
    const countAll = (label, s) => {
      for (const c of cmds(s)) {
        const row = (requests[c.name.replace(/ \(.*\)$/, '')] ??= {});
        let m = audit.mark();
        timed(as(c.plugin, plugin), env);
        execFileSync('sleep', ['1']);
        row[`plugin@${label}`] = audit.since(m, 'kubectl-mlops');
        m = audit.mark();
        timed(c.kubectl, env);
        execFileSync('sleep', ['1']);
        row[`kubectl@${label}`] = audit.since(m, 'kubectl/');
      }
    };
    const results = [];
    // Each plugin interleaved with kubectl (P1 P2 ... kubectl, P1 P2 ... kubectl), peak RSS per run.
    const timeAll = (s) => {
      for (const c of cmds(s)) {
        const a = runs.map(() => []);
        const b = [];
        log(`timing ${c.name}`);
        for (const r of runs) timed(as(c.plugin, r.bin), env); // warm each once (page cache, code cache)
        timed(c.kubectl, env);
        for (let i = 0; i < size.runs; i++) {
          runs.forEach((r, j) => a[j].push(timed(as(c.plugin, r.bin), env)));
          b.push(timed(c.kubectl, env));
        }
        runs.forEach((r, j) => {
          const row = summarize(runs.length > 1 ? `${c.name} [${r.label}]` : c.name, a[j], b);
          log(
            `${row.name}: ${row.plugin.medianMs} ms, peak RSS ${row.plugin.peakRssMiB} MiB; kubectl ${row.kubectl.medianMs} ms, ${row.kubectl.peakRssMiB} MiB; ratio ${row.ratio}`,
          );
          results.push(row);
        });
      }
    };
    countAll('small', small);
    if (only) timeAll(small);
    log(`seeding up to ${JSON.stringify(size)}`);
    await seed(kube, { claims: small.claims, deployments: small.deployments }, size);
    countAll('full', size);
    timeAll(size);
    // The npm build (Node + dist/) for startup, next to the single executable.
    if (wanted('startup')) {
      const a = [];
      const b = [];
      for (let i = 0; i < size.runs; i++) {
        a.push(timed('kubectl-mlops --help', npmEnv));
        b.push(timed('kubectl --help', env));
      }
      results.splice(1, 0, summarize('startup: --help (npm build, Node 22)', a, b));
    }
    const machine = {
      cpu: (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ?? os.cpus()[0]?.model,
      cores: os.cpus().length,
      memoryGiB: +(os.totalmem() / 1024 ** 3).toFixed(1),
      kernel: os.release(),
    };
    const versions = {
      plugin: JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version,
      node: process.version,
      kubectl: execFileSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8', env }).match(/"gitVersion":\s*"([^"]+)"/)[1],
      kubernetes: readVersions().K8S_VERSION,
    };
    const out = {
      date: new Date().toISOString(),
      quick,
      only,
      plugins: runs.map((r) => r.label),
      size,
      small: only ? small : undefined,
      machine,
      versions,
      results,
      requests,
      peakRssTool: GNU_TIME ? 'GNU time %M' : 'unavailable',
    };
    const dir = path.join(repoRoot, 'bench');
    fs.mkdirSync(dir, { recursive: true });
    const base = only ? `results-only-${size.pods}` : quick ? 'results-quick' : 'results';
    fs.writeFileSync(path.join(dir, `${base}.json`), JSON.stringify(out, null, 2) + '\n');
    fs.writeFileSync(path.join(dir, `${base}.md`), render(out));
    log(`wrote bench/${base}.{md,json}`);
    process.stdout.write(render(out));
    if (argv.includes('--hold')) {
      // For measuring by hand against the seeded cluster; Ctrl-C stops it (stopOnSignal).
      log(`holding the cluster: KUBECONFIG=${cluster.kubeconfig}; Ctrl-C (or SIGTERM to pid ${process.pid}) stops it`);
      await new Promise(() => setInterval(() => undefined, 1 << 30));
    }
  } finally {
    cluster.stop();
  }
}

function summarize(name, a, b) {
  const ms = (xs) => xs.map((x) => x.ms);
  const rss = (xs) => xs.map((x) => x.rssKiB).filter((x) => x !== null);
  const pm = median(ms(a));
  const km = median(ms(b));
  return {
    name,
    plugin: {
      medianMs: +pm.toFixed(1),
      minMs: +Math.min(...ms(a)).toFixed(1),
      maxMs: +Math.max(...ms(a)).toFixed(1),
      peakRssMiB: rss(a).length ? +(Math.max(...rss(a)) / 1024).toFixed(1) : null,
    },
    kubectl: {
      medianMs: +km.toFixed(1),
      minMs: +Math.min(...ms(b)).toFixed(1),
      maxMs: +Math.max(...ms(b)).toFixed(1),
      peakRssMiB: rss(b).length ? +(Math.max(...rss(b)) / 1024).toFixed(1) : null,
    },
    ratio: +(pm / km).toFixed(2),
    runs: a.length,
  };
}

function render(o) {
  const lines = [
    `# Benchmark: kubectl-mlops vs kubectl on the same API server${o.quick ? ' (quick mode)' : ''}`,
    '',
    `Run ${o.date} by \`npm run bench${o.quick ? ' -- --quick' : ''}${o.only ? ` -- --pods ${o.size.pods} --only ${o.only.join(',')}` : ''}\`. Machine: ${o.machine.cpu}, ${o.machine.cores} cores, ${o.machine.memoryGiB} GiB, Linux ${o.machine.kernel}.`,
    `Versions: kubectl-mlops ${o.versions.plugin} (${o.plugins && o.plugins[0] !== 'krew' ? `plugins measured: ${o.plugins.join(', ')}` : 'the linux-amd64 single executable unless noted'}), Node ${o.versions.node}, kubectl ${o.versions.kubectl}, Kubernetes ${o.versions.kubernetes} (local control plane, fake kubelet).`,
    `Seeded: ${o.size.claims} claims and volumes, ${o.size.pods} pods in ${o.size.podDeployments} Deployments, ${o.only && !o.only.some((x) => 'history'.startsWith(x)) ? 'no Deployments with history (not measured)' : `${o.size.deployments} Deployments with ${o.size.revisions} revisions each`}. ${o.size.runs} interleaved runs per row (plugin, kubectl, plugin, ...), after one warm-up run of each.`,
    '',
    '## Wall time and peak memory',
    '',
    '| command | plugin median (min-max) ms | kubectl median (min-max) ms | ratio plugin/kubectl | plugin peak RSS MiB | kubectl peak RSS MiB |',
    '|---|---|---|---|---|---|',
    ...o.results.map(
      (r) =>
        `| ${r.name} | ${r.plugin.medianMs} (${r.plugin.minMs}-${r.plugin.maxMs}) | ${r.kubectl.medianMs} (${r.kubectl.minMs}-${r.kubectl.maxMs}) | ${r.ratio} | ${r.plugin.peakRssMiB ?? 'n/a'} | ${r.kubectl.peakRssMiB ?? 'n/a'} |`,
    ),
    '',
    'The kubectl column of `storage -A` is two commands (`kubectl get pvc,pv -A` and `kubectl get pods -A -o json`), the join a user would still have to do by hand; so is `debug-pod list -A` (every ReplicaSet and pod, as pods relabelled by hand carry no marker a selector finds), while its `-l mlops.kubectl.io/debug=true` row is one selected list on both sides; `scale-to-zero + restore` is compared with `kubectl scale` + `kubectl wait --for=delete` + `kubectl scale` + `kubectl rollout status`.',
    '',
    "## API requests per command, counted in the API server's audit log",
    '',
    `At a tenth of the objects (small) and at the full size (full)${o.only ? ` (here ${o.small.pods} and ${o.size.pods} pods, ${o.size.claims} claims at both)` : ''}; lists are paginated at 500 objects per page, so a count may only grow by pages.`,
    '',
    '| command | plugin small | plugin full | kubectl small | kubectl full |',
    '|---|---|---|---|---|',
    ...Object.entries(o.requests).map(([k, v]) => `| ${k} | ${v['plugin@small']} | ${v['plugin@full']} | ${v['kubectl@small']} | ${v['kubectl@full']} |`),
    '',
  ];
  // Hand-written analysis of the numbers, kept next to them.
  const findings = path.join(repoRoot, 'bench', 'findings.md');
  if (!o.quick && !o.only && fs.existsSync(findings)) lines.push(fs.readFileSync(findings, 'utf8').trimEnd(), '');
  return lines.join('\n') + '\n';
}

if (argv.includes('--render-only')) {
  // Re-renders results.md from results.json (after editing bench/findings.md).
  const file = path.join(repoRoot, 'bench', quick ? 'results-quick.json' : 'results.json');
  fs.writeFileSync(file.replace(/\.json$/, '.md'), render(JSON.parse(fs.readFileSync(file, 'utf8'))));
} else {
  await main();
}
