// kubectl's global connection flags through the real CLI parser (nock stands in for the server).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import nock from 'nock';
import { TEST_SERVER, runCli, tempDir } from '../helpers.js';

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('global connection flags', () => {
  it('--server, --token and --insecure-skip-tls-verify need no kubeconfig; --as/--as-group/--as-uid become Impersonate-* headers', async () => {
    const scope = nock(TEST_SERVER, {
      reqheaders: { authorization: 'Bearer abc', 'impersonate-user': 'jane', 'impersonate-group': 'a, b', 'impersonate-uid': 'u1' },
    })
      .get('/version')
      .reply(200, { gitVersion: 'v1.35.4' });
    const r = await runCli(['version', '-s', TEST_SERVER, '--token', 'abc', '--insecure-skip-tls-verify', '--as', 'jane', '--as-group', 'a', '--as-group', 'b', '--as-uid', 'u1'], {
      env: { HOME: tempDir() },
    });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Server Version: v1.35.4');
    expect(scope.isDone()).toBe(true);
  });

  it('doctor with --server and no kubeconfig says so', async () => {
    nock(TEST_SERVER).get('/version').reply(200, { gitVersion: 'v1.35.4' }, { date: new Date().toUTCString() });
    nock(TEST_SERVER)
      .post(/.*/)
      .query(true)
      .times(50)
      .reply(201, { status: { allowed: true, userInfo: { username: 'jane', groups: [] } } });
    const r = await runCli(['doctor', '-s', TEST_SERVER, '--token', 'abc', '--insecure-skip-tls-verify'], { env: { HOME: tempDir() } });
    expect(r.code).toBe(0);
    expect(r.out).toContain('Kubeconfig:  none: --server and the other connection flags\n');
    expect(r.out).toContain(`Server:      ${TEST_SERVER}\n`);
  });

  it('-v takes a level: a word after it is refused with exit 2, before connecting', async () => {
    const r = await runCli(['history', '-v', 'web'], { env: { HOME: tempDir() } });
    expect(r.code).toBe(2);
    expect(r.err).toContain('"web" is not a log level (a number, e.g. -v 6 or --v=6)');
  });

  it('--as-group without --as is refused as kubectl does (exit 3)', async () => {
    const r = await runCli(['version', '-s', TEST_SERVER, '--insecure-skip-tls-verify', '--as-group', 'g'], { env: { HOME: tempDir() } });
    expect(r.code).toBe(3);
    expect(r.err).toBe('error: invalid configuration: requesting uid, groups or user-extra for the user without impersonating a user (pass --as)\n');
  });

  it('--insecure-skip-tls-verify and --certificate-authority together are refused, as kubectl', async () => {
    const dir = tempDir();
    const ca = `${dir}/ca.crt`;
    (await import('node:fs')).writeFileSync(ca, 'x');
    const r = await runCli(['version', '-s', TEST_SERVER, '--insecure-skip-tls-verify', '--certificate-authority', ca], { env: { HOME: dir } });
    expect(r.code).toBe(3);
    expect(r.err).toBe('error: invalid configuration: specifying a root certificates file with the insecure flag is not allowed\n');
  });
});
