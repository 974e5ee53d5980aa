// Turns --from-literal/--from-file/--from-env-file into key/value data, checking keys,
// duplicates and size before anything is sent.
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { parseEnvFile } from './env-file.js';

export interface Sources {
  literals: string[];
  files: string[];
  envFiles: string[];
  recursive?: boolean;
}

export interface Data {
  /** UTF-8 text values. */
  text: Record<string, string>;
  /** Binary values (ConfigMap binaryData; for Secrets everything is bytes anyway). */
  binary: Record<string, Buffer>;
  origin: Record<string, string>;
}

const KEY = /^[-._a-zA-Z0-9]+$/;
/** etcd's limit on one object; keys and values are what count against it. */
export const MAX_BYTES = 1024 * 1024;

export function keyProblem(key: string): string | undefined {
  if (!key || key.length > 253 || !KEY.test(key) || key === '.' || key === '..' || key.startsWith('..')) {
    return `a key must be 253 characters or less and consist of letters, digits, "-", "_" or "."`;
  }
  return undefined;
}

/** Sub-folder files become `dir__file` keys with --recursive (documented in the README). */
export const FOLDER_SEPARATOR = '__';

export function readSources(s: Sources): Data {
  const d: Data = { text: {}, binary: {}, origin: {} };
  const add = (key: string, value: string | Buffer, origin: string) => {
    const problem = keyProblem(key);
    if (problem) throw new UsageError(`invalid key "${key}" from ${origin}: ${problem}`);
    if (d.origin[key]) throw new UsageError(`key "${key}" is given twice: by ${d.origin[key]} and by ${origin}`);
    d.origin[key] = origin;
    if (typeof value === 'string') d.text[key] = value;
    else if (isText(value)) d.text[key] = value.toString('utf8');
    else d.binary[key] = value;
  };
  for (const lit of s.literals) {
    const eq = lit.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid value "${lit}" for --from-literal: want KEY=VALUE`);
    add(lit.slice(0, eq), lit.slice(eq + 1), `--from-literal ${lit.slice(0, eq)}`);
  }
  for (const spec of s.files) {
    const eq = spec.indexOf('=');
    const [key, file] = eq > 0 ? [spec.slice(0, eq), spec.slice(eq + 1)] : [undefined, spec];
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      throw new UsageError(`--from-file ${file}: no such file or directory`);
    }
    if (st.isDirectory()) {
      if (key) throw new UsageError(`--from-file ${spec}: a KEY= cannot name a folder`);
      for (const f of walk(file, s.recursive ?? false)) {
        add(f.rel.split(path.sep).join(FOLDER_SEPARATOR), fs.readFileSync(f.abs), `file ${f.abs}`);
      }
    } else {
      add(key ?? path.basename(file), fs.readFileSync(file), `file ${file}`);
    }
  }
  for (const file of s.envFiles) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      throw new UsageError(`--from-env-file ${file}: no such file`);
    }
    for (const e of parseEnvFile(text, file)) add(e.key, e.value, `${file}:${e.line}`);
  }
  const size = Object.entries(d.text).reduce((n, [k, v]) => n + k.length + Buffer.byteLength(v), 0) + Object.entries(d.binary).reduce((n, [k, v]) => n + k.length + v.length, 0);
  if (size > MAX_BYTES) throw new UsageError(`the data is ${size} bytes, over the 1 MiB (${MAX_BYTES} bytes) limit of one Kubernetes object`);
  return d;
}

function walk(dir: string, recursive: boolean, base = dir): { abs: string; rel: string }[] {
  const out: { abs: string; rel: string }[] = [];
  for (const ent of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const abs = path.join(dir, ent.name);
    if (ent.isDirectory()) {
      if (recursive) out.push(...walk(abs, true, base));
    } else if (ent.isFile() || (ent.isSymbolicLink() && fs.statSync(abs).isFile())) {
      out.push({ abs, rel: path.relative(base, abs) });
    }
  }
  return out;
}

function isText(b: Buffer): boolean {
  if (b.includes(0)) return false;
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
