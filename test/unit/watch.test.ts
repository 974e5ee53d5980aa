// The watch loop's paths a real server does not produce on demand: a 410 Gone (the list's
// version expired) reads a new version and goes on; each line is the row of the event's copy,
// a deleted object's too; --request-timeout ends a quiet watch; several collections are watched
// side by side. The e2e tests (test/e2e/output.test.ts, output-more.test.ts) prove the rest
// against kubectl.
import { afterEach, beforeEach, expect, it } from 'vitest';
import nock from 'nock';
import { Readable } from 'node:stream';
import { resolveConfig } from '../../src/kube/config.js';
import { Kube } from '../../src/kube/client.js';
import { Printer } from '../../src/output/printer.js';
import { watchList } from '../../src/output/watch.js';
import { MemStream, TEST_SERVER, tempDir, writeKubeconfig } from '../helpers.js';

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

const pv = (name: string, rv: string) => ({ metadata: { name, resourceVersion: rv } });
const events = (...evs: object[]) => evs.map((e) => JSON.stringify(e)).join('\n') + '\n';

it("reads a new version after 410 Gone, prints a line per event from the event's copy, a deleted object's too", async () => {
  const config = resolveConfig({ kubeconfig: writeKubeconfig(tempDir()) }, {});
  const kube = new Kube({ auth: config.auth, server: config.server, sleep: async () => undefined });
  const list = nock(TEST_SERVER)
    .get('/api/v1/persistentvolumes')
    .query(true)
    .reply(200, { items: [], metadata: { resourceVersion: '10' } })
    .get('/api/v1/persistentvolumes')
    .query((q) => q.watch === '1' && q.resourceVersion === '10')
    .reply(200, events({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 10 (15)' } }))
    .get('/api/v1/persistentvolumes')
    .query((q) => q.watch === undefined)
    .reply(200, { items: [], metadata: { resourceVersion: '20' } })
    .get('/api/v1/persistentvolumes')
    .query((q) => q.watch === '1' && q.resourceVersion === '20')
    .reply(200, events({ type: 'ADDED', object: pv('a', '21') }, { type: 'MODIFIED', object: pv('a', '22') }, { type: 'DELETED', object: pv('a', '23') }));

  // --watch-only: the command's list is never read; each line is built from the event's object.
  let listed = 0;
  const rows = async () => (listed++, []);
  const rowOf = async (obj: unknown) => ({
    name: (obj as { metadata: { name: string } }).metadata.name,
    rv: (obj as { metadata: { resourceVersion: string } }).metadata.resourceVersion,
  });
  const out = new MemStream();
  const err = new MemStream();
  const controller = new AbortController();
  const origWrite = out.write.bind(out);
  out.write = ((chunk: string) => {
    const r = origWrite(chunk);
    // Ctrl-C once the header and three lines are out.
    if (out.text.split('\n').length > 4) controller.abort();
    return r;
  }) as typeof out.write;
  const printer = new Printer({ output: 'custom-columns=NAME:.name,RV:.rv' }, ['table', 'json', 'name'], () => '');
  await watchList({
    kube,
    path: '/api/v1/persistentvolumes',
    rows,
    rowOf,
    spec: (items) => ({ items }),
    printer,
    io: { out, err },
    watchOnly: true,
    signal: controller.signal,
  });
  expect(out.text).toBe('NAME   RV\na      21\na      22\na      23\n');
  expect(listed).toBe(0);
  expect(err.text).toBe('');
  expect(list.isDone()).toBe(true);
});

/** A watch stream that stays open and sends nothing, as a quiet server's does. */
const quiet = () => new Readable({ read() {} });

it('--request-timeout ends a quiet watch that long after it started: resolves, as kubectl get -w exits 0', async () => {
  const config = resolveConfig({ kubeconfig: writeKubeconfig(tempDir()) }, {});
  const kube = new Kube({ auth: config.auth, server: config.server, requestTimeoutMs: 300 });
  nock(TEST_SERVER)
    .get('/api/v1/persistentvolumes')
    .query((q) => q.watch === undefined)
    .reply(200, { items: [], metadata: { resourceVersion: '5' } })
    .get('/api/v1/persistentvolumes')
    .query((q) => q.watch === '1' && q.resourceVersion === '5')
    .reply(200, () => quiet());
  const out = new MemStream();
  const err = new MemStream();
  const started = Date.now();
  await watchList({
    kube,
    path: '/api/v1/persistentvolumes',
    rows: async () => [],
    rowOf: () => undefined,
    spec: (items) => ({ items, empty: 'No resources found' }),
    printer: new Printer({ output: 'custom-columns=NAME:.name' }, ['table', 'json', 'name'], () => ''),
    io: { out, err },
    watchOnly: false,
    signal: new AbortController().signal,
  });
  expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  // kubectl get -w prints nothing for an empty list, not even "No resources found".
  expect({ out: out.text, err: err.text }).toEqual({ out: '', err: '' });
});

it("several collections: each watched from its own version; one that fails ends the others and the error is the command's", async () => {
  const config = resolveConfig({ kubeconfig: writeKubeconfig(tempDir()) }, {});
  const kube = new Kube({ auth: config.auth, server: config.server, sleep: async () => undefined });
  const deploys = '/apis/apps/v1/namespaces/ns/deployments';
  // The signal each watch gets, to see the quiet one told to stop.
  const signals: (AbortSignal | undefined)[] = [];
  const watch = kube.watch.bind(kube);
  kube.watch = ((path, lo, onEvent, signal) => {
    signals.push(signal);
    return watch(path, lo, onEvent, signal);
  }) as typeof kube.watch;
  const sets = '/apis/apps/v1/namespaces/ns/statefulsets';
  const scope = nock(TEST_SERVER)
    .get(deploys)
    .query((q) => q.watch === undefined)
    .reply(200, { items: [], metadata: { resourceVersion: '7' } })
    .get(sets)
    .query((q) => q.watch === undefined)
    .reply(200, { items: [], metadata: { resourceVersion: '9' } })
    .get(deploys)
    .query((q) => q.watch === '1' && q.resourceVersion === '7')
    .reply(200, () => quiet())
    .get(sets)
    .query((q) => q.watch === '1' && q.resourceVersion === '9')
    .reply(
      200,
      events(
        { type: 'ADDED', object: { kind: 'StatefulSet', metadata: { name: 'db', namespace: 'ns', resourceVersion: '10' } } },
        { type: 'ERROR', object: { kind: 'Status', code: 403, reason: 'Forbidden', message: 'statefulsets.apps is forbidden' } },
      ),
    );
  const out = new MemStream();
  const err = new MemStream();
  await expect(
    watchList({
      kube,
      path: [deploys, sets],
      rows: async () => [],
      rowOf: (obj) => ({ name: `${(obj as { kind: string }).kind}/${(obj as { metadata: { name: string } }).metadata.name}` }),
      spec: (items) => ({ items }),
      printer: new Printer({ output: 'custom-columns=NAME:.name' }, ['table', 'json', 'name'], () => ''),
      io: { out, err },
      watchOnly: true,
      signal: new AbortController().signal,
    }),
  ).rejects.toThrow('statefulsets.apps is forbidden');
  expect(out.text).toBe('NAME\nStatefulSet/db\n');
  // The Deployments' watch was ended too, not left open.
  expect(signals.map((x) => x?.aborted)).toEqual([true, true]);
  expect(scope.isDone()).toBe(true);
});
