// The client-go credential plugin protocol (plugin/pkg/client/auth/exec/exec.go), our own
// small implementation: KUBERNETES_EXEC_INFO with spec.interactive (and spec.cluster with
// provideClusterInfo), stderr passed through, stdin the terminal only when interactive,
// one run at a time per process (single flight), cached until expirationTimestamp, and a
// forced re-run after a 401 unless another request already rotated the credential.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { ConfigError } from '../errors.js';
import type { Cluster, ExecConfig } from './kubeconfig.js';

export interface ExecCredential {
  token?: string;
  cert?: string;
  key?: string;
  /** ms since epoch; undefined = valid for the life of the process. */
  expires?: number;
}

/** Anything that takes the plugin's stderr bytes (a stream, or a line logger). */
export interface Sink {
  write(chunk: Buffer): unknown;
}

export interface ExecIO {
  /** Where the plugin's stderr goes (prompts, device codes); 'inherit' hands it our own fd 2. */
  stderr?: Sink | 'inherit';
  stdinIsTTY?: boolean;
  now?: () => number;
}

const INSTALL_HELP = `

It looks like you are trying to use a client-go credential plugin that is not installed.

To learn more about this feature, consult the documentation available at:
      https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins`;

export class ExecCredentialSource {
  private cached?: ExecCredential;
  private running?: Promise<ExecCredential>;
  /** Plugin runs so far; the single-flight rule is tested with it. */
  runs = 0;

  constructor(
    private readonly exec: ExecConfig,
    private readonly cluster: Cluster,
    private readonly env: NodeJS.ProcessEnv,
    private readonly io: ExecIO,
  ) {}

  private now() {
    return (this.io.now ?? Date.now)();
  }

  /** The cached credential, or one fresh run shared by every caller waiting at the same time. */
  async get(): Promise<ExecCredential> {
    if (this.cached && (this.cached.expires === undefined || this.now() <= this.cached.expires)) return this.cached;
    return this.refresh();
  }

  /** After a 401 with `used`: re-run unless the credential was already rotated (exec.go maybeRefreshCreds). */
  async afterUnauthorized(used: ExecCredential): Promise<ExecCredential> {
    if (this.running) return this.running;
    if (this.cached !== used) return this.cached ?? this.refresh();
    return this.refresh();
  }

  private refresh(): Promise<ExecCredential> {
    this.running ??= this.run().then(
      (c) => {
        this.cached = c;
        this.running = undefined;
        return c;
      },
      (e: unknown) => {
        this.running = undefined;
        throw e;
      },
    );
    return this.running;
  }

  private interactive(): boolean {
    const tty = Boolean(this.io.stdinIsTTY);
    switch (this.exec.interactiveMode ?? 'IfAvailable') {
      case 'Never':
        return false;
      case 'Always':
        if (!tty) throw new ConfigError('getting credentials: exec plugin cannot support interactive mode: standard input is not a terminal');
        return true;
      default:
        return tty;
    }
  }

  private execInfo(interactive: boolean): string {
    const spec: Record<string, unknown> = { interactive };
    if (this.exec.provideClusterInfo) {
      const c = this.cluster;
      const ca = c.caData ? c.caData : c.caFile ? fs.readFileSync(c.caFile).toString('base64') : undefined;
      spec.cluster = {
        server: c.server,
        ...(c.tlsServerName ? { 'tls-server-name': c.tlsServerName } : {}),
        ...(c.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
        ...(ca ? { 'certificate-authority-data': ca } : {}),
        ...(c.proxyUrl ? { 'proxy-url': c.proxyUrl } : {}),
        ...(c.disableCompression ? { 'disable-compression': true } : {}),
        // client-go sends the exec extension (clusters[].extensions["client.authentication.k8s.io/exec"]); we read none, so null as it does then.
        config: null,
      };
    }
    return JSON.stringify({ kind: 'ExecCredential', apiVersion: this.exec.apiVersion, spec });
  }

  private async run(): Promise<ExecCredential> {
    this.runs++;
    const cmd = this.exec.command;
    const interactive = this.interactive();
    const env: NodeJS.ProcessEnv = { ...this.env };
    for (const e of this.exec.env ?? []) env[e.name] = e.value;
    env.KUBERNETES_EXEC_INFO = this.execInfo(interactive);
    const stderr = this.io.stderr ?? 'inherit';
    const { code, out, spawnError } = await new Promise<{ code: number | null; out: string; spawnError?: NodeJS.ErrnoException }>((resolve) => {
      const child = spawn(cmd, this.exec.args ?? [], { env, stdio: [interactive ? 'inherit' : 'ignore', 'pipe', stderr === 'inherit' ? 'inherit' : 'pipe'] });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      if (stderr !== 'inherit') child.stderr!.on('data', (d: Buffer) => stderr.write(d));
      child.once('error', (e: NodeJS.ErrnoException) => resolve({ code: null, out, spawnError: e }));
      child.once('close', (c) => resolve({ code: c, out }));
    });
    if (spawnError) {
      if (spawnError.code === 'ENOENT') {
        throw new ConfigError(`getting credentials: exec: executable ${cmd} not found${INSTALL_HELP}${this.exec.installHint ? `\n\n${this.exec.installHint.trimEnd()}` : ''}`);
      }
      throw new ConfigError(`getting credentials: exec: ${spawnError.message}`);
    }
    if (code !== 0) throw new ConfigError(`getting credentials: exec: executable ${cmd} failed with exit code ${code ?? 'unknown (killed)'}`);
    let cred: { apiVersion?: string; kind?: string; status?: { token?: string; clientCertificateData?: string; clientKeyData?: string; expirationTimestamp?: string } };
    try {
      cred = JSON.parse(out) as typeof cred;
    } catch (e) {
      throw new ConfigError(`getting credentials: decoding stdout: ${(e as Error).message}`);
    }
    if (cred.apiVersion !== this.exec.apiVersion) {
      throw new ConfigError(`getting credentials: exec plugin is configured to use API version ${this.exec.apiVersion}, plugin returned version ${cred.apiVersion ?? '(none)'}`);
    }
    const st = cred.status;
    if (!st) throw new ConfigError("getting credentials: exec plugin didn't return a status field");
    if (!st.token && !st.clientCertificateData && !st.clientKeyData) throw new ConfigError("getting credentials: exec plugin didn't return a token or cert/key pair");
    if (!st.clientCertificateData !== !st.clientKeyData) throw new ConfigError('getting credentials: exec plugin returned only certificate or key, not both');
    const expires = st.expirationTimestamp ? Date.parse(st.expirationTimestamp) : undefined;
    return { token: st.token || undefined, cert: st.clientCertificateData || undefined, key: st.clientKeyData || undefined, expires: Number.isNaN(expires) ? undefined : expires };
  }
}
