// Kube.pages / listFold: one paging loop, page by page, with client-go's protections. nock
// serves the 410 a real server only gives once etcd has compacted a continue token away.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import nock from 'nock';
import v8 from 'node:v8';
import vm from 'node:vm';
import { resolveConfig } from '../../src/kube/config.js';
import { Kube } from '../../src/kube/client.js';
import { ApiError, CliError, ExitCode } from '../../src/errors.js';
import { TEST_SERVER, tempDir, writeKubeconfig } from '../helpers.js';

type Item = { metadata: { name: string } };
const PODS = '/api/v1/pods';

function kubeFor() {
  const config = resolveConfig({ kubeconfig: writeKubeconfig(tempDir()) }, {});
  const log: string[] = [];
  const kube = new Kube({ auth: config.auth, server: config.server, sleep: async () => undefined, log: (l) => log.push(l), pageSize: 3 });
  return { kube, log };
}

const items = (...names: string[]) => names.map((name) => ({ metadata: { name } }));
const page = (names: string[], rv: string, cont?: string) => ({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: rv, continue: cont }, items: items(...names) });
const expired = {
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  reason: 'Expired',
  code: 410,
  message: 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
};
const names = (l: Item[]) => l.map((i) => i.metadata.name);

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('Kube.pages', () => {
  it('asks for the next page only when the caller takes it, with limit, continue and the selectors on every page', async () => {
    const scope = nock(TEST_SERVER)
      .get(PODS)
      .query({ fieldSelector: 'status.phase!=Failed', limit: '3' })
      .reply(200, page(['a', 'b', 'c'], '10', 't1'))
      .get(PODS)
      .query({ fieldSelector: 'status.phase!=Failed', limit: '3', continue: 't1' })
      .reply(200, page(['d'], '10'));
    const { kube } = kubeFor();
    const it = kube.pages<Item>(PODS, { fieldSelector: 'status.phase!=Failed' });
    const first = await it.next();
    expect(first.done).toBe(false);
    expect(names(first.value!.items)).toEqual(['a', 'b', 'c']);
    // The second page has not been asked for while the caller holds the first.
    expect(scope.pendingMocks()).toHaveLength(1);
    const second = await it.next();
    expect(names(second.value!.items)).toEqual(['d']);
    expect(second.value).toMatchObject({ restart: false, request: 2, resourceVersion: '10' });
    expect((await it.next()).done).toBe(true);
    expect(scope.isDone()).toBe(true);
  });

  it('on 410 for a continue token, lists again from the first page and the fold drops what it kept', async () => {
    const scope = nock(TEST_SERVER)
      .get(PODS)
      .query({ limit: '3' })
      .reply(200, page(['a', 'b', 'c'], '10', 't1'))
      .get(PODS)
      .query({ limit: '3', continue: 't1' })
      .reply(410, expired)
      // A fresh snapshot: b was deleted and e created meanwhile.
      .get(PODS)
      .query({ limit: '3' })
      .reply(200, page(['a', 'c', 'd'], '20', 't2'))
      .get(PODS)
      .query({ limit: '3', continue: 't2' })
      .reply(200, page(['e'], '20'));
    const { kube, log } = kubeFor();
    const starts: number[] = [];
    const r = await kube.listFold<Item, string[]>(
      PODS,
      {},
      () => (starts.push(1), []),
      (kept, p) => kept.push(...names(p)),
    );
    expect(r.value).toEqual(['a', 'c', 'd', 'e']);
    expect(r.resourceVersion).toBe('20');
    expect(r.pages).toBe(4);
    expect(starts).toHaveLength(2);
    expect(log.join('\n')).toMatch(/continue token for \/api\/v1\/pods expired \(410\); listing again from the first page/);
    expect(scope.isDone()).toBe(true);
  });

  it('when the restarted list expires too, falls back to one unpaged list, as client-go does', async () => {
    const scope = nock(TEST_SERVER)
      .get(PODS)
      .query({ limit: '3' })
      .reply(200, page(['a', 'b', 'c'], '10', 't1'))
      .get(PODS)
      .query({ limit: '3', continue: 't1' })
      .reply(410, expired)
      .get(PODS)
      .query({ limit: '3' })
      .reply(200, page(['a', 'b', 'c'], '20', 't2'))
      .get(PODS)
      .query({ limit: '3', continue: 't2' })
      .reply(410, expired)
      // No limit: the whole list in one answer (its continue, if any, is not followed).
      .get(PODS)
      .query((q) => !('limit' in q) && !('continue' in q))
      .reply(200, page(['a', 'b', 'c', 'd', 'e'], '30'));
    const { kube } = kubeFor();
    const l = await kube.list<Item>(PODS);
    expect(names(l.items)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(l.resourceVersion).toBe('30');
    expect(l.pages).toBe(5);
    expect(scope.isDone()).toBe(true);
  });

  it('a 410 on a first page (no continue token) is an error for the caller, not a restart', async () => {
    nock(TEST_SERVER).get(PODS).query({ limit: '3' }).reply(410, expired);
    const { kube } = kubeFor();
    const e = await kube.list(PODS).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).status).toBe(410);
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('stops on a continue token the server already gave (exit 3) instead of paging forever', async () => {
    nock(TEST_SERVER)
      .get(PODS)
      .query({ limit: '3' })
      .reply(200, page(['a', 'b', 'c'], '10', 't1'))
      .get(PODS)
      .query({ limit: '3', continue: 't1' })
      .reply(200, page(['d', 'e', 'f'], '10', 't1'));
    const { kube } = kubeFor();
    const e = await kube.list(PODS).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CliError);
    expect((e as CliError).exitCode).toBe(ExitCode.UNREACHABLE);
    expect((e as Error).message).toMatch(/same continue token twice while listing \/api\/v1\/pods/);
  });

  it('holds no more than a page: a page the fold did not keep is collected before the next is read', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const refs: WeakRef<object>[][] = [];
    const alive = (i: number) => refs[i]!.filter((r) => r.deref() !== undefined).length;
    const seenWhileReading: { page: number; alive: number[] }[] = [];
    const reading = (n: number) => () => {
      // Called by nock as page n is asked for, i.e. while the pager waits for it.
      gc();
      seenWhileReading.push({ page: n, alive: refs.map((_, i) => alive(i)) });
      return n < 4 ? page([`p${n}a`, `p${n}b`, `p${n}c`], '10', `t${n}`) : page([`p${n}a`], '10');
    };
    nock(TEST_SERVER)
      .get(PODS)
      .query({ limit: '3' })
      .reply(200, reading(1))
      .get(PODS)
      .query({ limit: '3', continue: 't1' })
      .reply(200, reading(2))
      .get(PODS)
      .query({ limit: '3', continue: 't2' })
      .reply(200, reading(3))
      .get(PODS)
      .query({ limit: '3', continue: 't3' })
      .reply(200, reading(4));
    const { kube } = kubeFor();
    const r = await kube.listFold<Item, number>(
      PODS,
      {},
      () => 0,
      // Keeps a count, not the items.
      (_, p) => void refs.push(p.map((i) => new WeakRef(i))),
    );
    expect(r.pages).toBe(4);
    // While page n+1 is read, no item of page n or earlier is alive: neither the pager nor the fold holds it.
    expect(seenWhileReading.map((s) => s.page)).toEqual([1, 2, 3, 4]);
    for (const s of seenWhileReading.slice(1)) expect(s.alive).toEqual(Array.from({ length: s.page - 1 }, () => 0));
  });
});
