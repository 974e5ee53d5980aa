// The native single executable starts from a V8 startup snapshot (scripts/release.mjs,
// src/snapshot-entry.ts). These prove the paths the snapshot changes: per-process state read
// after deserialization, child_process from the snapshot (exec credential plugins), and the
// auth-provider code, against the local control plane.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as yaml from 'js-yaml';
import { releaseBuild, repo, run } from './helpers.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-exe-'));

type Kubeconfig = { users: { name: string; user: Record<string, unknown> }[] };

/** The test cluster's kubeconfig with its admin user's token handed over another way. */
function kubeconfigWith(dir: string, name: string, user: (token: string) => Record<string, unknown>): string {
  const kc = yaml.load(fs.readFileSync(inject('cluster').kubeconfig, 'utf8')) as Kubeconfig;
  for (const u of kc.users) {
    const token = u.user.token as string;
    expect(token).toBeTruthy();
    u.user = user(token);
  }
  const file = path.join(dir, name);
  fs.writeFileSync(file, yaml.dump(kc));
  return file;
}

describe('the native executable (snapshot)', () => {
  let exe: string;
  let dir: string;
  beforeAll(async () => {
    dir = tmp();
    execFileSync('tar', ['xzf', (await releaseBuild()).archive, '-C', dir]);
    exe = path.join(dir, 'kubectl-mlops');
  }, 600_000);

  it('prints the same help and usage errors as the npm build, with and without a terminal', async () => {
    const npm = path.join(repo, 'bin', 'kubectl-mlops');
    for (const args of [['--help'], ['history', '--help'], ['no-such-command']]) {
      const a = await run(exe, args);
      const b = await run(npm, args);
      expect(a).toEqual(b);
    }
    expect((await run(exe, ['no-such-command'])).code).toBe(2);
    // Under a pseudo-terminal (script(1)): TTY checks happen in the process, not at build time.
    const tty = (bin: string) => execFileSync('script', ['-qc', `${bin} history --help`, '/dev/null'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(tty(exe)).toBe(tty(npm));
  });

  it("refuses the removed gcp auth-provider with kubectl's message, and reads an oidc user's id-token", async () => {
    const gcp = kubeconfigWith(dir, 'provider', (token) => ({ 'auth-provider': { name: 'gcp', config: { 'access-token': token } } }));
    const no = await run(exe, ['debug-pod', 'list', '-A'], { env: { KUBECONFIG: gcp } });
    expect(no.err).toContain('The gcp auth plugin has been removed.');
    expect(no.code).toBe(3);
  });

  it('runs an exec credential plugin (child_process from the snapshot)', async () => {
    const plugin = path.join(dir, 'credential.sh');
    const cfg = kubeconfigWith(dir, 'exec', (token) => {
      fs.writeFileSync(plugin, `#!/bin/sh\necho '${JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token } })}'\n`, {
        mode: 0o755,
      });
      return { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' } };
    });
    const r = await run(exe, ['version'], { env: { KUBECONFIG: cfg } });
    expect(r.err).toBe('');
    expect(r.out).toMatch(/\nServer Version: v1\.35\.\d+\n$/);
    expect(r.code).toBe(0);
  });
});
