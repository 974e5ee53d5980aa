// --from-env-file, read exactly as kubectl reads it (k8s.io/kubectl pkg/cmd/util/env_file.go,
// AddFromEnvFile/processEnvFileLine at v0.35.4), so a pod gets the same environment whichever
// tool built its ConfigMap: lines split on "\n" with one trailing "\r" dropped, a BOM dropped on
// line 1 only, leading whitespace dropped, "#" lines skipped, the key is everything before the
// first "=", the value everything after it (no trimming, no quote removal, no comments), and a
// line holding only a name takes its value from the environment.
// Where kubectl echoes the line in an error (which leaks values into CI logs), or silently stops
// reading at a line over 64 KiB, this reader names FILE:LINE and the problem, never the text.
import { UsageError } from '../errors.js';

export interface EnvEntry {
  key: string;
  value: string;
  line: number;
  /** A name alone whose variable is not set: kubectl stores "" without a word. */
  unset?: true;
}

/** bufio.Scanner's default limit: kubectl stops reading the file at a longer line. */
export const MAX_LINE_BYTES = 64 * 1024;

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

// Go's unicode.IsSpace: JavaScript's \s differs (it has U+FEFF and lacks U+0085).
const GO_SPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f,
  0x3000,
]);

function trimLeftGoSpace(s: string): string {
  let i = 0;
  while (i < s.length && GO_SPACE.has(s.charCodeAt(i))) i++;
  return s.slice(i);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Why `key` is not a valid environment variable name (kubectl's IsEnvVarName plus the 253
 * character limit of a ConfigMap key), described without quoting it: an invalid "key" is often
 * a value typed on the wrong line. Undefined when the key is valid.
 */
export function envKeyProblem(key: string): string | undefined {
  if (key === '') return 'the key before "=" is empty';
  if (/^export[ \t]/.test(key)) return 'the key starts with "export ", which is not part of this format (use --from-dotenv for shell-style files)';
  if (key === '.' || key === '..' || key.startsWith('..')) return 'a key must not be "." or ".." nor start with ".."';
  if (key.length > 253) return `the key is ${key.length} characters long, over the limit of 253`;
  if (ENV_NAME.test(key)) return undefined;
  if (/^[0-9]/.test(key)) return 'a key must not start with a digit';
  const bad = [...key].findIndex((c) => !/[-._a-zA-Z0-9]/.test(c));
  const what = GO_SPACE.has([...key][bad].codePointAt(0)!) ? 'a space' : 'a character other than letters, digits, "_", "-" and "."';
  return `character ${bad + 1} of the key is ${what}`;
}

/** Splits like bufio.ScanLines: "\n" ends a line, one "\r" before it is dropped, no empty last line. */
export function scanLines(buf: Buffer): { bytes: Buffer; scanned: number }[] {
  const lines: { bytes: Buffer; scanned: number }[] = [];
  let start = 0;
  while (start < buf.length) {
    let end = buf.indexOf(0x0a, start);
    const next = end < 0 ? buf.length : end + 1;
    if (end < 0) end = buf.length;
    // `scanned`: what bufio.Scanner had to hold before finding the end of the line.
    lines.push({ bytes: buf.subarray(start, end > start && buf[end - 1] === 0x0d ? end - 1 : end), scanned: end - start });
    start = next;
  }
  return lines;
}

export function parseEnvFile(buf: Buffer, file: string, env: NodeJS.ProcessEnv): EnvEntry[] {
  const out: EnvEntry[] = [];
  const lines = scanLines(buf);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const { bytes: raw, scanned } = lines[i];
    const fail = (why: string): never => {
      throw new UsageError(`${file}:${lineNo}: ${why}`);
    };
    if (scanned >= MAX_LINE_BYTES) {
      fail(`the line is longer than 64 KiB: kubectl's reader silently stops there, this one refuses (use --from-file for large values)`);
    }
    let line: string;
    try {
      line = utf8.decode(raw);
    } catch {
      fail('not valid UTF-8 (kubectl refuses it too): save the file as UTF-8');
    }
    if (i === 0) line = line!.replace(/^\uFEFF/, '');
    line = trimLeftGoSpace(line!);
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    const problem = envKeyProblem(key);
    if (problem) {
      fail(eq < 0 ? 'not KEY=VALUE, and not a variable name that takes its value from the environment (the line is not shown: it may hold a value)' : problem);
    }
    if (eq < 0 && env[key] === undefined) out.push({ key, value: '', line: lineNo, unset: true });
    else out.push({ key, value: eq < 0 ? env[key]! : line.slice(eq + 1), line: lineNo });
  }
  return out;
}
