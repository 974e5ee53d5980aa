// Per pod: why it wastes the GPUs it holds, why it waits, and what workload it belongs to.
import type { KEvent, Pod } from '../kube/types.js';
import { podStatus, restarts } from '../workloads/pods.js';
import { workloadOf } from '../storage/model.js';
import { ANN, DEBUG_LABEL } from '../workloads/detach.js';
import { humanDuration, parseStoredDuration } from '../util/duration.js';
import { gpuRequests } from './resources.js';
import { podClaimNames } from './dra.js';
import type { Waste } from './model.js';

export function podReadySince(p: Pod): { ready: boolean; since: string | undefined } {
  const c = (p.status?.conditions ?? []).find((x) => x.type === 'Ready');
  return { ready: c?.status === 'True' && !p.metadata?.deletionTimestamp, since: c?.lastTransitionTime ?? p.status?.startTime ?? p.metadata?.creationTimestamp };
}

/**
 * Why a holder wastes its GPUs, or null. Detached pods first: debug-pod's ledger says what
 * they were. The message has no relative times, so -o json stays the same from run to run;
 * wasteText adds them for the table.
 */
export function wasteOf(p: Pod, now: Date, notReadyAfterMs: number): Waste | null {
  const ann = p.metadata?.annotations ?? {};
  if (p.metadata?.labels?.[DEBUG_LABEL] === 'true') {
    const at = ann[ANN.detachedAt] ?? null;
    const ttl = ann[ANN.ttl] ?? null;
    const ttlMs = parseStoredDuration(ttl);
    if (at && ttlMs !== undefined && now.getTime() >= Date.parse(at) + ttlMs) {
      return { reason: 'ttl-expired', since: at, ttl, message: `detached by debug-pod; its --ttl ${ttl} ran out` };
    }
    return { reason: 'detached', since: at, ttl, message: `detached by debug-pod (${ttl ? `--ttl ${ttl}` : 'no --ttl'})` };
  }
  const crash = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])].find((cs) => cs.state?.waiting?.reason === 'CrashLoopBackOff');
  if (crash) return { reason: 'crash-loop', since: null, ttl: null, message: `CrashLoopBackOff (${restarts(p)} restarts)` };
  const r = podReadySince(p);
  if (!r.ready && !p.metadata?.deletionTimestamp && r.since && now.getTime() - Date.parse(r.since) >= notReadyAfterMs) {
    return { reason: 'not-ready', since: r.since, ttl: null, message: `not Ready (${podStatus(p)})` };
  }
  return null;
}

/** The WASTED column: the message with how long. */
export function wasteText(w: Waste, now: Date): string {
  const ago = (t: number) => humanDuration(now.getTime() - t);
  const since = w.since ? Date.parse(w.since) : undefined;
  if (since === undefined) return w.message;
  const ttlMs = parseStoredDuration(w.ttl);
  switch (w.reason) {
    case 'ttl-expired':
      return `detached by debug-pod ${ago(since)} ago; its --ttl ${w.ttl} ran out ${ago(since + ttlMs!)} ago`;
    case 'detached':
      return `detached by debug-pod ${ago(since)} ago; ${ttlMs !== undefined ? `--ttl ${w.ttl}, ${humanDuration(since + ttlMs - now.getTime())} left` : 'no --ttl'}`;
    case 'not-ready':
      return `${w.message} for ${ago(since)}`;
    case 'crash-loop':
    case 'unused-claim':
      return w.message;
  }
}

function eventTime(e: KEvent): string {
  return e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '';
}

/** The scheduler's own words: the PodScheduled condition, else the latest FailedScheduling event. */
export function waitingReason(p: Pod, events: KEvent[]): string {
  const cond = (p.status?.conditions ?? []).find((c) => c.type === 'PodScheduled' && c.status !== 'True');
  if (cond?.reason === 'SchedulingGated') return `scheduling gated by ${(p.spec?.schedulingGates ?? []).map((g) => g.name).join(', ') || 'a gate'}`;
  if (cond?.message) return cond.message.trim();
  const mine = events
    .filter((e) => e.involvedObject?.uid === p.metadata?.uid || (e.involvedObject?.name === p.metadata?.name && e.involvedObject?.namespace === p.metadata?.namespace))
    .sort((a, b) => (Date.parse(eventTime(a)) || 0) - (Date.parse(eventTime(b)) || 0));
  const last = mine.at(-1);
  if (last?.message) return last.message.trim();
  const sched = p.spec?.schedulerName;
  if (sched && sched !== 'default-scheduler') return `no message from scheduler "${sched}" (spec.schedulerName); is it running?`;
  return 'not scheduled yet (no scheduler message)';
}

export function needsEvents(pods: Pod[], extra: string[]): boolean {
  return pods.some((p) => isWaiting(p) && Object.keys(gpuRequests(p, extra)).length + podClaimNames(p).length > 0 && !waitingMessage(p));
}

export function isWaiting(p: Pod): boolean {
  return p.status?.phase === 'Pending' && !p.spec?.nodeName && !p.metadata?.deletionTimestamp;
}

function waitingMessage(p: Pod): string | undefined {
  const cond = (p.status?.conditions ?? []).find((c) => c.type === 'PodScheduled' && c.status !== 'True');
  return cond?.reason === 'SchedulingGated' ? 'gated' : cond?.message;
}

/** deploy/x for a detached debug pod too: its ledger remembers what it was taken from. */
export function workloadOfPod(p: Pod): string | null {
  const ann = p.metadata?.annotations ?? {};
  if (p.metadata?.labels?.[DEBUG_LABEL] === 'true') {
    const from = ann[ANN.owner] ?? ann[ANN.detachedFrom];
    if (from) {
      const [kind = '', name = ''] = from.split('/');
      return `${{ Deployment: 'deploy', ReplicaSet: 'rs' }[kind] ?? kind.toLowerCase()}/${name}`;
    }
  }
  return workloadOf(p);
}
