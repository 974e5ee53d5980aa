// Turns --from-literal/--from-file/--from-env-file/--from-dotenv into key/value data, checking
// keys, duplicates and size before anything is sent. Folders and files are read as kubectl
// reads them (k8s.io/kubectl pkg/cmd/create/create_configmap.go, create_secret.go). No error
// quotes a value or text that may hold one: sources are often Secrets.
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { parseEnvFile, type EnvEntry } from './env-file.js';
import { parseDotenv } from './dotenv.js';

export interface Sources {
  literals: string[];
  files: string[];
  envFiles: string[];
  dotenvFiles?: string[];
  recursive?: boolean;
}

export interface Data {
  /** UTF-8 text values. */
  text: Record<string, string>;
  /** Binary values (ConfigMap binaryData; for Secrets everything is bytes anyway). */
  binary: Record<string, Buffer>;
  origin: Record<string, string>;
  /** One line per folder that held entries kubectl would skip (symlinks, sub-folders, devices). */
  warnings: string[];
}

const KEY = /^[-._a-zA-Z0-9]+$/;
/** etcd's limit on one object; keys and values are what count against it. */
export const MAX_BYTES = 1024 * 1024;

/** kubectl's IsConfigMapKey, as a sentence; undefined when valid. */
export function keyProblem(key: string): string | undefined {
  if (!key || key.length > 253 || !KEY.test(key) || key === '.' || key === '..' || key.startsWith('..')) {
    return `a key must be 253 characters or less and consist of letters, digits, "-", "_" or ".", and must not be "." or ".." nor start with ".."`;
  }
  return undefined;
}

/** Sub-folder files become `dir__file` keys with --recursive (documented in the README). */
export const FOLDER_SEPARATOR = '__';

function ordinal(n: number): string {
  return `${n}${n % 10 === 1 && n % 100 !== 11 ? 'st' : n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : 'th'}`;
}

/** A file-system error as a few words (no path: the caller names the flag and the file). */
export function fsProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return (
    { ENOENT: 'no such file or directory', EACCES: 'permission denied', EISDIR: 'is a folder', ENOTDIR: 'not a folder', ELOOP: 'too many levels of symbolic links' }[code ?? ''] ??
    `cannot read it (${code ?? 'unknown error'})`
  );
}

function readFile(file: string, flag: string): Buffer {
  let regular = true;
  try {
    const st = fs.statSync(file);
    regular = st.isFile() || st.isDirectory();
  } catch {
    // readFileSync below names the problem.
  }
  // A FIFO or device would block the read (and Ctrl-C with it): only regular files are sources.
  if (!regular) throw new UsageError(`${flag} ${file}: not a regular file`);
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new UsageError(`${flag} ${file}: ${fsProblem(e)}`);
  }
}

/** kubectl's ParseFileSource: `PATH` (key = its base name) or `KEY=PATH`, one "=" at most. */
export function parseFileSource(spec: string): { key?: string; file: string } {
  const n = spec.split('=').length - 1;
  if (n === 0) return { file: spec };
  if (n > 1) throw new UsageError(`--from-file ${spec}: key names or file paths cannot contain "=" (as in kubectl)`);
  const [key, file] = spec.split('=') as [string, string];
  if (!key) throw new UsageError(`--from-file ${spec}: the key name before "=" is missing`);
  if (!file) throw new UsageError(`--from-file ${spec}: the file path after "=" is missing`);
  return { key, file };
}

export function readSources(s: Sources, env: NodeJS.ProcessEnv = {}): Data {
  const d: Data = { text: {}, binary: {}, origin: {}, warnings: [] };
  const add = (key: string, value: string | Buffer, origin: string, showKey = true) => {
    const problem = keyProblem(key);
    if (problem) throw new UsageError(showKey ? `invalid key "${key}" from ${origin}: ${problem}` : `invalid key from ${origin}: ${problem}`);
    if (d.origin[key]) throw new UsageError(`key "${key}" is given twice: ${d.origin[key] === origin ? `by ${origin}, twice` : `by ${d.origin[key]} and by ${origin}`}`);
    d.origin[key] = origin;
    if (typeof value === 'string') d.text[key] = value;
    else if (isText(value)) d.text[key] = value.toString('utf8');
    else d.binary[key] = value;
  };
  s.literals.forEach((lit, i) => {
    // The text after "=", and the whole text when there is none, may be a secret: never echo it.
    const which = `the ${ordinal(i + 1)} --from-literal`;
    const eq = lit.indexOf('=');
    if (eq < 0) throw new UsageError(`${which}: want KEY=VALUE, found no "=" (the text is not shown: it may hold a value)`);
    if (eq === 0) throw new UsageError(`${which}: the key before "=" is empty (the value is not shown)`);
    const key = lit.slice(0, eq);
    add(key, lit.slice(eq + 1), keyProblem(key) ? which : `--from-literal ${key}`, false);
  });
  for (const spec of s.files) {
    const { key, file } = parseFileSource(spec);
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch (e) {
      throw new UsageError(`--from-file ${file}: ${fsProblem(e)}`);
    }
    if (st.isDirectory()) {
      if (key) throw new UsageError(`--from-file ${spec}: a KEY= cannot name a folder`);
      const skipped: string[] = [];
      for (const f of walk(file, s.recursive ?? false, skipped)) {
        add(f.rel.split(path.sep).join(FOLDER_SEPARATOR), readFile(f.abs, '--from-file'), `file ${f.abs}`);
      }
      if (skipped.length) d.warnings.push(`skipped in ${file} (only regular files are read, as kubectl does): ${skipped.join(', ')}`);
    } else {
      add(key ?? path.basename(file), readFile(file, '--from-file'), `file ${file}`);
    }
  }
  const envLike = (files: string[], flag: string, parse: (b: Buffer, f: string) => EnvEntry[]) => {
    for (const file of files) {
      let st: fs.Stats;
      try {
        st = fs.statSync(file);
      } catch (e) {
        throw new UsageError(`${flag} ${file}: ${fsProblem(e)}`);
      }
      if (st.isDirectory()) throw new UsageError(`${flag} ${file}: is a folder, not a file`);
      for (const e of parse(readFile(file, flag), file)) {
        add(e.key, e.value, `${file}:${e.line}`);
        // Not naming the key: a line holding only a name may be a value pasted on its own.
        if (e.unset) d.warnings.push(`${file}:${e.line}: no "=" and no such environment variable: the key gets an empty value (as kubectl does)`);
      }
    }
  };
  envLike(s.envFiles, '--from-env-file', (b, f) => parseEnvFile(b, f, env));
  envLike(s.dotenvFiles ?? [], '--from-dotenv', parseDotenv);
  const size = Object.entries(d.text).reduce((n, [k, v]) => n + k.length + Buffer.byteLength(v), 0) + Object.entries(d.binary).reduce((n, [k, v]) => n + k.length + v.length, 0);
  if (size > MAX_BYTES) throw new UsageError(`the data is ${size} bytes, over the 1 MiB (${MAX_BYTES} bytes) limit of one Kubernetes object`);
  return d;
}

/**
 * kubectl takes the entries whose type is "regular file" (lstat, so symlinks are never
 * followed: a link in a checked-out folder cannot upload a file from outside it). Everything
 * else is named in `skipped`; sub-folders are walked only with --recursive, by the same rule.
 */
function walk(dir: string, recursive: boolean, skipped: string[], base = dir): { abs: string; rel: string }[] {
  const out: { abs: string; rel: string }[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw new UsageError(`--from-file ${dir}: ${fsProblem(e)}`);
  }
  // Go's os.ReadDir order (bytes), not the locale's.
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const ent of entries) {
    const abs = path.join(dir, ent.name);
    const rel = path.relative(base, abs);
    if (ent.isFile()) out.push({ abs, rel });
    else if (ent.isDirectory()) {
      if (recursive) out.push(...walk(abs, true, skipped, base));
      else skipped.push(`${rel} (folder; --recursive reads it)`);
    } else if (ent.isSymbolicLink()) skipped.push(`${rel} (symbolic link${fs.existsSync(abs) ? '' : ', dangling'})`);
    else skipped.push(`${rel} (not a regular file)`);
  }
  return out;
}

/** kubectl's rule for ConfigMaps: valid UTF-8 is text (NUL included), anything else binaryData. */
function isText(b: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

export interface KeyChange {
  key: string;
  op: 'added' | 'changed' | 'removed' | 'kept';
  from?: string;
  to?: string;
}

/** Key-level diff from the cluster's values to ours; `merge` keeps keys only the cluster has. */
export function diffData(current: Record<string, string>, next: Record<string, string>, merge: boolean): KeyChange[] {
  const out: KeyChange[] = [];
  for (const k of Object.keys(next).sort()) {
    if (!(k in current)) out.push({ key: k, op: 'added', to: next[k] });
    else if (current[k] !== next[k]) out.push({ key: k, op: 'changed', from: current[k], to: next[k] });
  }
  for (const k of Object.keys(current).sort()) if (!(k in next)) out.push({ key: k, op: merge ? 'kept' : 'removed', from: current[k] });
  return out;
}

export function shorten(v: string | undefined, max = 40): string {
  if (v === undefined) return '';
  const one = JSON.stringify(v);
  return one.length > max ? one.slice(0, max - 4) + '..."' : one;
}
