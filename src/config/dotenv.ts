// --from-dotenv: shell-style .env files, which kubectl's --from-env-file does not read
// (kubectl#1610): `export`, quotes, escapes and multi-line values. `${VAR}` is kept literally:
// no interpolation, ever. Errors name FILE:LINE and the key, never the text of the line.
import { UsageError } from '../errors.js';
import { scanLines, type EnvEntry } from './env-file.js';

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\', $: '$', "'": "'" };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function parseDotenv(buf: Buffer, file: string): EnvEntry[] {
  const lines = scanLines(buf).map(({ bytes }, i) => {
    try {
      return utf8.decode(bytes);
    } catch {
      throw new UsageError(`${file}:${i + 1}: not valid UTF-8: save the file as UTF-8`);
    }
  });
  if (lines.length) lines[0] = lines[0].replace(/^\uFEFF/, '');
  const out: EnvEntry[] = [];
  const fail = (line: number, why: string): never => {
    throw new UsageError(`${file}:${line}: ${why}`);
  };
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('export ') || line.startsWith('export\t')) line = line.slice(7).trimStart();
    const eq = line.indexOf('=');
    if (eq < 0) fail(lineNo, 'expected KEY=VALUE (the line is not shown: it may hold a value)');
    const key = line.slice(0, eq).trim();
    if (!KEY.test(key)) fail(lineNo, 'invalid key: a key starts with a letter or "_" and holds letters, digits, "_", "-" or "." (the line is not shown: it may hold a value)');
    let rest = line.slice(eq + 1).trimStart();
    let value: string;
    if (rest.startsWith('"')) {
      // Double quotes: escapes, and the value may run over several lines.
      let buf = '';
      let j = 1;
      let closed = false;
      let startLine = lineNo;
      for (;;) {
        while (j < rest.length) {
          const ch = rest[j];
          if (ch === '\\' && j + 1 < rest.length) {
            const nx = rest[j + 1];
            buf += ESCAPES[nx] ?? '\\' + nx;
            j += 2;
          } else if (ch === '"') {
            closed = true;
            j++;
            break;
          } else {
            buf += ch;
            j++;
          }
        }
        if (closed) break;
        if (i + 1 >= lines.length) fail(startLine, `unterminated double-quoted value for ${key}`);
        i++;
        buf += '\n';
        rest = lines[i]!;
        j = 0;
      }
      const tail = rest.slice(j).trim();
      if (tail && !tail.startsWith('#')) fail(i + 1, `unexpected text after the closing quote of ${key}`);
      value = buf;
      startLine = lineNo;
    } else if (rest.startsWith("'")) {
      const end = rest.indexOf("'", 1);
      if (end < 0) fail(lineNo, `unterminated single-quoted value for ${key} (single-quoted values are one line)`);
      const tail = rest.slice(end + 1).trim();
      if (tail && !tail.startsWith('#')) fail(lineNo, `unexpected text after the closing quote of ${key}`);
      value = rest.slice(1, end);
    } else {
      // Unquoted: an inline comment starts at " #".
      const hash = rest.search(/\s#/);
      value = (hash >= 0 ? rest.slice(0, hash) : rest).trim();
    }
    out.push({ key, value, line: lineNo });
  }
  return out;
}
