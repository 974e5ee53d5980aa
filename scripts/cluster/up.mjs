// npm run cluster:up — start a local control plane and leave it running.
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, startCluster } from './cluster.mjs';

const dir = path.join(repoRoot, '.cluster');
if (fs.existsSync(path.join(dir, 'cluster.json'))) {
  console.error(`a cluster is already recorded in ${dir}; run \`npm run cluster:down\` first`);
  process.exit(1);
}
fs.mkdirSync(dir, { recursive: true });
const c = await startCluster({ workDir: path.join(dir, 'run') });
fs.copyFileSync(c.kubeconfig, path.join(dir, 'kubeconfig'));
fs.copyFileSync(c.restrictedKubeconfig, path.join(dir, 'kubeconfig-restricted'));
fs.writeFileSync(path.join(dir, 'cluster.json'), JSON.stringify({ pids: c.pids, workDir: c.workDir, server: c.server }, null, 2));
console.error(`cluster up in ${(c.startMs / 1000).toFixed(1)}s at ${c.server} (logs in ${c.workDir})`);
console.error(`  export KUBECONFIG=${path.join(dir, 'kubeconfig')}`);
console.error('  npm run cluster:down   # to stop it');
