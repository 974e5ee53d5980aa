// kubeconfig files as client-go reads them (tools/clientcmd/api/v1 types, loader.go). Parsing
// is lenient: an entry that is incomplete is kept as is and only refused if the selected
// context uses it (client-go's ConfirmUsable), so a half-written `scratch` context left by
// `kubectl config set-context` does not break every other context.
import fs from 'node:fs';
import path from 'node:path';
import * as yaml from 'js-yaml';
import { ConfigError } from '../errors.js';

export interface Cluster {
  name: string;
  server: string;
  caFile?: string;
  caData?: string;
  skipTLSVerify: boolean;
  tlsServerName?: string;
  proxyUrl?: string;
  disableCompression?: boolean;
  /** The kubeconfig file this entry came from ('' for flags / in-cluster). */
  origin?: string;
}

export interface ExecConfig {
  command: string;
  args?: string[];
  env?: { name: string; value: string }[];
  apiVersion?: string;
  installHint?: string;
  provideClusterInfo?: boolean;
  interactiveMode?: string;
}

export interface User {
  name: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  certFile?: string;
  certData?: string;
  keyFile?: string;
  keyData?: string;
  exec?: ExecConfig;
  authProvider?: { name: string; config?: Record<string, string> };
  impersonateUser?: string;
  impersonateUid?: string;
  impersonateGroups?: string[];
  impersonateExtra?: Record<string, string[]>;
  origin?: string;
}

export interface Context {
  name: string;
  cluster: string;
  user?: string;
  namespace?: string;
}

export interface LoadedFile {
  clusters: Cluster[];
  users: User[];
  contexts: Context[];
  currentContext?: string;
}

type Raw = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const obj = (v: unknown): Raw => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : {});
const list = (v: unknown): Raw[] => (Array.isArray(v) ? v.map(obj) : []);

/**
 * Relative file references are relative to the kubeconfig's folder (loader.go
 * ResolveLocalPaths / GetAuthInfoFileReferences): certificate-authority, client-certificate,
 * client-key, tokenFile, and the exec command only when it contains a path separator (a bare
 * name is looked up on PATH).
 */
function resolver(file: string) {
  const dir = path.dirname(path.resolve(file));
  return (f?: string) => (f && !path.isAbsolute(f) ? path.join(dir, f) : f);
}

export function parseKubeconfig(text: string, file: string): LoadedFile {
  const doc = obj(yaml.load(text) ?? {});
  const abs = resolver(file);
  const clusters: Cluster[] = [];
  for (const e of list(doc.clusters)) {
    const name = str(e.name);
    if (!name) continue;
    const c = obj(e.cluster);
    clusters.push({
      name,
      server: str(c.server) ?? '',
      caFile: abs(str(c['certificate-authority'])),
      caData: str(c['certificate-authority-data']),
      skipTLSVerify: c['insecure-skip-tls-verify'] === true,
      tlsServerName: str(c['tls-server-name']),
      proxyUrl: str(c['proxy-url']),
      disableCompression: c['disable-compression'] === true,
      origin: file,
    });
  }
  const users: User[] = [];
  for (const e of list(doc.users)) {
    const name = str(e.name);
    if (!name) continue;
    const u = obj(e.user);
    const ex = u.exec ? obj(u.exec) : undefined;
    let exec: ExecConfig | undefined;
    if (ex) {
      const command = str(ex.command) ?? '';
      exec = {
        command: command.includes(path.sep) ? abs(command)! : command,
        args: Array.isArray(ex.args) ? ex.args.map(String) : undefined,
        env: Array.isArray(ex.env)
          ? list(ex.env).map((v) => ({
              name: str(v.name) ?? '',
              value: typeof v.value === 'string' ? v.value : v.value === undefined || v.value === null ? '' : JSON.stringify(v.value),
            }))
          : undefined,
        apiVersion: str(ex.apiVersion),
        installHint: str(ex.installHint),
        provideClusterInfo: ex.provideClusterInfo === true,
        interactiveMode: str(ex.interactiveMode),
      };
    }
    const ap = u['auth-provider'] ? obj(u['auth-provider']) : undefined;
    const extra = obj(u['as-user-extra']);
    users.push({
      name,
      token: str(u.token),
      tokenFile: abs(str(u.tokenFile)),
      username: str(u.username),
      password: str(u.password),
      certFile: abs(str(u['client-certificate'])),
      certData: str(u['client-certificate-data']),
      keyFile: abs(str(u['client-key'])),
      keyData: str(u['client-key-data']),
      exec,
      authProvider: ap ? { name: str(ap.name) ?? '', config: obj(ap.config) as Record<string, string> } : undefined,
      impersonateUser: str(u.as),
      impersonateUid: str(u['as-uid']),
      impersonateGroups: Array.isArray(u['as-groups']) ? u['as-groups'].map(String) : undefined,
      impersonateExtra: Object.keys(extra).length ? Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : [String(v)]])) : undefined,
      origin: file,
    });
  }
  const contexts: Context[] = [];
  for (const e of list(doc.contexts)) {
    const name = str(e.name);
    if (!name) continue;
    const c = obj(e.context);
    contexts.push({ name, cluster: str(c.cluster) ?? '', user: str(c.user), namespace: str(c.namespace) });
  }
  return { clusters, users, contexts, currentContext: str(doc['current-context']) };
}

export function loadKubeconfig(file: string): LoadedFile {
  try {
    return parseKubeconfig(fs.readFileSync(file, 'utf8'), file);
  } catch (e) {
    throw new ConfigError(`cannot load kubeconfig ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/**
 * Writes an auth provider's refreshed config (oidc id-token, refresh-token) back to the
 * kubeconfig file that defines the user, as kubectl's persister does. Written to a temporary
 * file and renamed, keeping the file's mode, so a crash never leaves half a kubeconfig.
 */
export function persistAuthProviderConfig(file: string, userName: string, config: Record<string, string>): void {
  const doc = obj(yaml.load(fs.readFileSync(file, 'utf8')) ?? {});
  const entry = list(doc.users).find((u) => u.name === userName);
  if (!entry) return;
  const user = obj(entry.user);
  const ap = obj(user['auth-provider']);
  ap.config = { ...obj(ap.config), ...config };
  user['auth-provider'] = ap;
  entry.user = user;
  const users = Array.isArray(doc.users) ? (doc.users as unknown[]) : [];
  doc.users = users.map((u) => (obj(u).name === userName ? entry : u));
  const tmp = `${file}.mlops-${process.pid}`;
  fs.writeFileSync(tmp, yaml.dump(doc), { mode: fs.statSync(file).mode & 0o777 });
  fs.renameSync(tmp, file);
}
