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

// scale-to-zero and restore: `kind:K` for the kinds of the targets, `list:K` where -l, --all or
// a wait lists the kind, `delete:K` with --delete, `with-hpa` when an HPA is removed or
// re-created. The scale and its record are one write on the workload (no /scale subresource).
const SCALE_KINDS = ['deployments', 'statefulsets', 'replicasets'];
const SCALE_TO_ZERO_NEEDS: Need[] = [
  ...SCALE_KINDS.flatMap((k) => [
    n('get', k, 'apps', { when: `kind:${k}` }), n('patch', k, 'apps', { when: `kind:${k}` }), n('list', k, 'apps', { when: `list:${k}` }), n('watch', k, 'apps', { when: `kind:${k}` }), n('delete', k, 'apps', { when: `delete:${k}` }),
  ]),
  n('list', 'pods'),
  n('watch', 'pods'),
  n('list', 'horizontalpodautoscalers', 'autoscaling'),
  n('delete', 'horizontalpodautoscalers', 'autoscaling', { when: 'with-hpa' }),
];
const RESTORE_NEEDS: Need[] = [
  ...SCALE_KINDS.flatMap((k) => [n('get', k, 'apps', { when: `kind:${k}` }), n('patch', k, 'apps', { when: `kind:${k}` }), n('list', k, 'apps', { when: `list:${k}` }), n('watch', k, 'apps', { when: `kind:${k}` })]),
  n('list', 'horizontalpodautoscalers', 'autoscaling'),
  n('create', 'horizontalpodautoscalers', 'autoscaling', { when: 'with-hpa' }),
];

export const COMMAND_NEEDS: Record<string, Need[]> = {
  'debug-pod': [n('get', 'pods'), n('patch', 'pods'), n('list', 'pods'), n('watch', 'pods'), n('get', 'replicasets', 'apps'), n('list', 'services')],
  'debug-pod list': [n('list', 'pods')],
  'debug-pod done': [n('get', 'pods'), n('list', 'pods'), n('delete', 'pods')],
  history: [n('get', 'deployments', 'apps'), n('list', 'replicasets', 'apps')],
  rollback: [n('get', 'deployments', 'apps'), n('patch', 'deployments', 'apps'), n('list', 'replicasets', 'apps'), n('watch', 'deployments', 'apps'), n('list', 'pods')],
  ship: [n('get', 'deployments', 'apps'), n('patch', 'deployments', 'apps'), n('list', 'replicasets', 'apps'), n('watch', 'deployments', 'apps')],
  'scale-to-zero': SCALE_TO_ZERO_NEEDS,
  restore: RESTORE_NEEDS,
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
