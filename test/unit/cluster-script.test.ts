// Without Go and without cached binaries, the e2e setup fails loudly naming what is missing.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { tempDir } from '../helpers.js';

const repo = path.resolve(import.meta.dirname, '../..');

describe('control-plane binaries', () => {
  it('names what is missing when go is not on PATH', () => {
    const node = path.join(repo, 'node_modules', '.bin', 'node');
    const r = spawnSync(
      node,
      [
        '--input-type=module',
        '-e',
        `import { ensureBinaries } from '${path.join(repo, 'scripts/cluster/cluster.mjs')}'; try { ensureBinaries({ log() {} }); } catch (e) { console.error(e.message); process.exit(7); }`,
      ],
      {
        env: { PATH: path.dirname(node), MLOPS_CACHE_DIR: tempDir('mlops-empty-cache-') },
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(7);
    expect(r.stderr).toMatch(
      /^the local control plane needs etcd, kube-apiserver, kube-controller-manager, kube-scheduler, which are built from source with Go, but `go` is not on PATH: install Go >= 1\.25 \(or copy the binaries into .*mlops-empty-cache-\w+\)\n$/,
    );
  });
});
