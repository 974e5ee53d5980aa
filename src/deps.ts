// Everything a command needs from the outside world, built once at the entry point.
// Tests pass fakes; commands never touch process.*, Date.now() or kubeconfig loading.
import type { Writable } from 'node:stream';
import type { ConnectFlags, Connection } from './kube/connect.js';
import { Journal } from './commands/flow.js';

export type Out = Writable & { isTTY?: boolean };

export interface Deps {
  out: Out;
  err: Out;
  env: NodeJS.ProcessEnv;
  now: () => Date;
  stdinIsTTY: boolean;
  /** Asks a yes/no question on the terminal; only called when stdin is a TTY. */
  confirm: (question: string) => Promise<boolean>;
  connect: (flags: ConnectFlags) => Promise<Connection>;
  sleep: (ms: number) => Promise<void>;
  /** Aborted on Ctrl-C so waits stop cleanly. */
  signal: AbortSignal;
  version: string;
  /** What the running command wrote and verified; printed by src/cli.ts after a failure. */
  journal: Journal;
}

/** `ended`: true once the command has returned; request lines of requests still in flight (a parallel read after another failed) are not printed below its error. */
export function realDeps(version: string, signal: AbortSignal, ended: () => boolean = () => false): Deps {
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  return {
    out: process.stdout,
    err: process.stderr,
    env: process.env,
    now: () => new Date(),
    stdinIsTTY: Boolean(process.stdin.isTTY),
    confirm: async (question) => {
      const { createInterface } = await import('node:readline/promises');
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      // The terminal is in raw mode while readline asks, so Ctrl-C reaches readline, not the
      // process: without this the question would wait forever.
      const asked = new AbortController();
      rl.on('SIGINT', () => asked.abort());
      signal.addEventListener('abort', () => asked.abort(), { once: true });
      try {
        const answer = await rl.question(`${question} [y/N] `, { signal: asked.signal });
        return /^y(es)?$/i.test(answer.trim());
      } catch (e) {
        if ((e as Error).name === 'AbortError') return false;
        throw e;
      } finally {
        rl.close();
      }
    },
    connect: async (flags) => {
      const { connect } = await import('./kube/connect.js');
      // One signal for the whole run: the first Ctrl-C aborts requests in flight too.
      return connect(flags, process.env, (line) => void (ended() || process.stderr.write(line + '\n')), sleep, {
        version,
        signal,
        stdinIsTTY: Boolean(process.stdin.isTTY),
        stderr: 'inherit',
      });
    },
    sleep,
    signal,
    version,
    journal: new Journal(),
  };
}
