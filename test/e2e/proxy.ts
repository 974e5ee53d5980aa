// A proxy in front of the test API server that lets a "colleague" write just before one chosen
// request of the plugin reaches the server: real races with real 409s, no mocks.
import { inject } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';

/**
 * Runs `before` once, ahead of the first request `match` selects. Returns a kubeconfig (written
 * in `dir`) that points the plugin at the proxy, and the statuses the server gave that request.
 */
export async function conflictProxy(
  dir: string,
  match: (method: string, url: string) => boolean,
  before: () => Promise<unknown>,
): Promise<{ kubeconfig: string; close: () => void; statuses: () => number[] }> {
  const target = new URL(inject('cluster').server);
  // client-go (and the plugin) send no credentials to a plain-http server: the proxy adds the admin's.
  const token = /token: (\S+)/.exec(fs.readFileSync(inject('cluster').kubeconfig, 'utf8'))![1]!;
  let fired = false;
  const seen: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const selected = !fired && match(req.method ?? '', req.url ?? '');
        if (selected) {
          fired = true;
          await before();
        }
        const up = https.request(
          {
            host: target.hostname,
            port: target.port,
            path: req.url,
            method: req.method,
            headers: { ...req.headers, host: target.host, authorization: `Bearer ${token}` },
            rejectUnauthorized: false,
          },
          (ur) => {
            if (selected) seen.push(ur.statusCode ?? 0);
            res.writeHead(ur.statusCode ?? 502, ur.headers);
            ur.pipe(res);
          },
        );
        up.on('error', (err) => {
          res.writeHead(502);
          res.end(String(err));
        });
        up.end(Buffer.concat(chunks));
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const cfg = fs.readFileSync(inject('cluster').kubeconfig, 'utf8').replace(/server: https:\/\/[^\s]+/, `server: http://127.0.0.1:${port}`);
  const kubeconfig = path.join(dir, `proxy-${port}.yaml`);
  fs.writeFileSync(kubeconfig, cfg);
  return { kubeconfig, close: () => server.close(), statuses: () => seen };
}
