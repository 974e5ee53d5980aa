import { UsageError } from '../errors.js';

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Why a label key is invalid, or undefined when it is valid. */
export function labelKeyProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return 'a label key has at most one "/"';
  const name = parts.at(-1)!;
  if (parts.length === 2) {
    const prefix = parts[0];
    if (!prefix || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) return `the prefix "${prefix}" must be a DNS subdomain`;
  }
  if (!name || name.length > 63 || !NAME.test(name)) {
    return 'the name part must be 63 characters or less, start and end with an alphanumeric character, and contain only [-A-Za-z0-9_.]';
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63 || !VALUE.test(value)) {
    return 'a label value must be 63 characters or less, empty or start and end with an alphanumeric character, and contain only [-A-Za-z0-9_.]';
  }
  return undefined;
}

/** Parses `KEY=VALUE` given to `flag`, checking Kubernetes' label syntax. */
export function parseLabelAssignment(text: string, flag: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`invalid value "${text}" for ${flag}: want KEY=VALUE`);
  const key = text.slice(0, eq);
  const value = text.slice(eq + 1);
  const kp = labelKeyProblem(key);
  if (kp) throw new UsageError(`invalid label key "${key}" in ${flag}: ${kp}`);
  const vp = labelValueProblem(value);
  if (vp) throw new UsageError(`invalid label value "${value}" in ${flag}: ${vp}`);
  return [key, value];
}

export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  const l = labels ?? {};
  const ml = selector.matchLabels ?? {};
  const me = selector.matchExpressions ?? [];
  // An empty selector matches everything, as in Kubernetes.
  for (const [k, v] of Object.entries(ml)) if (l[k] !== v) return false;
  for (const r of me) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const vals = r.values ?? [];
    switch (r.operator) {
      case 'In':
        if (!has || !vals.includes(l[r.key])) return false;
        break;
      case 'NotIn':
        if (has && vals.includes(l[r.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** A Service's selector is a plain map; an empty or missing one selects nothing. */
export function mapSelectorMatches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return selectorMatches({ matchLabels: selector }, labels);
}

/** The selector as a `-l` string the API server accepts. */
export function selectorToString(selector: LabelSelector | undefined): string {
  if (!selector) return '';
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const r of selector.matchExpressions ?? []) {
    const vals = (r.values ?? []).join(',');
    if (r.operator === 'In') parts.push(`${r.key} in (${vals})`);
    else if (r.operator === 'NotIn') parts.push(`${r.key} notin (${vals})`);
    else if (r.operator === 'Exists') parts.push(r.key);
    else if (r.operator === 'DoesNotExist') parts.push(`!${r.key}`);
  }
  return parts.join(',');
}
