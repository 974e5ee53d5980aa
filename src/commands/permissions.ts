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
  /** A read-only command works without it and says what it could not show (doctor: "yes, without ..."). */
  optional?: boolean;
}

const n = (verb: string, resource: string, group = '', extra: Partial<Need> = {}): Need => ({ verb, resource, group, ...extra });

export const COMMAND_NEEDS: Record<string, Need[]> = {
  'debug-pod': [n('get', 'pods'), n('patch', 'pods'), n('list', 'pods'), n('watch', 'pods'), n('get', 'replicasets', 'apps'), n('list', 'services')],
  'debug-pod list': [n('list', 'pods')],
  'debug-pod done': [n('get', 'pods'), n('list', 'pods'), n('delete', 'pods')],
  history: [n('get', 'deployments', 'apps'), n('list', 'replicasets', 'apps')],
  rollback: [n('get', 'deployments', 'apps'), n('patch', 'deployments', 'apps'), n('list', 'replicasets', 'apps'), n('watch', 'deployments', 'apps'), n('list', 'pods')],
  ship: [n('get', 'deployments', 'apps'), n('patch', 'deployments', 'apps'), n('list', 'replicasets', 'apps'), n('watch', 'deployments', 'apps')],
  'scale-to-zero': [n('get', 'deployments', 'apps'), n('patch', 'deployments', 'apps'), n('patch', 'deployments', 'apps', { subresource: 'scale' }), n('list', 'pods'), n('watch', 'pods'), n('list', 'horizontalpodautoscalers', 'autoscaling')],
  restore: [n('get', 'deployments', 'apps'), n('patch', 'deployments', 'apps', { subresource: 'scale' }), n('create', 'horizontalpodautoscalers', 'autoscaling'), n('watch', 'pods')],
  config: [n('get', 'configmaps'), n('patch', 'configmaps')],
  secret: [n('get', 'secrets'), n('patch', 'secrets')],
  storage: [
    n('list', 'persistentvolumeclaims'), n('list', 'pods'), n('list', 'events', '', { optional: true }),
    n('list', 'persistentvolumes', '', { cluster: true, optional: true }), n('list', 'storageclasses', 'storage.k8s.io', { cluster: true, optional: true }),
    n('list', 'persistentvolumeclaims', '', { cluster: true, when: 'all-namespaces' }), n('list', 'pods', '', { cluster: true, when: 'all-namespaces' }),
    n('list', 'events', '', { cluster: true, when: 'all-namespaces', optional: true }),
  ],
  'storage pv': [n('list', 'persistentvolumes', '', { cluster: true }), n('list', 'persistentvolumeclaims', '', { cluster: true })],
  // get persistentvolumeclaims is asked in the former claim's namespace.
  'storage reclaim': [
    n('get', 'persistentvolumes', '', { cluster: true }), n('patch', 'persistentvolumes', '', { cluster: true }), n('get', 'persistentvolumeclaims'),
    n('list', 'persistentvolumes', '', { cluster: true }), n('watch', 'persistentvolumes', '', { cluster: true }),
  ],
};

export function needLabel(need: Need): string {
  const res = need.group ? `${need.resource}.${need.group}` : need.resource;
  return `${need.verb} ${res}${need.subresource ? '/' + need.subresource : ''}`;
}

/**
 * One command's permissions in words, for the README table (test/unit/permissions.test.ts
 * checks the README against this): always-needed verbs, then optional ones, then per flag.
 */
export function describeNeeds(needs: Need[]): string {
  const one = (x: Need) => `${needLabel(x)}${x.cluster || x.optional ? ` (${[x.cluster && 'cluster-wide', x.optional && 'optional'].filter(Boolean).join(', ')})` : ''}`;
  const parts = [needs.filter((x) => !x.when).map(one).join(', ')];
  for (const flag of [...new Set(needs.filter((x) => x.when).map((x) => x.when!))]) {
    parts.push(`with --${flag}: ${needs.filter((x) => x.when === flag).map(one).join(', ')}`);
  }
  return parts.filter(Boolean).join('; ');
}
