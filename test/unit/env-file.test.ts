import { describe, expect, it } from 'vitest';
import { MAX_LINE_BYTES, parseEnvFile } from '../../src/config/env-file.js';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const parse = (text: string | Buffer, env: NodeJS.ProcessEnv = {}) =>
  Object.fromEntries(parseEnvFile(typeof text === 'string' ? Buffer.from(text) : text, 'app.env', env).map((e) => [e.key, e.value]));
const error = (text: string | Buffer, env: NodeJS.ProcessEnv = {}): string => {
  try {
    parseEnvFile(typeof text === 'string' ? Buffer.from(text) : text, 'app.env', env);
  } catch (e) {
    return (e as Error).message;
  }
  return '(no error)';
};

// Ported from k8s.io/kubectl@v0.35.4 pkg/cmd/util/env_file_test.go (Test_processEnvFileLine and
// Test_processEnvFileLine_readEnvironment); there a line index is 0-based, here lines are numbered.
describe('--from-env-file: kubectl test cases', () => {
  it('the utf8bom is trimmed on the first line', () => expect(parse(Buffer.concat([BOM, Buffer.from('a=c')]))).toEqual({ a: 'c' }));
  it('the utf8bom is NOT trimmed on the second line', () =>
    expect(error(Buffer.concat([Buffer.from('x=1\n'), BOM, Buffer.from('a=c')]))).toBe(
      'app.env:2: character 1 of the key is a character other than letters, digits, "_", "-" and "."',
    ));
  it('no key is returned on a comment line', () => expect(parse(' #c')).toEqual({}));
  it('no key is returned on a blank line', () => expect(parse('  \t')).toEqual({}));
  it('key is returned even with no value', () => expect(parse(' x=')).toEqual({ x: '' }));
  it('a line with no "=" takes the value from the environment', () => {
    expect(parse('k8s_test_env_file_key', { k8s_test_env_file_key: 'my_value' })).toEqual({ k8s_test_env_file_key: 'my_value' });
  });
});

describe('--from-env-file: kubectl semantics', () => {
  it.each([
    ['quotes are kept', 'A="quoted"\nB=\'single\'', { A: '"quoted"', B: "'single'" }],
    ['no inline comments', 'A=abc #comment', { A: 'abc #comment' }],
    ['trailing spaces are kept', 'A=1  \nB= 2', { A: '1  ', B: ' 2' }],
    ['leading whitespace of the line is dropped', '\t  A=1', { A: '1' }],
    ['Go unicode.IsSpace, not JavaScript \\s: NEL and NBSP are spaces', '\u0085\u00a0A=1', { A: '1' }],
    ['only the first "=" splits', 'A=x=y=z', { A: 'x=y=z' }],
    ['one CR before LF is dropped', 'A=1\r\nB=2\r\r\n', { A: '1', B: '2\r' }],
    ['a last line without LF counts; a CR at the very end is dropped', 'A=1\nB=2\r', { A: '1', B: '2' }],
    ['a CR alone does not end a line (bufio.ScanLines)', 'A=1\rB=2', { A: '1\rB=2' }],
    ['no escapes', 'A=a\\nb', { A: 'a\\nb' }],
    ['${VAR} is kept', 'A=${HOME}', { A: '${HOME}' }],
    ['keys with "." and "-"', 'a.b-c_D=1\n.x=2', { 'a.b-c_D': '1', '.x': '2' }],
  ])('%s', (_what, text, want) => expect(parse(text)).toEqual(want));

  it('a name alone with no such environment variable gives an empty value, as os.Getenv', () => expect(parse('UNSET_X')).toEqual({ UNSET_X: '' }));

  it('keeps line numbers', () =>
    expect(parseEnvFile(Buffer.from('\n# c\nA=1\n\nB=2'), 'f', {}).map((e) => [e.key, e.line])).toEqual([
      ['A', 3],
      ['B', 5],
    ]));

  it.each([
    ['A = 1', 'app.env:1: character 2 of the key is a space'],
    ['export A=1', 'app.env:1: the key starts with "export ", which is not part of this format (use --from-dotenv for shell-style files)'],
    ['=x', 'app.env:1: the key before "=" is empty'],
    ['1A=x', 'app.env:1: a key must not start with a digit'],
    ['..A=x', 'app.env:1: a key must not be "." or ".." nor start with ".."'],
    ['.=x', 'app.env:1: a key must not be "." or ".." nor start with ".."'],
    [`${'K'.repeat(254)}=x`, 'app.env:1: the key is 254 characters long, over the limit of 253'],
    ['A=1\nB=caf\u00e9', '(no error)'],
  ])('refuses %j with FILE:LINE', (text, msg) => expect(error(text)).toBe(msg));

  it('refuses invalid UTF-8 with FILE:LINE, as kubectl (which stores nothing)', () => {
    expect(error(Buffer.from('A=1\nB=caf\xe9\n', 'latin1'))).toBe('app.env:2: not valid UTF-8 (kubectl refuses it too): save the file as UTF-8');
  });

  it('refuses a line kubectl would silently stop at (64 KiB), and takes one just under', () => {
    const under = `A=${'x'.repeat(MAX_LINE_BYTES - 3)}`;
    expect(parse(`${under}\nB=1`)).toEqual({ A: 'x'.repeat(MAX_LINE_BYTES - 3), B: '1' });
    expect(error(`B=1\nA=${'x'.repeat(MAX_LINE_BYTES - 2)}\nC=1`)).toMatch(/^app\.env:2: the line is longer than 64 KiB/);
  });

  it.each(['PASSWORD hunter2-canary', 'PASSWORD hunter2-canary=x', '1hunter2-canary', '1hunter2-canary=x', 'a b hunter2-canary=1'])(
    'an error about %j quotes no part of the line',
    (line) => {
      const msg = error(`A=1\n${line}\n`);
      expect(msg).toMatch(/^app\.env:2: /);
      expect(msg).not.toContain('hunter2');
      expect(msg).not.toContain('PASSWORD');
    },
  );
});
