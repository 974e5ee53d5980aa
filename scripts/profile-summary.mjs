// Summarises V8 .cpuprofile files (node --cpu-prof, or NODE_OPTIONS=--cpu-prof for the
// executable): profiled span, and self time grouped by where the code lives (the bundle, dist/
// modules, node_modules packages, Node internals by area, GC/program/idle), largest first.
// Given several profiles of the same command, it prints the median per group: single profiles
// on a shared machine are noisy.
// With --bundle FILE (an unminified release bundle: `node scripts/release.mjs --no-minify`), the
// bundle's samples are attributed to the module each line came from, by esbuild's path comments.
//   node scripts/profile-summary.mjs FILE.cpuprofile... [--top 15] [--bundle FILE]
import fs from 'node:fs';

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const top = Number(opt('top') ?? 15);
const bundleFile = opt('bundle');
const files = args;
// Line (0-based) -> module, from esbuild's `// path` comments in an unminified bundle.
const lineModule = [];
if (bundleFile) {
  let cur = '(bundle runtime)';
  for (const line of fs.readFileSync(bundleFile, 'utf8').split('\n')) {
    const m = /^\/\/ ((?:\.\.\/)*(?:[^ ]*node_modules\/((?:@[^/]+\/)?[^/]+)|(src\/[^/]+)).*)$/.exec(line);
    if (m) cur = m[2] ? `pkg ${m[2]}` : m[3].replace(/\.ts$/, '');
    lineModule.push(cur);
  }
}

function group(cf) {
  const u = cf.url ?? '';
  if (!u) return `(${cf.functionName || 'anonymous'})`;
  let m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  if (m) return `pkg ${m[1]}`;
  if (u.startsWith('node:internal/')) {
    m = /^node:internal\/(?:deps\/)?([^/]+)/.exec(u);
    return `node internal/${m[1].replace(/\.js$/, '')}`;
  }
  if (u.startsWith('node:')) return `node ${u.slice(5)}`;
  m = /\/dist\/(.*)$/.exec(u);
  if (m) return `dist/${m[1].split('/')[0]}`;
  if (/kubectl-mlops[^/]*\.cjs$/.test(u)) return lineModule.length ? `bundle: ${lineModule[cf.lineNumber] ?? '?'}` : 'the bundle';
  return u.replace(/^file:\/\//, '');
}

function summarize(file) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const groups = new Map();
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = (prof.timeDeltas[i + 1] ?? 0) / 1000;
    const g = group(byId.get(prof.samples[i]).callFrame);
    groups.set(g, (groups.get(g) ?? 0) + dt);
    total += dt;
  }
  return { span: (prof.endTime - prof.startTime) / 1000, total, groups };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const all = files.map(summarize);
const names = new Set(all.flatMap((s) => [...s.groups.keys()]));
const rows = [...names].map((g) => [g, median(all.map((s) => s.groups.get(g) ?? 0))]).sort((a, b) => b[1] - a[1]);
process.stdout.write(
  `${files.length} profile(s); median profiled span ${median(all.map((s) => s.span)).toFixed(1)} ms, median sampled ${median(all.map((s) => s.total)).toFixed(1)} ms\n`,
);
for (const [g, t] of rows.slice(0, top)) process.stdout.write(`  ${t.toFixed(1).padStart(7)} ms  ${g}\n`);
