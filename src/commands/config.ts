import fs from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { Option, type Command } from 'commander';
import type { Deps } from '../deps.js';
import type { Kube, DryRun } from '../kube/client.js';
import type { ConfigMap, Secret } from '../kube/types.js';
import { addDryRunOption, addOutputOption, collect, connectFrom, dryRunOf, printerOf } from './common.js';
import { dryRunSuffix, renderTable, withKind, type Printer } from '../output/printer.js';
import { withProgress } from '../output/progress.js';
import { parseTimeout, preflight } from './flow.js';
import { R, nameOf, pathOf, type Resource } from '../kube/resources.js';
import { ApiError, CliError, UsageError } from '../errors.js';
import { diffData, fsProblem, readSources, shorten, type Data, type KeyChange } from '../config/sources.js';
import { parseWireTarget, planWire, stampKey, wire, type SourceKind, type WireTarget } from '../config/wire.js';
import { displayName } from '../workloads/scale.js';
import { waitForRollout } from '../workloads/rollout.js';

interface BootstrapOptions {
  fromLiteral?: string[];
  fromFile?: string[];
  fromEnvFile?: string[];
  fromDotenv?: string[];
  recursive?: boolean;
  merge?: boolean;
  wire?: string;
  container?: string;
  wireAs: 'env' | 'volume';
  mountPath?: string;
  prefix?: string;
  restart: boolean;
  timeout: string;
  tls?: boolean;
  cert?: string;
  key?: string;
  ca?: string;
}

function addSourceOptions(cmd: Command): Command {
  return cmd
    .option('--from-literal <key=value>', 'a key and its value (repeatable)', collect)
    .option('--from-file <[key=]path>', 'a file (key = file name) or a folder (one key per regular file; symlinks are skipped, as kubectl does) (repeatable)', collect)
    .option('--from-env-file <file>', 'KEY=VALUE lines read exactly as kubectl reads them: no quotes, no comments after values, nothing trimmed (repeatable)', collect)
    .option('--from-dotenv <file>', 'a shell-style .env file: export, quotes, escapes, multi-line double-quoted values, comments (repeatable)', collect)
    .option('--recursive', 'folders: include sub-folders; the key of dir/sub/file is sub__file')
    .option('--merge', 'keep keys that exist only in the cluster (default: the result holds exactly the given keys)')
    .option('--wire <kind/name>', 'also wire it into this Deployment/StatefulSet/DaemonSet and roll it out when the data changes')
    .option('--container <name>', 'with --wire: the container (needed when there are several)')
    .addOption(new Option('--wire-as <how>', 'with --wire: as environment variables or as a volume').choices(['env', 'volume']).default('env'))
    .option('--mount-path <path>', 'with --wire-as volume: where to mount it (absolute)')
    .option('--prefix <prefix>', 'with --wire-as env: prefix for the variable names')
    .option('--no-restart', 'with --wire: do not stamp the pod template, so pods do not restart when the data changes')
    .option('--timeout <duration>', 'with --wire: how long to wait for the rollout', '5m');
}

export function register(program: Command, deps: Deps): void {
  const config = addSourceOptions(
    program.command('config').description('create or update a ConfigMap from literals, files, folders and env files').argument('<name>', 'the ConfigMap'),
  );
  addOutputOption(config, ['table', 'json', 'yaml', 'name']);
  addDryRunOption(config);
  config.action(async (name: string) => bootstrap(config, deps, 'configmap', name));

  const secret = addSourceOptions(
    program.command('secret').description('create or update a Secret (Opaque, or TLS with ca.crt); values are never printed').argument('<name>', 'the Secret'),
  )
    .option('--tls', 'a kubernetes.io/tls Secret from --cert and --key (and --ca)')
    .option('--cert <file>', 'with --tls: the PEM certificate (chain)')
    .option('--key <file>', 'with --tls: the PEM private key; must match the certificate')
    .option('--ca <file>', 'with --tls: the CA bundle, stored as ca.crt');
  addOutputOption(secret, ['table', 'name']);
  addDryRunOption(secret);
  secret.action(async (name: string) => bootstrap(secret, deps, 'secret', name));

  const view = secret
    .command('view')
    .description("show a Secret's keys, sizes and types; values only with --reveal")
    .argument('<name>')
    .argument('[key]')
    .option('--reveal', 'print values; with KEY, print the raw value alone (for pipes)');
  addOutputOption(view, ['table', 'json', 'yaml']);
  view.action(async (name: string, key: string | undefined) => viewSecret(view, deps, objectName(name, R.secrets), key));
}

/** NAME or KIND/NAME, validated client-side (src/util/validate.ts) so that `..`, `a/b` or `''` never reach a URL. */
function objectName(text: string, res: typeof R.configmaps): string {
  return nameOf(text, res, 'NAME');
}

function tlsData(o: BootstrapOptions, warn: (s: string) => void, now: Date): Data {
  if (!o.cert || !o.key) throw new UsageError('--tls needs --cert FILE and --key FILE');
  const read = (f: string, flag: string) => {
    try {
      return fs.readFileSync(f);
    } catch (e) {
      throw new UsageError(`${flag} ${f}: ${fsProblem(e)}`);
    }
  };
  const certPem = read(o.cert, '--cert');
  const keyPem = read(o.key, '--key');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw new UsageError(`--cert ${o.cert}: not a PEM certificate`);
  }
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new UsageError(`--key ${o.key}: not a PEM private key`);
  }
  if (!cert.checkPrivateKey(key)) throw new UsageError(`--key ${o.key} does not match the certificate in --cert ${o.cert}`);
  const expires = new Date(cert.validTo);
  const days = Math.floor((expires.getTime() - now.getTime()) / 86_400_000);
  if (days < 0) warn(`the certificate in ${o.cert} expired on ${expires.toISOString()}`);
  else if (days < 30) warn(`the certificate in ${o.cert} expires in ${days} day(s), on ${expires.toISOString()}`);
  const d: Data = {
    text: { 'tls.crt': certPem.toString('utf8'), 'tls.key': keyPem.toString('utf8') },
    binary: {},
    origin: { 'tls.crt': '--cert', 'tls.key': '--key' },
    warnings: [],
  };
  if (o.ca) {
    const ca = read(o.ca, '--ca');
    try {
      new X509Certificate(ca);
    } catch {
      throw new UsageError(`--ca ${o.ca}: not a PEM certificate`);
    }
    d.text['ca.crt'] = ca.toString('utf8');
  }
  return d;
}

/** Values as the API stores them: ConfigMap text as is and binary as base64; Secret everything base64. */
function wireValues(kind: SourceKind, d: Data): StoredData {
  if (kind === 'secret') {
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(d.text)) data[k] = Buffer.from(v, 'utf8').toString('base64');
    for (const [k, v] of Object.entries(d.binary)) data[k] = v.toString('base64');
    return { data, binaryData: {} };
  }
  return { data: { ...d.text }, binaryData: Object.fromEntries(Object.entries(d.binary).map(([k, v]) => [k, v.toString('base64')])) };
}

interface StoredData {
  data: Record<string, string>;
  binaryData: Record<string, string>;
}

/** Everything the command will do, parsed and checked before the first request. */
interface Plan {
  kind: SourceKind;
  name: string;
  data: Data;
  type: string;
  merge: boolean;
  wire?: WireTarget;
  timeoutMs: number;
  format: string;
  printer: Printer;
  dryRun: DryRun;
}

function parseOptions(cmd: Command, deps: Deps, kind: SourceKind, nameText: string): Plan {
  const o = cmd.opts<BootstrapOptions>();
  const name = objectName(nameText, kind === 'configmap' ? R.configmaps : R.secrets);
  const printer = printerOf(cmd, kind === 'secret' ? ['table', 'name'] : ['table', 'json', 'yaml', 'name']);
  const format = printer.format;
  const dryRun = dryRunOf(cmd);
  const explicit = (opt: string) => cmd.getOptionValueSource(opt) === 'cli';
  if (!o.wire) {
    const stray = ['container', 'mountPath', 'prefix', 'wireAs', 'timeout'].filter(explicit).concat(o.restart ? [] : ['restart']);
    if (stray.length) throw new UsageError('--container, --wire-as, --mount-path, --prefix, --no-restart and --timeout are used with --wire');
  }
  const timeoutMs = parseTimeout(o.timeout, '--timeout');
  let wire: Plan['wire'];
  if (o.wire) {
    const { res, name: workload } = parseWireTarget(o.wire);
    if (o.mountPath !== undefined && o.wireAs !== 'volume') throw new UsageError('--mount-path is used with --wire-as volume');
    if (o.prefix !== undefined && o.wireAs !== 'env') throw new UsageError('--prefix is used with --wire-as env');
    if (o.mountPath !== undefined && (!o.mountPath.startsWith('/') || o.mountPath.split('/').includes('..') || o.mountPath.includes(':'))) {
      throw new UsageError(`invalid value "${o.mountPath}" for --mount-path: want an absolute path without ".." or ":"`);
    }
    wire = { target: o.wire, res, workload, container: o.container, as: o.wireAs, mountPath: o.mountPath, prefix: o.prefix, noRestart: !o.restart };
  }
  const sources = { literals: o.fromLiteral ?? [], files: o.fromFile ?? [], envFiles: o.fromEnvFile ?? [], dotenvFiles: o.fromDotenv ?? [], recursive: o.recursive };
  let data: Data;
  if (o.tls) {
    if (sources.literals.length || sources.files.length || sources.envFiles.length || sources.dotenvFiles.length)
      throw new UsageError('--tls takes its data from --cert, --key and --ca only');
    data = tlsData(o, (s) => deps.err.write(`Warning: ${s}\n`), deps.now());
  } else {
    if (o.cert || o.key || o.ca) throw new UsageError('--cert, --key and --ca are used with --tls');
    data = readSources(sources, deps.env);
    if (!Object.keys(data.origin).length && !o.merge) throw new UsageError('no data: give --from-literal, --from-file, --from-env-file or --from-dotenv');
  }
  return { kind, name, data, type: o.tls ? 'kubernetes.io/tls' : 'Opaque', merge: Boolean(o.merge), wire, timeoutMs, format, printer, dryRun };
}

type Stored = ConfigMap & Secret;

function flat(x: { data?: Record<string, string>; binaryData?: Record<string, string> } | undefined): Record<string, string> {
  return { ...(x?.data ?? {}), ...Object.fromEntries(Object.entries(x?.binaryData ?? {}).map(([k, v]) => [k, `(binary) ${v}`])) };
}

/** The data to store on top of `current`: ours, plus the cluster's other keys with --merge. */
function target(current: Stored | undefined, next: StoredData, merge: boolean): StoredData {
  if (!merge || !current) return next;
  // A key is in data or in binaryData, never both: ours decides where it goes.
  const keep = (m: Record<string, string> | undefined) => Object.fromEntries(Object.entries(m ?? {}).filter(([k]) => !(k in next.data) && !(k in next.binaryData)));
  return { data: { ...keep(current.data), ...next.data }, binaryData: { ...keep(current.binaryData), ...next.binaryData } };
}

async function bootstrap(cmd: Command, deps: Deps, kind: SourceKind, nameText: string): Promise<void> {
  const p = parseOptions(cmd, deps, kind, nameText);
  for (const w of p.data.warnings) deps.err.write(`Warning: ${w}\n`);
  const { kube, namespace } = await connectFrom(cmd, deps);
  const res = kind === 'configmap' ? R.configmaps : R.secrets;
  const path = pathOf(res, { namespace, name: p.name });
  const ref = `${kind}/${p.name}`;
  const next = wireValues(kind, p.data);
  let current = await kube.getOptional<Stored>(path);

  // Every check that can fail runs before the first write: access for every verb the plan
  // uses (asked in parallel), then the workload to wire (see preflightWire).
  if (p.dryRun !== 'client') {
    await preflight(kube, kind === 'configmap' ? 'config' : 'secret', namespace, (when) => when === (current ? 'existing' : 'new') || when === `wire:${p.wire?.res.plural}`);
  }
  if (p.wire) await preflightWire(kube, namespace, p, p.wire);

  let result: Stored | undefined = current;
  let changing = false;
  for (let attempt = 1; ; attempt++) {
    if (current && kind === 'secret' && current.type !== p.type) {
      throw new CliError(`${ref} is of type ${current.type}; its type cannot change to ${p.type}: delete it first or choose another name`);
    }
    const want = target(current, next, p.merge);
    const changes = diffData(flat(current), flat(next), p.merge);
    const real = changes.filter((c) => c.op !== 'kept');
    if (attempt > 1)
      deps.err.write(
        `Warning: ${ref} was changed by someone else while this command ran (409 Conflict); planned again on resourceVersion ${current?.metadata?.resourceVersion ?? '(it was deleted)'}:\n`,
      );
    if (p.format === 'table') deps.out.write(renderChanges(ref, changes, kind, !current, p.dryRun));
    if (current && real.length === 0) {
      if (p.format === 'table') deps.out.write(`${ref} unchanged\n`);
      break;
    }
    changing = true;
    if (current?.immutable) throw new CliError(`${ref} is immutable: its data cannot change; delete it first or choose another name`);
    if (p.dryRun === 'client') {
      // What would be stored, for -o json|yaml (as kubectl's --dry-run=client -o yaml).
      const base = current ?? { apiVersion: 'v1', kind: kind === 'configmap' ? 'ConfigMap' : 'Secret', metadata: { name: p.name, namespace } };
      result = { ...base, data: want.data, ...(Object.keys(want.binaryData).length ? { binaryData: want.binaryData } : { binaryData: undefined }) };
      break;
    }
    try {
      result = await writeData(kube, res, namespace, p, current, want);
      if (p.dryRun === 'none') deps.journal.wrote(`${ref} ${current ? 'updated' : 'created'} (resourceVersion ${result.metadata?.resourceVersion})`);
      if (p.format === 'table') deps.out.write(`${ref} ${current ? 'configured' : 'created'}${dryRunSuffix(p.dryRun)}\n`);
      break;
    } catch (e) {
      // 409: created meanwhile (AlreadyExists) or changed since read (Conflict). Read again and
      // show the new diff, so a colleague's key is never removed without being listed.
      if (!(e instanceof ApiError && e.status === 409) || attempt >= 5) throw e;
      current = await kube.getOptional<Stored>(path);
      result = current;
    }
  }
  if (p.format === 'name') deps.out.write(`${ref}\n`);
  if (p.printer.structured && result) await p.printer.print(deps, { items: [withKind(result, 'ConfigMap', 'v1')] });

  if (!p.wire) return;
  // A dry run that would change the data cannot know the new resourceVersion: the plan says so.
  const source = (p.dryRun !== 'none' && changing) || !result?.metadata?.uid ? undefined : { uid: result.metadata.uid, resourceVersion: result.metadata.resourceVersion ?? '' };
  // After a failure, src/cli.ts prints the journal: what was written, what was not verified.
  deps.journal.resume('the same command again (it converges: unchanged data is not written twice)');
  const w = await wire(kube, namespace, kind, p.name, source, p.wire, p.dryRun);
  if (w.patch && p.dryRun === 'none') deps.journal.wrote(`${w.display}: ${w.changes.join('; ')}`);
  if (!w.patch) {
    deps.err.write(`${w.display} already uses ${ref} and carries its current stamp; nothing to roll out\n`);
  } else if (p.format === 'table') {
    deps.out.write(`${w.display}: ${w.changes.join('; ')}${dryRunSuffix(p.dryRun)}\n`);
  }
  if (p.dryRun !== 'none') return;
  // Verified even when nothing changed: a re-run after a timeout must not pass while pods fail.
  if (w.res === R.deployments) {
    deps.journal.expect('rollout', `${w.display} rolled out with ${ref}`);
    await withProgress(`waiting for ${w.display} to roll out`, { stream: deps.err, enabled: p.format === 'table' || p.format === 'name' }, (update) =>
      waitForRollout(kube, namespace, w.name, { timeoutMs: p.timeoutMs, progress: update, signal: deps.signal }),
    );
    deps.journal.confirm('rollout');
    if (p.format === 'table') deps.out.write(`${w.display} rolled out\n`);
  }
}

/**
 * Before the data is written: the workload exists, has the container, and the server accepts
 * the planned patch (a server dry run, which also proves the permission to patch it).
 */
async function preflightWire(kube: Kube, namespace: string, p: Plan, o: WireTarget): Promise<void> {
  const display = displayName(o.res, o.workload);
  const wpath = pathOf(o.res, { namespace, name: o.workload });
  const w = await kube.getOptional<Parameters<typeof planWire>[0]>(wpath);
  if (!w) throw new CliError(`${display} not found in namespace ${namespace} (--wire); nothing was written`);
  // A paused Deployment does not roll out: wiring it would write and then wait for nothing (ship refuses the same way).
  if ((w as { spec?: { paused?: boolean } }).spec?.paused) {
    throw new CliError(`${display} is paused, and a paused Deployment does not roll out; resume it first (kubectl rollout resume ${display} -n ${namespace}); nothing was written`);
  }
  const plan = planWire(w, p.kind, p.name, undefined, o);
  if (!plan.patch || p.dryRun === 'client') return;
  try {
    await kube.patchGuarded(wpath, 'strategic', () => withPendingStamp(plan.patch!, p.kind, p.name), { dryRun: 'server', known: w as never, attempts: 1 });
  } catch (e) {
    // 409: the workload changed since it was read; the real wire plans again on a fresh read.
    if (e instanceof ApiError && e.status === 409) return;
    if (e instanceof ApiError) throw new CliError(`${display} cannot be wired (--wire): ${e.message}; nothing was written`);
    throw e;
  }
}

/** The planned patch with a placeholder stamp, for the server dry run before the data is written. */
function withPendingStamp(patch: object, kind: SourceKind, name: string): object {
  const copy = structuredClone(patch) as { spec: { template: { metadata?: { annotations?: Record<string, string | null> } } } };
  const meta = (copy.spec.template.metadata ??= {});
  meta.annotations = { ...(meta.annotations ?? {}), [stampKey(kind, name)]: 'pending' };
  return copy;
}

/** One write, guarded: create (409 if someone created it meanwhile) or a JSON patch on the resourceVersion the diff was computed on. */
async function writeData(kube: Kube, res: Resource, namespace: string, p: Plan, current: Stored | undefined, want: StoredData): Promise<Stored> {
  if (!current) {
    const body: Record<string, unknown> = { apiVersion: 'v1', kind: p.kind === 'configmap' ? 'ConfigMap' : 'Secret', metadata: { name: p.name, namespace }, data: want.data };
    if (p.kind === 'configmap') body.binaryData = want.binaryData;
    else body.type = p.type;
    return kube.create<Stored>(pathOf(res, { namespace }), body, { dryRun: p.dryRun });
  }
  const ops: unknown[] = [{ op: 'add', path: '/data', value: want.data }];
  if (p.kind === 'configmap') ops.push({ op: 'add', path: '/binaryData', value: want.binaryData });
  const r = await kube.patchGuarded<Stored>(pathOf(res, { namespace, name: p.name }), 'json', () => ops, { dryRun: p.dryRun, known: current, attempts: 1 });
  return r.object;
}

function renderChanges(ref: string, changes: KeyChange[], kind: SourceKind, creating: boolean, dryRun: DryRun): string {
  const head = `${ref}: ${creating ? 'create' : 'update'}${dryRunSuffix(dryRun)}\n`;
  const lines = changes.map((c) => {
    if (kind === 'secret') {
      // Secret values never reach the terminal: keys and whether they changed, nothing else.
      return { added: `  + ${c.key}`, changed: `  ~ ${c.key} (changed)`, removed: `  - ${c.key}`, kept: `  = ${c.key} (only in the cluster, kept)` }[c.op];
    }
    const show = (v?: string) => (v?.startsWith('(binary) ') ? `<binary, ${Buffer.from(v.slice(9), 'base64').length} bytes>` : shorten(v));
    return {
      added: `  + ${c.key}: ${show(c.to)}`,
      changed: `  ~ ${c.key}: ${show(c.from)} -> ${show(c.to)}`,
      removed: `  - ${c.key}`,
      kept: `  = ${c.key} (only in the cluster, kept)`,
    }[c.op];
  });
  return lines.length ? head + lines.join('\n') + '\n' : '';
}

async function viewSecret(cmd: Command, deps: Deps, name: string, key: string | undefined): Promise<void> {
  const o = cmd.opts<{ reveal?: boolean }>();
  const printer = printerOf(cmd);
  const format = printer.format;
  // custom-columns shows the rows of the table, one per key, and a table shows no value.
  if (o.reveal && format === 'custom-columns')
    throw new UsageError('--reveal prints values in the table, -o json, yaml or jsonpath; -o custom-columns shows keys, sizes and types only');
  const { kube, namespace } = await connectFrom(cmd, deps);
  const s = await kube.get<Secret>(pathOf(R.secrets, { namespace, name }));
  const entries = Object.entries(s.data ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (key !== undefined && !entries.some(([k]) => k === key)) {
    throw new CliError(`secret/${name} has no key "${key}"; keys: ${entries.map(([k]) => k).join(', ') || '(none)'}`);
  }
  const rows = entries
    .filter(([k]) => key === undefined || k === key)
    .map(([k, b64]) => {
      const bytes = Buffer.from(b64, 'base64');
      const text = isUtf8(bytes);
      return { key: k, size: bytes.length, type: text ? 'text' : 'binary', bytes, text };
    });
  if (key !== undefined && o.reveal && format === 'table') {
    // The raw value alone: no quotes, no newline added, so `| kubectl ...` or `> file` get exact bytes.
    deps.out.write(rows[0].bytes);
    return;
  }
  if (printer.structured) {
    const data = {
      name,
      namespace,
      type: s.type,
      keys: rows.map((r) => ({ key: r.key, size: r.size, type: r.type, ...(o.reveal ? { value: r.text ? r.bytes.toString('utf8') : r.bytes.toString('base64') } : {}) })),
    };
    if (format === 'custom-columns') {
      await printer.print(deps, { items: rows, data: () => data, object: (r) => ({ key: r.key, size: r.size, type: r.type }) });
      return;
    }
    await printer.printDocument(deps, data);
    return;
  }
  deps.out.write(`secret/${name} (type ${s.type})\n`);
  deps.out.write(
    renderTable(
      [
        { header: 'KEY', value: (r: (typeof rows)[number]) => r.key },
        { header: 'SIZE', value: (r) => `${r.size}B` },
        { header: 'TYPE', value: (r) => r.type },
        { header: 'VALUE', value: (r) => (o.reveal ? (r.text ? JSON.stringify(r.bytes.toString('utf8')) : `base64:${r.bytes.toString('base64')}`) : '********') },
      ],
      rows,
    ),
  );
}

function isUtf8(b: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return !b.includes(0);
  } catch {
    return false;
  }
}
