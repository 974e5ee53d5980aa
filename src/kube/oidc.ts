// auth-provider oidc as client-go's plugin (plugin/pkg/client/auth/oidc/oidc.go): the
// id-token is used while it is valid (10 s of slack), otherwise refreshed with the
// refresh-token at the issuer's token endpoint (found by OpenID discovery), and the new
// tokens are written back to the kubeconfig before use. kubectl removed the azure and gcp
// providers; their users get kubectl's message.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type * as httpTypes from 'node:http';
import type * as httpsTypes from 'node:https';
import { ConfigError } from '../errors.js';
import { systemCa } from './proxy.js';

const load = typeof require === 'function' ? require : createRequire(import.meta.url);

const EXPIRY_DELTA_MS = 10_000;

const REMOVED: Record<string, string> = {
  gcp: 'The gcp auth plugin has been removed.\nPlease use the "gke-gcloud-auth-plugin" kubectl/client-go credential plugin instead.\nSee https://cloud.google.com/blog/products/containers-kubernetes/kubectl-auth-changes-in-gke for further details',
  azure:
    'The azure auth plugin has been removed.\nPlease use the https://github.com/Azure/kubelogin kubectl/client-go credential plugin instead.\nSee https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins for further details',
};

/** The provider, or a ConfigError as kubectl gives for removed or unknown providers. */
export function checkAuthProvider(name: string, cfg: Record<string, string>): void {
  if (REMOVED[name]) throw new ConfigError(REMOVED[name]);
  if (name !== 'oidc') throw new ConfigError(`no Auth Provider found for name "${name}"`);
  if (!cfg['idp-issuer-url']) throw new ConfigError('Must provide idp-issuer-url');
  if (!cfg['client-id']) throw new ConfigError('Must provide client-id');
}

/** oidc.go idTokenExpired, inverted: true while the token's exp is more than 10 s away. */
export function idTokenValid(token: string, now: number): boolean {
  const parts = token.split('.');
  if (parts.length !== 3) throw new ConfigError('ID Token is not a valid JWT');
  let claims: { exp?: number };
  try {
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { exp?: number };
  } catch (e) {
    throw new ConfigError(`parsing claims: ${(e as Error).message}`);
  }
  return typeof claims.exp === 'number' && now + EXPIRY_DELTA_MS < claims.exp * 1000;
}

export class OidcProvider {
  private refreshing?: Promise<string>;

  constructor(
    private cfg: Record<string, string>,
    private readonly persist: (cfg: Record<string, string>) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** A valid id-token; one refresh at a time for parallel requests. */
  async idToken(): Promise<string> {
    const current = this.cfg['id-token'];
    if (current && idTokenValid(current, this.now())) return current;
    this.refreshing ??= this.refresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async refresh(): Promise<string> {
    const rt = this.cfg['refresh-token'];
    if (!rt) throw new ConfigError('No valid id-token, and cannot refresh without refresh-token');
    const issuer = this.cfg['idp-issuer-url'].replace(/\/+$/, '');
    const wellKnown = `${issuer}/.well-known/openid-configuration`;
    const disc = await this.fetch('GET', wellKnown);
    if (disc.status !== 200) throw new ConfigError(`oidc: failed to query metadata endpoint ${disc.status}: ${JSON.stringify(disc.body.slice(0, 200))}`);
    let tokenUrl: string | undefined;
    try {
      tokenUrl = (JSON.parse(disc.body) as { token_endpoint?: string }).token_endpoint;
    } catch (e) {
      throw new ConfigError(`oidc: failed to decode provider discovery object: ${(e as Error).message}`);
    }
    if (!tokenUrl) throw new ConfigError("oidc: discovery object doesn't contain a token_endpoint");
    // golang.org/x/oauth2: client credentials in a Basic header, each part form-encoded.
    const basic = Buffer.from(`${encodeURIComponent(this.cfg['client-id'])}:${encodeURIComponent(this.cfg['client-secret'] ?? '')}`).toString('base64');
    const res = await this.fetch('POST', tokenUrl, new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rt }).toString(), {
      authorization: `Basic ${basic}`,
      'content-type': 'application/x-www-form-urlencoded',
    });
    if (res.status < 200 || res.status > 299) {
      throw new ConfigError(`failed to refresh token: oauth2: cannot fetch token: ${res.status} (${res.body.trim().split('\n')[0].slice(0, 200)})`);
    }
    let tok: { id_token?: string; refresh_token?: string };
    try {
      tok = JSON.parse(res.body) as typeof tok;
    } catch (e) {
      throw new ConfigError(`failed to refresh token: oauth2: cannot parse json: ${(e as Error).message}`);
    }
    if (!tok.id_token) {
      throw new ConfigError(
        'token response did not contain an id_token, either the scope "openid" wasn\'t requested upon login, or the provider doesn\'t support id_tokens as part of the refresh response',
      );
    }
    const next: Record<string, string> = { ...this.cfg, 'id-token': tok.id_token };
    if (tok.refresh_token && tok.refresh_token !== rt) next['refresh-token'] = tok.refresh_token;
    try {
      this.persist(next);
    } catch (e) {
      throw new ConfigError(`could not persist new tokens: ${(e as Error).message}`);
    }
    this.cfg = next;
    return tok.id_token;
  }

  private fetch(method: string, url: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    const u = new URL(url);
    const ca = this.cfg['idp-certificate-authority-data']
      ? Buffer.from(this.cfg['idp-certificate-authority-data'], 'base64')
      : this.cfg['idp-certificate-authority']
        ? fs.readFileSync(this.cfg['idp-certificate-authority'])
        : systemCa();
    const mod = (u.protocol === 'https:' ? load('node:https') : load('node:http')) as typeof httpsTypes | typeof httpTypes;
    return new Promise((resolve, reject) => {
      const req = mod.request(u, { method, headers: { accept: 'application/json', ...headers }, ...(u.protocol === 'https:' ? { ca } : {}), timeout: 30_000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => reject(new ConfigError(`oidc: ${method} ${url}: ${e.message}`)));
      req.end(body);
    });
  }
}
