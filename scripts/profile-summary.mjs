// Summarises a V8 .cpuprofile (node --cpu-prof, or NODE_OPTIONS=--cpu-prof for the executable):
// profiled span, and self time grouped by where the code lives (the bundle, dist/ modules,
// node_modules packages, Node internals by area, GC/program/idle), largest first.
//   node scripts/profile-summary.mjs FILE.cpuprofile [--top 15]
import fs from 'node:fs';

const file = process.argv[2];
const topI = process.argv.indexOf('--top');
const top = topI > 0 ? Number(process.argv[topI + 1]) : 15;
const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
for (let i = 0; i < prof.samples.length; i++) {
  const dt = (prof.timeDeltas[i + 1] ?? 0) / 1000;
  self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
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
  return u.replace(/^file:\/\//, '');
}

const groups = new Map();
const fns = new Map();
let total = 0;
for (const [id, t] of self) {
  const n = byId.get(id);
  total += t;
  const g = group(n.callFrame);
  groups.set(g, (groups.get(g) ?? 0) + t);
  const f = `${n.callFrame.functionName || '(anon)'} ${group(n.callFrame)}:${n.callFrame.lineNumber + 1}:${n.callFrame.columnNumber + 1}`;
  fns.set(f, (fns.get(f) ?? 0) + t);
}
const span = (prof.endTime - prof.startTime) / 1000;
process.stdout.write(`${file}\nprofiled span ${span.toFixed(1)} ms, sampled ${total.toFixed(1)} ms\n`);
for (const [g, t] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${t.toFixed(1).padStart(7)} ms  ${g}\n`);
process.stdout.write('top functions (self):\n');
for (const [f, t] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${t.toFixed(1).padStart(7)} ms  ${f}\n`);
