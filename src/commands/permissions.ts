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
  // The GPU warning's node and cluster-wide pod lists are optional (a 403 degrades the warning), so not declared.
  'debug-pod': [
    n('get', 'pods'), n('patch', 'pods'), n('list', 'pods'), n('watch', 'pods'),
    n('get', 'replicasets', 'apps'), n('list', 'replicasets', 'apps'), n('watch', 'replicasets', 'apps'), n('get', 'deployments', 'apps'),
    n('list', 'services'), n('list', 'resourcequotas'), n('get', 'pods', '', { subresource: 'log', when: 'logs' }),
  ],
  // Optional (`when`): without it list still works, but cannot show pods relabelled by hand (it warns).
  'debug-pod list': [n('list', 'pods'), n('list', 'replicasets', 'apps', { when: 'relabelled-by-hand' })],
  'debug-pod done': [n('get', 'pods'), n('list', 'replicasets', 'apps'), n('delete', 'pods'), n('list', 'pods'), n('watch', 'pods')],
  history: [n('get', 'deployments', 'apps'), n('list', 'replicasets', 'apps')],
  rollback: [n('get', 'deployments', 'apps'), n('patch', 'deployments', 'apps'), n('list', 'replicasets', 'apps'), n('watch', 'deployments', 'apps'), n('list', 'pods')],
  ship: [n('get', 'deployments', 'apps'), n('patch', 'deployments', 'apps'), n('list', 'replicasets', 'apps'), n('watch', 'deployments', 'apps')],
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
