import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { humanDuration, parseDuration, parseGoDuration, parseRequestTimeout } from '../../src/util/duration.js';
import { parseTimeout } from '../../src/util/validate.js';
import { parseQuantity, quantityValue } from '../../src/util/quantity.js';
import { allInOrder } from '../../src/util/settle.js';
import { parseLabelAssignment, selectorMatches, selectorToString } from '../../src/util/labels.js';
import { renderTable, renderData, toKubectlShape } from '../../src/output/printer.js';
import { parseTarget, R } from '../../src/kube/resources.js';

describe('humanDuration (kubectl AGE)', () => {
  it.each([
    [5_000, '5s'],
    [119_000, '119s'],
    [125_000, '2m5s'],
    [7 * 60_000, '7m'],
    [45 * 60_000, '45m'],
    [3 * 3_600_000, '3h'],
    [3 * 3_600_000 + 5 * 60_000, '3h5m'],
    [20 * 3_600_000, '20h'],
    [2 * 86_400_000, '2d'],
    [2 * 86_400_000 + 3 * 3_600_000, '2d3h'],
    [30 * 86_400_000, '30d'],
    [-5000, '<invalid>'],
  ])('%i ms -> %s', (ms, want) => expect(humanDuration(ms)).toBe(want));
});

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['0', 0],
  ])('%s', (text, ms) => expect(parseDuration(text, '--timeout')).toBe(ms));
  it('a wait timeout: at least 1ms, at most what a timer holds', () => {
    expect(() => parseTimeout('1µs')).toThrow('invalid value "1µs" for --timeout: at least 1ms');
    expect(() => parseTimeout('-5s')).toThrow('want a positive duration');
    expect(parseTimeout('596h31m23s')).toBe(2_147_483_000);
    expect(() => parseTimeout('596h31m24s')).toThrow('at most 596h31m23s (24 days)');
  });
  it("names the flag and gives Go's reason on bad input", () => {
    expect(() => parseDuration('5 minutes', '--timeout')).toThrow(
      'invalid value "5 minutes" for --timeout: want a duration such as 30s, 5m or 1h (time: unknown unit " minutes" in duration "5 minutes")',
    );
    expect(() => parseDuration('10', '--timeout')).toThrow('(time: missing unit in duration "10")');
  });

  // Go's time.ParseDuration and client-go's clientcmd.ParseTimeout on the same inputs are the oracle.
  const cases = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '../fixtures/duration-cases.json'), 'utf8')) as {
    input: string;
    parseDuration: { ns: string | null; error: string | null };
    requestTimeout: { ns: string | null; error: string | null };
  }[];
  it.each(cases)('Go reads $input', (c) => {
    const ours = parseGoDuration(c.input);
    expect(ours).toEqual(c.parseDuration.ns !== null ? { ns: BigInt(c.parseDuration.ns) } : { error: expect.any(String) as string });
    // Go quotes a name with non-ASCII bytes differently; every other reason is Go's word for word.
    if (c.parseDuration.error && /^[\x20-\x7e]*$/.test(c.input)) expect(ours).toEqual({ error: c.parseDuration.error });
    const rt = c.requestTimeout.ns;
    if (rt === null) expect(() => parseRequestTimeout(c.input)).toThrow(/^invalid value .* for --request-timeout/);
    else expect(parseRequestTimeout(c.input)).toBe(Math.round(Number(BigInt(rt)) / 1e6));
  });
});

describe('labels', () => {
  it('parses KEY=VALUE and validates both sides', () => {
    expect(parseLabelAssignment('app=web-debug', '--label')).toEqual(['app', 'web-debug']);
    expect(parseLabelAssignment('example.com/tier=', '--label')).toEqual(['example.com/tier', '']);
    expect(() => parseLabelAssignment('app', '--label')).toThrow('invalid value "app" for --label: want KEY=VALUE');
    expect(() => parseLabelAssignment('bad key=x', '--label')).toThrow('invalid label key "bad key" in --label');
    expect(() => parseLabelAssignment('app=-x-', '--label')).toThrow('invalid label value "-x-" in --label');
  });

  it('matches selectors with expressions like the API server', () => {
    const sel = {
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['a', 'b'] },
        { key: 'canary', operator: 'DoesNotExist' },
      ],
    };
    expect(selectorMatches(sel, { app: 'web', tier: 'a' })).toBe(true);
    expect(selectorMatches(sel, { app: 'web', tier: 'c' })).toBe(false);
    expect(selectorMatches(sel, { app: 'web', tier: 'a', canary: '1' })).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['1'] }] }, {})).toBe(true);
    expect(selectorToString(sel)).toBe('app=web,tier in (a,b),!canary');
  });
});

describe('printers', () => {
  it('renders tables like kubectl: no borders, upper-case headers, 3 spaces, no trailing blanks', () => {
    const text = renderTable(
      [
        { header: 'name', value: (r: { n: string; a: string; w: string }) => r.n },
        { header: 'age', value: (r) => r.a },
        { header: 'node', value: (r) => r.w, wide: true },
      ],
      [
        { n: 'web-1', a: '5m', w: 'n1' },
        { n: 'w', a: '10s', w: 'n2' },
      ],
    );
    expect(text).toBe('NAME    AGE\nweb-1   5m\nw       10s\n');
  });

  it('wraps several objects in a List and indents JSON like kubectl', async () => {
    expect(await renderData(toKubectlShape([{ a: 1 }, { a: 2 }], false), 'json')).toBe(
      '{\n    "apiVersion": "v1",\n    "items": [\n        {\n            "a": 1\n        },\n        {\n            "a": 2\n        }\n    ],\n    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n',
    );
    expect(await renderData({ kind: 'Pod', metadata: { name: 'p' } }, 'yaml')).toBe('kind: Pod\nmetadata:\n  name: p\n');
  });
});

describe('parseTarget', () => {
  const allowed = [R.deployments, R.replicasets, R.statefulsets];
  it.each([
    ['deploy/web', 'Deployment'],
    ['deployment/web', 'Deployment'],
    ['deployments.apps/web', 'Deployment'],
    ['rs/web', 'ReplicaSet'],
    ['statefulset/db', 'StatefulSet'],
  ])('%s', (text, kind) => expect(parseTarget(text, allowed).res.kind).toBe(kind));
  it('names the bad part', () => {
    expect(() => parseTarget('web', allowed)).toThrow('invalid TARGET "web": want KIND/NAME');
    expect(() => parseTarget('cronjob/x', allowed)).toThrow('unsupported kind "cronjob" in TARGET "cronjob/x"');
  });
});

describe('nameOf', () => {
  it('takes NAME or KIND/NAME of the one kind', async () => {
    const { nameOf } = await import('../../src/kube/resources.js');
    expect(nameOf('list', R.pods, 'POD')).toBe('list');
    expect(nameOf('pod/list', R.pods, 'POD')).toBe('list');
    expect(nameOf('po/x', R.pods, 'POD')).toBe('x');
    expect(() => nameOf('deploy/x', R.pods, 'POD')).toThrow('unsupported kind "deploy" in POD "deploy/x"');
  });
});

describe('allInOrder', () => {
  it('names the first failure in the order given, not the first to arrive', async () => {
    const late = new Promise((_, reject) => setTimeout(() => reject(new Error('first list denied')), 30));
    const early = Promise.reject(new Error('second list denied'));
    await expect(allInOrder([late, early])).rejects.toThrow('first list denied');
    await expect(allInOrder([Promise.resolve(1), 'two'] as const)).resolves.toEqual([1, 'two']);
  });
});

describe('quantities (one parser for sorting and for counting)', () => {
  it.each([
    ['500m', 0.5],
    ['1Gi', 2 ** 30],
    ['64Mi', 64 * 2 ** 20],
    ['1e3', 1000],
    ['2E', 2e18],
    ['.5', 0.5],
    ['1.5k', 1500],
  ])('%s', (q, v) => {
    expect(quantityValue(q)).toBe(v);
    expect(parseQuantity(q)).toBe(v);
  });
  it('a malformed quantity is not one; counted as 0', () => {
    expect(quantityValue('1Z')).toBeUndefined();
    expect(parseQuantity('lots')).toBe(0);
    expect(parseQuantity(undefined)).toBe(0);
    expect(parseQuantity(3)).toBe(3);
  });
});
