// The PV binder's matching rules, as the volume controller applies them
// (k8s.io/component-helpers storage/volume FindMatchingVolume and
// k8s.io/kubernetes pkg/controller/volume/persistentvolume checkVolumeSatisfyClaim, v1.35),
// so that a Pending claim can name the volume that nearly fits and say why it does not, and
// an Available volume can say which claims it can serve.
import type { PersistentVolume, PersistentVolumeClaim } from '../kube/types.js';
import { parseQuantity } from '../util/quantity.js';

export const BETA_CLASS = 'volume.beta.kubernetes.io/storage-class';

type Selector = NonNullable<NonNullable<PersistentVolumeClaim['spec']>['selector']>;

/** The claim's class as the binder reads it: the beta annotation first, then the field; '' when neither. */
export function claimClass(pvc: PersistentVolumeClaim): string {
  const ann = pvc.metadata?.annotations?.[BETA_CLASS];
  if (ann !== undefined) return ann;
  return pvc.spec?.storageClassName ?? '';
}

/** Whether the claim names a class at all (nil is not ''): a nil class gets the default class assigned later. */
export function claimHasClass(pvc: PersistentVolumeClaim): boolean {
  return pvc.metadata?.annotations?.[BETA_CLASS] !== undefined || (pvc.spec?.storageClassName !== undefined && pvc.spec?.storageClassName !== null);
}

export function volumeClass(pv: PersistentVolume): string {
  return pv.metadata?.annotations?.[BETA_CLASS] ?? pv.spec?.storageClassName ?? '';
}

export function requestedSize(pvc: PersistentVolumeClaim): string {
  return pvc.spec?.resources?.requests?.storage ?? '0';
}

export function volumeSize(pv: PersistentVolume): string {
  return pv.spec?.capacity?.storage ?? '0';
}

const MODE_ORDER = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'] as const;
const SHORT: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };

/** kubectl's GetAccessModesAsString: de-duplicated, always in the order RWO,ROX,RWX,RWOP. */
export function shortModes(modes: readonly string[]): string {
  return MODE_ORDER.filter((m) => modes.includes(m))
    .map((m) => SHORT[m])
    .join(',');
}

/** The claim this volume is bound or reserved to, matched as IsVolumeBoundToClaim does (an empty uid matches any). */
export function isBoundToClaim(pv: PersistentVolume, pvc: PersistentVolumeClaim): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== pvc.metadata?.name || ref.namespace !== pvc.metadata?.namespace) return false;
  return !ref.uid || ref.uid === pvc.metadata?.uid;
}

export function selectorMatches(sel: Selector | undefined, labels: Record<string, string> = {}): boolean {
  if (!sel) return true;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values = e.values ?? [];
    if (e.operator === 'In' && !(has && values.includes(labels[e.key]))) return false;
    if (e.operator === 'NotIn' && has && values.includes(labels[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

export function selectorText(sel: Selector | undefined): string {
  if (!sel) return '';
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else parts.push(`${e.key} ${e.operator === 'In' ? 'in' : 'notin'} (${(e.values ?? []).join(',')})`);
  }
  return parts.join(',');
}

/**
 * Why this volume cannot be bound to this claim by the volume controller, one short phrase per
 * rule it breaks (empty: it fits). `byName`: the claim names this volume in spec.volumeName
 * (then neither the phase nor the selector counts).
 */
export function mismatches(pv: PersistentVolume, pvc: PersistentVolumeClaim, opts: { byName?: boolean } = {}): string[] {
  const out: string[] = [];
  const reserved = isBoundToClaim(pv, pvc);
  if (pv.metadata?.deletionTimestamp) out.push('is being deleted');
  const ref = pv.spec?.claimRef;
  if (ref && !reserved) {
    const phase = pv.status?.phase ?? 'Unknown';
    const reclaim = pv.spec?.persistentVolumeReclaimPolicy === 'Retain' ? ` (\`kubectl mlops storage reclaim ${pv.metadata?.name}\` frees it)` : '';
    out.push(phase === 'Released' ? `is Released and still holds the claimRef of ${ref.namespace}/${ref.name}${reclaim}` : `is ${phase}, claimed by ${ref.namespace}/${ref.name}`);
  } else if (!reserved && !opts.byName && pv.status?.phase !== 'Available') {
    out.push(`is ${pv.status?.phase ?? 'in no phase yet'}`);
  }
  const need = requestedSize(pvc);
  if (parseQuantity(volumeSize(pv)) < parseQuantity(need)) out.push(`is too small (${volumeSize(pv)} < ${need} asked)`);
  if ((pvc.spec?.volumeMode ?? 'Filesystem') !== (pv.spec?.volumeMode ?? 'Filesystem'))
    out.push(`has volumeMode ${pv.spec?.volumeMode ?? 'Filesystem'} (asked ${pvc.spec?.volumeMode ?? 'Filesystem'})`);
  if ((pvc.spec?.volumeAttributesClassName ?? '') !== (pv.spec?.volumeAttributesClassName ?? '')) {
    out.push(`has volumeAttributesClass "${pv.spec?.volumeAttributesClassName ?? ''}" (asked "${pvc.spec?.volumeAttributesClassName ?? ''}")`);
  }
  // A volume reserved for this claim (claimRef set by hand) skips the class, selector and mode rules, as in the binder.
  if (!reserved) {
    if (volumeClass(pv) !== claimClass(pvc)) out.push(`has class "${volumeClass(pv)}" (asked "${claimClass(pvc)}")`);
    if (!opts.byName && !selectorMatches(pvc.spec?.selector, pv.metadata?.labels)) out.push(`does not match the selector ${selectorText(pvc.spec?.selector)}`);
    const modes = pvc.spec?.accessModes ?? [];
    const have = pv.spec?.accessModes ?? [];
    if (!modes.every((m) => have.includes(m))) out.push(`has access modes ${shortModes(have) || '<none>'} (asked ${shortModes(modes)})`);
  }
  return out;
}

/** The volume the controller would bind: one reserved for the claim, else the smallest that fits. */
export function bestMatch(pvc: PersistentVolumeClaim, volumes: PersistentVolume[]): PersistentVolume | undefined {
  const fits = volumes.filter((v) => mismatches(v, pvc).length === 0);
  const reserved = fits.find((v) => isBoundToClaim(v, pvc));
  if (reserved) return reserved;
  return fits.sort((a, b) => parseQuantity(volumeSize(a)) - parseQuantity(volumeSize(b)))[0];
}

/**
 * Volumes that nearly fit, closest first, with why each does not: those of the claim's class
 * (or reserved for it), else those of another class that break no other rule. Volumes bound to
 * another live claim are left out unless they would otherwise fit (then they explain the wait).
 */
export function nearMisses(pvc: PersistentVolumeClaim, volumes: PersistentVolume[]): { name: string; why: string[] }[] {
  const cls = claimClass(pvc);
  const out: { name: string; why: string[]; rank: number; sameClass: boolean }[] = [];
  for (const v of volumes) {
    const why = mismatches(v, pvc);
    if (why.length === 0) continue;
    const sameClass = volumeClass(v) === cls || isBoundToClaim(v, pvc);
    const taken = v.spec?.claimRef && !isBoundToClaim(v, pvc) && v.status?.phase === 'Bound';
    if (!sameClass && why.length > 1) continue;
    if (taken && why.length > 1) continue;
    out.push({ name: v.metadata!.name!, why, rank: why.length + (sameClass ? 0 : 1), sameClass });
  }
  // Volumes of another class matter only when none of the claim's own class comes close (a mistyped class).
  const own = out.filter((o) => o.sameClass);
  return (own.length ? own : out).sort((a, b) => a.rank - b.rank || (a.name < b.name ? -1 : 1)).map(({ name, why }) => ({ name, why }));
}

/** Which claims an Available volume can serve, in the binder's terms. */
export function servesText(pv: PersistentVolume): string {
  const ref = pv.spec?.claimRef;
  if (ref) return `reserved for ${ref.namespace}/${ref.name}`;
  const cls = volumeClass(pv);
  const parts = [cls ? `class "${cls}"` : 'no class (storageClassName "")', `asking <= ${volumeSize(pv)}`, `modes within ${shortModes(pv.spec?.accessModes ?? []) || '<none>'}`];
  if ((pv.spec?.volumeMode ?? 'Filesystem') !== 'Filesystem') parts.push(`volumeMode ${pv.spec?.volumeMode}`);
  if (pv.spec?.volumeAttributesClassName) parts.push(`volumeAttributesClass "${pv.spec.volumeAttributesClassName}"`);
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? [];
  const affinity = terms
    .map((t) => (t.matchExpressions ?? []).map((e) => `${e.key} ${e.operator === 'In' ? 'in' : e.operator} (${(e.values ?? []).join(',')})`).join(','))
    .filter(Boolean);
  let text = `can be claimed by a claim of ${parts.join(', ')}`;
  if (affinity.length) text += `; usable only on nodes with ${affinity.join(' or ')}`;
  return text;
}

type NodeLike = { metadata?: { name?: string; labels?: Record<string, string> } };

/** The scheduler's check of a volume's required node affinity (CheckNodeAffinity): any term matches. */
export function nodeAffinityMatches(pv: PersistentVolume, node: NodeLike): boolean {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (!terms) return true;
  const labels = node.metadata?.labels ?? {};
  const one = (e: { key: string; operator: string; values?: string[] }, value: string | undefined) => {
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        return value !== undefined && values.includes(value);
      case 'NotIn':
        return value === undefined || !values.includes(value);
      case 'Exists':
        return value !== undefined;
      case 'DoesNotExist':
        return value === undefined;
      case 'Gt':
        return value !== undefined && Number(value) > Number(values[0]);
      case 'Lt':
        return value !== undefined && Number(value) < Number(values[0]);
      default:
        return false;
    }
  };
  return terms.some((t) => {
    const exprs = t.matchExpressions ?? [];
    const fields = t.matchFields ?? [];
    if (!exprs.length && !fields.length) return false;
    return exprs.every((e) => one(e, labels[e.key])) && fields.every((f) => one(f, f.key === 'metadata.name' ? node.metadata?.name : undefined));
  });
}
