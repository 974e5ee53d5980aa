// kubectl's flag spellings that commander does not read by itself (pflag's `-o=json`,
// `--watch=true`, `--wait=false`), rewritten by src/cli.ts before parsing.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeArgv } from '../../src/cli.js';
import { createProgram } from '../../src/program.js';
import type { Deps } from '../../src/deps.js';
import { runCli } from '../helpers.js';

const program = createProgram({ out: process.stdout, err: process.stderr, version: '0' } as unknown as Deps);

describe('normalizeArgv', () => {
  it.each([
    [
      ['storage', '-o=json'],
      ['storage', '-o', 'json'],
    ],
    [
      ['storage', '-n=team-a', '-l=app=train,tier!=dev'],
      ['storage', '-n', 'team-a', '-l', 'app=train,tier!=dev'],
    ],
    [
      ['gpus', '-o=jsonpath={.nodes[*].name}'],
      ['gpus', '-o', 'jsonpath={.nodes[*].name}'],
    ],
    [
      ['storage', '--output=json'],
      ['storage', '--output=json'],
    ],
    [
      ['storage', '--no-headers=true', '-A=true'],
      ['storage', '--no-headers', '-A'],
    ],
    [['storage', '--watch=false', '-A=f'], ['storage']],
    [
      ['ship', 'web', 'app=x:2', '--wait=false'],
      ['ship', 'web', 'app=x:2', '--no-wait'],
    ],
    [
      ['ship', 'web', 'app=x:2', '--wait=true'],
      ['ship', 'web', 'app=x:2'],
    ],
    [
      ['storage', '--no-headers=maybe'],
      ['storage', '--no-headers=maybe'],
    ],
    [
      ['config', 'c', '--', '-o=json'],
      ['config', 'c', '--', '-o=json'],
    ],
    [
      ['config', 'c', '--from-literal', 'a=-o=x'],
      ['config', 'c', '--from-literal', 'a=-o=x'],
    ],
  ])('%j → %j', (input, expected) => {
    expect(normalizeArgv(input, program)).toEqual(expected);
  });

  it('a bad boolean value is still refused, by commander, as a usage error', async () => {
    const r = await runCli(['storage', '--no-headers=maybe']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--no-headers=maybe/);
  });

  it('-o=json reaches the printer as json (refused like -o json when the command does not print json)', async () => {
    const r = await runCli(['doctor', '-o=name']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/output format "name"/);
  });
});

describe('values that would misbehave at run time are usage errors before connecting', () => {
  const env = { KUBECONFIG: path.join(import.meta.dirname, '../fixtures/unreachable-kubeconfig.yaml') };

  it('a FIFO as a source file (the read would block, and Ctrl-C with it)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-fifo-'));
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    for (const args of [
      ['config', 'c', '--from-file', `k=${fifo}`],
      ['secret', 's', '--from-file', fifo],
      ['config', 'c', '--from-env-file', fifo],
    ]) {
      const r = await runCli(args, { env });
      expect(r.code, r.err).toBe(2);
      expect(r.err).toMatch(/^error: --from-(env-)?file .*fifo: not a regular file\n$/);
    }
  });
});
