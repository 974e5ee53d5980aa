// kubeconfig resolution, as kubectl does it (client-go tools/clientcmd), without loading the
// whole client library: merged KUBECONFIG files, kubectl's override flags, ConfirmUsable on the
// selected context only, and in-cluster config when there is no kubeconfig.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, UsageError } from '../errors.js';
import { createAuth, type Auth, type AuthIO } from './auth.js';
import { loadKubeconfig, type Cluster, type Context, type User } from './kubeconfig.js';

export type { Cluster, Context, User } from './kubeconfig.js';

export interface ConfigFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  // kubectl's override flags (k8s.io/client-go/tools/clientcmd/overrides.go).
  cluster?: string;
  user?: string;
  server?: string;
  token?: string;
  certificateAuthority?: string;
  clientCertificate?: string;
  clientKey?: string;
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
  as?: string;
  asGroups?: string[];
  asUid?: string;
}

export interface ResolvedConfig {
  /** The files read, in precedence order (empty in-cluster). */
  files: string[];
  context: string;
  contexts: Context[];
  cluster: Cluster;
  user: User;
  namespace: string;
  /** Where the namespace came from. */
  namespaceSource: 'flag' | 'context' | 'default' | 'in-cluster';
  server: string;
  auth: Auth;
  /** True when built from the pod's service account (no kubeconfig). */
  inCluster: boolean;
}

/**
 * Where a pod's service account is mounted (rest/config.go InClusterConfig). The one place
 * tests may point elsewhere; e2e tests use the real path in a private mount namespace.
 */
export const serviceAccount = { dir: '/var/run/secrets/kubernetes.io/serviceaccount' };

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Resolves flags + KUBECONFIG + ~/.kube/config (or the in-cluster service account) into one config. */
export function resolveConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env, io: AuthIO = {}): ResolvedConfig {
  // -n "" is no override, as in client-go (the context's namespace, else default).
  if (flags.namespace === '') flags = { ...flags, namespace: undefined };
  if (flags.namespace !== undefined && (!DNS_LABEL.test(flags.namespace) || flags.namespace.length > 63)) {
    throw new UsageError(`invalid value "${flags.namespace}" for --namespace: a namespace is a DNS label (lower-case letters, digits and "-")`);
  }
  const found = configFiles(flags, env);
  const clusters: Cluster[] = [];
  const users: User[] = [];
  const contexts: Context[] = [];
  let currentContext = '';
  for (const file of found.files) {
    const one = loadKubeconfig(file);
    // Within merged files the first occurrence of a name wins, as in kubectl (loader.go).
    for (const c of one.clusters) if (!clusters.some((x) => x.name === c.name)) clusters.push(c);
    for (const u of one.users) if (!users.some((x) => x.name === u.name)) users.push(u);
    for (const c of one.contexts) if (!contexts.some((x) => x.name === c.name)) contexts.push(c);
    if (!currentContext && one.currentContext) currentContext = one.currentContext;
  }
  const empty = clusters.length === 0 && users.length === 0 && contexts.length === 0 && !currentContext;
  // An empty config: kubectl uses --server alone if given, else in-cluster config if the pod
  // has a service account (merged_client_builder.go DeferredLoadingClientConfig.ClientConfig).
  if (empty && !flags.server && !flags.context) {
    if (inClusterPossible(env)) return inCluster(flags, env, io);
    throw new ConfigError(found.missing ?? `no cluster is defined in ${found.files.join(', ')}`);
  }

  const contextName = flags.context ?? currentContext;
  const ctx = contextName ? contexts.find((c) => c.name === contextName) : undefined;
  if (contextName && !ctx) {
    const where = flags.context ? '--context' : 'current-context';
    throw new ConfigError(`context "${contextName}" (${where}) does not exist; known contexts: ${names(contexts)}`);
  }
  if (!ctx && !flags.server && !flags.cluster) {
    throw new ConfigError(`no current context is set in ${found.files.join(', ')}; pass --context (known contexts: ${names(contexts)})`);
  }
  const clusterName = flags.cluster ?? ctx?.cluster ?? '';
  const userName = flags.user ?? ctx?.user ?? '';
  const base = clusters.find((c) => c.name === clusterName);
  if (flags.cluster && !base) throw new ConfigError(`cluster "${flags.cluster}" (--cluster) does not exist; known clusters: ${clusters.map((c) => c.name).join(', ') || '(none)'}`);
  if (!base && !flags.server) throw new ConfigError(`context "${contextName}" refers to cluster "${clusterName}", which is not in the kubeconfig`);
  const baseUser = users.find((u) => u.name === userName);
  if (flags.user && !baseUser) throw new ConfigError(`user "${flags.user}" (--user) does not exist; known users: ${users.map((u) => u.name).join(', ') || '(none)'}`);

  const cluster = overrideCluster(base ?? { name: clusterName, server: '', skipTLSVerify: false }, flags);
  const user = overrideUser(baseUser ?? { name: userName }, flags);
  confirmUsable(cluster, user);

  let namespace = 'default';
  let namespaceSource: ResolvedConfig['namespaceSource'] = 'default';
  if (flags.namespace !== undefined) {
    namespace = flags.namespace;
    namespaceSource = 'flag';
  } else if (ctx?.namespace) {
    namespace = ctx.namespace;
    namespaceSource = 'context';
  }
  return {
    files: found.files,
    context: contextName,
    contexts,
    cluster,
    user,
    namespace,
    namespaceSource,
    server: cluster.server,
    auth: authFor(cluster, user, env, io),
    inCluster: false,
  };
}

function authFor(cluster: Cluster, user: User, env: NodeJS.ProcessEnv, io: AuthIO): Auth {
  try {
    return createAuth(cluster, user, env, io);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`cannot read the credentials of user "${user.name}": ${(e as Error).message}`);
  }
}

/** client_config.go getCluster: flags win; a CA or --insecure-skip-tls-verify flag replaces all three TLS settings. */
function overrideCluster(c: Cluster, f: ConfigFlags): Cluster {
  const out = { ...c };
  if (f.server) out.server = f.server;
  if (f.insecureSkipTlsVerify || f.certificateAuthority) {
    out.skipTLSVerify = Boolean(f.insecureSkipTlsVerify);
    out.caFile = f.certificateAuthority ? path.resolve(f.certificateAuthority) : undefined;
    out.caData = undefined;
  }
  // --server clears the kubeconfig's tls-server-name unless --tls-server-name is given too.
  if (f.tlsServerName !== undefined || f.server) out.tlsServerName = f.tlsServerName || undefined;
  return out;
}

/** client_config.go getAuthInfo: flags merged over the kubeconfig user. */
function overrideUser(u: User, f: ConfigFlags): User {
  const out = { ...u };
  if (f.token) out.token = f.token;
  if (f.clientCertificate) {
    out.certFile = path.resolve(f.clientCertificate);
    out.certData = undefined;
  }
  if (f.clientKey) {
    out.keyFile = path.resolve(f.clientKey);
    out.keyData = undefined;
  }
  if (f.as) out.impersonateUser = f.as;
  if (f.asGroups?.length) out.impersonateGroups = f.asGroups;
  if (f.asUid) out.impersonateUid = f.asUid;
  return out;
}

/** validation.go validateClusterInfo + validateAuthInfo, for the selected cluster and user only. */
function confirmUsable(c: Cluster, u: User): void {
  const problems: string[] = [];
  if (!c.server) problems.push(c.name ? `no server found for cluster "${c.name}"` : 'no server is set (pass --server or use a context whose cluster has one)');
  else {
    try {
      const url = new URL(c.server);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') problems.push(`server "${c.server}" of cluster "${c.name}" is not an http(s) URL`);
    } catch {
      problems.push(`server "${c.server}" of cluster "${c.name}" is not a URL`);
    }
  }
  if (c.proxyUrl) {
    try {
      const p = new URL(c.proxyUrl);
      if (!['http:', 'https:', 'socks5:'].includes(p.protocol))
        problems.push(`invalid 'proxy-url' "${c.proxyUrl}" for cluster "${c.name}": unsupported scheme "${p.protocol.slice(0, -1)}", must be http, https, or socks5`);
    } catch {
      problems.push(`invalid 'proxy-url' "${c.proxyUrl}" for cluster "${c.name}"`);
    }
  }
  if (c.caFile && !fs.existsSync(c.caFile)) problems.push(`unable to read certificate-authority ${c.caFile} for ${c.name}: no such file`);
  // transport.go: kubectl refuses a CA together with insecure-skip-tls-verify.
  if (c.skipTLSVerify && (c.caFile || c.caData)) problems.push('specifying a root certificates file with the insecure flag is not allowed');
  const methods: string[] = [];
  if (u.token) methods.push('token');
  if (u.username || u.password) methods.push('basicAuth');
  if (methods.length > 1) problems.push(`more than one authentication method found for ${u.name}; found [${methods.join(' ')}], only one is allowed`);
  if ((u.certFile || u.certData) && !u.keyFile && !u.keyData)
    problems.push(`client-key-data or client-key must be specified for ${u.name} to use the clientCert authentication method.`);
  if (u.certFile && !fs.existsSync(u.certFile)) problems.push(`unable to read client-cert ${u.certFile} for ${u.name}: no such file`);
  // client_config.go reads tokenFile when the config is built (unless a token is also set): a missing file is a config error.
  if (u.tokenFile && !u.token && !fs.existsSync(u.tokenFile)) problems.push(`unable to read tokenFile ${u.tokenFile} for ${u.name}: no such file`);
  if (u.keyFile && !fs.existsSync(u.keyFile)) problems.push(`unable to read client-key ${u.keyFile} for ${u.name}: no such file`);
  if (u.exec) {
    if (u.authProvider) problems.push(`authProvider cannot be provided in combination with an exec plugin for ${u.name}`);
    if (!u.exec.command) problems.push(`command must be specified for ${u.name} to use exec authentication plugin`);
    if (!u.exec.apiVersion) problems.push(`apiVersion must be specified for ${u.name} to use exec authentication plugin`);
    const mode = u.exec.interactiveMode;
    // client-go requires interactiveMode for v1 only; its defaulting fills IfAvailable for v1beta1.
    if (mode && !['Never', 'IfAvailable', 'Always'].includes(mode)) problems.push(`invalid interactiveMode for ${u.name}: "${mode}"`);
    if (!mode && u.exec.apiVersion === 'client.authentication.k8s.io/v1') problems.push(`interactiveMode must be specified for ${u.name} to use exec authentication plugin`);
  }
  if ((u.impersonateUid || u.impersonateGroups?.length || u.impersonateExtra) && !u.impersonateUser) {
    problems.push(`requesting uid, groups or user-extra for ${u.name || 'the user'} without impersonating a user (pass --as)`);
  }
  if (problems.length) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}

export function inClusterPossible(env: NodeJS.ProcessEnv): boolean {
  if (!env.KUBERNETES_SERVICE_HOST || !env.KUBERNETES_SERVICE_PORT) return false;
  try {
    return !fs.statSync(path.join(serviceAccount.dir, 'token')).isDirectory();
  } catch {
    return false;
  }
}

/** rest/config.go InClusterConfig + client_config.go inClusterClientConfig, with kubectl's override flags on top. */
function inCluster(flags: ConfigFlags, env: NodeJS.ProcessEnv, io: AuthIO): ResolvedConfig {
  const host = env.KUBERNETES_SERVICE_HOST!;
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${env.KUBERNETES_SERVICE_PORT}`;
  const caFile = path.join(serviceAccount.dir, 'ca.crt');
  const cluster = overrideCluster({ name: 'in-cluster', server, skipTLSVerify: false, caFile: fs.existsSync(caFile) ? caFile : undefined }, flags);
  // The token file is re-read as the kubelet rotates it (tokenFile, as client-go's BearerTokenFile).
  const user = overrideUser({ name: 'in-cluster', tokenFile: path.join(serviceAccount.dir, 'token') }, flags);
  confirmUsable(cluster, user);
  let namespace = 'default';
  let namespaceSource: ResolvedConfig['namespaceSource'] = 'default';
  if (flags.namespace !== undefined) {
    namespace = flags.namespace;
    namespaceSource = 'flag';
  } else if (env.POD_NAMESPACE) {
    namespace = env.POD_NAMESPACE;
    namespaceSource = 'in-cluster';
  } else {
    try {
      const ns = fs.readFileSync(path.join(serviceAccount.dir, 'namespace'), 'utf8').trim();
      if (ns) {
        namespace = ns;
        namespaceSource = 'in-cluster';
      }
    } catch {
      // No namespace file: "default", as client-go.
    }
  }
  return { files: [], context: '', contexts: [], cluster, user, namespace, namespaceSource, server: cluster.server, auth: authFor(cluster, user, env, io), inCluster: true };
}

function names(contexts: Context[]): string {
  return contexts.length ? contexts.map((c) => c.name).join(', ') : '(none)';
}

/** The kubeconfig files to merge; `missing` explains an empty list (an error unless in-cluster or --server). */
function configFiles(flags: ConfigFlags, env: NodeJS.ProcessEnv): { files: string[]; missing?: string } {
  if (flags.kubeconfig) {
    if (!fs.existsSync(flags.kubeconfig)) throw new ConfigError(`--kubeconfig ${flags.kubeconfig}: no such file`);
    return { files: [path.resolve(flags.kubeconfig)] };
  }
  if (env.KUBECONFIG) {
    // kubectl skips files in KUBECONFIG that do not exist.
    const listed = env.KUBECONFIG.split(path.delimiter).filter(Boolean);
    const existing = [...new Set(listed.filter((f) => fs.existsSync(f)).map((f) => path.resolve(f)))];
    if (existing.length === 0) return { files: [], missing: `none of the files in KUBECONFIG exist: ${listed.join(path.delimiter)}` };
    return { files: existing };
  }
  const home = env.HOME ?? os.homedir();
  const def = path.join(home, '.kube', 'config');
  if (!fs.existsSync(def)) return { files: [], missing: `no kubeconfig found: set KUBECONFIG, pass --kubeconfig, or create ${def}` };
  return { files: [def] };
}

/** Context names of the kubeconfig files, for completion. */
export function contextNames(flags: ConfigFlags, env: NodeJS.ProcessEnv): Context[] {
  const out: Context[] = [];
  for (const f of configFiles(flags, env).files) for (const c of loadKubeconfig(f).contexts) if (!out.some((o) => o.name === c.name)) out.push(c);
  return out;
}
