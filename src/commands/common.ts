// Flag plumbing shared by commands: global flags, -o, --dry-run/--yes, and confirmation.
import { Command, Option } from 'commander';
import type { Deps } from '../deps.js';
import type { Connection } from '../kube/connect.js';
import type { DryRun } from '../kube/client.js';
import { AbortedError, UsageError } from '../errors.js';
import { parseDuration } from '../util/duration.js';
import { OUTPUT_FORMATS, parseOutput, type OutputFormat } from '../output/printer.js';

export interface GlobalFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  requestTimeout?: string;
  verbose?: boolean;
}

export function addGlobalOptions(program: Command): void {
  program
    .option('--kubeconfig <file>', 'path to the kubeconfig file to use')
    .option('--context <name>', 'the kubeconfig context to use')
    .option('-n, --namespace <namespace>', 'the namespace to work in')
    .option('--request-timeout <duration>', 'time to wait for one API request before giving up (default 0 = no limit)')
    .option('-v, --verbose', 'log every API request (method, path, status, milliseconds) to stderr');
}

export function globals(cmd: Command): GlobalFlags {
  return cmd.optsWithGlobals() as GlobalFlags;
}

export async function connectFrom(cmd: Command, deps: Deps): Promise<Connection> {
  const g = globals(cmd);
  const requestTimeoutMs = parseDuration(g.requestTimeout ?? '0', '--request-timeout');
  return deps.connect({ kubeconfig: g.kubeconfig, context: g.context, namespace: g.namespace, requestTimeoutMs, verbose: g.verbose });
}

export function addOutputOption(cmd: Command, allowed: readonly OutputFormat[] = OUTPUT_FORMATS): Command {
  return cmd.addOption(new Option('-o, --output <format>', `output format: ${allowed.join('|')}`).default('table'));
}

export function outputOf<F extends OutputFormat>(cmd: Command, allowed: readonly F[]): F {
  return parseOutput(cmd.opts().output as string | undefined, allowed);
}

export function addMutationOptions(cmd: Command): Command {
  return addYesOption(addDryRunOption(cmd));
}

export function addDryRunOption(cmd: Command): Command {
  return cmd.option('--dry-run [strategy]', 'none, client (print what would change) or server (also ask the server to validate); nothing is changed', 'none');
}

/** Only for commands that ask before a destructive step. */
export function addYesOption(cmd: Command): Command {
  return cmd.option('-y, --yes', 'do not ask for confirmation before destructive steps');
}

export function dryRunOf(cmd: Command): DryRun {
  const v = cmd.opts().dryRun as string | boolean | undefined;
  if (v === true || v === undefined) return v === true ? 'client' : 'none';
  if (v === 'none' || v === 'client' || v === 'server') return v;
  throw new UsageError(`invalid value "${v}" for --dry-run: want none, client or server (use --dry-run=server)`);
}

/** Destructive steps ask on a TTY unless --yes; off a TTY they require --yes. */
export async function confirmOrAbort(deps: Deps, yes: boolean | undefined, question: string, what: string): Promise<void> {
  if (yes) return;
  if (!deps.stdinIsTTY) throw new UsageError(`${what} needs confirmation: pass --yes (stdin is not a terminal)`);
  if (!(await deps.confirm(question))) throw new AbortedError(`aborted: ${what} not done`);
}

export function allNamespacesOption(cmd: Command): Command {
  return cmd.option('-A, --all-namespaces', 'across all namespaces');
}

/** Collects repeated flags (`--from-literal a=1 --from-literal b=2`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
