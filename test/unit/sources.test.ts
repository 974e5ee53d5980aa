import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { diffData, readSources, shorten } from '../../src/config/sources.js';
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
    expect(() => readSources({ literals: [], files: [], envFiles: ['/nope.env'] })).toThrow('--from-env-file /nope.env: no such file');
    expect(() => readSources({ literals: ['novalue'], files: [], envFiles: [] })).toThrow('invalid value "novalue" for --from-literal: want KEY=VALUE');
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
