// Flag plumbing shared by commands: global flags, -o, --dry-run/--yes, and confirmation.
import fs from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Deps } from '../deps.js';
import type { Connection } from '../kube/connect.js';
import type { ConfigFlags } from '../kube/config.js';
import type { DryRun } from '../kube/client.js';
import { AbortedError, UsageError } from '../errors.js';
import { requestTimeoutLimit } from '../util/duration.js';
import { MAX_TIMER_MS } from '../util/validate.js';
import { OUTPUT_FORMATS, Printer, TEMPLATE_FORMATS, type OutputFormat, type OutputKind } from '../output/printer.js';

/** kubectl's global flags as commander parses them: the kubeconfig overrides (ConfigFlags), `--as-group` repeated, and logging. */
export interface GlobalFlags extends Omit<ConfigFlags, 'asGroups'> {
  requestTimeout?: string;
  /** -v / --v=N: true for a bare -v (level 6), else the level. */
  v?: number | true;
  verbose?: boolean;
  asGroup?: string[];
}

function logLevel(value: string): number {
  const v = value.replace(/^=/, '');
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`"${value}" is not a log level (a number, e.g. -v 6 or --v=6)`);
  return Number(v);
}

/** The Option objects added by addGlobalOptions, to tell them from a command's own flag of the same name. */
const globalOptions = new WeakSet<Option>();

/** kubectl's global flags (its persistent flags); a command's own flag of the same name wins. */
export function addGlobalOptions(program: Command): void {
  const add = (o: Option) => {
    if (program.options.some((x) => x.long === o.long || (o.short && x.short === o.short))) return;
    globalOptions.add(o);
    program.addOption(o);
  };
  add(new Option('--kubeconfig <file>', 'path to the kubeconfig file to use'));
  add(new Option('--context <name>', 'the kubeconfig context to use'));
  add(new Option('-n, --namespace <namespace>', 'the namespace to work in'));
  add(new Option('--request-timeout <duration>', 'time to wait for one API request before giving up (default 0 = no limit)'));
  add(
    new Option('-v, --v [level]', 'log level as kubectl: 6 or more logs every API request (method, path, status, milliseconds, protocol) to stderr; -v alone is 6').argParser(
      logLevel,
    ),
  );
  // kubectl keeps its connection overrides out of each command's help (`kubectl options`
  // lists them); here they are hidden from help and completion and listed once, below the
  // top-level help, so `--to<TAB>` still completes to --to-revision alone.
  const hidden = [
    new Option('--verbose', 'the same as -v 6'),
    new Option('--cluster <name>', 'the kubeconfig cluster to use'),
    new Option('--user <name>', 'the kubeconfig user to use'),
    new Option('-s, --server <url>', 'the address and port of the Kubernetes API server'),
    new Option('--token <token>', 'bearer token for authentication to the API server'),
    new Option('--certificate-authority <file>', 'path to a cert file for the certificate authority'),
    new Option('--client-certificate <file>', 'path to a client certificate file for TLS'),
    new Option('--client-key <file>', 'path to a client key file for TLS'),
    new Option('--insecure-skip-tls-verify', "do not check the server's certificate (insecure)"),
    new Option('--tls-server-name <name>', 'server name to use for certificate validation (default: the server address host)'),
    new Option('--as <user>', 'username to impersonate for the operation'),
    new Option('--as-group <group>', 'group to impersonate for the operation (repeatable)').argParser(collect),
    new Option('--as-uid <uid>', 'UID to impersonate for the operation'),
  ];
  for (const o of hidden) add(o.hideHelp());
  if (!program.parent) {
    program.addHelpText(
      'after',
      `\nConnection flags, accepted by every command as kubectl's (not listed per command):\n${hidden
        .slice(1)
        .map((o) => `  ${o.flags.padEnd(32)} ${o.description}`)
        .join('\n')}\n`,
    );
  }
}

export function globals(cmd: Command): GlobalFlags {
  return cmd.optsWithGlobals<GlobalFlags>();
}

/**
 * The impersonation --as, read only from the global option: a command's own --as (config
 * --wire --as env|volume, inherited by `secret view` through optsWithGlobals) is not a user name.
 */
function globalAs(cmd: Command): string | undefined {
  for (let c: Command | null = cmd; c; c = c.parent) {
    const o = c.options.find((x) => x.long === '--as');
    if (o && globalOptions.has(o) && c.getOptionValueSource('as') === 'cli') {
      const v: unknown = c.getOptionValue('as');
      return typeof v === 'string' ? v : undefined;
    }
  }
  return undefined;
}

export async function connectFrom(cmd: Command, deps: Deps): Promise<Connection> {
  const g = globals(cmd);
  const requestTimeoutMs = requestTimeoutLimit(g.requestTimeout, MAX_TIMER_MS);
  const verbosity = g.v === true || g.verbose ? Math.max(6, typeof g.v === 'number' ? g.v : 0) : (g.v ?? 0);
  const as = globalAs(cmd);
  if (g.server !== undefined && !g.server) throw new UsageError('invalid value "" for --server: want the API server address, e.g. https://host:6443');
  // Named one by one: optsWithGlobals() also holds the command's own options.
  return deps.connect({
    kubeconfig: g.kubeconfig,
    context: g.context,
    namespace: g.namespace,
    requestTimeoutMs,
    verbosity,
    cluster: g.cluster,
    user: g.user,
    server: g.server,
    token: g.token,
    certificateAuthority: g.certificateAuthority,
    clientCertificate: g.clientCertificate,
    clientKey: g.clientKey,
    insecureSkipTlsVerify: g.insecureSkipTlsVerify,
    tlsServerName: g.tlsServerName,
    as,
    asGroups: g.asGroup,
    asUid: g.asUid,
  });
}

/**
 * -o with the formats the command prints; commands that print JSON also take kubectl's
 * templates (jsonpath=, jsonpath-file=, custom-columns=, custom-columns-file=) and
 * --allow-missing-template-keys. List views pass { list: true } for --no-headers and --sort-by.
 */
export function addOutputOption(cmd: Command, allowed: readonly OutputFormat[] = OUTPUT_FORMATS, opts: { list?: boolean } = {}): Command {
  const templates = allowed.includes('json') ? ['jsonpath=TEMPLATE', 'jsonpath-file=FILE', 'jsonpath-as-json=TEMPLATE', 'custom-columns=SPEC', 'custom-columns-file=FILE'] : [];
  // No default value: without -o (or with -o "") the command prints its table, as kubectl.
  cmd.addOption(new Option('-o, --output <format>', `output format (default: a table): ${[...allowed.filter((f) => f !== 'table'), ...templates].join('|')}`));
  OUTPUT_ALLOWED.set(cmd, allowed);
  if (templates.length) {
    cmd.option(
      '--allow-missing-template-keys [bool]',
      'with -o jsonpath: print nothing for a missing field instead of failing (--allow-missing-template-keys=false to fail)',
      'true',
    );
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
  return [...allowed.filter((f) => f !== 'table'), ...(allowed.includes('json') ? TEMPLATE_FORMATS.map((t) => `${t}=`) : [])];
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
