import { UsageError } from '../errors.js';
import { validateName } from '../util/validate.js';

export interface Resource {
  kind: string;
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
  aliases: string[];
}

const r = (kind: string, group: string, version: string, plural: string, namespaced: boolean, aliases: string[]): Resource => ({
  kind,
  group,
  version,
  plural,
  namespaced,
  aliases: [kind.toLowerCase(), plural, ...aliases],
});

export const R = {
  pods: r('Pod', '', 'v1', 'pods', true, ['po']),
  services: r('Service', '', 'v1', 'services', true, ['svc']),
  configmaps: r('ConfigMap', '', 'v1', 'configmaps', true, ['cm']),
  secrets: r('Secret', '', 'v1', 'secrets', true, []),
  events: r('Event', '', 'v1', 'events', true, ['ev']),
  nodes: r('Node', '', 'v1', 'nodes', false, ['no']),
  namespaces: r('Namespace', '', 'v1', 'namespaces', false, ['ns']),
  pvcs: r('PersistentVolumeClaim', '', 'v1', 'persistentvolumeclaims', true, ['pvc']),
  pvs: r('PersistentVolume', '', 'v1', 'persistentvolumes', false, ['pv']),
  deployments: r('Deployment', 'apps', 'v1', 'deployments', true, ['deploy']),
  replicasets: r('ReplicaSet', 'apps', 'v1', 'replicasets', true, ['rs']),
  statefulsets: r('StatefulSet', 'apps', 'v1', 'statefulsets', true, ['sts']),
  daemonsets: r('DaemonSet', 'apps', 'v1', 'daemonsets', true, ['ds']),
  jobs: r('Job', 'batch', 'v1', 'jobs', true, []),
  cronjobs: r('CronJob', 'batch', 'v1', 'cronjobs', true, ['cj']),
  hpas: r('HorizontalPodAutoscaler', 'autoscaling', 'v2', 'horizontalpodautoscalers', true, ['hpa']),
  storageclasses: r('StorageClass', 'storage.k8s.io', 'v1', 'storageclasses', false, ['sc']),
  selfsubjectaccessreviews: r('SelfSubjectAccessReview', 'authorization.k8s.io', 'v1', 'selfsubjectaccessreviews', false, []),
} as const;

export type ResourceKey = keyof typeof R;

export function pathOf(res: Resource, opts: { namespace?: string; name?: string; subresource?: string } = {}): string {
  const base = res.group ? `/apis/${res.group}/${res.version}` : `/api/${res.version}`;
  let p = base;
  if (res.namespaced && opts.namespace) p += `/namespaces/${encodeURIComponent(opts.namespace)}`;
  p += `/${res.plural}`;
  if (opts.name) p += `/${encodeURIComponent(opts.name)}`;
  if (opts.subresource) p += `/${opts.subresource}`;
  return p;
}

/** Parses `KIND/NAME` (kubectl's short and long kind names) restricted to `allowed`. */
export function parseTarget(text: string, allowed: Resource[], what = 'TARGET'): { res: Resource; name: string } {
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1) {
    throw new UsageError(`invalid ${what} "${text}": want KIND/NAME, where KIND is one of ${allowed.map((a) => a.aliases.at(-1)).join(', ')}`);
  }
  const kindText = text.slice(0, slash).toLowerCase();
  const name = text.slice(slash + 1);
  const res = allowed.find((a) => kindMatches(a, kindText));
  if (!res) {
    throw new UsageError(`unsupported kind "${text.slice(0, slash)}" in ${what} "${text}": want one of ${allowed.map((a) => a.aliases.at(-1)).join(', ')}`);
  }
  return { res, name: validateName(name, `name in ${what} "${text}"`) };
}

/**
 * kubectl's spellings of a kind: `deploy`, `deployment`, `deployments`, and the qualified
 * `deployment.apps`, `deployments.apps`, `deployments.v1.apps` (what `kubectl get -o name` and
 * this plugin print).
 */
function kindMatches(res: Resource, kindText: string): boolean {
  if (res.aliases.includes(kindText)) return true;
  const dot = kindText.indexOf('.');
  if (dot < 0 || !res.group) return false;
  const [kind, rest] = [kindText.slice(0, dot), kindText.slice(dot + 1)];
  if (kind !== res.plural && kind !== res.kind.toLowerCase()) return false;
  return rest === res.group || rest === `${res.version}.${res.group}`;
}

/**
 * NAME or KIND/NAME for one kind (kubectl accepts both); the KIND/ form also lets a user name
 * an object that is called like a subcommand (`debug-pod pod/list`).
 */
export function nameOf(text: string, res: Resource, what: string): string {
  const slash = text.indexOf('/');
  if (slash < 0) return validateName(text, what);
  return parseTarget(text, [res], what).name;
}
