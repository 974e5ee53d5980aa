import { afterEach, describe, expect, it } from 'vitest';
import { diffTemplates, isValidImage, renderDiff, templatesEqual } from '../../src/workloads/rollout.js';
import { describeImages, hasImages, parseImages, imagePatch } from '../../src/workloads/images.js';
import nock from 'nock';
import { resolveConfig } from '../../src/kube/config.js';
import { Kube } from '../../src/kube/client.js';
import { TEST_SERVER, tempDir, writeKubeconfig } from '../helpers.js';
import {
  RolloutFailed,
  originOf,
  rollbackCause,
  rolloutStatus,
  missingRevision,
  waitForRollout,
  type Revision,
  CHANGE_CAUSE,
  ROLLBACK_ORIGIN,
} from '../../src/workloads/rollout.js';
import { deploymentName, parseKeep, parseRevision } from '../../src/workloads/targets.js';
import type { Deployment } from '../../src/kube/types.js';

const tpl = (image: string, extra: Record<string, unknown> = {}) => ({
  metadata: { labels: { app: 'web', 'pod-template-hash': 'abc' } },
  spec: { containers: [{ name: 'app', image, env: [{ name: 'MODE', value: 'prod' }], ...extra }] },
});

describe('templates', () => {
  it('ignores pod-template-hash when comparing', () => {
    const a = tpl('x:1');
    const b = tpl('x:1');
    b.metadata.labels['pod-template-hash'] = 'zzz';
    expect(templatesEqual(a, b)).toBe(true);
    expect(templatesEqual(a, tpl('x:2'))).toBe(false);
  });

  it('diffs images, env, resources and probes by container name', () => {
    const a = tpl('x:1');
    const b = tpl('x:2', {
      env: [
        { name: 'MODE', value: 'debug' },
        { name: 'NEW', value: '1' },
      ],
      resources: { limits: { 'nvidia.com/gpu': '1' } },
      readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
    });
    expect(renderDiff(diffTemplates(a, b))).toBe(
      [
        '  ~ containers[app].env[MODE].value: prod -> debug',
        '  + containers[app].env[NEW].value: 1',
        '  ~ containers[app].image: x:1 -> x:2',
        '  + containers[app].readinessProbe.httpGet.path: /ready',
        '  + containers[app].readinessProbe.httpGet.port: 8080',
        '  + containers[app].resources.limits.nvidia.com/gpu: 1',
        '',
      ].join('\n'),
    );
    expect(renderDiff([])).toBe('  (no differences)\n');
  });
});

describe('image references', () => {
  it.each(['nginx', 'nginx:1.25', 'registry.local/my-app:2.0', 'localhost:5000/a/b:c', 'ghcr.io/org/img@sha256:' + 'a'.repeat(64)])('accepts %s', (i) =>
    expect(isValidImage(i)).toBe(true),
  );
  it.each(['Registry Local/x:1', 'repo/UPPER', 'x:', 'a//b', ':tag', 'x:-bad'])('rejects %s', (i) => expect(isValidImage(i)).toBe(false));

  it('parseImages names the bad argument', () => {
    expect([...parseImages(['app=x:1', 'side=y:2'])]).toEqual([
      ['app', 'x:1'],
      ['side', 'y:2'],
    ]);
    expect(() => parseImages([])).toThrow('at least one CONTAINER=IMAGE is required');
    expect(() => parseImages(['app'])).toThrow('invalid argument "app": want CONTAINER=IMAGE');
    expect(() => parseImages(['app=x:1', 'app=x:2'])).toThrow('container app is given twice');
  });

  it('builds a strategic merge patch by container name', () => {
    expect(
      imagePatch(
        {
          spec: {
            containers: [
              { name: 'app', image: 'a' },
              { name: 'side', image: 's' },
            ],
          },
        },
        new Map([['side', 's:2']]),
      ),
    ).toEqual({
      template: { spec: { containers: [{ name: 'side', image: 's:2' }] } },
    });
  });
});

const dep = (o: { gen?: number; observed?: number; replicas?: number; updated?: number; total?: number; available?: number; reason?: string; paused?: boolean }): Deployment => ({
  metadata: { name: 'web', namespace: 'ns', generation: o.gen ?? 2 },
  spec: { replicas: o.replicas ?? 3, paused: o.paused, selector: {}, template: {} },
  status: {
    observedGeneration: o.observed ?? 2,
    updatedReplicas: o.updated,
    replicas: o.total,
    availableReplicas: o.available,
    conditions: o.reason
      ? [{ type: 'Progressing', status: o.reason === 'ProgressDeadlineExceeded' ? 'False' : 'True', reason: o.reason, message: 'ReplicaSet "web-1" has timed out progressing.' }]
      : [],
  },
});

describe('rolloutStatus: kubectl rollout status rules (DeploymentStatusViewer)', () => {
  it.each([
    [
      'not observed yet (even with an old deadline condition)',
      dep({ gen: 3, observed: 2, reason: 'ProgressDeadlineExceeded' }),
      false,
      'waiting for deployment/web to observe the change',
    ],
    ['updated < desired', dep({ updated: 1, total: 4, available: 3 }), false, 'deployment/web: 1 of 3 new replicas updated'],
    ['old replicas pending termination', dep({ updated: 3, total: 4, available: 3 }), false, 'deployment/web: 1 old replicas pending termination'],
    ['updated but not available', dep({ updated: 3, total: 3, available: 2 }), false, 'deployment/web: 2 of 3 updated replicas available'],
    ['complete', dep({ updated: 3, total: 3, available: 3 }), true, 'deployment/web successfully rolled out'],
    ['complete at 0 replicas', dep({ replicas: 0 }), true, 'deployment/web successfully rolled out'],
  ])('%s', (_, d, done, text) => {
    expect(rolloutStatus(d)).toEqual({ done, text });
  });

  it('fails at once on ProgressDeadlineExceeded once the generation is observed', () => {
    expect(() => rolloutStatus(dep({ updated: 1, total: 4, available: 3, reason: 'ProgressDeadlineExceeded' }))).toThrow(RolloutFailed);
    expect(() => rolloutStatus(dep({ updated: 1, total: 4, available: 3, reason: 'ProgressDeadlineExceeded' }))).toThrow(
      'deployment/web exceeded its progress deadline (600s): ReplicaSet "web-1" has timed out progressing',
    );
  });

  it('a paused Deployment with an unfinished rollout is terminal; a finished one is not', () => {
    expect(() => rolloutStatus(dep({ updated: 1, total: 4, available: 3, paused: true }))).toThrow(/is paused, so its rollout cannot progress \(1 of 3 new replicas updated\)/);
    expect(rolloutStatus(dep({ updated: 3, total: 3, available: 3, paused: true })).done).toBe(true);
  });
});

describe('change-cause of a rollback never nests (issue 16 item 3)', () => {
  // A rollback brings the target's ReplicaSet back: the revisions of one chain share it.
  const rev = (revision: number, annotations: Record<string, string>, rsName = 'web-a'): Revision => ({
    revision,
    rs: { metadata: { name: rsName, annotations } },
    changeCause: annotations[CHANGE_CAUSE] ?? '',
    origin: originOf({ name: rsName, annotations }),
    formerly: [],
    images: [],
    created: '',
    ready: 0,
    desired: 0,
  });

  it('names the target revision and its own cause, then the original cause on a rollback to a rollback', () => {
    const first = rollbackCause(rev(1, { [CHANGE_CAUSE]: 'initial image 1.0' }), 'leaks');
    expect(first.cause).toBe('rollback to revision 1 ("initial image 1.0"): leaks');
    const second = rollbackCause(rev(4, { [CHANGE_CAUSE]: first.cause, [ROLLBACK_ORIGIN]: first.origin }));
    expect(second.cause).toBe('rollback to revision 4 ("initial image 1.0")');
    const third = rollbackCause(rev(6, { [CHANGE_CAUSE]: second.cause, [ROLLBACK_ORIGIN]: second.origin }));
    expect(third.cause).toBe('rollback to revision 6 ("initial image 1.0")');
  });

  it('a revision without a cause stays without one, also one level down', () => {
    const first = rollbackCause(rev(1, {}), 'why');
    expect(first.cause).toBe('rollback to revision 1: why');
    expect(rollbackCause(rev(4, { [CHANGE_CAUSE]: first.cause, [ROLLBACK_ORIGIN]: first.origin })).cause).toBe('rollback to revision 4');
  });

  it('an origin made stale by `kubectl annotate` is ignored: the cause written since counts', () => {
    const first = rollbackCause(rev(1, { [CHANGE_CAUSE]: 'initial' }));
    const edited = rev(4, { [CHANGE_CAUSE]: 'hotfix by hand', [ROLLBACK_ORIGIN]: first.origin });
    expect(edited.origin).toBeUndefined();
    expect(rollbackCause(edited).cause).toBe('rollback to revision 4 ("hotfix by hand")');
    expect(originOf({ name: 'web-a', annotations: { [ROLLBACK_ORIGIN]: '{not json' } })).toBeUndefined();
  });

  it('an origin copied to a new ReplicaSet (`kubectl set image` after a rollback) is ignored', () => {
    const first = rollbackCause(rev(1, { [CHANGE_CAUSE]: 'initial' }));
    const other = rev(5, { [CHANGE_CAUSE]: first.cause, [ROLLBACK_ORIGIN]: first.origin }, 'web-b');
    expect(other.origin).toBeUndefined();
    expect(rev(4, { [CHANGE_CAUSE]: first.cause, [ROLLBACK_ORIGIN]: first.origin }).origin).toEqual({ revision: 1, cause: 'initial' });
  });

  it('a revision a rollback renumbered is named by its new number', () => {
    const r4 = { ...rev(4, {}), formerly: [1] };
    expect(missingRevision(1, 'web', [rev(2, {}), rev(3, {}), r4]).message).toBe(
      'revision 1 of deployment/web is now revision 4 (a rollback brought it back): use --to-revision 4',
    );
    expect(missingRevision(9, 'web', [rev(2, {})]).message).toBe('revision 9 not found for deployment/web; revisions: 2');
  });
});

describe('targets and numbers', () => {
  it.each(['web', 'deploy/web', 'deployment/web', 'deployments/web', 'deployment.apps/web', 'deployments.v1.apps/web'])('accepts %s', (t) => expect(deploymentName(t)).toBe('web'));
  it.each([
    ['..', /invalid DEPLOYMENT ".."/],
    ['.', /invalid DEPLOYMENT "."/],
    ['', /DEPLOYMENT must not be empty/],
    ['A_B', /invalid DEPLOYMENT "A_B"/],
    ['rs/web', /unsupported kind "rs"/],
    ['deploy/', /want KIND\/NAME/],
    ['x'.repeat(300), /at most 253/],
  ])('refuses %s', (t, re) => expect(() => deploymentName(t)).toThrow(re));
  it('revisions and --keep-for-debug', () => {
    expect(parseRevision('0', '--to-revision')).toBe(0);
    expect(() => parseRevision('-1', '--to-revision')).toThrow('invalid value "-1" for --to-revision: want a revision number');
    expect(() => parseRevision('99999999999999999999', '--to-revision')).toThrow(/want a revision number/);
    expect(() => parseKeep('0')).toThrow(/want a positive number of pods/);
    expect(parseKeep('2')).toBe(2);
  });
  it('container names in CONTAINER=IMAGE are checked', () => {
    expect(() => parseImages(['A_B=x:1'])).toThrow('invalid container name "A_B" in "A_B=x:1"');
  });
});

describe('watch: an error thrown by the check ends the wait at once (not resumed as a dropped stream)', () => {
  afterEach(() => nock.cleanAll());
  it('rejects with the check error after one watch request', async () => {
    const c = resolveConfig({ kubeconfig: writeKubeconfig(tempDir()) }, {});
    const kube = new Kube({ auth: c.auth, server: c.server, sleep: async () => undefined });
    const d = (gen: number) => ({ metadata: { name: 'web', namespace: 'ns', resourceVersion: String(gen), generation: gen } });
    const scope = nock(TEST_SERVER)
      .get('/apis/apps/v1/namespaces/ns/deployments')
      .query(true)
      .reply(200, { items: [d(1)], metadata: { resourceVersion: '1' } })
      .get('/apis/apps/v1/namespaces/ns/deployments')
      .query((q) => q.watch === '1')
      .reply(200, JSON.stringify({ type: 'MODIFIED', object: d(2) }) + '\n');
    await expect(
      kube.waitFor<ReturnType<typeof d>, true>(
        '/apis/apps/v1/namespaces/ns/deployments',
        {},
        (items) => {
          if (items[0]!.metadata.generation === 2) throw new RolloutFailed('terminal');
          return undefined;
        },
        { timeoutMs: 5000, onTimeout: () => 'timeout' },
      ),
    ).rejects.toThrow('terminal');
    expect(scope.isDone()).toBe(true);
  });
});

describe('images of a template', () => {
  const t = { spec: { containers: [{ name: 'app', image: 'a:1' }], initContainers: [{ name: 'init', image: 'i:1' }] } };
  it('hasImages checks every named container, init containers included', () => {
    expect(
      hasImages(
        t,
        new Map([
          ['app', 'a:1'],
          ['init', 'i:1'],
        ]),
      ),
    ).toBe(true);
    expect(hasImages(t, new Map([['app', 'a:2']]))).toBe(false);
    expect(hasImages(t, new Map([['gone', 'a:1']]))).toBe(false);
  });
  it('describeImages reads an assignment or a template', () => {
    expect(
      describeImages(
        new Map([
          ['app', 'a:2'],
          ['side', 's:1'],
        ]),
      ),
    ).toBe('app=a:2, side=s:1');
    expect(describeImages(t)).toBe('app=a:1');
  });
});

describe('a wait that times out before its first answer', () => {
  it('says the state was not read, not that the Deployment was deleted', async () => {
    const config = resolveConfig({ kubeconfig: writeKubeconfig(tempDir()) }, {});
    const kube = new Kube({ auth: config.auth, server: config.server });
    nock(TEST_SERVER)
      .get('/apis/apps/v1/namespaces/ml/deployments')
      .query(true)
      .delay(500)
      .reply(200, { items: [], metadata: { resourceVersion: '1' } });
    await expect(waitForRollout(kube, 'ml', 'web', { timeoutMs: 50 })).rejects.toThrow('timed out after 50ms waiting for deployment/web to roll out (its state not read yet)');
    nock.cleanAll();
  });
});
