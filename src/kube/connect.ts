// Builds a Kube from the global flags. Imported dynamically so that --help and version
// do not load the Kubernetes client.
import type { Sink } from './exec.js';
import { resolveConfig, type ConfigFlags, type ResolvedConfig } from './config.js';
import { Kube } from './client.js';
import { http2Settings } from './http2.js';

export interface ConnectFlags extends ConfigFlags {
  requestTimeoutMs?: number;
  /** kubectl's -v level; 6 and above logs one line per request. */
  verbosity?: number;
  /** The old boolean form of -v; the same as verbosity 6. */
  verbose?: boolean;
}

export interface ConnectExtras {
  /** The plugin's version, for the User-Agent. */
  version?: string;
  /** Aborts every request (the first Ctrl-C). */
  signal?: AbortSignal;
  /** Exec credential plugins may prompt on the terminal. */
  stdinIsTTY?: boolean;
  /** Where an exec plugin's stderr goes ('inherit': our own fd 2). */
  stderr?: Sink | 'inherit';
}

export interface Connection {
  kube: Kube;
  config: ResolvedConfig;
  namespace: string;
}

/** Request lines from -v 6 up, as kubectl (round_trippers.go logs URL and status at 6). */
export const REQUEST_LOG_LEVEL = 6;

export function connect(flags: ConnectFlags, env: NodeJS.ProcessEnv, log: (line: string) => void, sleep?: (ms: number) => Promise<void>, extras: ConnectExtras = {}): Connection {
  const config = resolveConfig(flags, env, {
    stdinIsTTY: extras.stdinIsTTY,
    stderr: extras.stderr ?? { write: (chunk: Buffer) => log(chunk.toString().replace(/\n$/, '')) },
  });
  const verbosity = flags.verbosity ?? (flags.verbose ? REQUEST_LOG_LEVEL : 0);
  const kube = new Kube({
    auth: config.auth,
    server: config.server,
    requestTimeoutMs: flags.requestTimeoutMs,
    log: verbosity >= REQUEST_LOG_LEVEL ? log : undefined,
    warn: log,
    sleep,
    signal: extras.signal,
    version: extras.version,
    disableCompression: config.cluster.disableCompression,
    http2: http2Settings(env, log),
  });
  return { kube, config, namespace: config.namespace };
}
