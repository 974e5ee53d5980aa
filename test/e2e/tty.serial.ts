// On a terminal the waits show ora's spinner on stderr; stdout stays data only. Run under
// util-linux `script` to get a pty. A pty that reports 0 columns once sent ora into an
// endless loop, so both sizes are covered.
import { describe, expect, inject, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adminKube, deployment, freshNamespace, run, testPath, waitReady } from './helpers.js';
import { R, pathOf } from '../../src/kube/resources.js';

describe('spinner on a terminal', () => {
  it.each([
    ['a sized terminal', 'stty cols 100 rows 30; '],
    ['a terminal with 0 columns', ''],
  ])('%s', async (_name, stty) => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'tty');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('web', { replicas: 2 }));
    await waitReady(kube, ns, 'app=web', 2);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-tty-'));
    const out = path.join(dir, 'stdout.txt');
    const typescript = path.join(dir, 'typescript');
    const r = await run('script', ['-qec', `${stty}kubectl-mlops scale-to-zero deploy/web -n ${ns} > ${out}`, typescript], {
      env: { KUBECONFIG: inject('cluster').kubeconfig, PATH: testPath() },
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe('deployment.apps/web scaled to zero (2 recorded)\nfreed: 2 pod(s), cpu 200m, memory 128Mi, nvidia.com/gpu 0\n');
    const tty = fs.readFileSync(typescript, 'utf8');
    if (stty) expect(tty).toContain('waiting for the pods of deployment.apps/web to be gone');
    else expect(tty).not.toContain('\x1b[1A');
  });

  it('a destructive step asks on a terminal: "n" aborts with 130, "y" goes ahead', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'ttyask');
    await kube.create(pathOf(R.deployments, { namespace: ns }), deployment('web', { replicas: 1 }));
    const [pod] = await waitReady(kube, ns, 'app=web', 1);
    const name = pod!.metadata!.name!;
    const env = { KUBECONFIG: inject('cluster').kubeconfig, PATH: testPath() };
    expect((await run('kubectl-mlops', ['debug-pod', name, '-n', ns], { env })).code).toBe(0);
    const ts = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-tty-')), 'typescript');
    const no = await run('script', ['-qec', `stty cols 100; kubectl-mlops debug-pod done ${name} -n ${ns}`, ts], { env, input: 'n\n', timeoutMs: 60_000 });
    expect(no.code).toBe(130);
    expect(fs.readFileSync(ts, 'utf8')).toContain(`Delete detached debug pod ${ns}/${name}? [y/N]`);
    expect(fs.readFileSync(ts, 'utf8')).toContain(`error: aborted: deleting pod/${name} not done`);
    expect(await kube.getOptional(pathOf(R.pods, { namespace: ns, name }))).toBeDefined();
    const yes = await run('script', ['-qec', `stty cols 100; kubectl-mlops debug-pod done ${name} -n ${ns}`, ts], { env, input: 'y\n', timeoutMs: 60_000 });
    expect(yes.code).toBe(0);
    expect(fs.readFileSync(ts, 'utf8')).toContain(`pod "${name}" deleted`);
  });
});
