// The one shape of every command that writes: options → validate → plan → preflight → apply →
// verify → report. This module holds the pieces each step shares, so that a command file reads
// as its own flow and safety does not depend on each command's care:
// - validation with no I/O (names, timeouts, targets), so usage errors exit 2 before connecting;
// - the access pre-flight, one SelfSubjectAccessReview per declared permission, in parallel,
//   before the first write (read-only commands never call it: a read reports its own denial);
// - the journal of what was written and verified, which src/cli.ts prints after any failure,
//   timeout or Ctrl-C, with the command that resumes or undoes it.
import type { Kube } from '../kube/client.js';
import { CliError, ExitCode } from '../errors.js';
import { COMMAND_NEEDS, needLabel, type Need } from './permissions.js';

// Validate: no I/O — src/util/validate.ts (shared with src/kube/resources.ts).
export { MAX_TIMER_MS, parseTimeout, validateName, type NameRule } from '../util/validate.js';

// ---------------------------------------------------------------------------------------------
// Plan: the access pre-flight.

export class ForbiddenError extends CliError {
  constructor(
    readonly missing: Need[],
    namespace: string,
  ) {
    const where = (n: Need) => (n.cluster ? ' (cluster-wide)' : ` in namespace ${namespace}`);
    super(
      `not allowed to ${missing.map((n) => needLabel(n) + where(n)).join(', ')}: nothing was changed (ask for this permission, or see \`kubectl mlops doctor\`)`,
      ExitCode.FAILED,
    );
  }
}

/** The permissions a command declared in permissions.ts, with those of the flags in use. */
export function needsOf(command: string, active: (when: string) => boolean = () => false): Need[] {
  const needs = COMMAND_NEEDS[command];
  if (!needs) throw new Error(`no permissions declared for command "${command}"`);
  return needs.filter((n) => !n.when || active(n.when));
}

/** Asks the API server, in parallel, whether every declared verb is allowed; refuses the command before the first write otherwise. */
export async function preflight(kube: Kube, command: string, namespace: string, active?: (when: string) => boolean): Promise<void> {
  const needs = needsOf(command, active);
  const answers = await accessReview(kube, needs, namespace);
  const missing = needs.filter((_, i) => !answers[i]);
  if (missing.length) throw new ForbiddenError(missing, namespace);
}

export async function accessReview(kube: Kube, needs: Need[], namespace: string): Promise<boolean[]> {
  return Promise.all(
    needs.map(async (need) => {
      const r = await kube.create<{ status: { allowed: boolean } }>('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: {
          resourceAttributes: {
            verb: need.verb,
            group: need.group,
            resource: need.resource,
            subresource: need.subresource,
            namespace: need.cluster ? undefined : namespace,
          },
        },
      });
      return r.status.allowed;
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Apply / verify / report: the journal.

/**
 * What a command wrote and what it verified, kept as it goes. After a failure, a timeout, a
 * Ctrl-C or a lost server src/cli.ts prints it below the error line, so the user reads exactly
 * what changed and how to resume or undo it. A command that wrote nothing prints nothing more.
 */
export class Journal {
  readonly written: string[] = [];
  readonly verified: string[] = [];
  /** Promised end states not verified yet, by key. */
  private readonly open = new Map<string, string>();
  private resumeWith?: string;
  private undoWith?: string;
  private supersededBy?: string;

  wrote(what: string): void {
    this.written.push(what);
  }

  /** An end state the command promises; `confirm(key)` marks it verified. */
  expect(key: string, what: string): void {
    this.open.set(key, what);
  }

  confirm(key: string, what?: string): void {
    const text = this.open.get(key) ?? what ?? key;
    this.open.delete(key);
    this.verified.push(what ?? text);
  }

  resume(command: string): void {
    this.resumeWith = command;
  }

  undo(command: string): void {
    this.undoWith = command;
  }

  /**
   * Someone else changed the object after this command wrote it: resuming or undoing would
   * overwrite their change, so neither is offered.
   */
  superseded(by: string): void {
    this.supersededBy = by;
    this.resumeWith = undefined;
    this.undoWith = undefined;
  }

  get notVerified(): string[] {
    return [...this.open.values()];
  }

  /** The block printed after an error; empty when nothing was written. */
  report(): string {
    if (this.written.length === 0) return '';
    const lines = ['What this command did before it stopped:'];
    for (const w of this.written) lines.push(`  written:      ${w}`);
    for (const v of this.verified) lines.push(`  verified:     ${v}`);
    for (const n of this.notVerified) lines.push(`  not verified: ${n}`);
    if (this.supersededBy)
      lines.push(
        this.resumeWith || this.undoWith
          ? `  superseded:   ${this.supersededBy}; the lines below leave it out, as either would overwrite that change`
          : `  superseded:   ${this.supersededBy}; no resume or undo is offered, as either would overwrite that change`,
      );
    if (this.resumeWith) lines.push(`  to resume:    ${this.resumeWith}`);
    if (this.undoWith) lines.push(`  to undo:      ${this.undoWith}`);
    return lines.join('\n') + '\n';
  }
}

/** The dry-run suffix, one spelling (kubectl's). */
export function dryRunSuffix(dryRun: 'none' | 'client' | 'server'): string {
  return dryRun === 'client' ? ' (dry run)' : dryRun === 'server' ? ' (server dry run)' : '';
}
