// npm run cluster:down — stop the cluster started by cluster:up.
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, stopPids } from './cluster.mjs';

const dir = path.join(repoRoot, '.cluster');
const file = path.join(dir, 'cluster.json');
if (!fs.existsSync(file)) {
  console.error('no cluster is recorded in .cluster/; nothing to stop');
  process.exit(0);
}
const { pids } = JSON.parse(fs.readFileSync(file, 'utf8'));
stopPids(pids);
fs.rmSync(dir, { recursive: true, force: true });
console.error('cluster stopped');
