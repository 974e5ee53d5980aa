// The result printer's choices without a server: formats, templates, custom columns,
// --sort-by and --no-headers, the dry-run suffix; --help examples and completion of the new
// flags. End-to-end proof against a real API server and kubectl is in test/e2e/output.test.ts.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import type { Command } from 'commander';
import { Printer, dryRunSuffix, type Column, type PrintFlags } from '../../src/output/printer.js';
import { EXAMPLES } from '../../src/commands/examples.js';
import { createProgram } from '../../src/program.js';
import { runCli, tempDir } from '../helpers.js';

const ALL = ['table', 'wide', 'json', 'yaml', 'name'] as const;
const printer = (flags: PrintFlags, files: Record<string, string> = {}) =>
  new Printer(flags, ALL, (f) => {
    if (!(f in files)) throw Object.assign(new Error(`ENOENT: ${f}`), { code: 'ENOENT' });
    return files[f]!;
  });

interface Claim {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { size?: string; replicas?: number };
}
const claims: Claim[] = [
  { metadata: { name: 'b', labels: { app: 'x' } }, spec: { size: '10Gi', replicas: 10 } },
  { metadata: { name: 'a' }, spec: { size: '512Mi', replicas: 2 } },
  { metadata: { name: 'c' }, spec: {} },
];
const columns: Column<Claim>[] = [
  { header: 'name', value: (c) => c.metadata.name },
  { header: 'size', value: (c) => c.spec.size },
  { header: 'x', value: () => 'wide-only', wide: true },
];
const spec = { items: claims, columns, data: (items: Claim[]) => ({ claims: items }), name: (c: Claim) => `claim/${c.metadata.name}` };

describe('formats', () => {
  it('table and wide: kubectl layout, <none> for missing cells, wide columns only with -o wide', async () => {
    expect(await printer({}).render(spec)).toBe('NAME   SIZE\nb      10Gi\na      512Mi\nc      <none>\n');
    expect(await printer({ output: 'wide' }).render(spec)).toBe('NAME   SIZE     X\nb      10Gi     wide-only\na      512Mi    wide-only\nc      <none>   wide-only\n');
  });

  it('--no-headers drops the header line of tables and custom columns', async () => {
    expect(await printer({ noHeaders: true }).render(spec)).toBe('b     10Gi\na     512Mi\nc     <none>\n');
    expect(await printer({ output: 'custom-columns=N:.metadata.name', noHeaders: true }).render(spec)).toBe('b\na\nc\n');
  });

  it('json and yaml print the command document; name prints kind/name', async () => {
    expect(JSON.parse(await printer({ output: 'json' }).render(spec))).toEqual({ claims });
    expect(await printer({ output: 'yaml' }).render({ items: [claims[2]!] })).toBe('metadata:\n  name: c\nspec: {}\n');
    expect(await printer({ output: 'name' }).render(spec)).toBe('claim/b\nclaim/a\nclaim/c\n');
    expect(await printer({ output: 'name' }).render({ items: [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' } }] })).toBe('deployment.apps/d\n');
  });

  it('jsonpath runs on the document -o json prints', async () => {
    expect(await printer({ output: 'jsonpath={.claims[*].metadata.name}' }).render(spec)).toBe('b a c');
    expect(await printer({ output: 'jsonpath-file=t' }, { t: '{range .claims[*]}{.metadata.name}={.spec.size}{"\\n"}{end}' }).render(spec)).toBe('b=10Gi\na=512Mi\nc=\n');
  });

  it('jsonpath-as-json prints each action as an indented JSON array', async () => {
    expect(await printer({ output: 'jsonpath-as-json={.claims[*].metadata.name}' }).render(spec)).toBe('[\n    "b",\n    "a",\n    "c"\n]\n');
  });

  it('missing keys print nothing unless --allow-missing-template-keys=false', async () => {
    expect(await printer({ output: 'jsonpath={.claims[2].spec.size}' }).render(spec)).toBe('');
    await expect(printer({ output: 'jsonpath={.claims[2].spec.size}', allowMissingTemplateKeys: 'false' }).render(spec)).rejects.toThrow(
      'error executing jsonpath "{.claims[2].spec.size}": size is not found',
    );
    expect(() => printer({ output: 'json', allowMissingTemplateKeys: 'maybe' })).toThrow('invalid value "maybe" for --allow-missing-template-keys');
  });

  it('custom-columns: kubectl cells (values joined by commas, maps as Go prints them, <none>)', async () => {
    const p = printer({ output: 'custom-columns=NAME:.metadata.name,LABELS:.metadata.labels,REPLICAS:{.spec.replicas}' });
    expect(await p.render(spec)).toBe('NAME   LABELS       REPLICAS\nb      map[app:x]   10\na      <none>       2\nc      <none>       <none>\n');
    const f = printer({ output: 'custom-columns-file=cols' }, { cols: 'NAME   SIZE\n.metadata.name   {.spec.size}\n' });
    expect(await f.render(spec)).toBe('NAME   SIZE\nb      10Gi\na      512Mi\nc      <none>\n');
  });

  it('refuses bad forms before anything is sent, with kubectl messages', () => {
    expect(() => printer({ output: 'go-template={{.metadata.name}}' })).toThrow('-o go-template is not supported: use -o jsonpath=TEMPLATE');
    expect(() => printer({ output: 'go-template-file=x' })).toThrow(/go-template-file is not supported/);
    expect(() => printer({ output: 'jsonpath' })).toThrow('jsonpath format specified but no template given');
    expect(() => printer({ output: 'jsonpath={.a' })).toThrow('error parsing jsonpath "{.a": unclosed action');
    expect(() => printer({ output: 'jsonpath-file=nope' })).toThrow('cannot read the template file for -o jsonpath-file: nope: no such file');
    expect(() => printer({ output: 'custom-columns=NAME' })).toThrow('unexpected custom-columns spec: NAME, expected <header>:<json-path-expr>');
    expect(() => printer({ output: 'custom-columns-file=c' }, { c: 'A B\n.a\n' })).toThrow("number of headers (2) and field specifications (1) don't match");
    expect(() => printer({ output: 'xml' })).toThrow(
      'unable to match a printer suitable for the output format "xml", allowed formats are: custom-columns,custom-columns-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,wide,yaml',
    );
    expect(() => new Printer({ output: 'jsonpath={.a}' }, ['table', 'name'], () => '')).toThrow(/allowed formats are: name \(/);
    expect(() => printer({ sortBy: '{.a}{.b}' })).toThrow(/invalid --sort-by/);
  });

  it('reads -o as kubectl does: "" is the table, json/yaml/name in any case, wide and templates as spelled, "table" unknown', () => {
    expect(printer({ output: '' }).format).toBe('table');
    expect(printer({}).format).toBe('table');
    expect(printer({ output: 'JSON' }).format).toBe('json');
    expect(printer({ output: 'Yaml' }).format).toBe('yaml');
    expect(printer({ output: 'NAME' }).format).toBe('name');
    expect(printer({ output: 'wide' }).format).toBe('wide');
    for (const bad of ['Wide', 'table', 'JSONPATH={.a}', 'Custom-Columns=A:.a'])
      expect(() => printer({ output: bad }), bad).toThrow(`unable to match a printer suitable for the output format "${bad}"`);
  });
});

describe('--sort-by, as kubectl sorts', () => {
  const names = async (sortBy: string, items: unknown[] = claims) =>
    (await printer({ output: 'name', sortBy }).render({ items, name: (c) => (c as Claim).metadata.name })).trim().split('\n');

  it('strings bytewise, numbers by value, quantities by size, missing first', async () => {
    expect(await names('.metadata.name')).toEqual(['a', 'b', 'c']);
    expect(await names('{.spec.replicas}')).toEqual(['c', 'a', 'b']);
    expect(await names('spec.size')).toEqual(['c', 'a', 'b']);
    const mixed = ['B', 'a', '10', '9'].map((n) => ({ metadata: { name: n } }));
    expect(await names('.metadata.name', mixed)).toEqual(['9', '10', 'B', 'a']);
  });

  it('applies to every format, and equal keys keep the command order', async () => {
    const p = printer({ output: 'jsonpath={.claims[*].metadata.name}', sortBy: '.metadata.labels.app' });
    expect(await p.render(spec)).toBe('a c b');
  });

  it('sortTable, for one table of a report of several: null when no row has the field, a lone row unchecked', () => {
    const p = printer({ sortBy: '.spec.replicas' });
    expect(p.sortTable({ items: claims })!.map((c) => c.metadata.name)).toEqual(['c', 'a', 'b']);
    expect(p.sortTable({ items: [{ x: 1 }, { x: 2 }] })).toBeNull();
    expect(p.sortTable({ items: [{ x: 1 }] })).toEqual([{ x: 1 }]);
    expect(p.sortMissing()).toBe('couldn\'t find any field with path "{.spec.replicas}" in the list of objects');
    expect(printer({}).sortTable({ items: claims })).toBe(claims);
    expect(printer({ noHeaders: true }).headers).toBe(false);
  });

  it('fails when no object has the field, and on unsortable values', async () => {
    await expect(names('.nope')).rejects.toThrow('couldn\'t find any field with path "{.nope}" in the list of objects');
    await expect(names('.metadata')).rejects.toThrow('field {.metadata} is an unsortable type: map');
  });
});

it('one spelling of the dry-run suffix', () => {
  expect([dryRunSuffix('none'), dryRunSuffix('client'), dryRunSuffix('server')]).toEqual(['', ' (dry run)', ' (server dry run)']);
});

describe('--help examples', () => {
  const program = createProgram({ version: '0.0.0' } as never);
  const all: [string, Command][] = [];
  const walk = (c: Command, p: string) => {
    all.push([p, c]);
    for (const s of c.commands) if (s.name() !== 'help') walk(s, p ? `${p} ${s.name()}` : s.name());
  };
  walk(program, '');

  it('every command and subcommand has examples, and every example belongs to a command', () => {
    expect(all.map(([p]) => p).sort()).toEqual(Object.keys(EXAMPLES).sort());
  });

  it.each(Object.entries(EXAMPLES))('"%s" examples call that command', (p, list) => {
    for (const [comment, command] of list) {
      expect(comment).not.toMatch(/^#/);
      expect(command.startsWith(p === 'completion' ? 'source <(kubectl-mlops completion' : `kubectl mlops ${p}`.trimEnd()) || command.startsWith('kubectl-mlops completion')).toBe(
        true,
      );
    }
  });

  it('shows them in kubectl layout at the end of --help', async () => {
    const r = await runCli(['storage', 'pv', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\nExamples:\n {2}# List PersistentVolumes; Available and Released ones are called out\n {2}kubectl mlops storage pv\n\n {2}# Watch/);
  });
});

describe('completion', () => {
  it('offers the command -o values, templates without a trailing space', async () => {
    const r = await runCli(['__complete', 'storage', '-o', '']);
    expect(r.out).toBe('wide\njson\nyaml\nname\njsonpath=\njsonpath-file=\njsonpath-as-json=\ncustom-columns=\ncustom-columns-file=\n:6\n');
    const s = await runCli(['__complete', 'secret', 'x', '-o', '']);
    expect(s.out).toBe('name\n:4\n');
  });

  it('completes -o=VALUE and --output=VALUE too', async () => {
    expect((await runCli(['__complete', 'storage', '--output=js'])).out).toBe('--output=json\n--output=jsonpath=\n--output=jsonpath-file=\n--output=jsonpath-as-json=\n:6\n');
    expect((await runCli(['__complete', 'version', '-o=y'])).out).toBe('-o=yaml\n:4\n');
  });

  it("a subcommand offers its own flags, not its parent's (kubectl's local flags)", async () => {
    const view = await runCli(['__complete', 'secret', 'view', '--']);
    expect(view.out).toContain('--reveal\t');
    expect(view.out).toContain('--output\t');
    expect(view.out).toContain('--namespace\t');
    for (const f of ['--from-literal', '--from-file', '--tls', '--cert', '--dry-run']) expect(view.out).not.toContain(`${f}\t`);
    // The parent still offers its own.
    expect((await runCli(['__complete', 'secret', '--'])).out).toContain('--from-literal\t');
    expect((await runCli(['__complete', 'storage', 'pv', '--'])).out).not.toContain('--all-namespaces\t');
    // A parent's value flag does not make the next word a value: --cert is secret's, not view's.
    expect((await runCli(['__complete', 'secret', 'view', '--cert', ''])).out).not.toBe(':0\n');
  });

  it('offers the new flags', async () => {
    const r = await runCli(['__complete', 'debug-pod', 'list', '--']);
    for (const f of ['--no-headers', '--sort-by', '--watch', '--watch-only', '--selector', '--allow-missing-template-keys']) expect(r.out).toContain(`${f}\t`);
  });
});

it('a jsonpath-file is read before connecting (a missing one is exit 2 with nothing sent)', async () => {
  const dir = tempDir();
  const r = await runCli(['storage', '-o', `jsonpath-file=${path.join(dir, 'missing')}`, '--kubeconfig', '/nonexistent']);
  expect(r).toMatchObject({ code: 2, out: '' });
  expect(r.err).toMatch(/^error: cannot read the template file for -o jsonpath-file: .*missing: no such file\n$/);
});

describe('every --help example parses', () => {
  /** Enough of sh to split the examples: single and double quotes, no expansion. */
  const words = (line: string): string[] => {
    const out: string[] = [];
    const re = /'([^']*)'|"((?:\\.|[^"\\])*)"|([^\s'"]+)/g;
    let cur: string | undefined;
    let last = -1;
    for (const m of line.matchAll(re)) {
      const part = m[1] ?? m[2]?.replace(/\\(.)/g, '$1') ?? m[3]!;
      // Adjacent pieces (jsonpath='{...}') belong to one word.
      if (cur !== undefined && m.index === last) cur += part;
      else {
        if (cur !== undefined) out.push(cur);
        cur = part;
      }
      last = m.index + m[0].length;
    }
    if (cur !== undefined) out.push(cur);
    return out;
  };
  const examples = Object.values(EXAMPLES)
    .flat()
    .map(([, c]) => c);

  it.each(examples)('%s', async (example) => {
    const argv = words(example.replace(/^source <\((.*)\)$/, '$1').replace(/ > .*$/, ''));
    const args = argv[0] === 'kubectl' ? argv.slice(2) : argv.slice(1);
    const r = await runCli([...args, '--kubeconfig', '/nonexistent/kubeconfig']);
    // Flags and arguments are accepted: what stops it is the missing kubeconfig or an input file of the example.
    if (r.code === 2) expect(r.err).toMatch(/no such file|ENOENT|cannot read|does not exist/i);
    else expect([0, 3]).toContain(r.code);
  });
});
