// Installing: the krew archive (validated by krew's own validator, installed with krew into a
// temporary KREW_ROOT, run with no Node on PATH), the npm package, and shell completion.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adminKube, deployment, freshNamespace, releaseBuild, repo, run, testPath, waitReady } from './helpers.js';
import { R, pathOf } from '../../src/kube/resources.js';
// @ts-expect-error plain ESM scripts
import { cacheRoot, readVersions } from '../../scripts/cluster/cluster.mjs';

const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string };
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-dist-'));

/** A folder holding only a `kubectl` link, so PATH can have kubectl without the system's node. */
function kubectlOnlyDir(): string {
  const dir = tmp();
  const kubectl = execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim();
  fs.symlinkSync(kubectl, path.join(dir, 'kubectl'));
  return dir;
}

describe('krew', () => {
  let out: string;
  let manifest: string;
  let krewDir: string;
  beforeAll(async () => {
    execFileSync('bash', [path.join(repo, 'scripts/cluster/build.sh'), 'krew'], { stdio: ['ignore', 'ignore', 'inherit'] });
    krewDir = path.join(cacheRoot(), `krew-${readVersions().KREW_VERSION}`);
    ({ dir: out, manifest } = await releaseBuild());
  }, 600_000);

  it("the generated manifest passes krew's validator", async () => {
    const text = fs.readFileSync(manifest, 'utf8');
    expect(text).toContain(`version: v${pkg.version}`);
    expect(text).toMatch(/sha256: [0-9a-f]{64}\n/);
    const r = await run(path.join(krewDir, 'validate-krew-manifest'), ['-manifest', manifest, '-skip-install']);
    expect(r.err).toContain('structural validation OK');
    expect(r.code).toBe(0);
  });

  it('installs from the archive into a temporary KREW_ROOT and runs with no Node on PATH', async () => {
    const krewRoot = tmp();
    const kubectlDir = kubectlOnlyDir();
    fs.symlinkSync(path.join(krewDir, 'krew'), path.join(kubectlDir, 'kubectl-krew'));
    const archive = path.join(out, 'kubectl-mlops_linux_amd64.tar.gz');
    const inst = await run('kubectl', ['krew', 'install', `--manifest=${manifest}`, `--archive=${archive}`], { env: { KREW_ROOT: krewRoot, PATH: kubectlDir } });
    expect(inst.err).toContain('Installed plugin: mlops');
    expect(inst.code).toBe(0);
    const PATH = [kubectlDir, path.join(krewRoot, 'bin')].join(path.delimiter);
    const noNode = await run('/bin/sh', ['-c', 'command -v node || echo none'], { env: { PATH } });
    expect(noNode.out.trim()).toBe('none');

    const v = await run('kubectl', ['mlops', 'version'], { env: { PATH, KUBECONFIG: inject('cluster').kubeconfig } });
    expect(v.err).toBe('');
    expect(v.out).toMatch(new RegExp(`^Client Version: v${pkg.version.replace(/\./g, '\\.')}\\nNode Version: v22\\.\\d+\\.\\d+\\nServer Version: v1\\.35\\.\\d+\\n$`));

    const kube = adminKube();
    const ns = await freshNamespace(kube, 'krew');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('web', { replicas: 2 }));
    await waitReady(kube, ns, 'app=web', 2);
    const h = await run('kubectl', ['mlops', 'scale-to-zero', 'deploy/web', '-n', ns], { env: { PATH, KUBECONFIG: inject('cluster').kubeconfig } });
    expect(h.code).toBe(0);
    expect(h.out).toContain('deployment.apps/web scaled to zero (2 recorded)');
  });
});

describe('npm', () => {
  it('packs, installs into a temporary prefix, and kubectl finds it', async () => {
    const dest = tmp();
    // dist/ is built by the test command; prepack would rebuild it under the other files' feet.
    const pack = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dest, '--silent'], { timeoutMs: 300_000 });
    expect(pack.code).toBe(0);
    const tgz = path.join(dest, pack.out.trim().split('\n').pop()!);
    const listing = execFileSync('tar', ['tzf', tgz], { encoding: 'utf8' }).split('\n');
    expect(listing).toEqual(
      expect.arrayContaining(['package/bin/kubectl-mlops', 'package/bin/kubectl_complete-mlops', 'package/dist/cli.js', 'package/LICENSE', 'package/README.md']),
    );
    expect(listing.filter((f) => f.startsWith('package/src/') || f.startsWith('package/test/'))).toEqual([]);

    const prefix = tmp();
    const inst = await run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tgz], { timeoutMs: 300_000 });
    expect(inst.code).toBe(0);
    // Our Node 22 and kubectl, but not the repository's bin/.
    const PATH = [path.join(prefix, 'bin'), path.join(repo, 'node_modules', '.bin'), kubectlOnlyDir()].join(path.delimiter);
    const help = await run('kubectl', ['mlops', '--help'], { env: { PATH } });
    expect(help.code).toBe(0);
    expect(help.out).toContain('Usage: kubectl mlops COMMAND [flags]');
    const which = await run('/bin/sh', ['-c', 'command -v kubectl-mlops'], { env: { PATH } });
    expect(which.out.trim()).toBe(path.join(prefix, 'bin', 'kubectl-mlops'));
  });
});

describe('completion through kubectl', () => {
  it('completes subcommands, flags and live names', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'complete');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('trainer', { replicas: 1 }));
    const env = { KUBECONFIG: inject('cluster').kubeconfig, PATH: testPath() };
    const sub = await run('kubectl', ['__complete', 'mlops', 'sc'], { env });
    expect(sub.out).toBe('scale-to-zero\tscale workloads to zero gracefully, recording their replica count (and HPA) so `restore` brings them back\n:4\n');
    const deploys = await run('kubectl', ['__complete', 'mlops', 'history', '-n', ns, ''], { env });
    expect(deploys.out).toBe('trainer\n:4\n');
    const nsDone = await run('kubectl', ['__complete', 'mlops', 'storage', '-n', ns.slice(0, 6)], { env });
    expect(nsDone.out.split('\n')).toContain(ns);
    const flags = await run('kubectl', ['__complete', 'mlops', 'rollback', '--to'], { env });
    expect(flags.out).toMatch(/^--to-revision\tthe revision to go back to/);
    const file = await run('kubectl', ['__complete', 'mlops', 'config', 'x', '--from-file', ''], { env });
    expect(file.out).toBe(':0\n');
    const script = await run(path.join(repo, 'bin/kubectl-mlops'), ['completion', 'bash'], { env });
    expect(script.out).toContain('complete -F _kubectl_mlops kubectl-mlops');
    const bash = await run(
      'bash',
      ['-c', 'source <(kubectl-mlops completion bash); COMP_WORDS=(kubectl-mlops rollback --to); COMP_CWORD=2; _kubectl_mlops; echo "${COMPREPLY[*]}"'],
      { env },
    );
    expect(bash.out).toBe('--to-revision\n');
    // zsh, fish and PowerShell are not installed here: their scripts are only generated.
    for (const sh of ['zsh', 'fish', 'powershell']) expect((await run(path.join(repo, 'bin/kubectl-mlops'), ['completion', sh], { env })).code).toBe(0);
    // Unreachable cluster: nothing, quickly, and no error text.
    const none = await run('kubectl', ['__complete', 'mlops', 'history', ''], { env: { ...env, KUBECONFIG: path.join(repo, 'test/fixtures/unreachable-kubeconfig.yaml') } });
    expect(none.out).toBe(':4\n');
  });
});
