// HTTP/2 vs HTTP/1.1, interleaved: an older executable, the new one, the new one with
// DISABLE_HTTP2=1, and kubectl, each in turn, N rounds after one warm-up round; prints the
// median (min-max) wall ms, the ratio of medians to kubectl and the median CPU ms (user+sys,
// from wait4). Expects `npm run cluster:up` and, in namespace bench, a Deployment model-0 with
// revisions and a few pods labelled mlops.kubectl.io/debug=true (bench/findings.md, HTTP/2).
//   node scripts/http2-bench.mjs --before OLD_EXE --after NEW_EXE [--kubeconfig FILE] [--runs 15]
//     [--cases version,history,debug,gpus,storage,doctor]
// For a remote-like server, point --kubeconfig at scripts/latency-relay.mjs.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { cacheRoot, readVersions } from './cluster/cluster.mjs';

const argv = process.argv.slice(2);
const one = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const runs = Number(one('runs', 15));
const before = path.resolve(one('before'));
const after = path.resolve(one('after'));
const kubectl = path.join(cacheRoot(), `kubectl-${readVersions().K8S_VERSION}`, 'kubectl');
const env = { ...process.env, NO_COLOR: '1', ...(one('kubeconfig') ? { KUBECONFIG: path.resolve(one('kubeconfig')) } : {}) };
const defs = {
  version: { mlops: ['version'], kubectl: ['version'] },
  history: { mlops: ['history', 'model-0', '-n', 'bench'], kubectl: ['rollout', 'history', 'deployment/model-0', '-n', 'bench'] },
  debug: { mlops: ['debug-pod', 'list', '-A'], kubectl: ['get', 'pods', '-A', '-l', 'mlops.kubectl.io/debug=true'] },
  gpus: { mlops: ['gpus', '-A'] },
  storage: { mlops: ['storage', '-A'] },
  doctor: { mlops: ['doctor'] },
};
const HARNESS = `
import os, sys, time, json
devnull = os.open(os.devnull, os.O_WRONLY)
t0 = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
_, status, ru = os.wait4(pid, 0)
print(json.dumps({'ms': (time.perf_counter() - t0) * 1000, 'cpu': (ru.ru_utime + ru.ru_stime) * 1000, 'code': os.waitstatus_to_exitcode(status)}))
`;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
for (const c of one('cases', 'version,history,debug,gpus,storage,doctor').split(',')) {
  const d = defs[c];
  const variants = [
    ['before', before, d.mlops, {}],
    ['after', after, d.mlops, {}],
    ['after, DISABLE_HTTP2=1', after, d.mlops, { DISABLE_HTTP2: '1' }],
    ...(d.kubectl ? [['kubectl', kubectl, d.kubectl, {}]] : []),
  ];
  const wall = variants.map(() => []);
  const cpu = variants.map(() => []);
  for (let round = -1; round < runs; round++) {
    variants.forEach(([, cmd, args, extra], i) => {
      const r = spawnSync('python3', ['-c', HARNESS, cmd, ...args], { env: { ...env, ...extra }, encoding: 'utf8' });
      const o = JSON.parse(r.stdout);
      if (o.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${o.code}`);
      if (round >= 0) {
        wall[i].push(o.ms);
        cpu[i].push(o.cpu);
      }
    });
  }
  const k = variants.findIndex((v) => v[0] === 'kubectl');
  variants.forEach(([name], i) => {
    const m = median(wall[i]);
    const ratio = k >= 0 ? `  ratio ${(m / median(wall[k])).toFixed(2)}` : '';
    console.log(
      `${c.padEnd(8)} ${name.padEnd(22)} ${m.toFixed(1).padStart(7)} (${Math.min(...wall[i]).toFixed(1)}-${Math.max(...wall[i]).toFixed(1)}) ms${ratio}  cpu ${median(cpu[i]).toFixed(1)} ms`,
    );
  });
}
