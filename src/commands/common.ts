// Flag plumbing shared by commands: global flags, -o, --dry-run/--yes, and confirmation.
import fs from 'node:fs';
import { Command, Option } from 'commander';
import type { Deps } from '../deps.js';
import type { Connection } from '../kube/connect.js';
import type { DryRun } from '../kube/client.js';
import { AbortedError, UsageError } from '../errors.js';
import { parseDuration } from '../util/duration.js';
import { OUTPUT_FORMATS, Printer, TEMPLATE_FORMATS, type OutputFormat, type OutputKind } from '../output/printer.js';

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

/**
 * -o with the formats the command prints; commands that print JSON also take kubectl's
 * templates (jsonpath=, jsonpath-file=, custom-columns=, custom-columns-file=) and
 * --allow-missing-template-keys. List views pass { list: true } for --no-headers and --sort-by.
 */
export function addOutputOption(cmd: Command, allowed: readonly OutputFormat[] = OUTPUT_FORMATS, opts: { list?: boolean } = {}): Command {
  const templates = allowed.includes('json') ? ['jsonpath=TEMPLATE', 'jsonpath-file=FILE', 'jsonpath-as-json=TEMPLATE', 'custom-columns=SPEC', 'custom-columns-file=FILE'] : [];
  cmd.addOption(new Option('-o, --output <format>', `output format: ${[...allowed, ...templates].join('|')}`).default('table'));
  OUTPUT_ALLOWED.set(cmd, allowed);
  if (templates.length) {
    cmd.option('--allow-missing-template-keys [bool]', 'with -o jsonpath: print nothing for a missing field instead of failing (--allow-missing-template-keys=false to fail)', 'true');
  }
  if (opts.list) {
    cmd.option('--no-headers', 'with table and custom-columns output: omit the header line');
    cmd.option('--sort-by <jsonpath>', 'sort the list by a field of the objects, e.g. --sort-by=.metadata.name (numbers by value, strings and quantities in order, missing first)');
  }
  return cmd;
}

const OUTPUT_ALLOWED = new WeakMap<Command, readonly OutputFormat[]>();

/** The -o values a command takes, templates as `jsonpath=` (for completion). */
export function outputFormatsOf(cmd: Command): string[] {
  const allowed = OUTPUT_ALLOWED.get(cmd) ?? OUTPUT_FORMATS;
  return [...allowed, ...(allowed.includes('json') ? TEMPLATE_FORMATS.map((t) => `${t}=`) : [])];
}

/** The command's printer, from its -o, --no-headers, --sort-by and --allow-missing-template-keys (usage errors before any I/O). */
export function printerOf(cmd: Command, allowed?: readonly OutputFormat[]): Printer {
  const o = cmd.opts<{ output?: string; headers?: boolean; sortBy?: string; allowMissingTemplateKeys?: string | boolean }>();
  return new Printer(
    { output: o.output, noHeaders: o.headers === false, sortBy: o.sortBy, allowMissingTemplateKeys: o.allowMissingTemplateKeys },
    allowed ?? OUTPUT_ALLOWED.get(cmd) ?? OUTPUT_FORMATS,
    (f) => fs.readFileSync(f, 'utf8'),
  );
}

/** The -o kind (table, wide, json, yaml, name, jsonpath, custom-columns); prefer printerOf, which also prints. */
export function outputOf(cmd: Command, allowed: readonly OutputFormat[]): OutputKind {
  return printerOf(cmd, allowed).format;
}

/** -l/--selector for list views (kubectl's label selector syntax, passed to the server). */
export function addSelectorOption(cmd: Command): Command {
  return cmd.option('-l, --selector <selector>', 'only objects with these labels, e.g. -l app=train,tier!=dev (the server filters)');
}

/** -w/--watch and --watch-only for list views (kubectl get -w). */
export function addWatchOptions(cmd: Command): Command {
  return cmd
    .option('-w, --watch', 'after the list, print a line for every change until Ctrl-C')
    .option('--watch-only', 'print a line for every change until Ctrl-C, without the list first');
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
