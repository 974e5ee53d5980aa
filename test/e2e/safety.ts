// Shared pieces of the hostile-case matrix (issue 14): a snapshot of every object in a
// namespace to prove "nothing changed", users that lack exactly one declared permission, and
// the audit log of the local API server to check the declarations against real requests.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, inject } from 'vitest';
import * as yaml from 'js-yaml';
import type { Kube } from '../../src/kube/client.js';
import { COMMAND_NEEDS, needLabel, type Need } from '../../src/commands/permissions.js';
import { BIN, mlops, testPath, type Run } from './helpers.js';

const NAMESPACED = [
  '/apis/apps/v1/namespaces/NS/deployments',
  '/apis/apps/v1/namespaces/NS/replicasets',
  '/apis/apps/v1/namespaces/NS/statefulsets',
  '/api/v1/namespaces/NS/pods',
  '/api/v1/namespaces/NS/configmaps',
  '/api/v1/namespaces/NS/secrets',
  '/api/v1/namespaces/NS/services',
  '/api/v1/namespaces/NS/persistentvolumeclaims',
  '/apis/autoscaling/v2/namespaces/NS/horizontalpodautoscalers',
];

interface Obj {
  metadata?: { name?: string; resourceVersion?: string; managedFields?: { subresource?: string }[] };
  status?: unknown;
  kind?: string;
  apiVersion?: string;
}

/**
 * What a command could have written: the object without its status. Controllers and the
 * kubelet keep writing status after a test's wait has ended (a Deployment's conditions, a
 * pod's), which moves resourceVersion; the plugin never writes status, and any write of its
 * own changes spec, metadata or its managedFields entry (a no-op write is not stored).
 */
export function written(o: Obj): string {
  // kind and apiVersion: a GET has them, the items of a LIST do not.
  const { status: _status, kind: _kind, apiVersion: _apiVersion, ...rest } = o;
  const { resourceVersion: _rv, managedFields, ...meta } = o.metadata ?? {};
  return JSON.stringify({ ...rest, metadata: { ...meta, managedFields: managedFields?.filter((f) => f.subresource !== 'status') } });
}

/** kind/name → what a command could have written, for every object it could touch in the namespace. */
export async function snapshot(kube: Kube, namespace: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await Promise.all(
    NAMESPACED.map(async (p) => {
      const l = await kube.list<Obj>(p.replace('NS', namespace));
      const kind = p.split('/').at(-1)!;
      for (const o of l.items) out.set(`${kind}/${o.metadata?.name}`, written(o));
    }),
  );
  return out;
}

/** Objects a command wrote, or that appeared or disappeared. */
export function changed(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of before) if (after.get(k) !== v) out.push(after.has(k) ? `${k} changed` : `${k} deleted`);
  for (const k of after.keys()) if (!before.has(k)) out.push(`${k} created`);
  return out;
}

export async function expectUnchanged(kube: Kube, namespace: string, before: Map<string, string>): Promise<void> {
  expect(changed(before, await snapshot(kube, namespace))).toEqual([]);
}

/** A failing case: the exit code, and exactly one `error:` line (plus an optional journal block, hints and warnings). */
export function expectOneLineError(r: Run, code: number, pattern?: RegExp): void {
  expect(r.code, r.err).toBe(code);
  const errors = r.err.split('\n').filter((l) => l.startsWith('error:') || l.startsWith('Error from server'));
  expect(errors, r.err).toHaveLength(1);
  if (pattern) expect(errors[0]).toMatch(pattern);
  expect(r.err).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/); // no stack trace
}

/** A kubeconfig of the admin that impersonates `user`, so a test can give that user exact RBAC. */
export function kubeconfigAs(user: string): string {
  const admin = inject('cluster').kubeconfig;
  const cfg = yaml.load(fs.readFileSync(admin, 'utf8')) as { users: { name: string; user: Record<string, unknown> }[] };
  for (const u of cfg.users) u.user = { ...u.user, as: user };
  const file = path.join(inject('cluster').workDir, `kubeconfig-as-${user}`);
  fs.writeFileSync(file, yaml.dump(cfg));
  return file;
}

function ruleOf(n: Need) {
  return { apiGroups: [n.group], resources: [n.subresource ? `${n.resource}/${n.subresource}` : n.resource], verbs: [n.verb] };
}

/**
 * Grants `user` every permission `command` declares (with these flags active) except `deny`,
 * namespaced ones in a Role, cluster-wide ones in a ClusterRole of the same name.
 */
export async function grantAllBut(kube: Kube, namespace: string, user: string, needs: Need[], deny?: Need): Promise<void> {
  const keep = needs.filter((n) => !deny || needLabel(n) !== needLabel(deny) || Boolean(n.cluster) !== Boolean(deny.cluster));
  const ns = keep.filter((n) => !n.cluster).map(ruleOf);
  const cl = keep.filter((n) => n.cluster).map(ruleOf);
  const subjects = [{ kind: 'User', name: user, apiGroup: 'rbac.authorization.k8s.io' }];
  if (ns.length) {
    await kube.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/roles`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: user },
      rules: ns,
    });
    await kube.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: user },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: user },
      subjects,
    });
  }
  if (cl.length) {
    await kube.create('/apis/rbac.authorization.k8s.io/v1/clusterroles', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: user }, rules: cl });
    await kube.create('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: user },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: user },
      subjects,
    });
  }
}

interface AuditEvent {
  stage: string;
  verb: string;
  user?: { username?: string };
  impersonatedUser?: { username?: string };
  objectRef?: { resource?: string; subresource?: string; apiGroup?: string; namespace?: string; name?: string };
  requestURI: string;
}

/** The requests the API server recorded for an impersonated user (the audit log is on for the e2e cluster). */
export function auditedRequests(user: string): AuditEvent[] {
  const file = path.join(inject('cluster').workDir, 'audit.log');
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  return lines.map((l) => JSON.parse(l) as AuditEvent).filter((e) => e.stage === 'ResponseComplete' && e.impersonatedUser?.username === user && e.objectRef?.resource);
}

/**
 * Runs a command as a fresh user holding exactly its declared permissions, then checks every
 * request the API server saw against the declaration (access reviews aside). Returns the run.
 */
export async function expectDeclaredCovers(kube: Kube, namespace: string, command: string, args: string[], flags: string[] = []): Promise<Run> {
  const user = `audit-${command.replace(/\W+/g, '-')}-${Math.random().toString(36).slice(2, 8)}`;
  const needs = (COMMAND_NEEDS[command] ?? []).filter((n) => !n.when || flags.includes(n.when));
  await grantAllBut(kube, namespace, user, needs);
  const r = await mlops(args, { kubeconfig: kubeconfigAs(user) });
  const undeclared = auditedRequests(user)
    .filter((e) => !['selfsubjectaccessreviews', 'selfsubjectreviews'].includes(e.objectRef!.resource!))
    .filter(
      (e) =>
        !needs.some(
          (n) =>
            n.verb === e.verb &&
            n.resource === e.objectRef!.resource &&
            (n.group ?? '') === (e.objectRef!.apiGroup ?? '') &&
            (n.subresource ?? '') === (e.objectRef!.subresource ?? ''),
        ),
    )
    .map((e) => `${e.verb} ${e.objectRef!.resource}${e.objectRef!.subresource ? '/' + e.objectRef!.subresource : ''}${e.objectRef!.apiGroup ? '.' + e.objectRef!.apiGroup : ''}`);
  expect([...new Set(undeclared)], `requests made by \`${command}\` but not declared in permissions.ts`).toEqual([]);
  return r;
}

export interface Running {
  /** Resolves with the stderr so far once it matches. */
  waitForErr(pattern: RegExp, timeoutMs?: number): Promise<string>;
  interrupt(): void;
  done: Promise<Run>;
}

/**
 * Starts the plugin in the background, for interrupt and race cases: wait until it is inside
 * its wait (e.g. `-v` shows the watch request: /watch=1/), then act (SIGINT, a concurrent
 * change) and await `done`.
 */
export function startMlops(args: string[], opts: { kubeconfig?: string; env?: Record<string, string> } = {}): Running {
  const kubeconfig = opts.kubeconfig ?? inject('cluster').kubeconfig;
  const child = spawn(BIN, args, { env: { ...process.env, PATH: testPath(), NO_COLOR: '1', KUBECONFIG: kubeconfig, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: { re: RegExp; resolve: (s: string) => void }[] = [];
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => {
    err += d;
    for (const w of waiters.splice(0)) w.re.test(err) ? w.resolve(err) : waiters.push(w);
  });
  child.stdin.end();
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, sig) => resolve({ code: code ?? (sig ? 128 + (os.constants.signals[sig] ?? 0) : -1), out, err }));
  });
  return {
    waitForErr(re, timeoutMs = 60_000) {
      if (re.test(err)) return Promise.resolve(err);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} in stderr:\n${err}`)), timeoutMs);
        waiters.push({ re, resolve: (s) => (clearTimeout(timer), resolve(s)) });
        void done.then(() => reject(new Error(`the command ended before ${re} appeared; stderr:\n${err}`)));
      });
    },
    interrupt: () => child.kill('SIGINT'),
    done,
  };
}
