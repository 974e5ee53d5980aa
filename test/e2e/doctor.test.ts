// doctor's answer matches what each command then does, verb for verb (issue 14): for users
// holding typical Roles, every command doctor lists is run (writers with --dry-run=server, so
// the server authorizes the write without making it) and must succeed where doctor says "yes"
// and be refused, naming a verb doctor said was missing, where it says "no".
import { beforeAll, describe, expect, it } from 'vitest';
import { adminKube, deployment, freshNamespace, mlops, persistentVolume, until, waitReady } from './helpers.js';
import { kubeconfigAs } from './safety.js';
import { R, pathOf } from '../../src/kube/resources.js';
import { COMMAND_NEEDS, conditionOf } from '../../src/commands/permissions.js';
import type { Deployment, PersistentVolume, Pod } from '../../src/kube/types.js';
import type { CommandAccess, DoctorReport } from '../../src/commands/doctor.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const READ = ['get', 'list', 'watch'];
const ROLES: Record<string, { namespaced: Rule[]; cluster?: Rule[] }> = {
  viewer: {
    namespaced: [
      { apiGroups: [''], resources: ['pods', 'configmaps', 'persistentvolumeclaims', 'events', 'services'], verbs: READ },
      { apiGroups: ['apps'], resources: ['deployments', 'replicasets'], verbs: READ },
    ],
  },
  deployer: {
    namespaced: [
      { apiGroups: [''], resources: ['pods', 'configmaps', 'persistentvolumeclaims', 'events', 'services'], verbs: READ },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['patch'] },
      { apiGroups: ['apps'], resources: ['deployments', 'replicasets'], verbs: READ },
      { apiGroups: ['apps'], resources: ['deployments', 'deployments/scale'], verbs: ['patch'] },
      { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['list', 'create'] },
    ],
  },
  'storage-admin': {
    namespaced: [{ apiGroups: [''], resources: ['persistentvolumeclaims', 'pods', 'events'], verbs: READ }],
    cluster: [
      { apiGroups: [''], resources: ['persistentvolumes'], verbs: [...READ, 'patch'] },
      { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['list'] },
      { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: ['list'] },
    ],
  },
};

/** A verb doctor named, as the refusal names it: the pre-flight ("patch deployments.apps/scale") or the server ('cannot patch resource "deployments/scale"'). */
function namesOne(err: string, missing: string[]): boolean {
  return missing.some((m) => {
    const [verb, res] = m.split(' ');
    const [resource, sub] = [res!.split('/')[0]!.split('.')[0]!, res!.split('/')[1]];
    return new RegExp(`\\b${verb}\\b[^\\n]*\\b${resource}${sub ? `(\\.[a-z.]+)?/${sub}` : ''}\\b`).test(err);
  });
}

describe('doctor agrees with the commands, verb for verb', () => {
  const kube = adminKube();
  let ns = '';
  let invocations: Record<string, string[]> = {};

  beforeAll(async () => {
    ns = await freshNamespace(kube, 'doctor-agree');
    const dpl = pathOf(R.deployments, { namespace: ns });
    await Promise.all([
      kube.create(dpl, deployment('web', { replicas: 2 })),
      kube.create(dpl, deployment('idle', { replicas: 1 })),
      kube.create(pathOf(R.configmaps, { namespace: ns }), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { a: '1' } }),
      kube.create(pathOf(R.secrets, { namespace: ns }), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sec' }, data: { a: 'MQ==' } }),
      kube.create(pathOf(R.pvcs, { namespace: ns }), {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard' },
      }),
    ]);
    const pvName = `doctor-${ns}`.slice(0, 63);
    await kube.create(
      pathOf(R.pvs),
      persistentVolume(pvName, { storageClassName: `doctor-${ns}`, claimRef: { namespace: ns, name: 'gone', uid: '00000000-0000-0000-0000-00000000d0c7' } }),
    );
    await Promise.all([waitReady(kube, ns, 'app=web', 2), waitReady(kube, ns, 'app=idle', 1)]);
    // A second revision of web (for rollback), a detached pod (for debug-pod done), idle scaled to zero (for restore).
    await kube.patch(
      pathOf(R.deployments, { namespace: ns, name: 'web' }),
      { spec: { template: { spec: { containers: [{ name: 'app', image: 'registry.local/my-app:2.0' }] } } } },
      'strategic',
    );
    await until(
      async () => {
        const d = await kube.get<Deployment>(pathOf(R.deployments, { namespace: ns, name: 'web' }));
        const s = d.status ?? {};
        return s.observedGeneration === d.metadata?.generation && s.updatedReplicas === 2 && s.availableReplicas === 2 && s.replicas === 2;
      },
      60_000,
      'web at revision 2',
    );
    const victim = (await waitReady(kube, ns, 'app=web', 2))[0]!.metadata!.name!;
    const [detach, zero] = await Promise.all([mlops(['debug-pod', victim, '-n', ns]), mlops(['scale-to-zero', 'deploy/idle', '-n', ns, '--yes'])]);
    expect(detach.code, detach.err).toBe(0);
    expect(zero.code, zero.err).toBe(0);
    const other = (await waitReady(kube, ns, 'app=web', 2)).find((p: Pod) => p.metadata?.name !== victim)!.metadata!.name!;
    await until(async () => (await kube.get<PersistentVolume>(pathOf(R.pvs, { name: pvName }))).status?.phase === 'Released', 30_000, 'Released');
    const dry = '--dry-run=server';
    invocations = {
      'debug-pod': ['debug-pod', other, dry],
      'debug-pod list': ['debug-pod', 'list'],
      'debug-pod done': ['debug-pod', 'done', victim, dry],
      history: ['history', 'web'],
      rollback: ['rollback', 'deploy/web', dry],
      ship: ['ship', 'web', 'app=registry.local/my-app:3.0', dry],
      'scale-to-zero': ['scale-to-zero', 'deploy/web', dry],
      restore: ['restore', 'deploy/idle', dry],
      config: ['config', 'cfg', '--from-literal', 'a=2', dry],
      secret: ['secret', 'sec', '--from-literal', 'a=2', dry],
      'secret view': ['secret', 'view', 'sec'],
      gpus: ['gpus'],
      storage: ['storage'],
      'storage pv': ['storage', 'pv'],
      'storage reclaim': ['storage', 'reclaim', pvName, dry],
    };
  }, 180_000);

  it.each(Object.keys(ROLES))('a user with the %s role', async (role) => {
    const user = `${role}-${ns}`.slice(0, 60);
    const subjects = [{ kind: 'User', name: user, apiGroup: 'rbac.authorization.k8s.io' }];
    const rbac = '/apis/rbac.authorization.k8s.io/v1';
    await kube.create(`${rbac}/namespaces/${ns}/roles`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: user }, rules: ROLES[role]!.namespaced });
    await kube.create(`${rbac}/namespaces/${ns}/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: user },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: user },
      subjects,
    });
    if (ROLES[role]!.cluster) {
      await kube.create(`${rbac}/clusterroles`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: user }, rules: ROLES[role]!.cluster });
      await kube.create(`${rbac}/clusterrolebindings`, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: user },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: user },
        subjects,
      });
    }
    const kubeconfig = kubeconfigAs(user);
    const d = await mlops(['doctor', '-n', ns, '-o', 'json'], { kubeconfig });
    expect(d.code, d.err).toBe(0);
    const report = JSON.parse(d.out) as DoctorReport;
    expect(report.commands.map((c) => c.command).sort()).toEqual(Object.keys(COMMAND_NEEDS).sort());

    const results = await Promise.all(
      report.commands.map(async (c: CommandAccess) => {
        const args = invocations[c.command];
        if (!args) return `${c.command}: no invocation in this test`;
        const r = await mlops([...args, '-n', ns], { kubeconfig });
        if (c.allowed && r.code !== 0) return `${c.command}: doctor says yes, the command failed (${r.code}): ${r.err.trim()}`;
        if (!c.allowed && r.code === 0) return `${c.command}: doctor says no (${c.missing.join(', ')}), the command succeeded`;
        if (!c.allowed && !(r.code === 1 && namesOne(r.err, c.missing)))
          return `${c.command}: doctor says no (${c.missing.join(', ')}), the command failed otherwise (${r.code}): ${r.err.trim()}`;
        // Each flag that needs more (conditions with a flag): refused, naming what doctor said it also needs; else it runs.
        for (const when of new Set((COMMAND_NEEDS[c.command] ?? []).filter((x) => x.when && !x.optional).map((x) => x.when!))) {
          const cond = conditionOf(when);
          if (!c.allowed || !cond?.flag) continue;
          const flag = cond.label;
          const f = await mlops([...args, ...cond.flag, '-n', ns], { kubeconfig });
          const needs = c.flags.find((x) => x.flag === flag)?.missing;
          if (!needs && f.code !== 0) return `${c.command} ${flag}: doctor says yes, the command failed (${f.code}): ${f.err.trim()}`;
          if (needs && !(f.code === 1 && namesOne(f.err, needs)))
            return `${c.command} ${flag}: doctor says it also needs ${needs.join(', ')}, the command gave (${f.code}): ${f.err.trim()}`;
        }
        return null;
      }),
    );
    expect(results.filter(Boolean), `${role}: doctor and the commands disagree`).toEqual([]);
    // The role is chosen so that both answers occur.
    expect(new Set(report.commands.map((c) => c.allowed))).toEqual(new Set([true, false]));
    expect(report.commands.find((c) => c.command === 'storage')).toMatchObject({ allowed: true });
  });
});
