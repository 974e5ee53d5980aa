// kubectl create configmap/secret is the oracle for config and secret: each scenario builds twin
// objects, one with kubectl and one with the plugin, from the same sources, and compares the
// stored data, type and outcome.
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { adminKube, freshNamespace, mlops } from './helpers.js';
import { kubectl, sameOutcome, twins } from './oracle.js';
import { R, pathOf } from '../../src/kube/resources.js';
import type { ConfigMap, Secret } from '../../src/kube/types.js';
import type { Kube } from '../../src/kube/client.js';

let kube: Kube;
let ns: string;
let dir: string;

beforeAll(async () => {
  kube = adminKube();
  ns = await freshNamespace(kube, 'cfg-oracle');
  dir = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'mlops-oracle-'));
});

const cmState = (base: string) => async (twin: 'a' | 'b') => {
  const c = await kube.getOptional<ConfigMap>(pathOf(R.configmaps, { namespace: ns, name: `${base}-${twin}` }));
  return c && { data: c.data ?? {}, binaryData: c.binaryData ?? {} };
};
const secretState = (base: string) => async (twin: 'a' | 'b') => {
  const s = await kube.getOptional<Secret>(pathOf(R.secrets, { namespace: ns, name: `${base}-${twin}` }));
  return s && { type: s.type, data: s.data ?? {} };
};

/** The same sources through `kubectl create configmap` (twin a) and `config` (twin b), then `secret` likewise. */
async function both(base: string, sources: string[], opts: { env?: Record<string, string> } = {}) {
  const cm = await twins({
    oracle: () => kubectl(['create', 'configmap', `${base}-a`, ...sources, '-n', ns], opts),
    plugin: () => mlops(['config', `${base}-b`, ...sources, '-n', ns], opts),
    state: cmState(base),
  });
  const sec = await twins({
    oracle: () => kubectl(['create', 'secret', 'generic', `${base}-s-a`, ...sources, '-n', ns], opts),
    plugin: () => mlops(['secret', `${base}-s-b`, ...sources, '-n', ns], opts),
    state: secretState(`${base}-s`),
  });
  return { cm, sec };
}

function write(rel: string, content: string | Buffer): string {
  const f = path.join(dir, rel);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, content);
  return f;
}

describe('config and secret against kubectl create configmap/secret', () => {
  it('literals: the same data, "=" kept in values, spaces kept', async () => {
    const { cm, sec } = await both('lit', ['--from-literal', 'a=1', '--from-literal', 'url=http://x/?q=1&r=2', '--from-literal', 'padded=  two  ', '--from-literal', 'empty=']);
    expect(sameOutcome(cm.a.run, cm.b.run)).toEqual(['ok', 'ok']);
    expect(cm.b.state).toEqual(cm.a.state);
    expect(cm.a.state!.data).toMatchObject({ padded: '  two  ', url: 'http://x/?q=1&r=2' });
    expect(sameOutcome(sec.a.run, sec.b.run)).toEqual(['ok', 'ok']);
    expect(sec.b.state).toEqual(sec.a.state);
  });

  it('files: name = base name, KEY=PATH, UTF-8 with NUL as text, other bytes as binaryData', async () => {
    const text = write('files/model.json', '{"layers": 50}\n');
    const nul = write('files/nul.txt', Buffer.from([0x61, 0x00, 0x62]));
    const bin = write('files/weights.bin', Buffer.from([0xff, 0xfe, 0x00, 0x01]));
    const { cm, sec } = await both('file', ['--from-file', text, '--from-file', `renamed.txt=${nul}`, '--from-file', bin]);
    expect(sameOutcome(cm.a.run, cm.b.run)).toEqual(['ok', 'ok']);
    expect(cm.b.state).toEqual(cm.a.state);
    expect(Object.keys(cm.a.state!.binaryData)).toEqual(['weights.bin']);
    expect(sec.b.state).toEqual(sec.a.state);
  });

  it('a symlink named on the command line is followed by both (the user chose it); a dangling one fails both', async () => {
    const real = write('explicit/real.txt', 'through the link');
    const link = path.join(dir, 'explicit', 'link.txt');
    fs.symlinkSync(real, link);
    const { cm, sec } = await both('explicit', ['--from-file', link]);
    expect(sameOutcome(cm.a.run, cm.b.run)).toEqual(['ok', 'ok']);
    expect(cm.b.state).toEqual(cm.a.state);
    expect(cm.a.state!.data).toEqual({ 'link.txt': 'through the link' });
    expect(sec.b.state).toEqual(sec.a.state);
    const dangling = path.join(dir, 'explicit', 'dangling.txt');
    fs.symlinkSync(path.join(dir, 'explicit', 'gone'), dangling);
    const t = await twins({
      oracle: () => kubectl(['create', 'configmap', 'dangle-a', '--from-file', dangling, '-n', ns]),
      plugin: () => mlops(['config', 'dangle-b', '--from-file', dangling, '-n', ns]),
      state: cmState('dangle'),
    });
    expect(sameOutcome(t.a.run, t.b.run)).toEqual(['failed', 'failed']);
    expect(t.b.run).toMatchObject({ code: 2, err: `error: --from-file ${dangling}: no such file or directory\n` });
    expect(t.a.state).toBeUndefined();
    expect(t.b.state).toBeUndefined();
  });

  it('a folder: regular files only; symlinks (inside and outside), dangling links and sub-folders skipped as kubectl does, and named in one warning', async () => {
    const outside = write('outside/secret.key', 'OUTSIDE-THE-FOLDER');
    const a = write('folder/a.txt', 'A');
    write('folder/b.conf', 'b=1');
    write('folder/sub/c.txt', 'C');
    fs.symlinkSync(outside, path.join(dir, 'folder/link-out'));
    fs.symlinkSync(a, path.join(dir, 'folder/link-in'));
    fs.symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'folder/dangling'));
    const folder = path.join(dir, 'folder');
    const { cm, sec } = await both('dir', ['--from-file', folder]);
    expect(sameOutcome(cm.a.run, cm.b.run)).toEqual(['ok', 'ok']);
    expect(cm.b.state).toEqual(cm.a.state);
    expect(cm.a.state!.data).toEqual({ 'a.txt': 'A', 'b.conf': 'b=1' });
    expect(sec.b.state).toEqual(sec.a.state);
    // Deliberate difference: kubectl skips silently, the plugin says what it skipped.
    expect(cm.a.run.err).toBe('');
    expect(cm.b.run.err).toBe(
      `Warning: skipped in ${folder} (only regular files are read, as kubectl does): dangling (symbolic link, dangling), link-in (symbolic link), link-out (symbolic link), sub (folder; --recursive reads it)\n`,
    );
  });

  it('an env file: BOM, CRLF, leading spaces, comments, quotes kept, no inline comments, nothing trimmed, KEY alone from the environment', async () => {
    const env = write(
      'torture.env',
      Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from(
          [
            'FIRST=after-bom',
            '# a comment',
            '   # an indented comment',
            '',
            '  INDENTED=x',
            'DQ="double quoted"',
            "SQ='single quoted'",
            'HASH=abc #not a comment',
            'TRAIL=value   ',
            'LEAD=   value',
            'EQ=a=b=c',
            'EMPTY=',
            'CRLF=windows\r',
            'CR_MID=a\rb',
            '\u0085\u00a0NEL_NBSP=go spaces',
            'FROM_ENV',
            'UNSET_IN_ENV',
            'ESC=a\\nb',
            'VAR=${HOME}/x',
            'dots.and-dashes=ok',
            'LAST=no newline',
          ].join('\n'),
        ),
      ]),
    );
    const opts = { env: { FROM_ENV: 'from the environment' } };
    const { cm, sec } = await both('env', ['--from-env-file', env], opts);
    expect(sameOutcome(cm.a.run, cm.b.run)).toEqual(['ok', 'ok']);
    expect(cm.b.state).toEqual(cm.a.state);
    expect(cm.a.state!.data).toMatchObject({ DQ: '"double quoted"', HASH: 'abc #not a comment', TRAIL: 'value   ', FROM_ENV: 'from the environment', UNSET_IN_ENV: '' });
    // Deliberate difference: kubectl stores the unset variable's "" silently; the plugin says where.
    expect(cm.b.run.err).toBe(`Warning: ${env}:17: no "=" and no such environment variable: the key gets an empty value (as kubectl does)\n`);
    expect(sameOutcome(sec.a.run, sec.b.run)).toEqual(['ok', 'ok']);
    expect(sec.b.state).toEqual(sec.a.state);
  });

  it.each([
    ['invalid UTF-8', 'utf8', Buffer.from('A=1\nB=caf\xe9\n', 'latin1'), 'utf8.env:2: not valid UTF-8'],
    ['export', 'export', Buffer.from('A=1\nexport B=2\n'), 'export.env:2: the key starts with "export "'],
    ['spaces around "="', 'spaces', Buffer.from('A = 1\n'), 'spaces.env:1: character 2 of the key is a space'],
    ['a key twice', 'twice', Buffer.from('A=1\nA=2\n'), 'key "A" is given twice'],
  ])('an env file with %s is refused by both, and neither creates anything', async (_what, base, content, msg) => {
    const file = write(`${base}.env`, content);
    const cm = await twins({
      oracle: () => kubectl(['create', 'configmap', `${base}-a`, '--from-env-file', file, '-n', ns]),
      plugin: () => mlops(['config', `${base}-b`, '--from-env-file', file, '-n', ns]),
      state: cmState(base),
    });
    expect(sameOutcome(cm.a.run, cm.b.run)).toEqual(['failed', 'failed']);
    expect(cm.a.state).toBeUndefined();
    expect(cm.b.state).toBeUndefined();
    // Deliberate difference: the plugin exits 2 (input) and names FILE:LINE without the line's text.
    expect(cm.b.run.code).toBe(2);
    expect(cm.b.run.err).toContain(msg);
  });

  it('--from-file KEY=PATH with more than one "=" or an empty side is refused by both', async () => {
    const f = write('x=y.txt', 'v');
    const g = write('plain.txt', 'v');
    for (const [i, spec] of [`k=${f}`, `=${g}`, 'k='].entries()) {
      const base = `fs${i}`;
      const t = await twins({
        oracle: () => kubectl(['create', 'configmap', `${base}-a`, '--from-file', spec, '-n', ns]),
        plugin: () => mlops(['config', `${base}-b`, '--from-file', spec, '-n', ns]),
        state: cmState(base),
      });
      expect(sameOutcome(t.a.run, t.b.run), spec).toEqual(['failed', 'failed']);
      expect(t.b.run.code).toBe(2);
      expect(t.a.state).toBeUndefined();
      expect(t.b.state).toBeUndefined();
    }
  });

  it('tls: the same type, tls.crt and tls.key; the plugin adds ca.crt only with --ca (deliberate)', async () => {
    const crt = path.join(dir, 'tls.crt');
    const key = path.join(dir, 'tls.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', '90', '-subj', '/CN=oracle'], { stdio: 'ignore' });
    const t = await twins({
      oracle: () => kubectl(['create', 'secret', 'tls', 'tls-a', '--cert', crt, '--key', key, '-n', ns]),
      plugin: () => mlops(['secret', 'tls-b', '--tls', '--cert', crt, '--key', key, '-n', ns]),
      state: secretState('tls'),
    });
    expect(sameOutcome(t.a.run, t.b.run)).toEqual(['ok', 'ok']);
    expect(t.b.state).toEqual(t.a.state);
    expect(t.a.state!.type).toBe('kubernetes.io/tls');
    const withCa = await mlops(['secret', 'tls-ca', '--tls', '--cert', crt, '--key', key, '--ca', crt, '-n', ns]);
    expect(withCa.code).toBe(0);
    const s = await kube.get<Secret>(pathOf(R.secrets, { namespace: ns, name: 'tls-ca' }));
    expect(s.data).toEqual({ ...t.a.state!.data, 'ca.crt': t.a.state!.data['tls.crt'] });
  });
});

describe('config --dry-run=client -o yaml against kubectl create configmap --dry-run=client -o yaml', () => {
  it('prints the same object and creates nothing', async () => {
    const yaml = await import('js-yaml');
    const bin = write('dry/weights.bin', Buffer.from([0xff, 0x00]));
    const sources = ['--from-literal', 'a=1', '--from-literal', 'b= two ', '--from-file', bin];
    const t = await twins({
      oracle: () => kubectl(['create', 'configmap', 'dry-a', ...sources, '--dry-run=client', '-o', 'yaml', '-n', ns]),
      plugin: () => mlops(['config', 'dry-b', ...sources, '--dry-run=client', '-o', 'yaml', '-n', ns]),
      state: cmState('dry'),
    });
    expect(sameOutcome(t.a.run, t.b.run)).toEqual(['ok', 'ok']);
    expect(t.a.state).toBeUndefined();
    expect(t.b.state).toBeUndefined();
    type Cm = { apiVersion: string; kind: string; metadata: { name: string; namespace: string }; data: unknown; binaryData: unknown };
    const a = yaml.load(t.a.run.out) as Cm;
    const b = yaml.load(t.b.run.out) as Cm;
    expect({ ...b, metadata: { ...b.metadata, name: 'dry-a' } }).toEqual({ ...a, metadata: { name: 'dry-a', namespace: ns } });
  });
});
