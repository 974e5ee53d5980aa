import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { diffData, parseFileSource, readSources, shorten } from '../../src/config/sources.js';
import { tempDir } from '../helpers.js';

function tree(): string {
  const dir = tempDir('mlops-src-');
  fs.mkdirSync(path.join(dir, 'conf', 'sub', 'deeper'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'conf', 'a.txt'), 'A');
  fs.writeFileSync(path.join(dir, 'conf', 'sub', 'b.yaml'), 'b: 1');
  fs.writeFileSync(path.join(dir, 'conf', 'sub', 'deeper', 'c.bin'), Buffer.from([0xff, 0x00, 0x10]));
  fs.writeFileSync(path.join(dir, 'model.json'), '{}');
  return dir;
}

describe('readSources', () => {
  it('a folder gives one key per file; sub-folders only with --recursive, as dir__file', () => {
    const dir = tree();
    expect(Object.keys(readSources({ literals: [], files: [path.join(dir, 'conf')], envFiles: [] }).origin)).toEqual(['a.txt']);
    const d = readSources({ literals: [], files: [path.join(dir, 'conf')], envFiles: [], recursive: true });
    expect(d.text).toEqual({ 'a.txt': 'A', 'sub__b.yaml': 'b: 1' });
    expect(d.binary).toEqual({ 'sub__deeper__c.bin': Buffer.from([0xff, 0x00, 0x10]) });
  });

  it('KEY=PATH renames a file; literals keep "=" in values', () => {
    const dir = tree();
    const d = readSources({ literals: ['url=http://x/?a=b'], files: [`config.json=${path.join(dir, 'model.json')}`], envFiles: [] });
    expect(d.text).toEqual({ url: 'http://x/?a=b', 'config.json': '{}' });
    expect(d.origin['config.json']).toBe(`file ${path.join(dir, 'model.json')}`);
  });

  it('names the missing file and refuses KEY= for a folder', () => {
    expect(() => readSources({ literals: [], files: ['/nope/x'], envFiles: [] })).toThrow('--from-file /nope/x: no such file or directory');
    const dir = tree();
    expect(() => readSources({ literals: [], files: [`k=${path.join(dir, 'conf')}`], envFiles: [] })).toThrow('a KEY= cannot name a folder');
    expect(() => readSources({ literals: [], files: [], envFiles: ['/nope.env'] })).toThrow('--from-env-file /nope.env: no such file or directory');
    expect(() => readSources({ literals: [], files: [], envFiles: [path.join(dir, 'conf')] })).toThrow(`--from-env-file ${path.join(dir, 'conf')}: is a folder, not a file`);
  });

  it('a folder gives its regular files only, as kubectl: symlinks (also to files inside), dangling links and sub-folders are named in one warning', () => {
    const dir = tempDir('mlops-links-');
    const outside = path.join(dir, 'id_ed25519');
    fs.writeFileSync(outside, 'PRIVATE-KEY-CANARY');
    const folder = path.join(dir, 'repo');
    fs.mkdirSync(path.join(folder, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(folder, 'app.conf'), 'x=1');
    fs.writeFileSync(path.join(folder, 'sub', 'inner.txt'), 'in');
    fs.symlinkSync(outside, path.join(folder, 'key'));
    fs.symlinkSync(path.join(folder, 'app.conf'), path.join(folder, 'alias.conf'));
    fs.symlinkSync(path.join(dir, 'gone'), path.join(folder, 'dangling'));
    fs.symlinkSync(path.join(folder, 'sub'), path.join(folder, 'sublink'));
    const d = readSources({ literals: [], files: [folder], envFiles: [] });
    expect(d.text).toEqual({ 'app.conf': 'x=1' });
    expect(d.warnings).toEqual([
      `skipped in ${folder} (only regular files are read, as kubectl does): alias.conf (symbolic link), dangling (symbolic link, dangling), key (symbolic link), sub (folder; --recursive reads it), sublink (symbolic link)`,
    ]);
    const r = readSources({ literals: [], files: [folder], envFiles: [], recursive: true });
    expect(r.text).toEqual({ 'app.conf': 'x=1', 'sub__inner.txt': 'in' });
    expect(JSON.stringify(r)).not.toContain('CANARY');
  });

  it('a FIFO in a folder is skipped, never opened (reading it would block)', () => {
    const dir = tempDir('mlops-fifo-');
    fs.writeFileSync(path.join(dir, 'ok.txt'), 'ok');
    execFileSync('mkfifo', [path.join(dir, 'pipe')]);
    const d = readSources({ literals: [], files: [dir], envFiles: [] });
    expect(d.text).toEqual({ 'ok.txt': 'ok' });
    expect(d.warnings).toEqual([`skipped in ${dir} (only regular files are read, as kubectl does): pipe (not a regular file)`]);
  });

  it('a file named explicitly is read even through a symlink, as kubectl (the user chose it)', () => {
    const dir = tempDir('mlops-link1-');
    fs.writeFileSync(path.join(dir, 'real'), 'v');
    fs.symlinkSync(path.join(dir, 'real'), path.join(dir, 'link'));
    expect(readSources({ literals: [], files: [path.join(dir, 'link')], envFiles: [] }).text).toEqual({ link: 'v' });
    expect(() => readSources({ literals: [], files: [path.join(dir, 'nolink')], envFiles: [] })).toThrow('no such file or directory');
  });

  it('valid UTF-8 is text (NUL included), anything else binary, as kubectl', () => {
    const dir = tempDir('mlops-bin-');
    fs.writeFileSync(path.join(dir, 'nul'), Buffer.from([0x61, 0x00, 0x62]));
    fs.writeFileSync(path.join(dir, 'latin1'), Buffer.from([0x63, 0xe9]));
    const d = readSources({ literals: [], files: [dir], envFiles: [] });
    expect(d.text).toEqual({ nul: 'a\u0000b' });
    expect(d.binary).toEqual({ latin1: Buffer.from([0x63, 0xe9]) });
  });

  it.each([
    ['k=a=b', '--from-file k=a=b: key names or file paths cannot contain "=" (as in kubectl)'],
    ['=file', '--from-file =file: the key name before "=" is missing'],
    ['key=', '--from-file key=: the file path after "=" is missing'],
  ])('--from-file %j is refused as kubectl refuses it', (spec, msg) => expect(() => parseFileSource(spec)).toThrow(msg));

  it.each([
    [['=hunter2-canary'], 'the 1st --from-literal: the key before "=" is empty (the value is not shown)'],
    [['A=1', 'hunter2-canary'], 'the 2nd --from-literal: want KEY=VALUE, found no "=" (the text is not shown: it may hold a value)'],
    [['my key=hunter2-canary'], 'invalid key from the 1st --from-literal: a key must be 253 characters or less'],
  ])('--from-literal %j: the error quotes no value', (literals, msg) => {
    let m = '';
    try {
      readSources({ literals, files: [], envFiles: [] });
    } catch (e) {
      m = (e as Error).message;
    }
    expect(m).toContain(msg);
    expect(m).not.toContain('hunter2');
  });

  it('--from-env-file takes KEY alone from the given environment; --from-dotenv reads shell style', () => {
    const dir = tempDir('mlops-env-');
    fs.writeFileSync(path.join(dir, 'a.env'), 'FROM_ENV\nQ="kept"\n');
    fs.writeFileSync(path.join(dir, 'b.env'), 'export R="unquoted"\n');
    const d = readSources({ literals: [], files: [], envFiles: [path.join(dir, 'a.env')], dotenvFiles: [path.join(dir, 'b.env')] }, { FROM_ENV: 'env value' });
    expect(d.text).toEqual({ FROM_ENV: 'env value', Q: '"kept"', R: 'unquoted' });
    expect(d.origin.R).toBe(`${path.join(dir, 'b.env')}:1`);
    expect(d.warnings).toEqual([]);
    fs.writeFileSync(path.join(dir, 'c.env'), 'A=1\nhunter2canary\n');
    const unset = readSources({ literals: [], files: [], envFiles: [path.join(dir, 'c.env')] }, {});
    expect(unset.text).toEqual({ A: '1', hunter2canary: '' });
    expect(unset.warnings).toEqual([`${path.join(dir, 'c.env')}:2: no "=" and no such environment variable: the key gets an empty value (as kubectl does)`]);
  });
});

describe('diffData', () => {
  it('says added, changed, removed, or kept with --merge', () => {
    expect(diffData({ a: '1', b: '2', c: '3' }, { a: '1', b: '20', d: '4' }, false)).toEqual([
      { key: 'b', op: 'changed', from: '2', to: '20' },
      { key: 'd', op: 'added', to: '4' },
      { key: 'c', op: 'removed', from: '3' },
    ]);
    expect(diffData({ c: '3' }, {}, true)).toEqual([{ key: 'c', op: 'kept', from: '3' }]);
  });

  it('shortens long values', () => {
    expect(shorten('x'.repeat(100))).toBe(`"${'x'.repeat(35)}..."`);
    expect(shorten('a\nb')).toBe('"a\\nb"');
  });
});
