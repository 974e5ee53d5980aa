// Parsing of the rollout commands' targets and numbers, with no I/O, so that bad input exits 2
// before anything connects.
import { UsageError } from '../errors.js';
import { R, nameOf } from '../kube/resources.js';

/** NAME, deploy/NAME, deployment.apps/NAME (what `kubectl get -o name` and this plugin print). */
export function deploymentName(text: string): string {
  return nameOf(text, R.deployments, 'DEPLOYMENT');
}

/** A revision number as kubectl's --to-revision takes it (an int64; 0 means "the previous one" where allowed). */
export function parseRevision(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)))
    throw new UsageError(`invalid value "${text.length > 80 ? text.slice(0, 80) + '…' : text}" for ${flag}: want a revision number`);
  return Number(text);
}

/** --keep-for-debug N: a positive number of pods. */
export function parseKeep(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) throw new UsageError(`invalid value "${v}" for --keep-for-debug: want a positive number of pods`);
  return Number(v);
}
