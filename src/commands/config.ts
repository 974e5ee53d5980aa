import fs from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { Option, type Command } from 'commander';
import type { Deps } from '../deps.js';
import type { Kube, DryRun } from '../kube/client.js';
import type { ConfigMap, Secret } from '../kube/types.js';
import { addMutationOptions, addOutputOption, collect, connectFrom, dryRunOf, printerOf } from './common.js';
import { dryRunSuffix, renderTable, withKind } from '../output/printer.js';
import { withProgress } from '../output/progress.js';
import { parseDuration } from '../util/duration.js';
import { R, nameOf, pathOf } from '../kube/resources.js';
import { CliError, UsageError } from '../errors.js';
import { diffData, readSources, shorten, type Data, type KeyChange } from '../config/sources.js';
import { wire, type SourceKind, type WireOptions } from '../config/wire.js';
import { waitForRollout } from '../workloads/rollout.js';

interface BootstrapOptions {
  fromLiteral?: string[];
  fromFile?: string[];
  fromEnvFile?: string[];
  recursive?: boolean;
  merge?: boolean;
  wire?: string;
  container?: string;
  as?: 'env' | 'volume';
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
    .option('--from-file <[key=]path>', 'a file (key = file name) or a folder (one key per file) (repeatable)', collect)
    .option('--from-env-file <file>', 'KEY=VALUE lines; quotes, escapes and multiline double-quoted values work (repeatable)', collect)
    .option('--recursive', 'folders: include sub-folders; the key of dir/sub/file is sub__file')
    .option('--merge', 'keep keys that exist only in the cluster (default: the result holds exactly the given keys)')
    .option('--wire <kind/name>', 'also wire it into this Deployment/StatefulSet/DaemonSet and roll it out when the data changes')
    .option('--container <name>', 'with --wire: the container (needed when there are several)')
    .addOption(new Option('--as <how>', 'with --wire: as environment variables or as a volume').choices(['env', 'volume']).default('env'))
    .option('--mount-path <path>', 'with --wire --as volume: where to mount it')
    .option('--prefix <prefix>', 'with --wire --as env: prefix for the variable names')
    .option('--no-restart', 'with --wire: do not stamp a checksum, so pods do not restart when the data changes')
    .option('--timeout <duration>', 'with --wire: how long to wait for the rollout', '5m');
}

export function register(program: Command, deps: Deps): void {
  const config = addSourceOptions(program.command('config').description('create or update a ConfigMap from literals, files, folders and .env files (server-side apply)').argument('<name>', 'the ConfigMap'));
  addOutputOption(config, ['table', 'json', 'yaml', 'name']);
  addMutationOptions(config);
  config.action(async (name: string) => bootstrap(config, deps, 'configmap', nameOf(name, R.configmaps, 'NAME')));

  const secret = addSourceOptions(program.command('secret').description('create or update a Secret (Opaque, or TLS with ca.crt); values are never printed').argument('<name>', 'the Secret'))
    .option('--tls', 'a kubernetes.io/tls Secret from --cert and --key (and --ca)')
    .option('--cert <file>', 'with --tls: the PEM certificate (chain)')
    .option('--key <file>', 'with --tls: the PEM private key; must match the certificate')
    .option('--ca <file>', 'with --tls: the CA bundle, stored as ca.crt');
  addOutputOption(secret, ['table', 'name']);
  addMutationOptions(secret);
  secret.action(async (name: string) => bootstrap(secret, deps, 'secret', nameOf(name, R.secrets, 'NAME')));

  const view = secret.command('view').description('show a Secret\'s keys, sizes and types; values only with --reveal').argument('<name>').argument('[key]').option('--reveal', 'print values; with KEY, print the raw value alone (for pipes)');
  addOutputOption(view, ['table', 'json', 'yaml']);
  view.action(async (name: string, key: string | undefined) => viewSecret(view, deps, nameOf(name, R.secrets, 'NAME'), key));
}

function tlsData(o: BootstrapOptions, warn: (s: string) => void, now: Date): Data {
  if (!o.cert || !o.key) throw new UsageError('--tls needs --cert FILE and --key FILE');
  const read = (f: string, flag: string) => {
    try {
      return fs.readFileSync(f);
    } catch {
      throw new UsageError(`${flag} ${f}: no such file`);
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
  const d: Data = { text: { 'tls.crt': certPem.toString('utf8'), 'tls.key': keyPem.toString('utf8') }, binary: {}, origin: { 'tls.crt': '--cert', 'tls.key': '--key' } };
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
function wireValues(kind: SourceKind, d: Data): { data: Record<string, string>; binaryData: Record<string, string> } {
  if (kind === 'secret') {
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(d.text)) data[k] = Buffer.from(v, 'utf8').toString('base64');
    for (const [k, v] of Object.entries(d.binary)) data[k] = v.toString('base64');
    return { data, binaryData: {} };
  }
  return { data: { ...d.text }, binaryData: Object.fromEntries(Object.entries(d.binary).map(([k, v]) => [k, v.toString('base64')])) };
}

async function bootstrap(cmd: Command, deps: Deps, kind: SourceKind, name: string): Promise<void> {
  const o = cmd.opts() as BootstrapOptions;
  const printer = printerOf(cmd, kind === 'secret' ? ['table', 'name'] : ['table', 'json', 'yaml', 'name']);
  const format = printer.format;
  const dryRun = dryRunOf(cmd);
  const timeoutMs = parseDuration(o.timeout, '--timeout');
  const warn = (s: string) => deps.err.write(`Warning: ${s}\n`);
  if (!o.wire && (o.container || o.mountPath || o.prefix)) throw new UsageError('--container, --mount-path and --prefix are used with --wire');
  const sources = { literals: o.fromLiteral ?? [], files: o.fromFile ?? [], envFiles: o.fromEnvFile ?? [], recursive: o.recursive };
  let data: Data;
  if (o.tls) {
    if (sources.literals.length || sources.files.length || sources.envFiles.length) throw new UsageError('--tls takes its data from --cert, --key and --ca only');
    data = tlsData(o, warn, deps.now());
  } else {
    if (o.cert || o.key || o.ca) throw new UsageError('--cert, --key and --ca are used with --tls');
    data = readSources(sources);
    if (!Object.keys(data.origin).length && !o.merge) throw new UsageError('no data: give --from-literal, --from-file or --from-env-file');
  }
  const type = o.tls ? 'kubernetes.io/tls' : 'Opaque';
  const { kube, namespace } = await connectFrom(cmd, deps);
  const res = kind === 'configmap' ? R.configmaps : R.secrets;
  const path = pathOf(res, { namespace, name });
  const ref = `${kind}/${name}`;
  const current = await kube.getOptional<ConfigMap & Secret>(path);
  const next = wireValues(kind, data);
  const flat = (x: { data?: Record<string, string>; binaryData?: Record<string, string> } | undefined) => ({
    ...(x?.data ?? {}),
    ...Object.fromEntries(Object.entries(x?.binaryData ?? {}).map(([k, v]) => [k, `(binary) ${v}`])),
  });
  const changes = diffData(flat(current), flat(next), Boolean(o.merge));
  if (current && kind === 'secret' && current.type !== type) {
    throw new CliError(`${ref} is of type ${current.type}; its type cannot change to ${type}: delete it first or choose another name`);
  }
  const real = changes.filter((c) => c.op !== 'kept');
  if (format === 'table') deps.out.write(renderChanges(ref, changes, kind, !current, dryRun));
  let result: (ConfigMap & Secret) | undefined = current;
  if (current && real.length === 0) {
    if (format === 'table') deps.out.write(`${ref} unchanged\n`);
  } else if (dryRun !== 'client') {
    result = await applyData(kube, path, { kind, name, namespace, type, next, current, merge: Boolean(o.merge), dryRun });
    if (format === 'table') deps.out.write(`${ref} ${current ? 'configured' : 'created'}${dryRunSuffix(dryRun)}\n`);
  }
  if (format === 'name') deps.out.write(`${ref}\n`);
  if (printer.structured && result) await printer.print(deps, { items: [withKind(result, 'ConfigMap', 'v1')] });

  if (o.wire) {
    const finalValues = flat(o.merge && current ? { data: { ...current.data, ...next.data }, binaryData: { ...current.binaryData, ...next.binaryData } } : next);
    const wopts: WireOptions = { target: o.wire, container: o.container, as: o.as ?? 'env', mountPath: o.mountPath, prefix: o.prefix, noRestart: !o.restart };
    const w = await wire(kube, namespace, kind, name, finalValues, wopts, dryRun);
    if (!w.patch) {
      deps.err.write(`${w.display} already uses ${ref} and has its current checksum; nothing to roll out\n`);
      return;
    }
    if (format === 'table') deps.out.write(`${w.display}: ${w.changes.join('; ')}${dryRunSuffix(dryRun)}\n`);
    if (dryRun !== 'none') return;
    if (w.res === R.deployments && w.changes.some((c) => c.startsWith('checksum') || c.startsWith('envFrom') || c.startsWith('volume') || c.startsWith('mount'))) {
      await withProgress(`waiting for ${w.display} to roll out`, { stream: deps.err, enabled: format === 'table' || format === 'name' }, (update) =>
        waitForRollout(kube, namespace, w.name, { timeoutMs, progress: update, signal: deps.signal }),
      );
      if (format === 'table') deps.out.write(`${w.display} rolled out\n`);
    }
  }
}

function renderChanges(ref: string, changes: KeyChange[], kind: SourceKind, creating: boolean, dryRun: DryRun): string {
  const head = `${ref}: ${creating ? 'create' : 'update'}${dryRunSuffix(dryRun)}\n`;
  const lines = changes.map((c) => {
    if (kind === 'secret') {
      // Secret values never reach the terminal: keys and whether they changed, nothing else.
      return { added: `  + ${c.key}`, changed: `  ~ ${c.key} (changed)`, removed: `  - ${c.key}`, kept: `  = ${c.key} (only in the cluster, kept)` }[c.op];
    }
    const show = (v?: string) => (v?.startsWith('(binary) ') ? `<binary, ${Buffer.from(v.slice(9), 'base64').length} bytes>` : shorten(v));
    return { added: `  + ${c.key}: ${show(c.to)}`, changed: `  ~ ${c.key}: ${show(c.from)} -> ${show(c.to)}`, removed: `  - ${c.key}`, kept: `  = ${c.key} (only in the cluster, kept)` }[c.op];
  });
  return lines.length ? head + lines.join('\n') + '\n' : '';
}

async function applyData(
  kube: Kube,
  path: string,
  a: { kind: SourceKind; name: string; namespace: string; type: string; next: { data: Record<string, string>; binaryData: Record<string, string> }; current?: ConfigMap & Secret; merge: boolean; dryRun: DryRun },
): Promise<ConfigMap & Secret> {
  const body: Record<string, unknown> = { apiVersion: 'v1', kind: a.kind === 'configmap' ? 'ConfigMap' : 'Secret', metadata: { name: a.name, namespace: a.namespace } };
  let data = a.next.data;
  let binaryData = a.next.binaryData;
  if (a.merge && a.current) {
    data = { ...(a.current.data ?? {}), ...data };
    binaryData = { ...(a.current.binaryData ?? {}), ...binaryData };
  }
  body.data = data;
  if (a.kind === 'configmap') body.binaryData = binaryData;
  else body.type = a.type;
  // Server-side apply: large objects work (no last-applied annotation) and a no-op keeps resourceVersion.
  let result = await kube.apply<ConfigMap & Secret>(path, body, { force: true, dryRun: a.dryRun });
  if (!a.merge) {
    // Keys owned by other field managers survive an apply; the result must hold exactly our keys.
    const r = await kube.patchGuarded<ConfigMap & Secret>(
      path,
      'json',
      (cur) => {
        const extra = [
          ...Object.keys(cur.data ?? {}).filter((k) => !(k in data)).map((k) => `/data/${escapePointer(k)}`),
          ...Object.keys(cur.binaryData ?? {}).filter((k) => !(k in binaryData)).map((k) => `/binaryData/${escapePointer(k)}`),
        ];
        return extra.length ? extra.map((p) => ({ op: 'remove', path: p })) : undefined;
      },
      { dryRun: a.dryRun, known: result },
    );
    result = r.object;
  }
  return result;
}

function escapePointer(k: string): string {
  return k.replace(/~/g, '~0').replace(/\//g, '~1');
}

async function viewSecret(cmd: Command, deps: Deps, name: string, key: string | undefined): Promise<void> {
  const o = cmd.opts() as { reveal?: boolean };
  const printer = printerOf(cmd);
  const format = printer.format;
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
    deps.out.write(rows[0]!.bytes);
    return;
  }
  if (printer.structured) {
    const data = {
      name,
      namespace,
      type: s.type,
      keys: rows.map((r) => ({ key: r.key, size: r.size, type: r.type, ...(o.reveal ? { value: r.text ? r.bytes.toString('utf8') : r.bytes.toString('base64') } : {}) })),
    };
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
