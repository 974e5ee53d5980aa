// Every byte a command prints as data goes through here: tables that look like kubectl's,
// json/yaml shaped like kubectl's, and `kind/name`.
import Table from 'cli-table3';
import { UsageError } from '../errors.js';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml', 'name'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function parseOutput<F extends OutputFormat>(value: string | undefined, allowed: readonly F[]): F {
  const v = (value ?? 'table') as F;
  if (!allowed.includes(v)) {
    throw new UsageError(`unable to match a printer suitable for the output format "${value}", allowed formats are: ${allowed.join(',')} (-o/--output)`);
  }
  return v;
}

export interface Column<Row> {
  header: string;
  value: (row: Row) => string | number | undefined;
  /** Shown only with -o wide. */
  wide?: boolean;
}

/** kubectl's look: no borders, upper-case headers, three spaces between columns. */
export function renderTable<Row>(columns: Column<Row>[], rows: Row[], opts: { wide?: boolean; noHeaders?: boolean } = {}): string {
  const cols = columns.filter((c) => opts.wide || !c.wide);
  const table = new Table({
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '   ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
    wordWrap: false,
  });
  if (!opts.noHeaders) table.push(cols.map((c) => c.header.toUpperCase()));
  for (const row of rows) table.push(cols.map((c) => String(c.value(row) ?? '<none>')));
  return (
    table
      .toString()
      .split('\n')
      .map((l) => l.trimEnd())
      .join('\n') + '\n'
  );
}

/** kubectl prints one object as itself and several as a v1 List. */
export function toKubectlShape(objects: object[], single: boolean): object {
  if (single && objects.length === 1) return objects[0]!;
  return { apiVersion: 'v1', items: objects, kind: 'List', metadata: { resourceVersion: '' } };
}

export async function renderData(data: unknown, format: 'json' | 'yaml'): Promise<string> {
  if (format === 'json') return JSON.stringify(data, null, 4) + '\n';
  const yaml = await import('js-yaml');
  return yaml.dump(data, { noRefs: true, lineWidth: -1 });
}

/** Adds the kind/apiVersion that list items lack on the wire. */
export function withKind<T extends object>(obj: T, kind: string, apiVersion: string): T {
  return { apiVersion, kind, ...obj };
}
