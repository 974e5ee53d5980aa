// --wire on a paused Deployment is refused before anything is written, as ship refuses it:
// a paused Deployment does not roll out, so the wait could only end in a stale condition.
import { describe, expect, it } from 'vitest';
import { adminKube, deployment, freshNamespace, mlops, until } from './helpers.js';
import type { Deployment } from '../../src/kube/types.js';
import { R, pathOf } from '../../src/kube/resources.js';
import { expectOneLineError, expectUnchanged, snapshot } from './safety.js';

describe('config/secret --wire on a paused Deployment', () => {
  it('is refused with nothing written, naming the pause; ship agrees', async () => {
    const kube = adminKube();
    const ns = await freshNamespace(kube, 'cfg-paused');
    const d = deployment('p', { replicas: 1 });
    await kube.create(pathOf(R.deployments, { namespace: ns }), { ...d, spec: { ...d.spec, paused: true } });
    // The controller has written its status (a paused Deployment gets no ReplicaSet) before the snapshot is taken.
    await until(
      async () => {
        const x = await kube.get<Deployment>(pathOf(R.deployments, { namespace: ns, name: 'p' }));
        return x.status?.observedGeneration === x.metadata?.generation && x.status?.conditions?.some((c) => c.reason === 'DeploymentPaused');
      },
      60_000,
      'the paused Deployment to settle',
    );
    const before = await snapshot(kube, ns);
    for (const cmd of ['config', 'secret']) {
      const r = await mlops([cmd, 'cc', '--from-literal', 'x=y', '--wire', 'deploy/p', '-n', ns]);
      expectOneLineError(r, 1, /deployment\.apps\/p is paused, and a paused Deployment does not roll out; resume it first .*; nothing was written$/);
      expect(r.err).not.toContain('What this command did');
    }
    const ship = await mlops(['ship', 'p', 'app=registry.local/my-app:2.0', '-n', ns]);
    expectOneLineError(ship, 1, /paused/);
    await expectUnchanged(kube, ns, before);
  });
});
