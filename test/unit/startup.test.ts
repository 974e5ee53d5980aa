// --help, version --client and completion must not load the Kubernetes client or other heavy
// modules (issue: startup within 1.5x of kubectl's). Runs the built CLI (npm test builds first).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '../..');
const node = path.join(repo, 'node_modules', '.bin', 'node');

function loads(args: string[]): string[] {
  const trace = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-trace-')), 'loads.txt');
  const r = spawnSync(node, ['--import', path.join(repo, 'test/fixtures/trace-loads.mjs'), path.join(repo, 'bin/kubectl-mlops'), ...args], {
    env: { ...process.env, MLOPS_TRACE_LOADS: trace, KUBECONFIG: '/nonexistent' },
    encoding: 'utf8',
  });
  expect(r.status).toBe(0);
  return fs.readFileSync(trace, 'utf8').split('\n').filter(Boolean);
}

const HEAVY = ['@kubernetes/client-node', 'undici', 'ora', 'js-yaml'];

describe('startup stays light', () => {
  it.each([[['--help']], [['version', '--client']], [['__complete', 'de']], [['debug-pod', '--help']]])('%j loads none of the heavy modules', (args) => {
    const urls = loads(args);
    expect(urls.some((u) => u.includes('/dist/cli.js'))).toBe(true);
    for (const h of HEAVY) expect(urls.filter((u) => u.includes(`/node_modules/${h}/`))).toEqual([]);
  });

  it('a command that talks to the cluster does load the client (the check can fail)', () => {
    const trace = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-trace-')), 'loads.txt');
    spawnSync(node, ['--import', path.join(repo, 'test/fixtures/trace-loads.mjs'), path.join(repo, 'bin/kubectl-mlops'), 'version'], {
      env: { ...process.env, MLOPS_TRACE_LOADS: trace, KUBECONFIG: path.join(repo, 'test/fixtures/unreachable-kubeconfig.yaml') },
    });
    // The connection layer is ours; client-node loads only for auth-provider users.
    expect(fs.readFileSync(trace, 'utf8')).toContain('/dist/kube/client.js');
  });
});
