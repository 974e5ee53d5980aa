import type { Command } from 'commander';
import type { Deps } from '../deps.js';
import { addOutputOption, connectFrom, printerOf } from './common.js';
import { renderTable } from '../output/printer.js';
import { CliError, ExitCode, formatError } from '../errors.js';
import { COMMAND_NEEDS, conditionLabel, groupOf, isBaseNeed, needLabel, type Need } from './permissions.js';
import type { Kube } from '../kube/client.js';
import { accessReview } from './flow.js';

export interface DoctorReport {
  kubeconfig: string[];
  /** No kubeconfig: the pod's service account (client-go's in-cluster config). */
  inCluster: boolean;
  context: string;
  namespace: string;
  namespaceSource: string;
  server: string;
  reachable: boolean;
  serverVersion?: string;
  error?: string;
  clockSkewSeconds?: number;
  user?: { username: string; groups: string[] };
  commands: CommandAccess[];
}

/** What doctor says about one command: `allowed` when every verb it always needs is granted. */
export interface CommandAccess {
  command: string;
  allowed: boolean;
  /** Verbs it always needs and may not use: the command refuses, naming the first of them. */
  missing: string[];
  /** Verbs a read-only command can do without: it runs and says what it could not show. */
  withoutOptional: string[];
  /** Verbs needed only under a condition doctor does not count (a flag, a kind of target), missing ones by condition: `--with-hpa` also needs ... */
  flags: { flag: string; missing: string[] }[];
  /** Verbs granted here that the command asks in another namespace, known only when it runs. */
  elsewhere: string[];
}

export function register(program: Command, deps: Deps): void {
  const cmd = program.command('doctor').description('check the kubeconfig, the connection, the clock and which plugin commands you may run here');
  addOutputOption(cmd, ['table', 'json', 'yaml']);
  cmd.action(async () => {
    const printer = printerOf(cmd);
    const format = printer.format;
    const { kube, config, namespace } = await connectFrom(cmd, deps);
    const report: DoctorReport = {
      kubeconfig: config.files,
      inCluster: config.inCluster,
      context: config.context,
      namespace,
      namespaceSource: config.namespaceSource,
      server: config.server,
      reachable: false,
      commands: [],
    };
    try {
      const sent = deps.now().getTime();
      const { body, date } = await kube.getWithDate<{ gitVersion: string }>('/version');
      const received = deps.now().getTime();
      report.reachable = true;
      report.serverVersion = body.gitVersion;
      if (date) {
        // The Date header has 1 s resolution; compare it with the midpoint of the request.
        const skew = (Date.parse(date) - (sent + received) / 2) / 1000;
        report.clockSkewSeconds = Math.abs(skew) < 1 ? 0 : Math.round(skew);
      }
      report.user = await whoAmI(kube);
      report.commands = await checkCommands(kube, namespace);
    } catch (e) {
      report.error = formatError(e).text;
    }
    if (format === 'table') deps.out.write(renderDoctor(report));
    else await printer.printDocument(deps, report);
    if (!report.reachable) throw new CliError(`the cluster is not usable: ${report.error?.replace(/^error: /, '')}`, ExitCode.UNREACHABLE);
  });
}

async function whoAmI(kube: Kube): Promise<DoctorReport['user']> {
  try {
    const r = await kube.create<{ status: { userInfo: { username?: string; groups?: string[] } } }>('/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    });
    return { username: r.status.userInfo.username ?? '', groups: r.status.userInfo.groups ?? [] };
  } catch {
    return undefined;
  }
}

/** A need's identity: the same verb on a resource namespaced and cluster-wide are two questions. */
export function needKey(need: Need): string {
  return needLabel(need) + (need.cluster ? ' (cluster-wide)' : '');
}

/**
 * One SelfSubjectAccessReview per distinct need (a fixed number of requests, sent in parallel),
 * read against the same declarations the pre-flight uses, so the answer is what the command does.
 */
export async function checkCommands(kube: Kube, namespace: string): Promise<CommandAccess[]> {
  const distinct = new Map<string, Need>();
  for (const needs of Object.values(COMMAND_NEEDS)) for (const need of needs) distinct.set(needKey(need), need);
  const keys = [...distinct.keys()];
  const answers = await accessReview(kube, [...distinct.values()], namespace);
  const allowed = new Map(keys.map((k, i) => [k, answers[i]]));
  return Object.entries(COMMAND_NEEDS).map(([command, needs]) => accessOf(command, needs, (n) => allowed.get(needKey(n)) ?? false));
}

export function accessOf(command: string, needs: Need[], granted: (n: Need) => boolean): CommandAccess {
  const denied = needs.filter((n) => !granted(n));
  const base = denied.filter((n) => isBaseNeed(n));
  const missing = base.filter((n) => !n.optional).map(needKey);
  const withoutOptional = base.filter((n) => n.optional).map(needKey);
  // Alternatives (a new or an existing object): the command works if one of them is fully granted.
  const unusable = new Set<string>();
  for (const group of new Set(needs.map(groupOf).filter((g): g is string => Boolean(g)))) {
    const whens = [...new Set(needs.filter((n) => groupOf(n) === group).map((n) => n.when!))];
    if (whens.every((w) => denied.some((n) => n.when === w))) {
      unusable.add(group);
      missing.push(...denied.filter((n) => groupOf(n) === group && !n.optional).map(needKey));
    }
  }
  const extra = denied.filter((n) => !isBaseNeed(n) && !n.optional && !unusable.has(groupOf(n) ?? ''));
  const flags = [...new Set(extra.map((n) => n.when!))].map((when) => ({
    flag: conditionLabel(when),
    missing: extra.filter((n) => n.when === when).map(needKey),
  }));
  const elsewhere = needs.filter((n) => n.elsewhere && granted(n)).map((n) => `${needKey(n)} is checked here; the command asks it in ${n.elsewhere}`);
  return { command, allowed: missing.length === 0, missing, withoutOptional, flags, elsewhere };
}

/** The ALLOWED cell: "yes" or "no". */
export function accessText(c: CommandAccess): string {
  return c.allowed ? 'yes' : 'no';
}

/** What a "yes" comes with, e.g. "(--with-hpa also needs delete ...)"; shown where a "no" shows what is missing. */
export function accessNotes(c: CommandAccess): string {
  if (!c.allowed) return '';
  const notes = [
    ...c.flags.map((f) => `${f.flag} also needs ${f.missing.join(', ')}`),
    ...(c.withoutOptional.length ? [`less detail without ${c.withoutOptional.join(', ')}`] : []),
    ...c.elsewhere,
  ];
  return notes.length ? `(${notes.join('; ')})` : '';
}

export function renderDoctor(r: DoctorReport): string {
  const lines = [
    r.inCluster ? "Kubeconfig:  none: in-cluster (the pod's service account)" : `Kubeconfig:  ${r.kubeconfig.join(', ') || 'none: --server and the other connection flags'}`,
    `Context:     ${r.inCluster ? 'in-cluster' : r.context}`,
    `Namespace:   ${r.namespace} (${r.namespaceSource === 'flag' ? 'from --namespace' : r.namespaceSource === 'context' ? 'from the context' : r.namespaceSource === 'in-cluster' ? 'from the service account' : 'default'})`,
    `Server:      ${r.server}`,
  ];
  if (!r.reachable) {
    lines.push(`Reachable:   no: ${r.error?.replace(/^error: /, '')}`);
    return lines.join('\n') + '\n';
  }
  lines.push(`Reachable:   yes, ${r.serverVersion}`);
  if (r.clockSkewSeconds !== undefined) {
    lines.push(
      `Clock skew:  ${r.clockSkewSeconds === 0 ? 'none (< 1s)' : `${r.clockSkewSeconds}s${Math.abs(r.clockSkewSeconds) > 30 ? ' (AGE columns and TTLs will be off)' : ''}`}`,
    );
  }
  if (r.user) lines.push(`User:        ${r.user.username}${r.user.groups.length ? ` (groups: ${r.user.groups.join(', ')})` : ''}`);
  if (r.error) lines.push(`Problem:     ${r.error}`);
  let text = lines.join('\n') + '\n';
  if (r.commands.length) {
    text +=
      '\n' +
      renderTable(
        [
          { header: 'COMMAND', value: (c: CommandAccess) => c.command },
          { header: 'ALLOWED', value: (c) => accessText(c) },
          { header: 'MISSING', value: (c) => (c.allowed ? accessNotes(c) : c.missing.join(', ')) },
        ],
        r.commands,
      );
  }
  return text;
}
