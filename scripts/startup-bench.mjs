// Start-up timing, plugin vs kubectl, interleaved (A B A B ...), after one warm-up of each.
// A quick, targeted companion to scripts/bench.mjs (which seeds a cluster and times everything).
//   node scripts/startup-bench.mjs [--runs 20] [--plugin PATH ...] [--kubectl PATH] [--kubeconfig FILE]
// --plugin may be given several times (e.g. an old and a new executable, or bin/kubectl-mlops
// for the npm build); each is interleaved with kubectl. With --kubeconfig (e.g. the one
// `npm run cluster:up` writes), `version` (one request) is timed too.
// Prints median (min-max) in ms and the ratio of medians and of minimums: on a shared machine
// the minimum is the better estimate of the cost itself, the median of what a user sees.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { cacheRoot, readVersions } from './cluster/cluster.mjs';

const argv = process.argv.slice(2);
const all = (name) => argv.flatMap((a, i) => (a === `--${name}` ? [argv[i + 1]] : []));
const one = (name, def) => all(name).pop() ?? def;
const runs = Number(one('runs', 20));
const kubectl = path.resolve(one('kubectl', path.join(cacheRoot(), `kubectl-${readVersions().K8S_VERSION}`, 'kubectl')));
const plugins = all('plugin').map((p) => path.resolve(p));
const kubeconfig = one('kubeconfig');
if (!plugins.length) throw new Error('give at least one --plugin PATH');

const env = { ...process.env, NO_COLOR: '1', ...(kubeconfig ? { KUBECONFIG: path.resolve(kubeconfig) } : {}) };
const cases = [
  { name: '--help', args: ['--help'], kubectl: ['--help'] },
  { name: 'version --client', args: ['version', '--client'], kubectl: ['version', '--client'] },
  ...(kubeconfig ? [{ name: 'version', args: ['version'], kubectl: ['version'] }] : []),
];

// Each run is spawned from a small Python harness: os.wait4 gives the child's CPU time (user +
// sys) to the microsecond, which is less disturbed by other load than wall time (GNU time only
// has 10 ms ticks).
const HARNESS = `
import os, sys, time, json
devnull = os.open(os.devnull, os.O_WRONLY)
r, w = os.pipe()
t0 = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, w, 2)])
os.close(w)
err = b''
while True:
    chunk = os.read(r, 65536)
    if not chunk: break
    err += chunk
_, status, ru = os.wait4(pid, 0)
ms = (time.perf_counter() - t0) * 1000
print(json.dumps({'ms': ms, 'cpu': (ru.ru_utime + ru.ru_stime) * 1000, 'code': os.waitstatus_to_exitcode(status), 'err': err.decode('utf8', 'replace')[-500:]}))
`;
function time(cmd, args) {
  const r = spawnSync('python3', ['-c', HARNESS, cmd, ...args], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`harness failed: ${r.stderr}`);
  const o = JSON.parse(r.stdout);
  if (o.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${o.code}: ${o.err}`);
  return o;
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt0 = (xs) => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)})`;

const load = () => os.loadavg()[0].toFixed(1);
process.stdout.write(`${runs} interleaved runs per row; load average ${load()} on ${os.cpus().length} cores at start\n\n`);
process.stdout.write(
  '| plugin | command | plugin median (min-max) ms | kubectl median (min-max) ms | ratio of medians | ratio of minimums | CPU ms (user+sys) plugin / kubectl, median (min) |\n|---|---|---|---|---|---|---|\n',
);
for (const c of cases) {
  for (const p of plugins) {
    time(p, c.args);
    time(kubectl, c.kubectl);
    const a = [];
    const b = [];
    for (let i = 0; i < runs; i++) {
      a.push(time(p, c.args));
      b.push(time(kubectl, c.kubectl));
    }
    const label = path.relative(process.cwd(), p) || p;
    const w = (xs) => xs.map((x) => x.ms);
    const cpu = (xs) => `${median(xs.map((x) => x.cpu)).toFixed(1)} (${Math.min(...xs.map((x) => x.cpu)).toFixed(1)})`;
    process.stdout.write(
      `| ${label} | ${c.name} | ${fmt0(w(a))} | ${fmt0(w(b))} | ${(median(w(a)) / median(w(b))).toFixed(2)} | ${(Math.min(...w(a)) / Math.min(...w(b))).toFixed(2)} | ${cpu(a)} / ${cpu(b)} |\n`,
    );
  }
}
process.stdout.write(`\nload average ${load()} at end\n`);
