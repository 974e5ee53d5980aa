// kubeconfig resolution, as kubectl does it, without loading the whole client library.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as yaml from 'js-yaml';
import { newClusters, newContexts, newUsers, type Cluster, type Context, type User } from '@kubernetes/client-node/dist/config_types.js';
import { ConfigError, UsageError } from '../errors.js';
import { createAuth, type Auth } from './auth.js';

export interface ConfigFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

export interface ResolvedConfig {
  /** The files read, in precedence order. */
  files: string[];
  context: string;
  contexts: Context[];
  cluster: Cluster;
  user: User;
  namespace: string;
  /** Where the namespace came from: the flag, the context, or the default. */
  namespaceSource: 'flag' | 'context' | 'default';
  server: string;
  auth: Auth;
}

interface LoadedFile {
  clusters: Cluster[];
  users: User[];
  contexts: Context[];
  currentContext?: string;
}

function loadFile(file: string): LoadedFile {
  let obj: { clusters?: unknown; users?: unknown; contexts?: unknown; 'current-context'?: string } | undefined;
  try {
    obj = (yaml.load(fs.readFileSync(file, 'utf8')) ?? {}) as typeof obj;
    const dir = path.dirname(file);
    const abs = (f?: string) => (f && !path.isAbsolute(f) ? path.join(dir, f) : f);
    // Relative certificate paths are relative to the kubeconfig file, as in kubectl.
    const clusters = newClusters(obj!.clusters ?? []).map((c) => ({ ...c, caFile: abs(c.caFile) }));
    const users = newUsers(obj!.users ?? []).map((u) => ({ ...u, certFile: abs(u.certFile), keyFile: abs(u.keyFile) }));
    return { clusters, users, contexts: newContexts(obj!.contexts ?? []), currentContext: obj!['current-context'] || undefined };
  } catch (e) {
    throw new ConfigError(`cannot load kubeconfig ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Resolves flags + KUBECONFIG + ~/.kube/config into one config, failing with one clear line. */
export function resolveConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const files = configFiles(flags, env);
  const clusters: Cluster[] = [];
  const users: User[] = [];
  const contexts: Context[] = [];
  let currentContext = '';
  for (const file of files) {
    const one = loadFile(file);
    // Within merged files the first occurrence of a name wins, as in kubectl.
    for (const c of one.clusters) if (!clusters.some((x) => x.name === c.name)) clusters.push(c);
    for (const u of one.users) if (!users.some((x) => x.name === u.name)) users.push(u);
    for (const c of one.contexts) if (!contexts.some((x) => x.name === c.name)) contexts.push(c);
    if (!currentContext && one.currentContext) currentContext = one.currentContext;
  }
  const contextName = flags.context ?? currentContext;
  if (!contextName) {
    throw new ConfigError(`no current context is set in ${files.join(', ')}; pass --context (known contexts: ${names(contexts)})`);
  }
  const ctx = contexts.find((c) => c.name === contextName);
  if (!ctx) {
    const where = flags.context ? '--context' : 'current-context';
    throw new ConfigError(`context "${contextName}" (${where}) does not exist; known contexts: ${names(contexts)}`);
  }
  const cluster = clusters.find((c) => c.name === ctx.cluster);
  if (!cluster) throw new ConfigError(`context "${contextName}" refers to cluster "${ctx.cluster}", which is not in the kubeconfig`);
  if (!cluster.server) throw new ConfigError(`cluster "${cluster.name}" has no server address`);
  const user = users.find((u) => u.name === ctx.user) ?? ({ name: ctx.user ?? '' } as User);

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
  let auth: Auth;
  try {
    auth = createAuth(cluster, user);
  } catch (e) {
    throw new ConfigError(`cannot read the credentials of user "${user.name}": ${(e as Error).message}`);
  }
  return { files, context: contextName, contexts, cluster, user, namespace, namespaceSource, server: cluster.server, auth };
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

/** Context names of the kubeconfig files, for completion. */
export function contextNames(flags: ConfigFlags, env: NodeJS.ProcessEnv): Context[] {
  const out: Context[] = [];
  for (const f of configFiles(flags, env)) for (const c of loadFile(f).contexts) if (!out.some((o) => o.name === c.name)) out.push(c);
  return out;
}
