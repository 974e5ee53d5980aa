// Typed errors. Only src/cli.ts turns them into text and an exit code (see formatError).

/** Exit codes, documented in the README. */
export const ExitCode = {
  OK: 0,
  /** The server refused, or the operation failed or was refused as unsafe. */
  FAILED: 1,
  /** Invalid flags, arguments or input files. */
  USAGE: 2,
  /** kubeconfig problem or API server unreachable. */
  UNREACHABLE: 3,
  /** A wait timed out; the message says what state was left. */
  TIMEOUT: 4,
  /** Interrupted (Ctrl-C) or declined at a confirmation prompt. */
  ABORTED: 130,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.FAILED,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad flags, arguments or files: the message names the flag or the file. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.USAGE);
  }
}

export class ConfigError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.UNREACHABLE);
  }
}

export class UnreachableError extends CliError {
  constructor(
    readonly server: string,
    readonly cause_: string,
  ) {
    super(`cannot reach the API server at ${server}: ${cause_}`, ExitCode.UNREACHABLE);
  }
}

export class TimeoutError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.TIMEOUT);
  }
}

export class AbortedError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.ABORTED);
  }
}

/** A Status answer from the API server. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly details?: { name?: string; group?: string; kind?: string; causes?: { message?: string; field?: string }[] },
  ) {
    super(message, ExitCode.FAILED);
  }
  get notFound() {
    return this.status === 404;
  }
  get conflict() {
    return this.status === 409;
  }
}

export interface FormattedError {
  text: string;
  exitCode: number;
}

/** The one place that decides how an error looks: kubectl's `Error from server (Reason): ...` or `error: ...`. */
export function formatError(e: unknown, verbose = false): FormattedError {
  if (e instanceof ApiError) {
    return { text: `Error from server (${e.reason || 'Unknown'}): ${e.message}`, exitCode: e.exitCode };
  }
  if (e instanceof CliError) {
    return { text: `error: ${e.message}`, exitCode: e.exitCode };
  }
  const err = e as Error;
  const text = `error: ${err?.message ?? String(e)}`;
  return { text: verbose && err?.stack ? `${text}\n${err.stack}` : text, exitCode: ExitCode.FAILED };
}
