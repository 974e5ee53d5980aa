import { describe, expect, it } from 'vitest';
import { checksum, checksumKey, planWire } from '../../src/config/wire.js';

const deploy = (containers: Record<string, unknown>[], extra: { annotations?: Record<string, string>; volumes?: unknown[] } = {}) => ({
  metadata: { name: 'web', resourceVersion: '7' },
  spec: { template: { metadata: { annotations: extra.annotations }, spec: { containers, volumes: extra.volumes } } },
});
const opts = { target: 'deploy/web', as: 'env' as const };

describe('planWire', () => {
  it('adds envFrom and the checksum in one patch', () => {
    const sum = checksum({ A: '1' });
    const plan = planWire(deploy([{ name: 'app', envFrom: [{ secretRef: { name: 'other' } }] }]), 'configmap', 'cfg', sum, opts);
    expect(plan.patch).toEqual({
      metadata: { annotations: { 'kubernetes.io/change-cause': `kubectl mlops: configmap/cfg data sha256:${sum.slice(0, 12)}` } },
      spec: {
        template: {
          metadata: { annotations: { 'mlops.kubectl.io/checksum-cm-cfg': sum } },
          spec: { containers: [{ name: 'app', envFrom: [{ secretRef: { name: 'other' } }, { configMapRef: { name: 'cfg' } }] }] },
        },
      },
    });
  });

  it('does nothing when wired and the checksum is current', () => {
    const sum = checksum({ A: '1' });
    const plan = planWire(deploy([{ name: 'app', envFrom: [{ configMapRef: { name: 'cfg' } }] }], { annotations: { 'mlops.kubectl.io/checksum-cm-cfg': sum } }), 'configmap', 'cfg', sum, opts);
    expect(plan).toEqual({ changes: [] });
  });

  it('--no-restart skips the checksum; a changed checksum alone rolls the pods', () => {
    const wired = deploy([{ name: 'app', envFrom: [{ configMapRef: { name: 'cfg' } }] }], { annotations: { 'mlops.kubectl.io/checksum-cm-cfg': 'old' } });
    expect(planWire(wired, 'configmap', 'cfg', 'new', { ...opts, noRestart: true })).toEqual({ changes: [] });
    expect(planWire(wired, 'configmap', 'cfg', 'new', opts).changes).toEqual(['checksum new (pods restart when the data changes)']);
  });

  it('mounts a secret as a volume, once', () => {
    const plan = planWire(deploy([{ name: 'app' }]), 'secret', 'tls', 'x', { ...opts, as: 'volume', noRestart: true });
    expect(plan.patch).toMatchObject({
      spec: { template: { spec: { volumes: [{ name: 'secret-tls', secret: { secretName: 'tls' } }], containers: [{ name: 'app', volumeMounts: [{ name: 'secret-tls', mountPath: '/etc/secrets/tls', readOnly: true }] }] } } },
    });
    const again = planWire(
      deploy([{ name: 'app', volumeMounts: [{ name: 'secret-tls', mountPath: '/etc/secrets/tls' }] }], { volumes: [{ name: 'secret-tls', secret: { secretName: 'tls' } }] }),
      'secret', 'tls', 'x', { ...opts, as: 'volume', noRestart: true },
    );
    expect(again.changes).toEqual([]);
  });

  it('asks for --container when there are several, and names a missing one', () => {
    const two = deploy([{ name: 'app' }, { name: 'sidecar' }]);
    expect(() => planWire(two, 'configmap', 'cfg', 'x', opts)).toThrow('deploy/web has 2 containers (app, sidecar): pick one with --container');
    expect(() => planWire(two, 'configmap', 'cfg', 'x', { ...opts, container: 'nope' })).toThrow('container "nope" (--container) not found in deploy/web; containers: app, sidecar');
    expect(planWire(two, 'configmap', 'cfg', 'x', { ...opts, container: 'sidecar', noRestart: true }).changes).toEqual(['envFrom configmap/cfg in container sidecar']);
  });

  it('keeps checksum annotation keys valid for long names', () => {
    const key = checksumKey('configmap', 'a'.repeat(200));
    expect(key.split('/')[1]!.length).toBeLessThanOrEqual(63);
    expect(checksum({ a: '1', b: '2' })).toBe(checksum({ b: '2', a: '1' }));
  });
});
