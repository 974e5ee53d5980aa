// Every byte a command prints as data goes through here. A command hands the printer its
// objects (the JSON shape it documents for -o json) and its table columns; the printer owns
// the choice of format (the table, -o wide|json|yaml|name|jsonpath=|jsonpath-file=|
// custom-columns=|custom-columns-file=), --no-headers, --sort-by, and the dry-run suffix.
import Table from 'cli-table3';
import type { DryRun } from '../kube/client.js';
import { CliError, UsageError } from '../errors.js';
import { JSONPath, JSONPathError, cellText, compareBytes, relaxedJSONPath } from './jsonpath.js';
import { quantityValue } from '../util/quantity.js';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml', 'name'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
/** The template forms; every command that prints JSON accepts them. */
export const TEMPLATE_FORMATS = ['jsonpath', 'jsonpath-file', 'jsonpath-as-json', 'custom-columns', 'custom-columns-file'] as const;
export type OutputKind = OutputFormat | 'jsonpath' | 'custom-columns';

/** The formats as kubectl names them (sorted, as its printer error lists them), without "table", our name for the default. */
function allowedText(formats: readonly string[]): string {
  const named = formats.filter((f) => f !== 'table');
  return (named.length ? named : formats).slice().sort().join(',');
}

export interface Column<Row> {
  header: string;
  value: (row: Row) => string | number | undefined | null;
  /** Shown only with -o wide. */
  wide?: boolean;
}

/** What a command hands the printer. */
export interface PrintSpec<Row> {
  /** The objects, in the command's order: table rows, custom-columns rows, -o name lines, what --sort-by sorts. */
  items: Row[];
  /** The document -o json|yaml|jsonpath print, built from the (sorted) items. Default: a single object as itself, several as a v1 List. */
  data?: (items: Row[]) => unknown;
  /** Table columns (the table and -o wide). */
  columns?: Column<Row>[];
  /** `kind/name` for -o name. Default: from the object's kind, apiVersion group and metadata.name. */
  name?: (row: Row) => string;
  /** What custom-columns and --sort-by evaluate for a row. Default: the row itself (its JSON form). */
  object?: (row: Row) => unknown;
  /** Said on stderr instead of an empty table, as kubectl does ("No resources found in NS namespace."). */
  empty?: string;
}

export interface PrintFlags {
  output?: string;
  noHeaders?: boolean;
  sortBy?: string;
  allowMissingTemplateKeys?: string | boolean;
}

/**
 * kubectl's column layout (text/tabwriter: min width 6, padding 3), drawn by cli-table3.
 * Widths only grow, so the lines a watch prints later stay under the first table's columns.
 */
export class TableLayout {
  private widths: number[] = [];

  render(lines: string[][]): string {
    if (!lines.length) return '';
    const n = Math.max(...lines.map((l) => l.length));
    for (const cells of lines) {
      cells.forEach((c, i) => {
        if (i < n - 1) this.widths[i] = Math.max(this.widths[i] ?? 0, 6, displayWidth(c) + 3);
      });
    }
    const last = Math.max(1, ...lines.map((l) => displayWidth(l[n - 1] ?? '')));
    const table = new Table({
      chars: {
        top: '',
        'top-mid': '',
        'top-left': '',
        'top-right': '',
        bottom: '',
        'bottom-mid': '',
        'bottom-left': '',
        'bottom-right': '',
        left: '',
        'left-mid': '',
        mid: '',
        'mid-mid': '',
        right: '',
        'right-mid': '',
        middle: '',
      },
      style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
      colWidths: [...this.widths.slice(0, n - 1), last],
      wordWrap: false,
    });
    for (const cells of lines) table.push(cells);
    return (
      table
        .toString()
        .split('\n')
        .map((l) => l.trimEnd())
        .join('\n') + '\n'
    );
  }
}

/**
 * Terminal columns of a cell, never less than cli-table3 counts (it would cut the cell):
 * East Asian wide characters take two, as in cli-table3; tabwriter counts every rune as one,
 * which is the same for the ASCII that names and statuses are made of.
 */
function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    w +=
      (cp >= 0x1100 && cp <= 0x115f) ||
      (cp >= 0x2e80 && cp <= 0xa4cf) ||
      (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) ||
      (cp >= 0xfe30 && cp <= 0xfe4f) ||
      (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) ||
      cp >= 0x1f300
        ? 2
        : 1;
  }
  return w;
}

/** kubectl's look: no borders, upper-case headers, three spaces between columns. */
export function renderTable<Row>(columns: Column<Row>[], rows: Row[], opts: { wide?: boolean; noHeaders?: boolean; layout?: TableLayout } = {}): string {
  const cols = columns.filter((c) => opts.wide || !c.wide);
  const lines = rows.map((row) => cols.map((c) => String(c.value(row) ?? '<none>')));
  if (!opts.noHeaders) lines.unshift(cols.map((c) => c.header.toUpperCase()));
  return (opts.layout ?? new TableLayout()).render(lines);
}

/** kubectl prints one object as itself and several as a v1 List. */
export function toKubectlShape(objects: object[], single: boolean): object {
  if (single && objects.length === 1) return objects[0];
  return { apiVersion: 'v1', items: objects, kind: 'List', metadata: { resourceVersion: '' } };
}

export async function renderData(data: unknown, format: 'json' | 'yaml'): Promise<string> {
  if (format === 'json') return JSON.stringify(data, null, 4) + '\n';
  const yaml = await import('js-yaml');
  // kubectl's YAML quotes strings that would read as another type with double quotes ("286").
  return yaml.dump(data, { noRefs: true, lineWidth: -1, quoteStyle: 'double' });
}

/** Adds the kind/apiVersion that list items lack on the wire. */
export function withKind<T extends object>(obj: T, kind: string, apiVersion: string): T {
  return { apiVersion, kind, ...obj };
}

/** kubectl's `-o name`: kind.group/name (pod/x, deployment.apps/x). */
export function nameOfObject(obj: unknown): string {
  const o = obj as { kind?: string; apiVersion?: string; metadata?: { name?: string } };
  const group = o.apiVersion?.includes('/') ? o.apiVersion.split('/')[0] : '';
  return `${(o.kind ?? 'object').toLowerCase()}${group ? `.${group}` : ''}/${o.metadata?.name ?? ''}`;
}

interface CustomColumn {
  header: string;
  path: JSONPath;
}

/**
 * Reads the output flags once, before any API call: unknown formats, bad templates and
 * unreadable template files are usage errors (exit 2) and nothing is sent to the server.
 */
export class Printer {
  readonly format: OutputKind;
  private readonly template?: { text: string; path: JSONPath; json: boolean };
  private readonly customColumns?: CustomColumn[];
  private readonly noHeaders: boolean;
  private readonly sortBy?: { text: string; path: JSONPath };
  private readonly allowMissingKeys: boolean;
  /** Shared by the first table and the watch lines after it. */
  readonly layout = new TableLayout();

  constructor(flags: PrintFlags, allowed: readonly OutputFormat[], readFile: (file: string) => string) {
    // No -o, or an empty one, is the table, as kubectl's default printer; "table" itself is not a
    // format kubectl knows, so -o table is refused as there.
    const templates = allowed.includes('json') ? TEMPLATE_FORMATS : [];
    const noMatch = (v: string) =>
      new UsageError(`unable to match a printer suitable for the output format "${v}", allowed formats are: ${allowedText([...allowed, ...templates])} (-o/--output)`);
    if (flags.output === 'table') throw noMatch('table');
    const value = flags.output || 'table';
    const eq = value.indexOf('=');
    const named = eq >= 0 ? value.slice(0, eq) : value;
    // kubectl lowers json, yaml and name (-o JSON); wide and the templates must be spelled so.
    const kind = /^(json|yaml|name)$/i.test(named) ? named.toLowerCase() : named;
    const arg = eq >= 0 ? value.slice(eq + 1) : undefined;
    if (/^go-template(-file)?$|^template(file)?$/.test(kind)) {
      throw new UsageError(`-o ${kind} is not supported: use -o jsonpath=TEMPLATE (kubectl's JSONPath dialect) or -o custom-columns=SPEC`);
    }
    if ((templates as readonly string[]).includes(kind)) {
      const text = kind.endsWith('-file') ? readTemplateFile(arg, kind, readFile) : (arg ?? '');
      if (!text)
        throw new UsageError(
          `${kind.replace(/-file$/, '')} format specified but no ${kind.startsWith('custom') ? 'custom columns' : 'template'} given (-o ${kind}=${kind.endsWith('-file') ? 'FILE' : kind.startsWith('custom') ? 'HEADER:PATH,...' : 'TEMPLATE'})`,
        );
      if (kind.startsWith('jsonpath')) {
        this.format = 'jsonpath';
        this.template = { text, path: parseTemplate(text, 'jsonpath'), json: kind === 'jsonpath-as-json' };
      } else {
        this.format = 'custom-columns';
        this.customColumns = kind === 'custom-columns' ? columnsFromSpec(text) : columnsFromFile(text);
      }
    } else {
      if (arg !== undefined || !(allowed as readonly string[]).includes(kind)) throw noMatch(value);
      this.format = kind as OutputFormat;
    }
    this.noHeaders = Boolean(flags.noHeaders);
    this.allowMissingKeys = parseBool(flags.allowMissingTemplateKeys ?? true, '--allow-missing-template-keys');
    if (flags.sortBy !== undefined) {
      if (!flags.sortBy) throw new UsageError('--sort-by needs a JSONPath, for example --sort-by=.metadata.name');
      let text: string;
      try {
        text = relaxedJSONPath(flags.sortBy);
      } catch (e) {
        throw new UsageError(`invalid --sort-by ${JSON.stringify(flags.sortBy)}: ${(e as Error).message}`);
      }
      this.sortBy = { text, path: parseTemplate(text, '--sort-by') };
    }
  }

  /** --no-headers was given. */
  get headers(): boolean {
    return !this.noHeaders;
  }

  /**
   * --sort-by over the rows of one table of a report of several: the rows in order, or null
   * when no row has the field (the caller says kubectl's error when no table has it).
   */
  sortTable<Row>(spec: PrintSpec<Row>): Row[] | null {
    if (!this.sortBy) return spec.items;
    try {
      return this.sorted(spec);
    } catch (e) {
      if (e instanceof CliError && e.message === this.sortMissing()) return null;
      throw e;
    }
  }

  /** kubectl's words for a --sort-by field that no object has. */
  sortMissing(): string {
    return `couldn't find any field with path ${JSON.stringify(this.sortBy?.text)} in the list of objects`;
  }

  /** table or wide: the command's own human lines (plans, diffs, "configured") are wanted. */
  get human(): boolean {
    return this.format === 'table' || this.format === 'wide';
  }

  /** json, yaml, jsonpath or custom-columns: the objects themselves are printed, not the command's human lines. */
  get structured(): boolean {
    return !this.human && this.format !== 'name';
  }

  /** kubectl's suffix for results of a dry run: " (dry run)" or " (server dry run)". */
  dryRunSuffix(dryRun: DryRun): string {
    return dryRunSuffix(dryRun);
  }

  /** Formats the objects as the flags ask. */
  async render<Row>(spec: PrintSpec<Row>, opts: { noHeaders?: boolean } = {}): Promise<string> {
    const items = this.sorted(spec);
    const data = () => jsonForm(spec.data ? spec.data(items) : toKubectlShape(items as object[], true));
    switch (this.format) {
      case 'json':
      case 'yaml':
        return renderData(data(), this.format);
      case 'jsonpath':
        return this.executeTemplate(data());
      case 'name':
        return items.map((r) => `${(spec.name ?? nameOfObject)(r)}\n`).join('');
      case 'custom-columns': {
        const lines = items.map((r) => this.customColumns!.map((c) => customCell(c, jsonForm(spec.object ? spec.object(r) : r))));
        if (!this.noHeaders && !opts.noHeaders) lines.unshift(this.customColumns!.map((c) => c.header));
        return this.layout.render(lines);
      }
      case 'table':
      case 'wide':
        if (!spec.columns) throw new Error('a table needs columns');
        return renderTable(spec.columns, items, { wide: this.format === 'wide', noHeaders: this.noHeaders || opts.noHeaders, layout: this.layout });
    }
  }

  /**
   * Writes the objects to `out`; an empty table becomes spec.empty on `err`, as kubectl does.
   * Only the table: kubectl's other printers say nothing of an empty list (-o name prints
   * nothing, custom columns their header).
   */
  async print<Row>(io: { out: { write(s: string): unknown }; err: { write(s: string): unknown } }, spec: PrintSpec<Row>): Promise<void> {
    if (spec.items.length === 0 && spec.empty !== undefined && this.human) {
      io.err.write(spec.empty.endsWith('\n') ? spec.empty : `${spec.empty}\n`);
      return;
    }
    io.out.write(await this.render(spec));
  }

  /** A command's one JSON document (a report, a result summary): -o json|yaml|jsonpath|custom-columns. */
  async printDocument(io: { out: { write(s: string): unknown }; err: { write(s: string): unknown } }, doc: unknown): Promise<void> {
    await this.print(io, { items: [doc], data: () => doc });
  }

  private executeTemplate(data: unknown): string {
    try {
      return this.template!.path.execute(data, { allowMissingKeys: this.allowMissingKeys, json: this.template!.json });
    } catch (e) {
      if (e instanceof JSONPathError) throw new CliError(`error executing jsonpath ${JSON.stringify(this.template!.text)}: ${e.message}`);
      throw e;
    }
  }

  /** kubectl's sort: by the first value found, numbers numerically, quantities by size, strings bytewise, missing first. */
  private sorted<Row>(spec: PrintSpec<Row>): Row[] {
    // kubectl sorts a table only when it has two rows or more (a lone row is not checked either).
    if (!this.sortBy || spec.items.length === 0 || (this.human && spec.items.length < 2)) return spec.items;
    const keyed = spec.items.map((row) => {
      const values = this.sortBy!.path.findValues(jsonForm(spec.object ? spec.object(row) : row), { allowMissingKeys: true });
      return { row, value: values[0]?.[0], found: Boolean(values[0]?.length) };
    });
    if (!keyed.some((k) => k.found)) throw new CliError(this.sortMissing());
    // Stable, unlike kubectl's sort.Sort: equal keys keep the command's order.
    return keyed
      .sort((a, b) => {
        if (!a.found || !b.found) return Number(a.found) - Number(b.found);
        return compareSortValues(a.value, b.value, this.sortBy!.text);
      })
      .map((k) => k.row);
  }
}

export function dryRunSuffix(dryRun: DryRun): string {
  return dryRun === 'client' ? ' (dry run)' : dryRun === 'server' ? ' (server dry run)' : '';
}

function parseBool(v: string | boolean, flag: string): boolean {
  if (typeof v === 'boolean') return v;
  if (/^(true|1|t)$/i.test(v)) return true;
  if (/^(false|0|f)$/i.test(v)) return false;
  throw new UsageError(`invalid value "${v}" for ${flag}: want true or false`);
}

function readTemplateFile(file: string | undefined, kind: string, readFile: (f: string) => string): string {
  if (!file) return '';
  try {
    return readFile(file);
  } catch (e) {
    throw new UsageError(`cannot read the template file for -o ${kind}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? `${file}: no such file` : (e as Error).message}`);
  }
}

function parseTemplate(text: string, what: string): JSONPath {
  try {
    return new JSONPath(text);
  } catch (e) {
    if (e instanceof JSONPathError) throw new UsageError(`error parsing ${what} ${JSON.stringify(text)}: ${e.message}`);
    throw e;
  }
}

/** `-o custom-columns=NAME:.metadata.name,CLASS:.spec.storageClassName` (kubectl's NewCustomColumnsPrinterFromSpec). */
function columnsFromSpec(spec: string): CustomColumn[] {
  return spec.split(',').map((part) => {
    const i = part.indexOf(':');
    if (i < 0) throw new UsageError(`unexpected custom-columns spec: ${part}, expected <header>:<json-path-expr>`);
    return { header: part.slice(0, i), path: relaxed(part.slice(i + 1)) };
  });
}

/** A file with a line of headers and a line of paths, split on whitespace (kubectl's template file). */
function columnsFromFile(text: string): CustomColumn[] {
  const lines = text.split(/\r?\n/);
  const words = (l: string | undefined) => (l ?? '').split(/\s+/).filter(Boolean);
  if (lines.length < 1 || !lines[0])
    throw new UsageError('invalid template, missing header line. Expected format is one line of space separated headers, one line of space separated column specs.');
  if (lines.length < 2)
    throw new UsageError('invalid template, missing spec line. Expected format is one line of space separated headers, one line of space separated column specs.');
  const headers = words(lines[0]);
  const specs = words(lines[1]);
  if (headers.length !== specs.length) throw new UsageError(`number of headers (${headers.length}) and field specifications (${specs.length}) don't match`);
  return headers.map((header, i) => ({ header, path: relaxed(specs[i]) }));
}

function relaxed(p: string): JSONPath {
  try {
    return parseTemplate(relaxedJSONPath(p), 'custom-columns');
  } catch (e) {
    if (e instanceof JSONPathError) throw new UsageError(e.message);
    throw e;
  }
}

/** One cell: every value found, joined by commas, `<none>` when there is none (kubectl printOneObject). */
function customCell(c: CustomColumn, obj: unknown): string {
  let values: unknown[][];
  try {
    values = c.path.findValues(obj, { allowMissingKeys: true });
  } catch (e) {
    if (e instanceof JSONPathError) throw new CliError(`error executing custom-columns ${c.header}: ${e.message}`);
    throw e;
  }
  if (!values.length || !values[0].length) return '<none>';
  // Control characters would let an object's content drive the terminal.
  return values
    .flat()
    .map((v) => cellText(v).replace(/[\u0000-\u001f\u007f]/g, (ch) => JSON.stringify(ch).slice(1, -1)))
    .join(',');
}

/** Exactly what -o json shows: no undefined fields, no Date objects. */
/** The data as JSON has it, without metadata.managedFields (kubectl's --show-managed-fields=false). */
function jsonForm(v: unknown): unknown {
  return v === undefined ? null : JSON.parse(JSON.stringify(v), (k, value: unknown) => (k === 'managedFields' ? undefined : value));
}

/** kubectl's isLess for the values JSON holds. */
function compareSortValues(a: unknown, b: unknown, field: string): number {
  if (a === null && b === null) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') {
    const qa = quantityValue(a);
    const qb = quantityValue(b);
    if (qa !== undefined && qb !== undefined) return qa - qb;
    return compareBytes(a, b);
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compareSortValues(a[i], b[i], field);
      if (c !== 0) return c;
    }
    return 0;
  }
  const kind = (v: unknown) => (Array.isArray(v) ? 'array' : typeof v === 'object' ? 'map' : typeof v);
  throw new CliError(`field ${field} is an unsortable type: ${kind(a) === kind(b) ? kind(a) : `${kind(a)} and ${kind(b)}`}`);
}
