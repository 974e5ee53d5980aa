// Spinner for long waits: ora on stderr, only on a TTY and never with -o json|yaml.
import type { Writable } from 'node:stream';
import { AbortedError } from '../errors.js';

export interface Progress {
  update(text: string): void;
  /** Stops the spinner; `final` is written as a normal stderr line. */
  stop(final?: string): void;
}

export async function startProgress(text: string, opts: { stream: Writable & { isTTY?: boolean; columns?: number }; enabled: boolean }): Promise<Progress> {
  // A terminal that reports 0 columns (a pty nobody sized, as under `script`) sends ora into
  // an endless cursor-up loop; treat it like a pipe.
  if (!opts.enabled || !opts.stream.isTTY || !(opts.stream.columns && opts.stream.columns > 0)) {
    return {
      update() {},
      stop(final) {
        if (final) opts.stream.write(final + '\n');
      },
    };
  }
  const { default: ora } = await import('ora');
  const spinner = ora({ text, stream: opts.stream, discardStdin: false }).start();
  return {
    update(t) {
      spinner.text = t;
    },
    stop(final) {
      spinner.stop();
      if (final) opts.stream.write(final + '\n');
    },
  };
}

/** Runs a wait with a spinner that is always stopped, whatever the wait ends with. */
export async function withProgress<T>(
  text: string,
  opts: { stream: Writable & { isTTY?: boolean; columns?: number }; enabled: boolean },
  wait: (update: (text: string) => void) => Promise<T>,
): Promise<T> {
  const progress = await startProgress(text, opts);
  try {
    return await wait((t) => progress.update(t));
  } catch (e) {
    // Ctrl-C ends every wait the same way; say which wait it ended (the journal says what was written).
    if ((e as { exitCode?: number }).exitCode === 130 && /^(interrupted|request aborted)$/.test((e as Error).message)) {
      throw new AbortedError(`interrupted while ${text}`);
    }
    throw e;
  } finally {
    progress.stop();
  }
}
