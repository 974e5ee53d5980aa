// Builds a Kube from the global flags. Imported dynamically so that --help and version
// do not load the Kubernetes client.
import { resolveConfig, type ConfigFlags, type ResolvedConfig } from './config.js';
import { Kube } from './client.js';

export interface ConnectFlags extends ConfigFlags {
  requestTimeoutMs?: number;
  verbose?: boolean;
}

export interface Connection {
  kube: Kube;
  config: ResolvedConfig;
  namespace: string;
}

export function connect(flags: ConnectFlags, env: NodeJS.ProcessEnv, log: (line: string) => void, sleep?: (ms: number) => Promise<void>): Connection {
  const config = resolveConfig(flags, env);
  const kube = new Kube({
    auth: config.auth,
    server: config.server,
    requestTimeoutMs: flags.requestTimeoutMs,
    log: flags.verbose ? log : undefined,
    sleep,
  });
  return { kube, config, namespace: config.namespace };
}
