// What each command needs from RBAC, for `doctor`. Kept next to nothing else so the list
// is easy to review when a command changes what it calls.
export interface Need {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  /** Cluster-scoped resources are checked without a namespace. */
  cluster?: boolean;
  /** Needed only when this flag is in use (e.g. 'with-hpa'); the pre-flight asks for it then. */
  when?: string;
}

const n = (verb: string, resource: string, group = '', extra: Partial<Need> = {}): Need => ({ verb, resource, group, ...extra });

export const COMMAND_NEEDS: Record<string, Need[]> = {
  'debug-pod': [n('get', 'pods'), n('patch', 'pods'), n('list', 'pods'), n('watch', 'pods'), n('get', 'replicasets', 'apps'), n('list', 'services')],
  'debug-pod list': [n('list', 'pods')],
  'debug-pod done': [n('get', 'pods'), n('list', 'pods'), n('delete', 'pods')],
  history: [n('get', 'deployments', 'apps'), n('list', 'replicasets', 'apps')],
  // The rollout wait lists then watches the Deployment, and names the pods that are not Ready.
  // `when`: 'deployment' (deploy/NAME), 'replicaset' (rs/NAME), 'keep-for-debug' (the flag with a Deployment).
  rollback: [
    n('get', 'deployments', 'apps', { when: 'deployment' }),
    n('patch', 'deployments', 'apps', { when: 'deployment' }),
    n('list', 'replicasets', 'apps', { when: 'deployment' }),
    n('list', 'deployments', 'apps', { when: 'deployment' }),
    n('watch', 'deployments', 'apps', { when: 'deployment' }),
    n('list', 'pods'),
    n('get', 'pods', '', { when: 'keep-for-debug' }),
    n('patch', 'pods', '', { when: 'keep-for-debug' }),
    n('get', 'replicasets', 'apps', { when: 'keep-for-debug' }),
    n('list', 'services', '', { when: 'keep-for-debug' }),
    n('get', 'replicasets', 'apps', { when: 'replicaset' }),
    n('patch', 'replicasets', 'apps', { when: 'replicaset' }),
    n('watch', 'pods', '', { when: 'replicaset' }),
    n('get', 'pods', '', { when: 'replicaset' }),
    n('patch', 'pods', '', { when: 'replicaset' }),
    n('delete', 'pods', '', { when: 'replicaset' }),
    n('list', 'services', '', { when: 'replicaset' }),
  ],
  // 'wait': without --no-wait (and not a dry run).
  ship: [
    n('get', 'deployments', 'apps'),
    n('patch', 'deployments', 'apps'),
    n('list', 'replicasets', 'apps'),
    n('list', 'deployments', 'apps', { when: 'wait' }),
    n('watch', 'deployments', 'apps', { when: 'wait' }),
    n('list', 'pods', '', { when: 'wait' }),
  ],
  'scale-to-zero': [n('get', 'deployments', 'apps'), n('patch', 'deployments', 'apps'), n('patch', 'deployments', 'apps', { subresource: 'scale' }), n('list', 'pods'), n('watch', 'pods'), n('list', 'horizontalpodautoscalers', 'autoscaling')],
  restore: [n('get', 'deployments', 'apps'), n('patch', 'deployments', 'apps', { subresource: 'scale' }), n('create', 'horizontalpodautoscalers', 'autoscaling'), n('watch', 'pods')],
  config: [n('get', 'configmaps'), n('patch', 'configmaps')],
  secret: [n('get', 'secrets'), n('patch', 'secrets')],
  storage: [n('list', 'persistentvolumeclaims'), n('list', 'persistentvolumes', '', { cluster: true }), n('list', 'storageclasses', 'storage.k8s.io', { cluster: true }), n('list', 'pods')],
  // Only what gpus cannot do without: nodes, events and DRA objects it shows when allowed and warns about when not.
  gpus: [n('list', 'pods')],
  'storage reclaim': [n('get', 'persistentvolumes', '', { cluster: true }), n('patch', 'persistentvolumes', '', { cluster: true })],
};

export function needLabel(need: Need): string {
  const res = need.group ? `${need.resource}.${need.group}` : need.resource;
  return `${need.verb} ${res}${need.subresource ? '/' + need.subresource : ''}`;
}
