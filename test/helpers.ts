import { Writable } from 'node:stream';
import { afterEach, beforeEach } from 'vitest';
import nock from 'nock';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../src/cli.js';
import { Journal } from '../src/commands/flow.js';
import type { Deps } from '../src/deps.js';
import { connect } from '../src/kube/connect.js';

export class MemStream extends Writable {
  text = '';
  constructor(public isTTY = false) {
    super();
  }
  override _write(chunk: Buffer | string, _enc: string, cb: () => void) {
    this.text += chunk.toString();
    cb();
  }
}

export interface RunResult {
  code: number;
  out: string;
  err: string;
  sleeps: number[];
}

export async function runCli(argv: string[], opts: { env?: NodeJS.ProcessEnv; stdinIsTTY?: boolean; confirm?: boolean; now?: Date } = {}): Promise<RunResult> {
  const out = new MemStream();
  const err = new MemStream();
  const sleeps: number[] = [];
  const env = opts.env ?? {};
  const sleep = async (ms: number) => {
    sleeps.push(ms);
  };
  const deps: Deps = {
    out,
    err,
    env,
    now: () => opts.now ?? new Date(),
    stdinIsTTY: opts.stdinIsTTY ?? false,
    confirm: async () => opts.confirm ?? false,
    connect: async (flags) => connect(flags, env, (l) => err.write(l + '\n'), sleep),
    sleep,
    signal: new AbortController().signal,
    journal: new Journal(),
    version: '0.1.0-test',
  };
  const code = await run(argv, deps);
  return { code, out: out.text, err: err.text, sleeps };
}

export const TEST_SERVER = 'https://k8s.test:6443';

export function tempDir(prefix = 'mlops-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A kubeconfig for the nock server; `extra` is appended to the user section. */
export function writeKubeconfig(dir: string, opts: { name?: string; context?: string; namespace?: string; server?: string; user?: string; current?: boolean } = {}): string {
  const name = opts.name ?? 'test';
  const file = path.join(dir, `${name}.yaml`);
  const user = opts.user ?? `    token: ${name}-token`;
  fs.writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      opts.current === false ? '' : `current-context: ${opts.context ?? name}`,
      'clusters:',
      `- name: ${name}-cluster`,
      '  cluster:',
      `    server: ${opts.server ?? TEST_SERVER}`,
      '    insecure-skip-tls-verify: true',
      'users:',
      `- name: ${name}-user`,
      '  user:',
      user,
      'contexts:',
      `- name: ${opts.context ?? name}`,
      '  context:',
      `    cluster: ${name}-cluster`,
      `    user: ${name}-user`,
      opts.namespace ? `    namespace: ${opts.namespace}` : '',
      '',
    ].join('\n'),
  );
  return file;
}

/** A port nothing listens on. */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * For nock tests: no real network, a fresh kubeconfig (namespace ml) pointing at TEST_SERVER
 * before each test, and no interceptor left over after it. Returns a getter for the kubeconfig.
 */
export function useNockCluster(): () => string {
  let kubeconfig = '';
  beforeEach(() => {
    nock.disableNetConnect();
    kubeconfig = writeKubeconfig(tempDir(), { namespace: 'ml' });
  });
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });
  return () => kubeconfig;
}
