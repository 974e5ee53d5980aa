import { describe, expect, it, afterEach } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import { resolveConfig } from '../../src/kube/config.js';
import { Kube } from '../../src/kube/client.js';
import { formatError } from '../../src/errors.js';
import { TEST_SERVER, tempDir, writeKubeconfig } from '../helpers.js';

afterEach(() => nock.cleanAll());

describe('kubeconfig resolution', () => {
  it('merges several KUBECONFIG files; the first current-context wins; missing files are skipped', () => {
    const dir = tempDir();
    const a = writeKubeconfig(dir, { name: 'a', namespace: 'team-a' });
    const b = writeKubeconfig(dir, { name: 'b' });
    const env = { KUBECONFIG: [path.join(dir, 'missing.yaml'), a, b].join(path.delimiter) };
    const c = resolveConfig({}, env);
    expect(c.files).toEqual([a, b]);
    expect(c.context).toBe('a');
    expect(c.namespace).toBe('team-a');
    expect(c.namespaceSource).toBe('context');
    const other = resolveConfig({ context: 'b' }, env);
    expect(other.context).toBe('b');
    expect(other.namespace).toBe('default');
    expect(other.namespaceSource).toBe('default');
  });

  it('takes the current-context of a later file when the first has none', () => {
    const dir = tempDir();
    const a = writeKubeconfig(dir, { name: 'a', current: false });
    const b = writeKubeconfig(dir, { name: 'b' });
    expect(resolveConfig({}, { KUBECONFIG: `${a}${path.delimiter}${b}` }).context).toBe('b');
  });

  it('rejects an unknown --context and lists the known ones', () => {
    const dir = tempDir();
    const a = writeKubeconfig(dir, { name: 'a' });
    const b = writeKubeconfig(dir, { name: 'b' });
    const err = (() => {
      try {
        resolveConfig({ context: 'prod' }, { KUBECONFIG: `${a}${path.delimiter}${b}` });
      } catch (e) {
        return e;
      }
    })();
    expect(formatError(err)).toEqual({ text: 'error: context "prod" (--context) does not exist; known contexts: a, b', exitCode: 3 });
  });

  it('--namespace overrides the context and is validated', () => {
    const dir = tempDir();
    const a = writeKubeconfig(dir, { name: 'a', namespace: 'team-a' });
    expect(resolveConfig({ kubeconfig: a, namespace: 'ml' }, {}).namespace).toBe('ml');
    expect(() => resolveConfig({ kubeconfig: a, namespace: 'Bad_NS' }, {})).toThrow('invalid value "Bad_NS" for --namespace');
    // -n "" is no override (client-go checks len > 0): the context's namespace, else default.
    expect(resolveConfig({ kubeconfig: a, namespace: '' }, {}).namespace).toBe(resolveConfig({ kubeconfig: a }, {}).namespace);
  });

  it('a missing --kubeconfig file is named', () => {
    expect(() => resolveConfig({ kubeconfig: '/nope/config' }, {})).toThrow('--kubeconfig /nope/config: no such file');
  });

  it('no kubeconfig at all says where it looked', () => {
    const home = tempDir();
    expect(() => resolveConfig({}, { HOME: home })).toThrow(`no kubeconfig found: set KUBECONFIG, pass --kubeconfig, or create ${home}/.kube/config`);
  });

  it('runs an exec-plugin user and sends its token', async () => {
    const dir = tempDir();
    const plugin = path.join(dir, 'cred.sh');
    fs.writeFileSync(plugin, '#!/bin/sh\necho \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-exec"}}\'\n');
    fs.chmodSync(plugin, 0o755);
    const file = writeKubeconfig(dir, {
      name: 'exec',
      user: ['    exec:', '      apiVersion: client.authentication.k8s.io/v1', `      command: ${plugin}`, '      interactiveMode: Never'].join('\n'),
    });
    const c = resolveConfig({ kubeconfig: file }, {});
    nock(TEST_SERVER, { reqheaders: { authorization: 'Bearer from-exec' } })
      .get('/version')
      .reply(200, { gitVersion: 'v1.35.4' });
    const kube = new Kube({ auth: c.auth, server: c.server });
    await expect(kube.get('/version')).resolves.toEqual({ gitVersion: 'v1.35.4' });
  });

  it('verifies TLS unless the kubeconfig says otherwise', () => {
    const dir = tempDir();
    const file = path.join(dir, 'tls.yaml');
    fs.writeFileSync(
      file,
      `apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n    server: ${TEST_SERVER}\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n`,
    );
    expect(resolveConfig({ kubeconfig: file }, {}).cluster.skipTLSVerify).toBe(false);
    expect(resolveConfig({ kubeconfig: writeKubeconfig(dir) }, {}).cluster.skipTLSVerify).toBe(true);
  });
});
