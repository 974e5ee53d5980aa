// The waits of debug-pod end on a terminal condition by throwing from the watch callback:
// that error must end the watch at once, not be mistaken for a dropped stream and resumed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import nock from 'nock';
import { resolveConfig } from '../../src/kube/config.js';
import { Kube } from '../../src/kube/client.js';
import { CliError } from '../../src/errors.js';
import { TEST_SERVER, tempDir, writeKubeconfig } from '../helpers.js';

function kubeWithLog() {
  const config = resolveConfig({ kubeconfig: writeKubeconfig(tempDir()) }, {});
  const log: string[] = [];
  return { kube: new Kube({ auth: config.auth, server: config.server, sleep: async () => {}, log: (l) => log.push(l) }), log };
}

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

const rs = (rv: string, replicas: number) => ({ metadata: { name: 'web-1', namespace: 'ml', resourceVersion: rv }, spec: { replicas } });

describe('an error thrown by the waitFor check during the watch', () => {
  it('ends the wait with that error, with no second watch request', async () => {
    const scope = nock(TEST_SERVER)
      .get('/apis/apps/v1/namespaces/ml/replicasets')
      .query((q) => !q.watch)
      .reply(200, { items: [rs('10', 3)], metadata: { resourceVersion: '10' } })
      .get('/apis/apps/v1/namespaces/ml/replicasets')
      .query((q) => q.watch === '1' && q.resourceVersion === '10')
      .reply(200, JSON.stringify({ type: 'MODIFIED', object: rs('11', 0) }) + '\n');
    const { kube, log } = kubeWithLog();
    const wait = kube.waitFor<ReturnType<typeof rs>, true>(
      '/apis/apps/v1/namespaces/ml/replicasets',
      { fieldSelector: 'metadata.name=web-1' },
      ([r]) => {
        if (r?.spec.replicas === 0) throw new CliError('replicaset/web-1 was scaled to 0 by someone else');
        return undefined;
      },
      { timeoutMs: 10_000, onTimeout: () => 'timed out' },
    );
    await expect(wait).rejects.toThrow('replicaset/web-1 was scaled to 0 by someone else');
    expect(scope.isDone()).toBe(true);
    expect(log.filter((l) => l.includes('resuming'))).toEqual([]);
  });
});
