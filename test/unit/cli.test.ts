import { describe, expect, it } from 'vitest';
import nock from 'nock';
import { runCli, TEST_SERVER, tempDir, useNockCluster, writeKubeconfig } from '../helpers.js';

const cluster = useNockCluster();

describe('version', () => {
  it('prints client, node and server versions', async () => {
    nock(TEST_SERVER).get('/version').reply(200, { gitVersion: 'v1.35.4' });
    const r = await runCli(['version', '--kubeconfig', cluster()]);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toBe(`Client Version: v0.1.0-test\nNode Version: ${process.version}\nServer Version: v1.35.4\n`);
  });

  it('--client does not contact the server', async () => {
    const r = await runCli(['version', '--client']);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`Client Version: v0.1.0-test\nNode Version: ${process.version}\n`);
  });

  it('-o json is data only', async () => {
    nock(TEST_SERVER).get('/version').reply(200, { gitVersion: 'v1.35.4' });
    const r = await runCli(['version', '-o', 'json', '--kubeconfig', cluster()]);
    expect(JSON.parse(r.out)).toEqual({ clientVersion: 'v0.1.0-test', nodeVersion: process.version, serverVersion: 'v1.35.4' });
  });

  it('prints the client part and then why the server is unreachable', async () => {
    nock(TEST_SERVER).get('/version').reply(503, { kind: 'Status', reason: 'ServiceUnavailable', message: 'apiserver is shutting down', code: 503 }).persist();
    const r = await runCli(['version', '--kubeconfig', cluster()]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('Client Version: v0.1.0-test');
    expect(r.err).toBe('Error from server (ServiceUnavailable): apiserver is shutting down\n');
  });
});

describe('errors and flags', () => {
  it('an unknown flag is a usage error (exit 2)', async () => {
    const r = await runCli(['version', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.err).toContain("error: unknown option '--bogus'");
  });

  it('an unknown -o lists the allowed formats', async () => {
    const r = await runCli(['version', '--client', '-o', 'xml']);
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err).toBe(
      'error: unable to match a printer suitable for the output format "xml", allowed formats are: custom-columns,custom-columns-file,json,jsonpath,jsonpath-as-json,jsonpath-file,yaml (-o/--output)\n',
    );
  });

  it('a bad --request-timeout names the flag', async () => {
    const r = await runCli(['version', '--kubeconfig', cluster(), '--request-timeout', 'soon']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      'error: invalid value "soon" for --request-timeout: Timeout must be a single integer in seconds, or an integer followed by a corresponding time unit (e.g. 1s | 2m | 3h)\n',
    );
    expect(r.out).toBe('');
  });

  it('--request-timeout takes whole seconds as client-go does; --timeout wants a unit as Go does', async () => {
    // 1 is one second: a 200 ms answer arrives in time, a 1.5 s one does not.
    nock(TEST_SERVER).get('/version').delay(200).reply(200, { gitVersion: 'v1.35.4' });
    const ok = await runCli(['version', '--kubeconfig', cluster(), '--request-timeout', '1']);
    expect(ok.code, ok.err).toBe(0);
    nock(TEST_SERVER).get('/version').delay(1500).reply(200, { gitVersion: 'v1.35.4' }).persist();
    const late = await runCli(['version', '--kubeconfig', cluster(), '--request-timeout', '1']);
    expect(late.code, late.err).toBe(4);
    nock.cleanAll();
    const bare = await runCli(['ship', 'web', 'app=x:1', '--kubeconfig', cluster(), '--timeout', '30']);
    expect(bare).toMatchObject({ code: 2, err: 'error: invalid value "30" for --timeout: want a duration such as 30s, 5m or 1h (time: missing unit in duration "30")\n' });
  });

  it('--request-timeout values kubectl accepts: "" and negatives are no limit, past 24 days waits 24 days (no timer firing at once)', async () => {
    for (const value of ['', '-1s', '1000h', '9223372036s']) {
      nock(TEST_SERVER).get('/version').delay(300).reply(200, { gitVersion: 'v1.35.4' });
      const r = await runCli(['version', '--kubeconfig', cluster(), `--request-timeout=${value}`]);
      expect(r, value).toMatchObject({ code: 0, err: '' });
      expect(r.out, value).toContain('Server Version: v1.35.4');
    }
    // Any positive value is a limit, under a millisecond too (kubectl: context deadline exceeded).
    for (const value of ['1ns', '499us']) {
      nock(TEST_SERVER).get('/version').delay(300).reply(200, { gitVersion: 'v1.35.4' });
      const r = await runCli(['version', '--kubeconfig', cluster(), `--request-timeout=${value}`]);
      expect(r.code, `${value}: ${r.err}`).toBe(4);
      nock.cleanAll();
    }
    // client-go reads only non-negative integers as seconds, and "-5" is no Go duration either.
    const r = await runCli(['version', '--kubeconfig', cluster(), '--request-timeout=-5']);
    expect(r).toMatchObject({
      code: 2,
      out: '',
      err: 'error: invalid value "-5" for --request-timeout: Timeout must be a single integer in seconds, or an integer followed by a corresponding time unit (e.g. 1s | 2m | 3h)\n',
    });
  });

  it('an HTTP2_* setting that is not whole seconds is named on stderr, and the default used (client-go warns too)', async () => {
    nock(TEST_SERVER).get('/version').reply(200, { gitVersion: 'v1.35.4' });
    const r = await runCli(['version', '--kubeconfig', cluster()], { env: { HTTP2_READ_IDLE_TIMEOUT_SECONDS: '30s' } });
    expect(r).toMatchObject({ code: 0, err: 'Warning: illegal HTTP2_READ_IDLE_TIMEOUT_SECONDS "30s" (want whole seconds); the default 30 is used\n' });
  });

  it('an unknown context lists the known ones (exit 3)', async () => {
    const r = await runCli(['doctor', '--kubeconfig', cluster(), '--context', 'prod']);
    expect(r).toMatchObject({ code: 3, out: '' });
    expect(r.err).toBe('error: context "prod" (--context) does not exist; known contexts: test\n');
  });

  it('-v logs each request on stderr and keeps stdout for data', async () => {
    nock(TEST_SERVER).get('/version').reply(200, { gitVersion: 'v1.35.4' });
    const r = await runCli(['version', '-v', '--kubeconfig', cluster()]);
    expect(r.err).toMatch(/^GET \/version 200 \d+ms \(HTTP\/1\.1\)\n$/);
    expect(r.out).not.toContain('GET');
  });
});

describe('doctor', () => {
  it('reports allowed commands and the exact missing permissions', async () => {
    nock(TEST_SERVER)
      .get('/version')
      .reply(200, { gitVersion: 'v1.35.4' }, { Date: new Date().toUTCString() })
      .post('/apis/authentication.k8s.io/v1/selfsubjectreviews')
      .query(true)
      .reply(201, { status: { userInfo: { username: 'alice', groups: ['ml', 'system:authenticated'] } } })
      .post('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', () => true)
      .query(true)
      .times(100)
      // nock 15 hands reply functions the fetch Request.
      .reply(201, async (request: Request) => {
        const a = ((await request.json()) as { spec: { resourceAttributes: { verb: string; resource: string; namespace?: string } } }).spec.resourceAttributes;
        // alice may do everything but patch deployments and touch secrets.
        const denied = (a.verb === 'patch' && a.resource === 'deployments') || a.resource === 'secrets';
        expect(
          a.namespace === 'ml' ||
            ['persistentvolumes', 'storageclasses', 'persistentvolumeclaims', 'pods', 'events', 'nodes', 'resourceslices', 'resourceclaims'].includes(a.resource),
        ).toBe(true);
        return { status: { allowed: !denied } };
      });
    const r = await runCli(['doctor', '--kubeconfig', cluster()]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Context:     test\n');
    expect(r.out).toContain('Namespace:   ml (from the context)\n');
    expect(r.out).toContain('Reachable:   yes, v1.35.4\n');
    expect(r.out).toContain('User:        alice (groups: ml, system:authenticated)\n');
    expect(r.out).toMatch(/\nrollback +no +patch deployments.apps\n/);
    expect(r.out).toMatch(/\nship +no +patch deployments.apps\n/);
    expect(r.out).toMatch(/\nsecret +no +get secrets, create secrets, patch secrets\n/);
    expect(r.out).toMatch(/\nhistory +yes\n/);
  });

  it('exits 3 and says why when the server is unreachable', async () => {
    const { closedPort } = await import('../helpers.js');
    const port = await closedPort();
    nock.enableNetConnect('127.0.0.1');
    const cfg = writeKubeconfig(tempDir(), { server: `https://127.0.0.1:${port}` });
    const r = await runCli(['doctor', '--kubeconfig', cfg]);
    expect(r.code).toBe(3);
    expect(r.out).toContain(`Reachable:   no: cannot reach the API server at https://127.0.0.1:${port}: connection refused\n`);
    expect(r.err).toBe(`error: the cluster is not usable: cannot reach the API server at https://127.0.0.1:${port}: connection refused\n`);
  });
});
