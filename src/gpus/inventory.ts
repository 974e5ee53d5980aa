// The list calls behind `gpus`: a fixed number whatever the number of pods (nodes, pods,
// resource slices and claims in parallel; FailedScheduling events only when a waiting pod has
// no scheduler message; one namespaced retry when the cluster-wide pod list is forbidden).
import type { Kube } from '../kube/client.js';
import type { KEvent, Node, Pod } from '../kube/types.js';
import { R, pathOf, type Resource } from '../kube/resources.js';
import { ApiError } from '../errors.js';
import type { Inventory } from './model.js';
import type { ResourceClaim, ResourceSlice } from './dra.js';
import { needsEvents } from './pods.js';
import { allInOrder } from '../util/settle.js';

const dra = (kind: string, plural: string, namespaced: boolean): Resource => ({ kind, group: 'resource.k8s.io', version: 'v1', plural, namespaced, aliases: [] });
export const DRA = { slices: dra('ResourceSlice', 'resourceslices', false), claims: dra('ResourceClaim', 'resourceclaims', true) };

const NON_TERMINATED = 'status.phase!=Succeeded,status.phase!=Failed';

type Outcome<T> = { items: T[] } | 'forbidden' | 'absent';

async function tryList<T>(kube: Kube, path: string, fieldSelector?: string, denied?: (e: ApiError) => void): Promise<Outcome<T>> {
  try {
    return { items: (await kube.list<T>(path, { fieldSelector })).items };
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) {
      denied?.(e);
      return 'forbidden';
    }
    // The resource.k8s.io/v1 API is not served (DRA off, or a server before 1.34).
    if (e instanceof ApiError && e.status === 404) return 'absent';
    throw e;
  }
}

export interface Collected {
  inventory: Inventory;
  /** What the user may not see, for one stderr line each. */
  hidden: { nodes: boolean; podsOutsideNamespace: boolean; slices: boolean; claimsOutsideNamespace: boolean; claims: boolean };
  dra: 'served' | 'absent' | 'hidden';
}

/**
 * `namespace` undefined means all namespaces. Node totals need every pod on the node, so pods
 * and claims are listed cluster-wide even for one namespace, falling back to that namespace
 * when the user may not list them cluster-wide.
 */
export async function collect(kube: Kube, opts: { namespace?: string; node?: string; extra: string[]; selector?: string }): Promise<Collected> {
  const podSelector = opts.node ? `${NON_TERMINATED},spec.nodeName=${opts.node}` : NON_TERMINATED;
  let podsDenied: ApiError | undefined;
  const [nodes, podsAll, slices, claimsAll] = await allInOrder([
    tryList<Node>(kube, pathOf(R.nodes), opts.node ? `metadata.name=${opts.node}` : undefined),
    tryList<Pod>(kube, pathOf(R.pods), podSelector, (e) => (podsDenied = e)),
    tryList<ResourceSlice>(kube, pathOf(DRA.slices), opts.node ? `spec.nodeName=${opts.node}` : undefined),
    tryList<ResourceClaim>(kube, pathOf(DRA.claims)),
  ]);
  if (nodes === 'absent') throw new ApiError(404, 'NotFound', 'the server does not serve nodes (/api/v1/nodes answered 404)');
  if (opts.node && nodes !== 'forbidden' && nodes.items.length === 0) throw new ApiError(404, 'NotFound', `nodes "${opts.node}" not found`);

  let pods: Pod[];
  let podsCluster = true;
  if (podsAll === 'forbidden' || podsAll === 'absent') {
    if (!opts.namespace) throw podsDenied ?? new ApiError(404, 'NotFound', 'the server does not serve pods');
    pods = (await kube.list<Pod>(pathOf(R.pods, { namespace: opts.namespace }), { fieldSelector: podSelector })).items;
    podsCluster = false;
  } else pods = podsAll.items;

  let claims: ResourceClaim[] = [];
  let claimsCluster = true;
  let claimsHidden = claimsAll === 'forbidden';
  if (typeof claimsAll === 'object') claims = claimsAll.items;
  else if (claimsAll === 'forbidden' && opts.namespace) {
    const mine = await tryList<ResourceClaim>(kube, pathOf(DRA.claims, { namespace: opts.namespace }));
    claims = typeof mine === 'object' ? mine.items : [];
    claimsHidden = mine === 'forbidden';
    claimsCluster = false;
  } else if (claimsAll === 'forbidden') claimsCluster = false;

  // -l/--selector: the server picks the pods shown; one more list.
  const selected = opts.selector === undefined ? undefined : await selectedPods(kube, opts.namespace, podSelector, opts.selector);
  const extra = opts.extra;
  let events: KEvent[] = [];
  const shown = selected ?? pods;
  if (needsEvents(opts.namespace ? shown.filter((p) => p.metadata?.namespace === opts.namespace) : shown, extra)) {
    const ev = await tryList<KEvent>(kube, pathOf(R.events, { namespace: opts.namespace }), 'involvedObject.kind=Pod,reason=FailedScheduling');
    events = typeof ev === 'object' ? ev.items : [];
  }
  return {
    inventory: {
      nodes: typeof nodes === 'object' ? nodes.items : undefined,
      pods,
      podsCluster,
      selected,
      events,
      slices: typeof slices === 'object' ? slices.items : undefined,
      claims,
    },
    hidden: {
      nodes: nodes === 'forbidden',
      podsOutsideNamespace: !podsCluster,
      slices: slices === 'forbidden',
      claimsOutsideNamespace: !claimsCluster && claimsAll !== 'absent',
      claims: claimsHidden,
    },
    dra: slices === 'absent' || claimsAll === 'absent' ? 'absent' : slices === 'forbidden' ? 'hidden' : 'served',
  };
}

/** The server's answer to a selector it cannot parse, in the words kubectl get pods -l wraps it in (cli-runtime's resource builder). */
async function selectedPods(kube: Kube, namespace: string | undefined, fieldSelector: string, labelSelector: string): Promise<Pod[]> {
  try {
    return (await kube.list<Pod>(pathOf(R.pods, { namespace }), { fieldSelector, labelSelector })).items;
  } catch (e) {
    if (e instanceof ApiError && e.status === 400) {
      throw new ApiError(400, e.reason, `Unable to find "/v1, Resource=pods" that match label selector ${JSON.stringify(labelSelector)}, field selector "": ${e.message}`);
    }
    throw e;
  }
}
