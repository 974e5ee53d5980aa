// kubeconfig resolution, as kubectl does it. Loaded lazily (it pulls in client-node).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';
import { ConfigError, UsageError } from '../errors.js';

export interface ConfigFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export interface ResolvedConfig {
  kc: KubeConfig;
  /** The files read, in precedence order. */
  files: string[];
  context: string;
  cluster: Cluster;
  user: User;
  namespace: string;
  /** Where the namespace came from: the flag, the context, or the default. */
  namespaceSource: 'flag' | 'context' | 'default';
  server: string;
}

/** Resolves flags + KUBECONFIG + ~/.kube/config into one config, failing with one clear line. */
export function resolveConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const files = configFiles(flags, env);
  const kc = new KubeConfig();
  const clusters: Cluster[] = [];
  const users: User[] = [];
  const contexts: Context[] = [];
  let currentContext = '';
  for (const file of files) {
    const one = new KubeConfig();
    try {
      one.loadFromFile(file);
    } catch (e) {
      throw new ConfigError(`cannot load kubeconfig ${file}: ${(e as Error).message.split('\n')[0]}`);
    }
    // Within merged files the first occurrence of a name wins, as in kubectl.
    for (const c of one.clusters) if (!clusters.some((x) => x.name === c.name)) clusters.push(c);
    for (const u of one.users) if (!users.some((x) => x.name === u.name)) users.push(u);
    for (const c of one.contexts) if (!contexts.some((x) => x.name === c.name)) contexts.push(c);
    if (!currentContext && one.currentContext) currentContext = one.currentContext;
  }
  kc.loadFromOptions({ clusters, users, contexts, currentContext });

  const contextName = flags.context ?? currentContext;
  if (!contextName) {
    throw new ConfigError(`no current context is set in ${files.join(', ')}; pass --context (known contexts: ${names(contexts)})`);
  }
  const ctx = contexts.find((c) => c.name === contextName);
  if (!ctx) {
    const where = flags.context ? '--context' : 'current-context';
    throw new ConfigError(`context "${contextName}" (${where}) does not exist; known contexts: ${names(contexts)}`);
  }
  kc.setCurrentContext(contextName);
  const cluster = clusters.find((c) => c.name === ctx.cluster);
  if (!cluster) throw new ConfigError(`context "${contextName}" refers to cluster "${ctx.cluster}", which is not in the kubeconfig`);
  const user = users.find((u) => u.name === ctx.user) ?? { name: ctx.user ?? '' };
  if (!cluster.server) throw new ConfigError(`cluster "${cluster.name}" has no server address`);

  let namespace = 'default';
  let namespaceSource: ResolvedConfig['namespaceSource'] = 'default';
  if (flags.namespace !== undefined) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(flags.namespace) || flags.namespace.length > 63) {
      throw new UsageError(`invalid value "${flags.namespace}" for --namespace: a namespace is a DNS label (lower-case letters, digits and "-")`);
    }
    namespace = flags.namespace;
    namespaceSource = 'flag';
  } else if (ctx.namespace) {
    namespace = ctx.namespace;
    namespaceSource = 'context';
  }
  return { kc, files, context: contextName, cluster, user: user as User, namespace, namespaceSource, server: cluster.server };
}

function names(contexts: Context[]): string {
  return contexts.length ? contexts.map((c) => c.name).join(', ') : '(none)';
}

export function configFiles(flags: ConfigFlags, env: NodeJS.ProcessEnv): string[] {
  if (flags.kubeconfig) {
    if (!fs.existsSync(flags.kubeconfig)) throw new ConfigError(`--kubeconfig ${flags.kubeconfig}: no such file`);
    return [path.resolve(flags.kubeconfig)];
  }
  if (env.KUBECONFIG) {
    // kubectl skips files in KUBECONFIG that do not exist.
    const listed = env.KUBECONFIG.split(path.delimiter).filter(Boolean);
    const existing = listed.filter((f) => fs.existsSync(f)).map((f) => path.resolve(f));
    if (existing.length === 0) throw new ConfigError(`none of the files in KUBECONFIG exist: ${listed.join(path.delimiter)}`);
    return existing;
  }
  const home = env.HOME ?? os.homedir();
  const def = path.join(home, '.kube', 'config');
  if (!fs.existsSync(def)) {
    throw new ConfigError(`no kubeconfig found: set KUBECONFIG, pass --kubeconfig, or create ${def}`);
  }
  return [def];
}
