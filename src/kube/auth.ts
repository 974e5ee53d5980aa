// Credentials and TLS for requests, from one kubeconfig cluster + user. Tokens, client
// certificates, basic auth, impersonation and exec plugins are handled here with node:https
// and client-node's small ExecAuth; only auth-provider users (oidc, azure, gcp) and proxies
// load client-node's full KubeConfig, whose import costs hundreds of milliseconds.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type * as httpTypes from 'node:http';
import type * as httpsTypes from 'node:https';
import type { Cluster, User } from '@kubernetes/client-node/dist/config_types.js';

// node:http's ESM facade reads lazy getters that load Node's bundled undici (~12 ms at every
// start); require() does not. The release bundle is CommonJS and has require already.
const load = typeof require === 'function' ? require : createRequire(import.meta.url);
const http = load('node:http') as typeof httpTypes;
const https = load('node:https') as typeof httpsTypes;

export interface Prepared {
  headers: Record<string, string>;
  agent: httpTypes.Agent;
}

export interface Auth {
  /** Headers and connection agent for the next request (exec credentials are refreshed as needed). */
  prepare(url: string, method: string): Promise<Prepared>;
}

function bytes(file?: string, data?: string): Buffer | undefined {
  if (file) return fs.readFileSync(file);
  if (data) return Buffer.from(data, 'base64');
  return undefined;
}

export function createAuth(cluster: Cluster, user: User): Auth {
  if (user.authProvider || cluster.proxyUrl) return fullClientAuth(cluster, user);
  const isHttps = cluster.server.startsWith('https:');
  const baseTls: httpsTypes.AgentOptions = {
    keepAlive: true,
    ca: bytes(cluster.caFile, cluster.caData),
    cert: bytes(user.certFile, user.certData),
    key: bytes(user.keyFile, user.keyData),
    rejectUnauthorized: !cluster.skipTLSVerify,
    servername: cluster.tlsServerName,
  };
  let agent: httpTypes.Agent | undefined;
  let agentCertKey = '';
  let exec: { applyAuthentication(user: User, opts: { headers?: Record<string, string>; cert?: string; key?: string }): Promise<void> } | undefined;
  return {
    async prepare() {
      const headers: Record<string, string> = {};
      const opts: { headers: Record<string, string>; cert?: string; key?: string } = { headers };
      if (user.exec) {
        if (!exec) {
          const { ExecAuth } = await import('@kubernetes/client-node/dist/exec_auth.js');
          exec = new ExecAuth() as unknown as typeof exec;
        }
        await exec!.applyAuthentication(user, opts);
        if (opts.headers.Authorization) headers.authorization = opts.headers.Authorization;
        delete headers.Authorization;
      }
      if (user.token) headers.authorization = `Bearer ${user.token}`;
      if (user.username && !headers.authorization) headers.authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
      if (user.impersonateUser) headers['impersonate-user'] = user.impersonateUser;
      // An exec plugin may hand out a client certificate; a new one needs a new agent.
      const certKey = `${opts.cert ?? ''}|${opts.key ?? ''}`;
      if (!agent || certKey !== agentCertKey) {
        agent?.destroy();
        agentCertKey = certKey;
        agent = isHttps
          ? new https.Agent({ ...baseTls, ...(opts.cert ? { cert: opts.cert } : {}), ...(opts.key ? { key: opts.key } : {}) })
          : new http.Agent({ keepAlive: true });
      }
      return { headers, agent };
    },
  };
}

/** The slow path: client-node's KubeConfig for auth providers and proxies we do not handle ourselves. */
function fullClientAuth(cluster: Cluster, user: User): Auth {
  let kcPromise: Promise<{ applyToHTTPSOptions(o: Record<string, unknown>): Promise<void> }> | undefined;
  const load = async () => {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [cluster], users: [user], contexts: [{ name: 'mlops', cluster: cluster.name, user: user.name }], currentContext: 'mlops' });
    return kc;
  };
  return {
    async prepare() {
      kcPromise ??= load();
      const kc = await kcPromise;
      const o: { headers?: Record<string, string>; agent?: httpTypes.Agent } = {};
      await kc.applyToHTTPSOptions(o as Record<string, unknown>);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(o.headers ?? {})) headers[k.toLowerCase()] = String(v);
      return { headers, agent: o.agent ?? new https.Agent({ keepAlive: true }) };
    },
  };
}
