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

/**
 * config and secret: create when the object is new, patch when it exists; with --wire, read and
 * patch the workload, and for a Deployment list and watch it through the rollout.
 */
function sourceNeeds(resource: 'configmaps' | 'secrets'): Need[] {
  const w = (verb: string, plural: string) => n(verb, plural, 'apps', { when: `wire:${plural}` });
  return [
    n('get', resource),
    n('create', resource, '', { when: 'new' }),
    n('patch', resource, '', { when: 'existing' }),
    ...['get', 'patch', 'list', 'watch'].map((v) => w(v, 'deployments')),
    ...['get', 'patch'].flatMap((v) => [w(v, 'statefulsets'), w(v, 'daemonsets')]),
  ];
}

export const COMMAND_NEEDS: Record<string, Need[]> = {
  'debug-pod': [n('get', 'pods'), n('patch', 'pods'), n('list', 'pods'), n('watch', 'pods'), n('get', 'replicasets', 'apps'), n('list', 'services')],
  'debug-pod list': [n('list', 'pods')],
  'debug-pod done': [n('get', 'pods'), n('list', 'pods'), n('delete', 'pods')],
  history: [n('get', 'deployments', 'apps'), n('list', 'replicasets', 'apps')],
  rollback: [n('get', 'deployments', 'apps'), n('patch', 'deployments', 'apps'), n('list', 'replicasets', 'apps'), n('watch', 'deployments', 'apps'), n('list', 'pods')],
  ship: [n('get', 'deployments', 'apps'), n('patch', 'deployments', 'apps'), n('list', 'replicasets', 'apps'), n('watch', 'deployments', 'apps')],
  'scale-to-zero': [n('get', 'deployments', 'apps'), n('patch', 'deployments', 'apps'), n('patch', 'deployments', 'apps', { subresource: 'scale' }), n('list', 'pods'), n('watch', 'pods'), n('list', 'horizontalpodautoscalers', 'autoscaling')],
  restore: [n('get', 'deployments', 'apps'), n('patch', 'deployments', 'apps', { subresource: 'scale' }), n('create', 'horizontalpodautoscalers', 'autoscaling'), n('watch', 'pods')],
  config: sourceNeeds('configmaps'),
  secret: sourceNeeds('secrets'),
  storage: [n('list', 'persistentvolumeclaims'), n('list', 'persistentvolumes', '', { cluster: true }), n('list', 'storageclasses', 'storage.k8s.io', { cluster: true }), n('list', 'pods')],
  // Only what gpus cannot do without: nodes, events and DRA objects it shows when allowed and warns about when not.
  gpus: [n('list', 'pods')],
  'storage reclaim': [n('get', 'persistentvolumes', '', { cluster: true }), n('patch', 'persistentvolumes', '', { cluster: true })],
};

/**
 * `when` values that name the state of the object (config/secret: create it when new, patch it
 * when it exists) rather than a flag. doctor cannot know the state, so it counts both; needs
 * tied to a flag (--wire, --with-hpa) are left out of its yes/no.
 */
export const OBJECT_STATES = ['new', 'existing'];

/** What doctor checks for a command: its needs whatever the flags. */
export function baseNeeds(needs: Need[]): Need[] {
  return needs.filter((n) => !n.when || OBJECT_STATES.includes(n.when));
}

export function needLabel(need: Need): string {
  const res = need.group ? `${need.resource}.${need.group}` : need.resource;
  return `${need.verb} ${res}${need.subresource ? '/' + need.subresource : ''}`;
}
