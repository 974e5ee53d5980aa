import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { restoreOptions, scaleOptions } from '../../src/commands/scale.js';
import { needsOf } from '../../src/commands/flow.js';
import { needLabel } from '../../src/commands/permissions.js';
import type { HPA } from '../../src/kube/types.js';
import { SCALED_LABEL, SZ, parseSelector, planRestore, planScaleToZero, recordedHpaName, restoreProgress, type Workload } from '../../src/workloads/scale.js';

const now = new Date('2026-01-02T03:04:05.678Z');
const deploy = (replicas: number, annotations: Record<string, string> = {}, labels: Record<string, string> = {}): Workload => ({
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'ns', annotations, labels, generation: 2 },
  spec: { replicas, selector: { matchLabels: { app: 'web' } } },
});
const hpa = (min?: number): HPA =>
  ({ metadata: { name: 'web', namespace: 'ns', uid: 'u1' }, spec: { minReplicas: min, maxReplicas: 5, scaleTargetRef: { kind: 'Deployment', name: 'web' } } }) as HPA;

describe('planScaleToZero', () => {
  it('records the count, labels and scales to 0 in one patch', () => {
    const p = planScaleToZero(deploy(3), undefined, { withHpa: false, now });
    expect(p).toEqual({
      from: 3,
      recorded: 3,
      state: 'scale',
      hpa: undefined,
      patch: { metadata: { labels: { [SCALED_LABEL]: 'true' }, annotations: { [SZ.replicas]: '3', [SZ.at]: '2026-01-02T03:04:05Z' } }, spec: { replicas: 0 } },
    });
  });

  it('a re-run at 0 with our record writes nothing and keeps the count', () => {
    const p = planScaleToZero(deploy(0, { [SZ.replicas]: '3' }, { [SCALED_LABEL]: 'true' }), undefined, { withHpa: false, now });
    expect(p).toEqual({ from: 0, recorded: 3, state: 'already', hpa: undefined });
  });

  it('at 0 with no record: nothing to record, nothing written', () => {
    expect(planScaleToZero(deploy(0), undefined, { withHpa: false, now })).toEqual({ from: 0, recorded: 0, state: 'unrecorded', hpa: undefined });
  });

  it('scaled up again after a scale-to-zero: records the new count', () => {
    const p = planScaleToZero(deploy(5, { [SZ.replicas]: '3' }, { [SCALED_LABEL]: 'true' }), undefined, { withHpa: false, now });
    expect(p.recorded).toBe(5);
    expect(p.patch).toMatchObject({ spec: { replicas: 0 }, metadata: { annotations: { [SZ.replicas]: '5' } } });
  });

  it('leaves an HPA in place by default (inactive at zero)', () => {
    const p = planScaleToZero(deploy(2), hpa(2), { withHpa: false, now });
    expect(p.hpa).toEqual({ name: 'web', min: 2, max: 5, action: 'left' });
    expect(JSON.stringify(p.patch)).not.toContain(SZ.hpa);
  });

  it('an HPA with minReplicas 0 stays active at zero: refused without --with-hpa', () => {
    expect(() => planScaleToZero(deploy(2), hpa(0), { withHpa: false, now })).toThrow(
      /minReplicas 0, which stays active at zero replicas and would scale it back up; pass --with-hpa/,
    );
    expect(planScaleToZero(deploy(2), hpa(0), { withHpa: true, now }).hpa?.action).toBe('remove');
  });

  it('--with-hpa records the HPA in the same write; at 0 already, only the record is added', () => {
    const p = planScaleToZero(deploy(2), hpa(2), { withHpa: true, now });
    expect(JSON.parse((p.patch as { metadata: { annotations: Record<string, string> } }).metadata.annotations[SZ.hpa]!)).toEqual({
      metadata: { name: 'web' },
      spec: { minReplicas: 2, maxReplicas: 5, scaleTargetRef: { kind: 'Deployment', name: 'web' } },
    });
    const again = planScaleToZero(deploy(0, { [SZ.replicas]: '2' }, { [SCALED_LABEL]: 'true' }), hpa(2), { withHpa: true, now });
    expect(again.state).toBe('already');
    expect(again.patch).toMatchObject({ metadata: { annotations: { [SZ.hpa]: expect.any(String) } } });
    expect(again.patch).not.toHaveProperty('spec');
  });
});

describe('planRestore', () => {
  const rec = (replicas: number, count = '3') => deploy(replicas, { [SZ.replicas]: count }, { [SCALED_LABEL]: 'true' });
  it.each([
    ['at 0 with a record', rec(0), {}, { state: 'restore', from: 0, to: 3 }],
    ['already at the recorded count (an earlier restore stopped before dropping the record)', rec(3), {}, { state: 'resume', from: 3, to: 3 }],
    ['no record, running: already restored', deploy(3), {}, { state: 'restored', from: 3, to: 3 }],
    ['scaled by someone, --force', rec(2), { force: true }, { state: 'restore', from: 2, to: 3 }],
    ['moved by a live HPA after an earlier restore', rec(4), { liveHpa: hpa(4) }, { state: 'resume', from: 4, to: 4 }],
  ])('%s', (_, obj, extra, want) => {
    expect(planRestore(obj, { force: false, ...extra })).toMatchObject(want);
  });

  it.each([
    [
      'someone scaled it to 2',
      rec(2),
      /^deployment\.apps\/web runs 2 replicas, not 0 \(3 recorded\): someone scaled it after scale-to-zero; pass --force to scale it to 3 and drop the record$/,
    ],
    ['at 0 and never recorded', deploy(0), /at 0 replicas with no recorded replica count/],
    ['a record that is not a number', rec(0, 'x'), /unreadable recorded replica count "x"/],
  ])('refuses: %s', (_, obj, re) => {
    expect(() => planRestore(obj, { force: false })).toThrow(re);
  });
});

describe('restoreProgress', () => {
  const a = { name: 'deployment.apps/web', to: 3, hpaInCharge: false };
  const obj = (spec: number, ready: number, observed = 2, conditions: { type: string; status: string; reason?: string; message?: string }[] = []): Workload => ({
    ...deploy(spec),
    status: { readyReplicas: ready, observedGeneration: observed, conditions },
  });
  it.each([
    ['Ready', obj(3, 3), { done: true, ready: 3 }],
    ['not yet', obj(3, 1), { ready: 1, want: 3 }],
    ['status of an older generation', obj(3, 3, 1), { ready: 3, want: 3 }],
    ['deleted', undefined, { terminal: 'deployment.apps/web was deleted while we waited for it to be Ready', superseded: 'deployment.apps/web was deleted by someone else' }],
    [
      'scaled back to 0',
      obj(0, 0),
      { terminal: 'someone scaled deployment.apps/web back to 0 while we waited for 3 Ready replicas', superseded: 'deployment.apps/web was scaled back to 0 by someone else' },
    ],
    [
      'changed by someone',
      obj(5, 3),
      { terminal: 'someone changed the replicas of deployment.apps/web to 5 while we waited (we set 3)', superseded: 'deployment.apps/web was scaled to 5 by someone else' },
    ],
    [
      'progress deadline',
      obj(3, 1, 2, [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-1" has timed out progressing.' }]),
      { terminal: 'deployment.apps/web exceeded its progress deadline with 1/3 Ready: ReplicaSet "web-1" has timed out progressing.' },
    ],
  ])('%s', (_, o, want) => expect(restoreProgress(o, a)).toEqual(want));

  it('with an HPA in charge, its count is the target', () => {
    expect(restoreProgress(obj(5, 5), { ...a, hpaInCharge: true })).toEqual({ done: true, ready: 5 });
  });
});

describe('parseSelector', () => {
  it.each(['app=web', 'app==web', 'app!=web', 'app', '!app', 'tier in (a, b)', 'tier notin (a),x=y', 'example.com/team=ml'])('accepts %s', (s) => expect(parseSelector(s)).toBe(s));
  it.each([
    ['', /must not be empty/],
    ['a=b=c', /cannot parse/],
    ['A_B/c=d', /label key "A_B\/c"/],
    ['app=bad value', /cannot parse/],
    ['app in (a', /unbalanced/],
    ['x=' + 'v'.repeat(64), /label value/],
    ['a,,b', /empty requirement/],
  ])('refuses %j', (s, re) => expect(() => parseSelector(s)).toThrow(re));
});

describe('options (exit 2 before connecting)', () => {
  const so = (args: string[], raw: Record<string, unknown> = {}) => scaleOptions(args, { timeout: '5m', ...raw }, 'table', 'none');
  const ro = (args: string[], raw: Record<string, unknown> = {}) => restoreOptions(args, { timeout: '5m', ...raw }, 'table', 'none');
  it.each([
    ['no TARGET and no -l', () => so([]), /scale-to-zero needs TARGET/],
    ['TARGET and -l', () => so(['deploy/a'], { selector: 'x=y' }), /not both/],
    ['--save without --delete', () => so(['deploy/a'], { save: '/tmp/x.yaml' }), /--save is used with --delete/],
    ['--save into a missing folder', () => so(['deploy/a'], { delete: true, save: '/no/such/dir/x.yaml' }), /cannot write --save \/no\/such\/dir\/x.yaml: no such folder/],
    ['--save onto a folder', () => so(['deploy/a'], { delete: true, save: os.tmpdir() }), /it is a folder/],
    ['--timeout 0', () => so(['deploy/a'], { timeout: '0' }), /invalid value "0" for --timeout/],
    ['--timeout 600h', () => so(['deploy/a'], { timeout: '600h' }), /at most 596h/],
    ['job/x', () => so(['job/x']), /unsupported kind "job"/],
    ['a name with ..', () => so(['deploy/..']), /invalid name/],
    ['-A with TARGETs', () => so(['deploy/a'], { allNamespaces: true }), /-A\/--all-namespaces works with -l/],
    ['--list with TARGETs', () => so(['deploy/a'], { list: true }), /--list takes no TARGETs/],
    ['restore with nothing', () => ro([]), /restore needs TARGET .* or -l SELECTOR, or --all/],
    ['restore --all with -l', () => ro([], { all: true, selector: 'a=b' }), /--all takes no TARGETs and no -l/],
    ['restore TARGET and -l', () => ro(['sts/db'], { selector: 'a=b' }), /not both/],
    ['restore --timeout 0s', () => ro(['sts/db'], { timeout: '0s' }), /--timeout/],
  ])('%s', (_, f, re) => {
    expect(f).toThrow(re);
    try {
      f();
    } catch (e) {
      expect((e as { exitCode: number }).exitCode).toBe(2);
    }
  });

  it('--save is resolved to an absolute path in a writable folder', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-unit-'));
    expect(so(['rs/batch'], { delete: true, save: path.join(dir, 'x.yaml') }).save).toBe(path.join(dir, 'x.yaml'));
  });

  it('restore --all and -l need no TARGET', () => {
    expect(ro([], { all: true }).all).toBe(true);
    expect(ro([], { selector: 'stage=train' }).selector).toBe('stage=train');
  });
});

describe('declared permissions', () => {
  it('scale-to-zero of a Deployment needs no StatefulSet or ReplicaSet verbs, and no /scale subresource', () => {
    const labels = needsOf('scale-to-zero', (w) => ['kind:deployments', 'list:deployments'].includes(w)).map(needLabel);
    expect(labels).toEqual([
      'get deployments.apps',
      'patch deployments.apps',
      'list deployments.apps',
      'watch deployments.apps',
      'list pods',
      'watch pods',
      'list horizontalpodautoscalers.autoscaling',
    ]);
  });
  it('flags add their verbs', () => {
    const labels = needsOf('scale-to-zero', (w) => ['kind:statefulsets', 'delete:statefulsets', 'with-hpa', 'list:deployments', 'list:replicasets'].includes(w)).map(needLabel);
    expect(labels).toEqual(expect.arrayContaining(['delete statefulsets.apps', 'delete horizontalpodautoscalers.autoscaling', 'list deployments.apps', 'list replicasets.apps']));
    expect(needsOf('restore', (w) => ['kind:deployments', 'list:deployments', 'recorded-hpa'].includes(w)).map(needLabel)).toEqual([
      'get deployments.apps',
      'patch deployments.apps',
      'list deployments.apps',
      'watch deployments.apps',
      'list horizontalpodautoscalers.autoscaling',
      'create horizontalpodautoscalers.autoscaling',
    ]);
  });
});

describe('a recorded HPA edited by hand', () => {
  it.each(['{bad', '{"metadata":{}}', '{"metadata":{"name":"web"},"spec":{}}', '[]'])(
    '%s: restore refuses before any write, naming the workload and the annotation; --list shows it',
    (text) => {
      const w = deploy(0, { [SZ.replicas]: '2', [SZ.hpa]: text }, { [SCALED_LABEL]: 'true' });
      expect(() => planRestore(w, { force: true })).toThrow(
        `deployment.apps/web: its annotation ${SZ.hpa} is not an HPA as scale-to-zero --with-hpa records it (edited by hand?); fix it, or remove it to restore without the HPA`,
      );
      expect(recordedHpaName(w)).toBe('<invalid record>');
    },
  );
  it('a record as written reads back', () => {
    const rec = JSON.stringify({ metadata: { name: 'web' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 5 } });
    expect(recordedHpaName(deploy(0, { [SZ.hpa]: rec }))).toBe('web');
  });
});
