import { describe, expect, it } from 'vitest';
import { diffTemplates, isValidImage, renderDiff, templatesEqual } from '../../src/workloads/rollout.js';
import { parseImages, imagePatch } from '../../src/commands/ship.js';

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
    const b = tpl('x:2', { env: [{ name: 'MODE', value: 'debug' }, { name: 'NEW', value: '1' }], resources: { limits: { 'nvidia.com/gpu': '1' } }, readinessProbe: { httpGet: { path: '/ready', port: 8080 } } });
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
  it.each(['nginx', 'nginx:1.25', 'registry.local/my-app:2.0', 'localhost:5000/a/b:c', 'ghcr.io/org/img@sha256:' + 'a'.repeat(64)])('accepts %s', (i) => expect(isValidImage(i)).toBe(true));
  it.each(['Registry Local/x:1', 'repo/UPPER', 'x:', 'a//b', ':tag', 'x:-bad'])('rejects %s', (i) => expect(isValidImage(i)).toBe(false));

  it('parseImages names the bad argument', () => {
    expect([...parseImages(['app=x:1', 'side=y:2'])]).toEqual([['app', 'x:1'], ['side', 'y:2']]);
    expect(() => parseImages([])).toThrow('at least one CONTAINER=IMAGE is required');
    expect(() => parseImages(['app'])).toThrow('invalid argument "app": want CONTAINER=IMAGE');
    expect(() => parseImages(['app=x:1', 'app=x:2'])).toThrow('container app is given twice');
  });

  it('builds a strategic merge patch by container name', () => {
    expect(imagePatch({ spec: { containers: [{ name: 'app', image: 'a' }, { name: 'side', image: 's' }] } }, new Map([['side', 's:2']]))).toEqual({
      template: { spec: { containers: [{ name: 'side', image: 's:2' }] } },
    });
  });
});
