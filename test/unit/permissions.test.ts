// The permission declarations are complete (every command that talks to the cluster has one)
// and the README's "Permissions and interruption" table is generated from them, so neither can
// drift. Regenerate the table's permission cells with `node scripts/permissions-table.mjs`.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { createProgram } from '../../src/program.js';
import { COMMAND_NEEDS, CONDITIONS, conditionOf, describeNeeds, type Need } from '../../src/commands/permissions.js';
import { accessNotes, accessOf, accessText, renderDoctor } from '../../src/commands/doctor.js';
import { Journal } from '../../src/commands/flow.js';
import type { Deps } from '../../src/deps.js';
import { MemStream } from '../helpers.js';

/** Commands that reach the API server but need no RBAC of their own, and why. */
const EXEMPT: Record<string, string> = {
  version: 'GET /version, open to every user (system:public-info-viewer)',
  doctor: 'asks the API server itself (SelfSubjectReview / SelfSubjectAccessReview, open to every authenticated user)',
  completion: 'prints a shell script; the hidden __complete lists names and stays silent when denied',
};

function commandPaths(): string[] {
  const deps = { out: new MemStream(), err: new MemStream(), env: {}, journal: new Journal(), version: '0' } as unknown as Deps;
  const out: string[] = [];
  const walk = (cmd: Command, prefix: string) => {
    for (const sub of cmd.commands) {
      const name = prefix ? `${prefix} ${sub.name()}` : sub.name();
      out.push(name);
      walk(sub, name);
    }
  };
  walk(createProgram(deps), '');
  return out;
}

const README = fs.readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');

function readmeRows(): Map<string, { permissions: string; interruption: string }> {
  const at = README.indexOf('## Permissions and interruption');
  expect(at, 'README has a "Permissions and interruption" section').toBeGreaterThan(0);
  const rows = new Map<string, { permissions: string; interruption: string }>();
  for (const line of README.slice(at).split('\n').slice(1)) {
    if (line.startsWith('## ')) break;
    const m = /^\| `([^`]+)` \| (.*?) \| (.*?) \|$/.exec(line);
    if (m) rows.set(m[1]!, { permissions: m[2]!, interruption: m[3]! });
  }
  return rows;
}

describe('permission declarations', () => {
  it('every registered command has a declaration or a stated reason not to', () => {
    const paths = commandPaths();
    expect(paths).toContain('storage reclaim');
    const undeclared = paths.filter((p) => !COMMAND_NEEDS[p] && !EXEMPT[p]);
    expect(undeclared, 'commands without an entry in src/commands/permissions.ts').toEqual([]);
    // And no declaration for a command that does not exist.
    expect(Object.keys(COMMAND_NEEDS).filter((c) => !paths.includes(c))).toEqual([]);
  });

  it('every `when` is a known condition (doctor must know whether to count it and how to name it)', () => {
    const unknown = Object.entries(COMMAND_NEEDS).flatMap(([c, needs]) => needs.filter((x) => x.when && !conditionOf(x.when)).map((x) => `${c}: when '${x.when}'`));
    expect(unknown, 'add them to CONDITIONS in src/commands/permissions.ts').toEqual([]);
  });

  it('the README table lists each declared command with exactly its declared permissions, and an interruption guarantee', () => {
    const rows = readmeRows();
    expect([...rows.keys()].sort()).toEqual(Object.keys(COMMAND_NEEDS).sort());
    for (const [command, needs] of Object.entries(COMMAND_NEEDS)) {
      const row = rows.get(command)!;
      expect(row.permissions, `README permissions of \`${command}\``).toBe(describeNeeds(needs));
      expect(row.interruption.trim(), `README interruption guarantee of \`${command}\``).not.toBe('');
    }
  });
});

describe('doctor reads the declarations as the commands do', () => {
  // Conditions as other commands use them: a flag, a state doctor cannot tell (counted), a kind of target (named).
  CONDITIONS['with-hpa'] ??= { label: '--with-hpa', flag: ['--with-hpa'] };
  CONDITIONS['state-new'] ??= { label: 'a new object', group: 'state' };
  CONDITIONS['state-old'] ??= { label: 'an existing object', group: 'state' };
  CONDITIONS['target:'] ??= { label: 'a {} target' };
  const n = (verb: string, resource: string, extra: Partial<Need> = {}): Need => ({ verb, resource, group: '', ...extra });
  const needs = [
    n('get', 'pods'),
    n('patch', 'pods'),
    n('list', 'events', { optional: true }),
    n('delete', 'hpas', { when: 'with-hpa' }),
    n('list', 'pods', { cluster: true, when: 'all-namespaces' }),
    n('create', 'pods', { when: 'state-new' }),
    n('update', 'pods', { when: 'state-old' }),
    n('patch', 'replicasets', { when: 'target:replicasets' }),
  ];
  it.each([
    ['everything granted', () => true, 'yes'],
    [
      'a flag-dependent verb missing: yes, and what the flag also needs',
      (x: Need) => x.when !== 'with-hpa',
      'yes (--with-hpa on a workload an HPA targets also needs delete hpas)',
    ],
    ['an optional verb missing: yes, with less detail', (x: Need) => !x.optional, 'yes (less detail without list events)'],
    ['an always-needed verb missing: no', (x: Need) => x.verb !== 'patch', 'no'],
    ['the same verb namespaced granted, cluster-wide not', (x: Need) => !x.cluster, 'yes (-A/--all-namespaces also needs list pods (cluster-wide))'],
    ['one of two alternatives missing a verb: yes, naming it', (x: Need) => x.when !== 'state-new', 'yes (a new object also needs create pods)'],
    ['both alternatives missing a verb: no', (x: Need) => !x.when?.startsWith('state-'), 'no'],
    ['a verb of a kind of target missing: yes, naming the kind', (x: Need) => x.when !== 'target:replicasets', 'yes (a replicasets target also needs patch replicasets)'],
  ])('%s', (_name, granted, want) => {
    const a = accessOf('x', needs, granted);
    expect([accessText(a), accessNotes(a)].filter(Boolean).join(' ')).toBe(want);
    expect(a.allowed).toBe(want !== 'no');
  });
  it('a verb asked in a namespace known only at run time: yes, saying where it was checked', () => {
    const a = accessOf('storage reclaim', COMMAND_NEEDS['storage reclaim'], () => true);
    expect(accessNotes(a)).toBe("(get persistentvolumeclaims is checked here; the command asks it in the former claim's namespace)");
  });
  it('names the missing always-needed verbs, as the pre-flight refuses them', () => {
    expect(accessOf('x', needs, (x) => x.verb === 'get').missing).toEqual(['patch pods', 'create pods', 'update pods']);
  });
});

describe('doctor in a pod', () => {
  it('says it runs in-cluster, with the namespace from the service account', () => {
    const text = renderDoctor({
      kubeconfig: [],
      context: 'in-cluster',
      namespace: 'ml',
      namespaceSource: 'in-cluster',
      inCluster: true,
      server: 'https://10.0.0.1:443',
      reachable: false,
      error: 'error: x',
      commands: [],
    });
    expect(text).toContain("Kubeconfig:  none: in-cluster (the pod's service account)\nContext:     in-cluster\nNamespace:   ml (from the service account)\n");
  });
});
