import type { Command } from 'commander';
import type { Deps } from '../deps.js';
import { addOutputOption, connectFrom, printerOf } from './common.js';
import { renderTable } from '../output/printer.js';
import { CliError, ExitCode, formatError } from '../errors.js';
import { COMMAND_NEEDS, baseNeeds, needLabel, type Need } from './permissions.js';
import type { Kube } from '../kube/client.js';

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
  commands: { command: string; allowed: boolean; missing: string[] }[];
}

export function register(program: Command, deps: Deps): void {
  const cmd = program
    .command('doctor')
    .description('check the kubeconfig, the connection, the clock and which plugin commands you may run here');
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
    const r = await kube.create<{ status: { userInfo: { username?: string; groups?: string[] } } }>(
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    );
    return { username: r.status.userInfo.username ?? '', groups: r.status.userInfo.groups ?? [] };
  } catch {
    return undefined;
  }
}

/** One SelfSubjectAccessReview per distinct need: a fixed number of requests, sent in parallel. */
export async function checkCommands(kube: Kube, namespace: string): Promise<DoctorReport['commands']> {
  const distinct = new Map<string, Need>();
  for (const needs of Object.values(COMMAND_NEEDS)) for (const need of baseNeeds(needs)) distinct.set(needLabel(need), need);
  const allowed = new Map<string, boolean>();
  await Promise.all(
    [...distinct.entries()].map(async ([label, need]) => {
      const r = await kube.create<{ status: { allowed: boolean } }>('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: {
          resourceAttributes: {
            verb: need.verb,
            group: need.group,
            resource: need.resource,
            subresource: need.subresource,
            namespace: need.cluster ? undefined : namespace,
          },
        },
      });
      allowed.set(label, r.status.allowed);
    }),
  );
  return Object.entries(COMMAND_NEEDS).map(([command, needs]) => {
    const missing = baseNeeds(needs).map(needLabel).filter((l) => !allowed.get(l));
    return { command, allowed: missing.length === 0, missing };
  });
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
    lines.push(`Clock skew:  ${r.clockSkewSeconds === 0 ? 'none (< 1s)' : `${r.clockSkewSeconds}s${Math.abs(r.clockSkewSeconds) > 30 ? ' (AGE columns and TTLs will be off)' : ''}`}`);
  }
  if (r.user) lines.push(`User:        ${r.user.username}${r.user.groups.length ? ` (groups: ${r.user.groups.join(', ')})` : ''}`);
  if (r.error) lines.push(`Problem:     ${r.error}`);
  let text = lines.join('\n') + '\n';
  if (r.commands.length) {
    text +=
      '\n' +
      renderTable(
        [
          { header: 'COMMAND', value: (c: DoctorReport['commands'][number]) => c.command },
          { header: 'ALLOWED', value: (c) => (c.allowed ? 'yes' : 'no') },
          { header: 'MISSING', value: (c) => (c.missing.length ? c.missing.join(', ') : '') },
        ],
        r.commands,
      );
  }
  return text;
}
