import { describe, expect, it } from 'vitest';
import { legacyChecksumKey, planWire, stampKey } from '../../src/config/wire.js';

const deploy = (containers: Record<string, unknown>[], extra: { annotations?: Record<string, string>; volumes?: unknown[] } = {}) => ({
  metadata: { name: 'web', resourceVersion: '7' },
  spec: { template: { metadata: { annotations: extra.annotations }, spec: { containers, volumes: extra.volumes } } },
});
const opts = { target: 'deploy/web', as: 'env' as const };

describe('planWire', () => {
  const v7 = { uid: '5f0c-uid', resourceVersion: '1234' };

  it("adds envFrom and a stamp of the source's uid and resourceVersion in one patch; the cause names the resourceVersion", () => {
    const plan = planWire(deploy([{ name: 'app', envFrom: [{ secretRef: { name: 'other' } }] }]), 'configmap', 'cfg', v7, opts);
    expect(plan.patch).toEqual({
      metadata: { annotations: { 'kubernetes.io/change-cause': 'kubectl mlops: configmap/cfg resourceVersion 1234' } },
      spec: {
        template: {
          metadata: { annotations: { 'mlops.kubectl.io/stamp-cm-cfg': '5f0c-uid/1234' } },
          spec: { containers: [{ name: 'app', envFrom: [{ secretRef: { name: 'other' } }, { configMapRef: { name: 'cfg' } }] }] },
        },
      },
    });
  });

  it('the stamp depends on the object, not the data: another uid (another namespace, a re-creation) or resourceVersion gives another stamp', () => {
    const stampFor = (v: { uid: string; resourceVersion: string }) =>
      (planWire(deploy([{ name: 'app' }]), 'secret', 's', v, opts).patch as { spec: { template: { metadata: { annotations: Record<string, string> } } } }).spec.template.metadata
        .annotations[stampKey('secret', 's')];
    expect(stampFor(v7)).not.toBe(stampFor({ ...v7, uid: 'other-uid' }));
    expect(stampFor(v7)).not.toBe(stampFor({ ...v7, resourceVersion: '1235' }));
  });

  it('does nothing when wired and the stamp is current', () => {
    const plan = planWire(
      deploy([{ name: 'app', envFrom: [{ configMapRef: { name: 'cfg' } }] }], { annotations: { 'mlops.kubectl.io/stamp-cm-cfg': '5f0c-uid/1234' } }),
      'configmap',
      'cfg',
      v7,
      opts,
    );
    expect(plan).toEqual({ changes: [] });
  });

  it('--no-restart skips the stamp; a new resourceVersion alone rolls the pods', () => {
    const wired = deploy([{ name: 'app', envFrom: [{ configMapRef: { name: 'cfg' } }] }], { annotations: { 'mlops.kubectl.io/stamp-cm-cfg': '5f0c-uid/1000' } });
    expect(planWire(wired, 'configmap', 'cfg', v7, { ...opts, noRestart: true })).toEqual({ changes: [] });
    expect(planWire(wired, 'configmap', 'cfg', v7, opts).changes).toEqual(['stamp configmap/cfg resourceVersion 1234 (pods restart when the data changes)']);
  });

  it('removes the data checksum earlier versions stamped (a digest of the values)', () => {
    const legacy = legacyChecksumKey('secret', 'creds');
    const old = deploy([{ name: 'app', envFrom: [{ secretRef: { name: 'creds' } }] }], { annotations: { [legacy]: 'ab'.repeat(32) } });
    const plan = planWire(old, 'secret', 'creds', v7, opts);
    expect(plan.patch).toMatchObject({ spec: { template: { metadata: { annotations: { [legacy]: null, [stampKey('secret', 'creds')]: '5f0c-uid/1234' } } } } });
    expect(planWire(old, 'secret', 'creds', v7, { ...opts, noRestart: true }).changes).toEqual([`remove the data checksum of earlier versions (${legacy})`]);
  });

  it('before the source is written, plans a stamp without a value', () => {
    const plan = planWire(deploy([{ name: 'app' }]), 'secret', 's', undefined, opts);
    expect(plan.changes).toContain('stamp secret/s (its new resourceVersion) (pods restart when the data changes)');
    expect(JSON.stringify(plan.patch)).not.toContain('stamp-secret');
  });

  it('mounts a secret as a volume, once', () => {
    const plan = planWire(deploy([{ name: 'app' }]), 'secret', 'tls', v7, { ...opts, as: 'volume', noRestart: true });
    expect(plan.patch).toMatchObject({
      spec: {
        template: {
          spec: {
            volumes: [{ name: 'secret-tls', secret: { secretName: 'tls' } }],
            containers: [{ name: 'app', volumeMounts: [{ name: 'secret-tls', mountPath: '/etc/secrets/tls', readOnly: true }] }],
          },
        },
      },
    });
    const again = planWire(
      deploy([{ name: 'app', volumeMounts: [{ name: 'secret-tls', mountPath: '/etc/secrets/tls' }] }], { volumes: [{ name: 'secret-tls', secret: { secretName: 'tls' } }] }),
      'secret',
      'tls',
      v7,
      { ...opts, as: 'volume', noRestart: true },
    );
    expect(again.changes).toEqual([]);
  });

  it('asks for --container when there are several, and names a missing one', () => {
    const two = deploy([{ name: 'app' }, { name: 'sidecar' }]);
    expect(() => planWire(two, 'configmap', 'cfg', v7, opts)).toThrow('deploy/web has 2 containers (app, sidecar): pick one with --container');
    expect(() => planWire(two, 'configmap', 'cfg', v7, { ...opts, container: 'nope' })).toThrow('container "nope" (--container) not found in deploy/web; containers: app, sidecar');
    expect(planWire(two, 'configmap', 'cfg', v7, { ...opts, container: 'sidecar', noRestart: true }).changes).toEqual(['envFrom configmap/cfg in container sidecar']);
  });

  it('keeps stamp annotation keys valid for long names', () => {
    const key = stampKey('configmap', 'a'.repeat(200));
    expect(key.split('/')[1]!.length).toBeLessThanOrEqual(63);
    expect(key).not.toBe(stampKey('configmap', 'a'.repeat(199)));
  });
});
