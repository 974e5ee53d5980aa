// What each command needs from RBAC, for `doctor`. Kept next to nothing else so the list
// is easy to review when a command changes what it calls.
export interface Need {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  /** Cluster-scoped resources are checked without a namespace. */
  cluster?: boolean;
  /** Needed only under a condition (a flag such as 'with-hpa', a kind of target, the object's state); the pre-flight asks for it then. Each has an entry in CONDITIONS. */
  when?: string;
  /** A read-only command works without it and says what it could not show (doctor: "yes, without ..."). */
  optional?: boolean;
  /** Asked in a namespace known only at run time (doctor checks the current one and says so). */
  elsewhere?: string;
}

const n = (verb: string, resource: string, group = '', extra: Partial<Need> = {}): Need => ({ verb, resource, group, ...extra });

// scale-to-zero and restore: `kind:K` for the kinds of the targets, `list:K` where -l, --all or
// a wait lists the kind, `delete:K` with --delete, `with-hpa` when an HPA is removed or
// re-created. The scale and its record are one write on the workload (no /scale subresource).
const SCALE_KINDS = ['deployments', 'statefulsets', 'replicasets'];
const SCALE_TO_ZERO_NEEDS: Need[] = [
  ...SCALE_KINDS.flatMap((k) => [
    n('get', k, 'apps', { when: `kind:${k}` }),
    n('patch', k, 'apps', { when: `kind:${k}` }),
    n('list', k, 'apps', { when: `list:${k}` }),
    n('watch', k, 'apps', { when: `kind:${k}` }),
    n('delete', k, 'apps', { when: `delete:${k}` }),
  ]),
  n('list', 'pods'),
  n('watch', 'pods'),
  n('list', 'horizontalpodautoscalers', 'autoscaling'),
  n('delete', 'horizontalpodautoscalers', 'autoscaling', { when: 'with-hpa' }),
];
const RESTORE_NEEDS: Need[] = [
  ...SCALE_KINDS.flatMap((k) => [
    n('get', k, 'apps', { when: `kind:${k}` }),
    n('patch', k, 'apps', { when: `kind:${k}` }),
    n('list', k, 'apps', { when: `list:${k}` }),
    n('watch', k, 'apps', { when: `kind:${k}` }),
  ]),
  n('list', 'horizontalpodautoscalers', 'autoscaling'),
  n('create', 'horizontalpodautoscalers', 'autoscaling', { when: 'recorded-hpa' }),
];

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
  // The GPU warning's node and cluster-wide pod lists are optional (a 403 degrades the warning), so not declared.
  'debug-pod': [
    n('get', 'pods'),
    n('patch', 'pods'),
    n('list', 'pods'),
    n('watch', 'pods'),
    n('get', 'replicasets', 'apps'),
    n('list', 'replicasets', 'apps'),
    n('watch', 'replicasets', 'apps'),
    n('get', 'deployments', 'apps'),
    n('list', 'services'),
    n('list', 'resourcequotas'),
    n('get', 'pods', '', { subresource: 'log', when: 'logs' }),
  ],
  // Optional (`when`): without it list still works, but cannot show pods relabelled by hand (it warns).
  'debug-pod list': [
    n('list', 'pods'),
    n('list', 'replicasets', 'apps', { when: 'relabelled-by-hand' }),
    n('list', 'pods', '', { cluster: true, when: 'all-namespaces' }),
    n('watch', 'pods', '', { when: 'watch' }),
    n('watch', 'pods', '', { cluster: true, when: 'watch-all-namespaces' }),
  ],
  // list replicasets only for a pod without the debug label (was it relabelled by hand?).
  'debug-pod done': [n('get', 'pods'), n('list', 'replicasets', 'apps', { when: 'relabelled-by-hand' }), n('delete', 'pods'), n('list', 'pods'), n('watch', 'pods')],
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
  'scale-to-zero': SCALE_TO_ZERO_NEEDS,
  restore: RESTORE_NEEDS,
  config: sourceNeeds('configmaps'),
  secret: sourceNeeds('secrets'),
  'secret view': [n('get', 'secrets')],
  storage: [
    n('list', 'persistentvolumeclaims'),
    n('list', 'pods'),
    n('list', 'events', '', { optional: true }),
    n('list', 'persistentvolumes', '', { cluster: true, optional: true }),
    n('list', 'storageclasses', 'storage.k8s.io', { cluster: true, optional: true }),
    // Only for a claim waiting for pre-created local volumes: which of them a node can use.
    n('list', 'nodes', '', { cluster: true, optional: true }),
    n('list', 'persistentvolumeclaims', '', { cluster: true, when: 'all-namespaces' }),
    n('list', 'pods', '', { cluster: true, when: 'all-namespaces' }),
    n('list', 'events', '', { cluster: true, when: 'all-namespaces', optional: true }),
    // -w/--watch and --watch-only: the claims are watched, the rest re-listed on each change.
    n('watch', 'persistentvolumeclaims', '', { when: 'watch' }),
    n('watch', 'persistentvolumeclaims', '', { cluster: true, when: 'watch-all-namespaces' }),
  ],
  // gpus needs only pods; what else it reads it shows when allowed and warns about when not (doctor: "less detail without ...").
  gpus: [
    n('list', 'pods'),
    n('list', 'nodes', '', { cluster: true, optional: true }),
    n('list', 'pods', '', { cluster: true, optional: true }),
    n('list', 'resourceslices', 'resource.k8s.io', { cluster: true, optional: true }),
    n('list', 'resourceclaims', 'resource.k8s.io', { cluster: true, optional: true }),
  ],
  'storage pv': [
    n('list', 'persistentvolumes', '', { cluster: true }),
    n('list', 'persistentvolumeclaims', '', { cluster: true }),
    n('watch', 'persistentvolumes', '', { cluster: true, when: 'watch' }),
  ],
  'storage reclaim': [
    n('get', 'persistentvolumes', '', { cluster: true }),
    n('patch', 'persistentvolumes', '', { cluster: true }),
    n('get', 'persistentvolumeclaims', '', { elsewhere: "the former claim's namespace" }),
    n('list', 'persistentvolumes', '', { cluster: true }),
    n('watch', 'persistentvolumes', '', { cluster: true }),
  ],
};

export function needLabel(need: Need): string {
  const res = need.group ? `${need.resource}.${need.group}` : need.resource;
  return `${need.verb} ${res}${need.subresource ? '/' + need.subresource : ''}`;
}

/**
 * What a `when` means, for doctor and the README. A `when` names a condition under which a
 * command needs more: a flag (--with-hpa), the kind of its target (rs/NAME), the state of the
 * object (new or existing). doctor counts `base` conditions in its yes/no (the command as
 * usually run needs them, or doctor cannot tell which applies) and names the others: "yes
 * (--with-hpa also needs ...)". A key ending in ':' matches every `when` with that prefix, and
 * `{}` in its label stands for the rest ('kind:' → 'kind:statefulsets'). A `when` without an
 * entry fails test/unit/permissions.test.ts.
 */
export interface Condition {
  label: string;
  base?: boolean;
  /** Conditions of one group are alternatives, exactly one applies (a new or an existing object): doctor says yes when one of them is fully granted. */
  group?: string;
  /** The arguments that turn it on, for tests that run the command with it. */
  flag?: string[];
}

export const CONDITIONS: Record<string, Condition> = {
  'all-namespaces': { label: '-A/--all-namespaces', flag: ['--all-namespaces'] },
  // No `flag`: a test that ran it would never end.
  watch: { label: '-w/--watch or --watch-only' },
  'watch-all-namespaces': { label: '-w/--watch or --watch-only with -A' },
  // No `flag`: --with-hpa needs more only when an HPA targets the workload.
  'with-hpa': { label: '--with-hpa on a workload an HPA targets' },
  'recorded-hpa': { label: 'an HPA recorded by scale-to-zero --with-hpa' },
  'keep-for-debug': { label: '--keep-for-debug' },
  logs: { label: '--logs' },
  'wire:': { label: '--wire {}' },
  'list:': { label: 'selecting {} by -l/--all' },
  'delete:': { label: '--delete of {}' },
  // The object's state: one of the two applies, doctor cannot tell which.
  new: { label: 'a new object', group: 'object state' },
  existing: { label: 'an existing object', group: 'object state' },
  // What the command as usually run needs: doctor counts it.
  wait: { label: 'the wait (without --no-wait)', base: true },
  deployment: { label: 'a Deployment target', base: true },
  'kind:deployments': { label: 'a Deployment target', base: true },
  replicaset: { label: 'an rs/NAME target' },
  'kind:': { label: 'a {} target' },
  'relabelled-by-hand': { label: 'a pod relabelled by hand' },
};

export function conditionOf(when: string): Condition | undefined {
  const exact = CONDITIONS[when];
  if (exact) return exact;
  const prefix = Object.keys(CONDITIONS).find((k) => k.endsWith(':') && when.startsWith(k));
  return prefix ? { ...CONDITIONS[prefix], label: CONDITIONS[prefix].label.replace('{}', when.slice(prefix.length)) } : undefined;
}

/** Whether doctor counts this need in its yes/no as always needed. */
export function isBaseNeed(need: Need): boolean {
  return !need.when || Boolean(conditionOf(need.when)?.base);
}

/** The group of alternatives this need belongs to, if any. */
export function groupOf(need: Need): string | undefined {
  return need.when ? conditionOf(need.when)?.group : undefined;
}

/** How a condition is named: its label, or the flag it is named after. */
export function conditionLabel(when: string): string {
  return conditionOf(when)?.label ?? `--${when}`;
}

/**
 * One command's permissions in words, for the README table (test/unit/permissions.test.ts
 * checks the README against this): always-needed verbs, then per condition.
 */
export function describeNeeds(needs: Need[]): string {
  const one = (x: Need) => `${needLabel(x)}${x.cluster || x.optional ? ` (${[x.cluster && 'cluster-wide', x.optional && 'optional'].filter(Boolean).join(', ')})` : ''}`;
  const parts = [
    needs
      .filter((x) => !x.when)
      .map(one)
      .join(', '),
  ];
  for (const when of [...new Set(needs.filter((x) => x.when).map((x) => x.when!))]) {
    parts.push(
      `${conditionLabel(when)}: ${needs
        .filter((x) => x.when === when)
        .map(one)
        .join(', ')}`,
    );
  }
  return parts.filter(Boolean).join('; ');
}
