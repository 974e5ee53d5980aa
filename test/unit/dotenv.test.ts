import { describe, expect, it } from 'vitest';
import { parseDotenv } from '../../src/config/dotenv.js';

const parse = (text: string) => Object.fromEntries(parseDotenv(Buffer.from(text), 'app.env').map((e) => [e.key, e.value]));

describe('--from-dotenv parser', () => {
  it.each([
    ['A=1', { A: '1' }],
    ['  A = 1  ', { A: '1' }],
    ['# comment\n\nA=1\n   # indented comment', { A: '1' }],
    ['export A=1', { A: '1' }],
    ['A=', { A: '' }],
    ['A=x=y=z', { A: 'x=y=z' }],
    ['A=value # trailing comment', { A: 'value' }],
    ['A=value#not-a-comment', { A: 'value#not-a-comment' }],
    ["A='single $HOME \\n kept'", { A: 'single $HOME \\n kept' }],
    ['A="tab\\there\\nnew \\"quoted\\" \\\\ back"', { A: 'tab\there\nnew "quoted" \\ back' }],
    ['A="line one\nline two\n  line three"', { A: 'line one\nline two\n  line three' }],
    ['A="multi\nline" # comment after\nB=2', { A: 'multi\nline', B: '2' }],
    ['A=${HOME}/x', { A: '${HOME}/x' }],
    ['A="${HOME}"', { A: '${HOME}' }],
    ['A="# not a comment"', { A: '# not a comment' }],
    ['A=1\r\nB=2\r\n', { A: '1', B: '2' }],
    ['\uFEFFA=1', { A: '1' }],
    ['A.b-c_d=1', { 'A.b-c_d': '1' }],
  ])('%j', (text, want) => expect(parse(text)).toEqual(want));

  it('keeps line numbers', () => {
    expect(parseDotenv(Buffer.from('\n# c\nA=1\nB="x\ny"\nC=3'), 'f').map((e) => [e.key, e.line])).toEqual([
      ['A', 3],
      ['B', 4],
      ['C', 6],
    ]);
  });

  it.each([
    ['A=1\nnot a pair', 'app.env:2: expected KEY=VALUE (the line is not shown: it may hold a value)'],
    ['1A=x', 'app.env:1: invalid key: a key starts with a letter'],
    ['=x', 'app.env:1: invalid key: a key starts with a letter'],
    ['A=1\nB="never closed\nC=3', 'app.env:2: unterminated double-quoted value for B'],
    ["A='open", 'app.env:1: unterminated single-quoted value for A (single-quoted values are one line)'],
    ['A="x" y', 'app.env:1: unexpected text after the closing quote of A'],
    ['A=1\nB="x\ny" z', 'app.env:3: unexpected text after the closing quote of B'],
    ['A=1\nB=caf\xe9', 'app.env:2: not valid UTF-8'],
  ])('rejects %j with FILE:LINE', (text, msg) => expect(() => parseDotenv(Buffer.from(text, 'latin1'), 'app.env')).toThrow(msg));

  it.each([
    'PASSWORD hunter2-canary',
    'TOKEN="hunter2-canary" hunter2-canary',
    "TOKEN='hunter2-canary' hunter2-canary",
    'hunter2-canary',
    '1hunter2-canary=x',
    'A="hunter2-canary',
  ])('an error about %j does not quote the line', (line) => {
    let msg = '';
    try {
      parseDotenv(Buffer.from(`A=1\n${line}\n`), 'app.env');
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/^app\.env:2: /);
    expect(msg).not.toContain('hunter2');
  });
});
