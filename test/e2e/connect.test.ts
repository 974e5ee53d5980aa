// Connect wherever kubectl connects (issue 15): each case runs the plugin and, where kubectl
// has the same behaviour, kubectl with the same kubeconfig and environment, against the
// local control plane.
import { startMlops } from './safety.js';
import { beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import * as yaml from 'js-yaml';
import { BIN, adminKube, deployment, freshNamespace, run, until, type Run } from './helpers.js';
import { PROXY_ONLY_NAME, certificate, connectProxy, forwarder, reverseProxy, socks5Proxy } from './net-helpers.js';
import { Kube } from '../../src/kube/client.js';
import { resolveConfig } from '../../src/kube/config.js';
import { R, pathOf } from '../../src/kube/resources.js';
import type { Node, ReplicaSet } from '../../src/kube/types.js';

const cluster = () => inject('cluster');
let kube: Kube;
let ns: string;
let token: string;
let caFile: string;
let port: string;
let dir: string;

function kubeconfigDoc(): { clusters: { cluster: Record<string, unknown> }[]; users: { user: Record<string, unknown> }[] } {
  return yaml.load(fs.readFileSync(cluster().kubeconfig, 'utf8')) as ReturnType<typeof kubeconfigDoc>;
}

/** A kubeconfig for the local server with the given cluster and user fields. */
function writeConfig(name: string, clusterFields: Record<string, unknown>, userFields: Record<string, unknown>, extra: { namespace?: string } = {}): string {
  const file = path.join(dir, `${name}.yaml`);
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'c',
    clusters: [{ name: 'k', cluster: clusterFields }],
    users: [{ name: 'u', user: userFields }],
    contexts: [{ name: 'c', context: { cluster: 'k', user: 'u', ...(extra.namespace ? { namespace: extra.namespace } : {}) } }],
  };
  fs.writeFileSync(file, yaml.dump(doc));
  return file;
}

/** Runs the plugin (or kubectl) with exactly this environment on top of a clean one. */
function runWith(cmd: string, args: string[], env: Record<string, string>): Promise<Run> {
  return run(cmd, args, { env: { KUBECONFIG: '', HOME: dir, HTTPS_PROXY: '', https_proxy: '', HTTP_PROXY: '', http_proxy: '', NO_PROXY: '', no_proxy: '', ...env } });
}

beforeAll(async () => {
  kube = adminKube();
  ns = await freshNamespace(kube, 'connect');
  dir = fs.mkdtempSync(path.join(fs.realpathSync('/tmp'), 'mlops-connect-'));
  const doc = kubeconfigDoc();
  token = String(doc.users[0]!.user.token);
  caFile = path.join(cluster().workDir, 'certs', 'apiserver.crt');
  port = new URL(cluster().server).port;
});

describe('global connection flags', () => {
  it('--server, --token and --certificate-authority connect with no kubeconfig at all, as kubectl', async () => {
    const flags = ['--server', cluster().server, '--token', token, '--certificate-authority', caFile];
    const ours = await runWith(BIN, ['version', '-o', 'json', ...flags], {});
    const theirs = await runWith('kubectl', ['version', '-o', 'json', ...flags], {});
    expect(theirs.code).toBe(0);
    expect(ours.err).toBe('');
    expect(ours.code).toBe(0);
    expect(JSON.parse(ours.out).serverVersion).toBe(JSON.parse(theirs.out).serverVersion.gitVersion);
  });

  it('--as, --as-group and --as-uid impersonate, as kubectl auth whoami', async () => {
    const flags = ['--as', 'jane', '--as-group', 'ml-team', '--as-group', 'system:authenticated', '--as-uid', 'u-123'];
    const ours = await runWith(BIN, ['doctor', '-o', 'json', '--kubeconfig', cluster().kubeconfig, ...flags], {});
    const theirs = await runWith('kubectl', ['auth', 'whoami', '-o', 'json', '--kubeconfig', cluster().kubeconfig, ...flags], {});
    expect(theirs.code).toBe(0);
    const who = JSON.parse(theirs.out).status.userInfo;
    expect(JSON.parse(ours.out).user).toEqual({ username: who.username, groups: who.groups });
    expect(JSON.parse(ours.out).user).toEqual({ username: 'jane', groups: ['ml-team', 'system:authenticated'] });
  });

  it('--user and --cluster pick kubeconfig entries; an unknown one is named', async () => {
    const file = path.join(dir, 'two-users.yaml');
    const doc = kubeconfigDoc() as unknown as { users: { name: string; user: unknown }[]; contexts: { context: { user: string } }[] };
    doc.users.push({ name: 'nobody', user: { token: 'not-a-token' } });
    doc.contexts[0]!.context.user = 'nobody';
    fs.writeFileSync(file, yaml.dump(doc));
    const admin = doc.users[0]!.name;
    const ok = await runWith(BIN, ['version', '--kubeconfig', file, '--user', admin], {});
    expect(ok.code).toBe(0);
    const bad = await runWith(BIN, ['version', '--kubeconfig', file], {});
    expect(bad.code).toBe(3);
    expect(bad.err).toContain('Unauthorized');
    const unknown = await runWith(BIN, ['version', '--kubeconfig', file, '--user', 'ghost'], {});
    expect(unknown).toMatchObject({ code: 3, err: `error: user "ghost" (--user) does not exist; known users: ${admin}, nobody\n` });
  });

  it('-v 6, --v=6 and -v print one line per request and never the token', async () => {
    for (const flag of [['-v', '6'], ['--v=6'], ['-v']]) {
      const r = await runWith(BIN, ['version', '--kubeconfig', cluster().kubeconfig, ...flag], {});
      expect(r.code).toBe(0);
      expect(r.err).toMatch(/^GET \/version 200 \d+ms \(HTTP\/1\.1\)$/m);
      expect(r.err).not.toContain(token);
    }
    const quiet = await runWith(BIN, ['version', '--kubeconfig', cluster().kubeconfig, '--v=2'], {});
    expect(quiet.err).toBe('');
  });
});

describe('kubeconfig semantics', () => {
  it('an incomplete context elsewhere in KUBECONFIG does not break the selected one (kubectl agrees)', async () => {
    const scratch = path.join(dir, 'scratch.yaml');
    fs.writeFileSync(
      scratch,
      yaml.dump({
        apiVersion: 'v1',
        kind: 'Config',
        contexts: [{ name: 'scratch', context: {} }],
        clusters: [{ name: 'half', cluster: {} }],
        users: [{ name: 'odd', user: { 'client-certificate': 'missing.crt' } }],
      }),
    );
    const env = { KUBECONFIG: [scratch, cluster().kubeconfig].join(path.delimiter) };
    const ours = await runWith(BIN, ['version'], env);
    const theirs = await runWith('kubectl', ['version'], env);
    expect(theirs.code).toBe(0);
    expect(ours.code).toBe(0);
    const broken = await runWith(BIN, ['version', '--context', 'scratch'], env);
    const kubectlBroken = await runWith('kubectl', ['version', '--context', 'scratch'], env);
    expect(kubectlBroken.code).not.toBe(0);
    expect(broken.code).toBe(3);
  });

  it('a relative tokenFile is read from the kubeconfig folder, as kubectl', async () => {
    fs.mkdirSync(path.join(dir, 'tf'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'tf', 'token.txt'), token + '\n');
    const file = path.join(dir, 'tf', 'config.yaml');
    fs.writeFileSync(
      file,
      yaml.dump({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'c',
        clusters: [{ name: 'k', cluster: { server: cluster().server, 'certificate-authority': caFile } }],
        users: [{ name: 'u', user: { tokenFile: 'token.txt' } }],
        contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
      }),
    );
    const ours = await run(BIN, ['doctor', '-o', 'json', '--kubeconfig', file], { env: { HOME: dir } });
    const theirs = await run('kubectl', ['auth', 'whoami', '-o', 'json', '--kubeconfig', file], { env: { HOME: dir } });
    expect(theirs.code).toBe(0);
    expect(ours.code).toBe(0);
    expect(JSON.parse(ours.out).user.username).toBe(JSON.parse(theirs.out).status.userInfo.username);
  });

  it('with no CA in the kubeconfig the system trust store is used (SSL_CERT_FILE), as kubectl', async () => {
    const file = writeConfig('system-ca', { server: cluster().server }, { token });
    const untrusted = await runWith(BIN, ['version', '--kubeconfig', file], {});
    expect(untrusted.code).toBe(3);
    expect(untrusted.err).toContain('certificate signed by an unknown authority');
    const ours = await runWith(BIN, ['version', '--kubeconfig', file], { SSL_CERT_FILE: caFile });
    const theirs = await runWith('kubectl', ['version', '--kubeconfig', file], { SSL_CERT_FILE: caFile });
    expect(theirs.code).toBe(0);
    expect(ours.err).toBe('');
    expect(ours.code).toBe(0);
  });

  it('insecure-skip-tls-verify with a CA is refused, as kubectl', async () => {
    const file = writeConfig('insecure-ca', { server: cluster().server, 'certificate-authority': caFile, 'insecure-skip-tls-verify': true }, { token });
    const ours = await runWith(BIN, ['version', '--kubeconfig', file], {});
    const theirs = await runWith('kubectl', ['version', '--kubeconfig', file], {});
    expect(theirs.err).toContain('specifying a root certificates file with the insecure flag is not allowed');
    expect(ours).toMatchObject({ code: 3, err: 'error: invalid configuration: specifying a root certificates file with the insecure flag is not allowed\n' });
  });

  it('token and username/password together are refused, as kubectl', async () => {
    const file = writeConfig('two-methods', { server: cluster().server, 'certificate-authority': caFile }, { token, username: 'a', password: 'b' });
    const ours = await runWith(BIN, ['version', '--kubeconfig', file], {});
    const theirs = await runWith('kubectl', ['version', '--kubeconfig', file], {});
    expect(theirs.err).toContain('more than one authentication method found for u; found [token basicAuth], only one is allowed');
    expect(ours.code).toBe(3);
    expect(ours.err).toContain('more than one authentication method found for u; found [token basicAuth], only one is allowed');
  });
});

describe('proxies', () => {
  it('HTTPS_PROXY tunnels through a CONNECT proxy that alone resolves the server name; NO_PROXY bypasses it (kubectl agrees)', async () => {
    const proxy = await connectProxy();
    try {
      const file = writeConfig('via-env-proxy', { server: `https://${PROXY_ONLY_NAME}:${port}`, 'certificate-authority': caFile }, { token });
      const direct = await runWith(BIN, ['version', '--kubeconfig', file], {});
      expect(direct.code).toBe(3);
      expect(direct.err).toContain('no such host');
      const env = { https_proxy: `http://127.0.0.1:${proxy.port}` };
      const theirs = await runWith('kubectl', ['version', '--kubeconfig', file], env);
      expect(theirs.code).toBe(0);
      const before = proxy.tunnels.length;
      const ours = await runWith(BIN, ['version', '--kubeconfig', file], env);
      expect(ours.err).toBe('');
      expect(ours.code).toBe(0);
      expect(proxy.tunnels.slice(before)).toEqual([`${PROXY_ONLY_NAME}:${port}`]);
      const bypass = await runWith(BIN, ['version', '--kubeconfig', file], { ...env, NO_PROXY: `.default.svc` });
      expect(bypass.code).toBe(3);
      expect(proxy.tunnels.length).toBe(before + 1);
    } finally {
      await proxy.close();
    }
  });

  it('proxy-url socks5:// with credentials: the proxy resolves the name (kubectl agrees)', async () => {
    const proxy = await socks5Proxy('alice:s3cret');
    try {
      const file = writeConfig(
        'via-socks',
        { server: `https://${PROXY_ONLY_NAME}:${port}`, 'certificate-authority': caFile, 'proxy-url': `socks5://alice:s3cret@127.0.0.1:${proxy.port}` },
        { token },
      );
      const theirs = await runWith('kubectl', ['version', '--kubeconfig', file], {});
      expect(theirs.code).toBe(0);
      const before = proxy.tunnels.length;
      const ours = await runWith(BIN, ['doctor', '--kubeconfig', file], {});
      expect(ours.code).toBe(0);
      expect(proxy.tunnels.length).toBeGreaterThan(before);
      expect(new Set(proxy.tunnels.slice(before))).toEqual(new Set([`${PROXY_ONLY_NAME}:${port}`]));
      expect(new Set(proxy.credentials.slice(before))).toEqual(new Set(['alice:s3cret']));
      const wrong = writeConfig(
        'via-socks-wrong',
        { server: `https://${PROXY_ONLY_NAME}:${port}`, 'certificate-authority': caFile, 'proxy-url': `socks5://alice:nope@127.0.0.1:${proxy.port}` },
        { token },
      );
      const refused = await runWith(BIN, ['version', '--kubeconfig', wrong], {});
      expect(refused.code).toBe(3);
      expect(refused.err).toContain('refused the username/password');
    } finally {
      await proxy.close();
    }
  });

  it('an https:// proxy is verified with the trust the cluster uses (here the system store), as kubectl', async () => {
    const pc = certificate(dir, 'https-proxy', 'IP:127.0.0.1');
    const proxy = await connectProxy(undefined, pc);
    try {
      const bundle = path.join(dir, 'bundle.pem');
      fs.writeFileSync(bundle, fs.readFileSync(caFile, 'utf8') + fs.readFileSync(pc.ca, 'utf8'));
      const file = writeConfig('via-https-proxy', { server: `https://${PROXY_ONLY_NAME}:${port}` }, { token });
      const env = { HTTPS_PROXY: `https://127.0.0.1:${proxy.port}`, SSL_CERT_FILE: bundle };
      const theirs = await runWith('kubectl', ['version', '--kubeconfig', file], env);
      expect(theirs.code).toBe(0);
      const ours = await runWith(BIN, ['version', '--kubeconfig', file], env);
      expect(ours.err).toBe('');
      expect(ours.code).toBe(0);
      expect(proxy.tunnels.filter((t) => t === `${PROXY_ONLY_NAME}:${port}`).length).toBe(2);
      const untrusted = await runWith(BIN, ['version', '--kubeconfig', file], { ...env, SSL_CERT_FILE: caFile });
      expect(untrusted.code).toBe(3);
      expect(untrusted.err).toContain('certificate signed by an unknown authority');
    } finally {
      await proxy.close();
    }
  });

  it('proxy-url http:// with credentials in the URL', async () => {
    const proxy = await connectProxy('bob:pa ss');
    try {
      const file = writeConfig(
        'via-http-proxy',
        { server: cluster().server, 'certificate-authority': caFile, 'proxy-url': `http://bob:pa%20ss@127.0.0.1:${proxy.port}` },
        { token },
      );
      const ours = await runWith(BIN, ['version', '--kubeconfig', file], {});
      expect(ours.code).toBe(0);
      // A kubeconfig proxy-url applies even to a loopback server (env proxies never do).
      expect(proxy.tunnels).toEqual([`127.0.0.1:${port}`]);
      expect(proxy.credentials).toEqual(['bob:pa ss']);
    } finally {
      await proxy.close();
    }
  });
});

describe('a TLS reverse proxy on IPv6 with a path prefix', () => {
  it('reaches the server under the prefix with impersonation headers and gzip; injected warnings are printed once (kubectl agrees)', async () => {
    const rp = await reverseProxy(cluster().server, caFile, dir, { warning: 'this cluster is deprecated' });
    try {
      const file = writeConfig(
        'rp',
        { server: rp.url, 'certificate-authority': rp.caFile },
        { token, as: 'jane', 'as-groups': ['ml-team', 'system:authenticated'], 'as-user-extra': { 'reason/why': ['debug'] } },
      );
      const ours = await runWith(BIN, ['doctor', '-o', 'json', '--kubeconfig', file], {});
      expect(ours.code).toBe(0);
      expect(JSON.parse(ours.out).user).toEqual({ username: 'jane', groups: ['ml-team', 'system:authenticated'] });
      expect(ours.err).toBe('Warning: this cluster is deprecated\n');
      const ourRequests = rp.requests.filter((r) => String(r.headers['user-agent']).startsWith('kubectl-mlops/'));
      expect(ourRequests.length).toBeGreaterThan(3);
      for (const r of ourRequests) {
        expect(r.path.startsWith('/k8s/clusters/c-1/')).toBe(true);
        expect(r.headers['impersonate-user']).toBe('jane');
        expect(r.headers['impersonate-group']).toBe('ml-team, system:authenticated');
        expect(r.headers['impersonate-extra-reason%2fwhy']).toBe('debug');
        expect(r.headers['accept-encoding']).toBe('gzip');
        expect(r.headers['user-agent']).toMatch(/^kubectl-mlops\/\d+\.\d+\.\d+ \(linux\/(amd64|arm64)\)$/);
      }
      expect(rp.gzipped).toBeGreaterThan(3);
      const theirs = await runWith('kubectl', ['auth', 'whoami', '-o', 'json', '--kubeconfig', file], {});
      expect(theirs.code).toBe(0);
      expect(theirs.err).toContain('Warning: this cluster is deprecated');
      expect(JSON.parse(theirs.out).status.userInfo.username).toBe('jane');
      const noGzip = writeConfig('rp-plain', { server: rp.url, 'certificate-authority': rp.caFile, 'disable-compression': true }, { token });
      const before = rp.requests.length;
      expect((await runWith(BIN, ['version', '--kubeconfig', noGzip], {})).code).toBe(0);
      expect(rp.requests.slice(before).map((r) => r.headers['accept-encoding'])).toEqual([undefined]);
    } finally {
      await rp.close();
    }
  });
});

describe('a plain http:// server', () => {
  it('gets no credentials, but impersonation headers, exactly as from kubectl', async () => {
    const rp = await reverseProxy(cluster().server, caFile, dir, { plainHttp: true });
    try {
      const plain = writeConfig('plain-http', { server: rp.url }, { token });
      const as = writeConfig('plain-http-as', { server: rp.url }, { token, as: 'jane' });
      const seen: Record<string, { code: number; err: string; auth: unknown[]; impersonate: unknown[] }> = {};
      for (const [name, cmd, file] of [
        ['ours', BIN, plain],
        ['theirs', 'kubectl', plain],
        ['ours-as', BIN, as],
        ['theirs-as', 'kubectl', as],
      ] as const) {
        const before = rp.requests.length;
        const r = await runWith(cmd, ['version', '--kubeconfig', file], {});
        const rs = rp.requests.slice(before);
        expect(rs.length).toBeGreaterThan(0);
        seen[name] = {
          code: r.code,
          err: r.err,
          auth: [...new Set(rs.map((x) => x.headers.authorization))],
          impersonate: [...new Set(rs.map((x) => x.headers['impersonate-user']))],
        };
      }
      // /version is public: both get an answer without credentials.
      expect(seen.theirs).toMatchObject({ code: 0, auth: [undefined], impersonate: [undefined] });
      expect(seen.ours).toMatchObject({ code: 0, auth: [undefined], impersonate: [undefined] });
      // Impersonation is sent even over http; anonymous may not impersonate, so both are refused.
      expect(seen['theirs-as']).toMatchObject({ code: 1, auth: [undefined], impersonate: ['jane'] });
      expect(seen['theirs-as']!.err).toContain('Error from server (Forbidden)');
      expect(seen['ours-as']).toMatchObject({ code: 1, auth: [undefined], impersonate: ['jane'] });
      expect(seen['ours-as']!.err).toContain('Error from server (Forbidden)');
    } finally {
      await rp.close();
    }
  });
});

describe('exec credential plugins', () => {
  function plugin(name: string, body: string): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, `#!/bin/sh\n${body}\n`);
    fs.chmodSync(file, 0o755);
    return file;
  }

  it('gets a real token, passes stderr through, closes stdin, sets KUBERNETES_EXEC_INFO, and runs once for parallel requests', async () => {
    const rec = path.join(dir, 'exec-rec');
    fs.mkdirSync(rec, { recursive: true });
    fs.writeFileSync(path.join(rec, 'token'), token);
    plugin(
      'exec-rec/cred.sh',
      [
        'echo run >> "$(dirname "$0")/runs"',
        'printf "%s" "$KUBERNETES_EXEC_INFO" > "$(dirname "$0")/info.json"',
        'cat > "$(dirname "$0")/stdin.txt"',
        'echo "open https://login.example/device and enter ABCD" >&2',
        'printf \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}\' "$(cat "$(dirname "$0")/token")"',
      ].join('\n'),
    );
    const file = path.join(rec, 'config.yaml');
    fs.writeFileSync(
      file,
      yaml.dump({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'c',
        clusters: [{ name: 'k', cluster: { server: cluster().server, 'certificate-authority': caFile } }],
        // A relative command with a separator is resolved against the kubeconfig's folder.
        users: [{ name: 'u', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: './cred.sh', interactiveMode: 'IfAvailable', provideClusterInfo: true } } }],
        contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
      }),
    );
    const ours = await run(BIN, ['doctor', '--kubeconfig', file], { env: { HOME: dir }, input: 'typed-by-nobody' });
    expect(ours.code).toBe(0);
    expect(ours.err).toBe('open https://login.example/device and enter ABCD\n');
    expect(fs.readFileSync(path.join(rec, 'runs'), 'utf8')).toBe('run\n');
    expect(fs.readFileSync(path.join(rec, 'stdin.txt'), 'utf8')).toBe('');
    const info = JSON.parse(fs.readFileSync(path.join(rec, 'info.json'), 'utf8'));
    expect(info).toEqual({
      kind: 'ExecCredential',
      apiVersion: 'client.authentication.k8s.io/v1',
      spec: { interactive: false, cluster: { server: cluster().server, 'certificate-authority-data': fs.readFileSync(caFile).toString('base64'), config: null } },
    });
    fs.writeFileSync(path.join(rec, 'runs'), '');
    const theirs = await run('kubectl', ['auth', 'whoami', '--kubeconfig', file], { env: { HOME: dir } });
    expect(theirs.code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(rec, 'info.json'), 'utf8'))).toEqual(info);
  });

  it('an interactive plugin gets the terminal as stdin and interactive: true (under script(1))', async () => {
    const rec = path.join(dir, 'exec-tty');
    fs.mkdirSync(rec, { recursive: true });
    fs.writeFileSync(path.join(rec, 'token'), token);
    plugin(
      'exec-tty/cred.sh',
      [
        'd="$(dirname "$0")"',
        'printf "%s" "$KUBERNETES_EXEC_INFO" > "$d/info.json"',
        'if [ -t 0 ]; then echo tty > "$d/stdin-kind"; else echo not-a-tty > "$d/stdin-kind"; fi',
        'printf "MFA code: " >&2',
        'read code',
        'echo "$code" > "$d/code"',
        'printf \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}\' "$(cat "$d/token")"',
      ].join('\n'),
    );
    const file = writeConfig(
      'exec-tty',
      { server: cluster().server, 'certificate-authority': caFile },
      { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: path.join(rec, 'cred.sh'), interactiveMode: 'IfAvailable' } },
    );
    const ts = path.join(rec, 'typescript');
    const r = await run('script', ['-qec', `${BIN} version --kubeconfig ${file}`, ts], { env: { HOME: dir }, input: '123456\n', timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(rec, 'stdin-kind'), 'utf8')).toBe('tty\n');
    expect(fs.readFileSync(path.join(rec, 'code'), 'utf8')).toBe('123456\n');
    expect(JSON.parse(fs.readFileSync(path.join(rec, 'info.json'), 'utf8')).spec).toEqual({ interactive: true });
    expect(fs.readFileSync(ts, 'utf8')).toContain('MFA code: ');
    expect(fs.readFileSync(ts, 'utf8')).toContain('Server Version: v');
  });

  it('re-runs the plugin once after a 401 and retries with the fresh token', async () => {
    const rec = path.join(dir, 'exec-401');
    fs.mkdirSync(rec, { recursive: true });
    plugin(
      'exec-401/cred.sh',
      [
        'd="$(dirname "$0")"',
        'echo run >> "$d/runs"',
        'if [ "$(wc -l < "$d/runs")" -eq 1 ]; then t=stale-token; else t="$(cat "$d/token")"; fi',
        'printf \'{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"%s"}}\' "$t"',
      ].join('\n'),
    );
    fs.writeFileSync(path.join(rec, 'token'), token);
    const file = writeConfig(
      'exec-401',
      { server: cluster().server, 'certificate-authority': caFile },
      { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: path.join(rec, 'cred.sh') } },
    );
    const ours = await runWith(BIN, ['version', '--kubeconfig', file], {});
    expect(ours.code).toBe(0);
    expect(fs.readFileSync(path.join(rec, 'runs'), 'utf8')).toBe('run\nrun\n');
  });

  it('a missing plugin shows its installHint and exits 3 (kubectl shows the same hint)', async () => {
    const file = writeConfig(
      'exec-missing',
      { server: cluster().server, 'certificate-authority': caFile },
      {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: 'no-such-login-tool',
          interactiveMode: 'Never',
          installHint: 'Install no-such-login-tool with: brew install no-such-login-tool',
        },
      },
    );
    const ours = await runWith(BIN, ['version', '--kubeconfig', file], {});
    const theirs = await runWith('kubectl', ['version', '--kubeconfig', file], {});
    expect(theirs.err).toContain('Install no-such-login-tool with: brew install no-such-login-tool');
    expect(ours.code).toBe(3);
    expect(ours.err).toContain('error: getting credentials: exec: executable no-such-login-tool not found');
    expect(ours.err).toContain('Install no-such-login-tool with: brew install no-such-login-tool');
  });
});

describe('in-cluster config', () => {
  let sa: string;
  let saToken: string;
  beforeAll(async () => {
    await kube.create(`/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'notebook' } });
    await kube.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'notebook-view' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'ServiceAccount', name: 'notebook', namespace: ns }],
    });
    const tr = await kube.create<{ status: { token: string } }>(`/api/v1/namespaces/${ns}/serviceaccounts/notebook/token`, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    });
    saToken = tr.status.token;
    sa = path.join(dir, 'sa');
    fs.mkdirSync(sa, { recursive: true });
    fs.writeFileSync(path.join(sa, 'token'), saToken);
    fs.copyFileSync(caFile, path.join(sa, 'ca.crt'));
    fs.writeFileSync(path.join(sa, 'namespace'), ns);
  });

  /** Runs with the fake service-account folder mounted at the real path, in a private mount namespace. */
  function inPod(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
    const script = 'mount -t tmpfs none /run && mkdir -p /run/secrets/kubernetes.io/serviceaccount && mount --bind "$SA" /run/secrets/kubernetes.io/serviceaccount && exec "$@"';
    return runWith('unshare', ['-m', '--map-root-user', 'sh', '-c', script, 'sh', cmd, ...args], {
      SA: sa,
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: port,
      ...env,
    });
  }

  it('with no kubeconfig, uses the pod service account at the real path: doctor says in-cluster (kubectl agrees)', async () => {
    const ours = await inPod(BIN, ['doctor']);
    expect(ours.err).toBe('');
    expect(ours.code).toBe(0);
    expect(ours.out).toContain("Kubeconfig:  none: in-cluster (the pod's service account)");
    expect(ours.out).toContain(`Namespace:   ${ns} (from the service account)`);
    expect(ours.out).toContain(`system:serviceaccount:${ns}:notebook`);
    const theirs = await inPod('kubectl', ['auth', 'whoami', '-o', 'json']);
    expect(theirs.code).toBe(0);
    expect(JSON.parse(theirs.out).status.userInfo.username).toBe(`system:serviceaccount:${ns}:notebook`);
    const json = await inPod(BIN, ['doctor', '-o', 'json']);
    expect(JSON.parse(json.out)).toMatchObject({ inCluster: true, namespace: ns, namespaceSource: 'in-cluster' });
  });

  it('POD_NAMESPACE wins over the namespace file; -n over both', async () => {
    const pod = await inPod(BIN, ['doctor', '-o', 'json'], { POD_NAMESPACE: 'from-downward-api' });
    expect(JSON.parse(pod.out)).toMatchObject({ namespace: 'from-downward-api', namespaceSource: 'in-cluster' });
    const flag = await inPod(BIN, ['doctor', '-o', 'json', '-n', 'other'], { POD_NAMESPACE: 'from-downward-api' });
    expect(JSON.parse(flag.out)).toMatchObject({ namespace: 'other', namespaceSource: 'flag' });
  });

  it('without the service account or the env vars: the usual "no kubeconfig" line', async () => {
    const r = await runWith(BIN, ['version'], { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port });
    expect(r).toMatchObject({ code: 3, err: `error: no kubeconfig found: set KUBECONFIG, pass --kubeconfig, or create ${dir}/.kube/config\n` });
  });
  it('a rotated service-account token is read again: a wait survives the old token being revoked', async () => {
    const api = (p: string) => `/api/v1/namespaces/${ns}/${p}`;
    await kube.create(api('serviceaccounts'), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'rotor' } });
    await kube.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'rotor-edit' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ kind: 'ServiceAccount', name: 'rotor', namespace: ns }],
    });
    // Tokens bound to a Secret die with it: the "old" token can be revoked for real.
    const boundToken = async (secret: string) => {
      const s = await kube.create<{ metadata: { uid: string } }>(api('secrets'), { apiVersion: 'v1', kind: 'Secret', metadata: { name: secret } });
      const tr = await kube.create<{ status: { token: string } }>(api('serviceaccounts/rotor/token'), {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 3600, boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: secret, uid: s.metadata.uid } },
      });
      return tr.status.token;
    };
    const rot = path.join(dir, 'sa-rotor');
    fs.mkdirSync(rot, { recursive: true });
    const first = await boundToken('token-1');
    fs.writeFileSync(path.join(rot, 'token'), first);
    fs.copyFileSync(caFile, path.join(rot, 'ca.crt'));
    fs.writeFileSync(path.join(rot, 'namespace'), ns);
    const fwd = await forwarder(cluster().server);
    const gate = `mlops-e2e-rotor-${ns}`.slice(0, 63);
    const node = (await kube.list<Node>(pathOf(R.nodes))).items[1]!.metadata!.name!;
    try {
      const d = deployment('rotating', { replicas: 1 });
      (d.spec.template.spec as Record<string, unknown>).nodeSelector = { 'mlops-e2e/rotor': gate };
      await kube.create(pathOf(R.deployments, { namespace: ns }), d);
      const shipping = inPod(BIN, ['ship', 'rotating', 'app=registry.local/my-app:2.0', '--timeout', '150s'], { SA: rot, KUBERNETES_SERVICE_PORT: String(fwd.port) });
      await until(
        async () =>
          (await kube.list<ReplicaSet>(pathOf(R.replicasets, { namespace: ns }))).items.some(
            (rs) => rs.metadata?.name?.startsWith('rotating-') && rs.spec?.template?.spec?.containers[0]?.image === 'registry.local/my-app:2.0',
          ),
        60_000,
        'the new ReplicaSet',
      );
      // ship is inside its wait (its PATCH answered) once the API server has seen its watch.
      const audit = path.join(cluster().workDir, 'audit.log');
      await until(
        async () =>
          fs
            .readFileSync(audit, 'utf8')
            .split('\n')
            .some((l) => l.includes(`"system:serviceaccount:${ns}:rotor"`) && l.includes('"verb":"watch"')),
        60_000,
        "ship's watch",
      );
      // The kubelet rotates the token; the old one is revoked; the connection drops.
      fs.writeFileSync(path.join(rot, 'token'), await boundToken('token-2'));
      await kube.delete(api('secrets/token-1'));
      fwd.cut();
      // The API server caches good tokens for a few seconds: wait until the old one is refused.
      const c = resolveConfig({ server: cluster().server, token: first, certificateAuthority: caFile }, { HOME: dir });
      const withOld = new Kube({ auth: c.auth, server: c.server, maxRetries: 0 });
      await until(
        async () =>
          withOld.get('/version').then(
            () => false,
            (e: Error) => e.message.includes('Unauthorized'),
          ),
        60_000,
        'the old token to be refused',
      );
      await until(async () => fwd.dropped >= 1, 60_000, 'a reconnect attempt');
      fwd.resume();
      await kube.patch(pathOf(R.nodes, { name: node }), { metadata: { labels: { 'mlops-e2e/rotor': gate } } }, 'merge');
      const r = await shipping;
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toContain('deployment.apps/rotating rolled out');
    } finally {
      await kube.patch(pathOf(R.nodes, { name: node }), { metadata: { labels: { 'mlops-e2e/rotor': null } } }, 'merge');
      await fwd.close();
    }
  });
});

describe('a server lost during a wait', () => {
  it('ship keeps waiting through a lost API server (reconnecting with back-off) and finishes when it is back', async () => {
    const fwd = await forwarder(cluster().server);
    const gate = `mlops-e2e-gate-${ns}`.slice(0, 63);
    const nodes = await kube.list<Node>(pathOf(R.nodes));
    const node = nodes.items[0]!.metadata!.name!;
    try {
      const d = deployment('gated', { replicas: 1 });
      (d.spec.template.spec as Record<string, unknown>).nodeSelector = { [`mlops-e2e/gate`]: gate };
      await kube.create(pathOf(R.deployments, { namespace: ns }), d);
      const file = writeConfig('via-forwarder', { server: `https://127.0.0.1:${fwd.port}`, 'certificate-authority': caFile }, { token }, { namespace: ns });
      const shipping = startMlops(['ship', 'gated', 'app=registry.local/my-app:2.0', '--kubeconfig', file, '--timeout', '150s', '-v']);
      // ship has written and is inside its wait once its watch request is answered (-v logs it).
      await shipping.waitForErr(/GET \S*deployments\S*watch=1\S* 200/);
      expect(
        (await kube.list<ReplicaSet>(pathOf(R.replicasets, { namespace: ns }))).items.some((rs) => rs.spec?.template?.spec?.containers[0]?.image === 'registry.local/my-app:2.0'),
      ).toBe(true);
      fwd.cut();
      await until(async () => fwd.dropped >= 2, 60_000, 'two reconnect attempts');
      fwd.resume();
      await kube.patch(pathOf(R.nodes, { name: node }), { metadata: { labels: { 'mlops-e2e/gate': gate } } }, 'merge');
      const r = await shipping.done;
      expect(r.err).not.toMatch(/^error:/m);
      expect(r.code).toBe(0);
      expect(r.out).toContain('deployment.apps/gated rolled out');
    } finally {
      await kube.patch(pathOf(R.nodes, { name: node }), { metadata: { labels: { 'mlops-e2e/gate': null } } }, 'merge');
      await fwd.close();
    }
  });
});

describe('Ctrl-C', () => {
  it('the first Ctrl-C aborts a request in flight: exit 130 at once, not after the handshake timeout', async () => {
    const net = await import('node:net');
    let connections = 0;
    const silent = net.createServer(() => void connections++);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const file = writeConfig('silent', { server: `https://127.0.0.1:${(silent.address() as import('node:net').AddressInfo).port}`, 'certificate-authority': caFile }, { token });
      const { spawn } = await import('node:child_process');
      const child = spawn(BIN, ['version', '--kubeconfig', file], { env: { ...process.env, KUBECONFIG: '', HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
      await until(async () => connections > 0, 30_000, 'the plugin to connect');
      const interrupted = Date.now();
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(Date.now() - interrupted).toBeLessThan(5000);
      expect(err).toBe('error: interrupted\n');
    } finally {
      silent.close();
    }
  });
});
