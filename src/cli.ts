// The entry point: builds real dependencies, runs the program, and is the only place that
// prints errors and sets the exit code.
import fs from 'node:fs';
import type { Command } from 'commander';
import { createProgram, CommanderError } from './program.js';
import { realDeps, type Deps } from './deps.js';
import { ExitCode, formatError } from './errors.js';

export async function run(argv: string[], deps: Deps): Promise<number> {
  const program = createProgram(deps);
  if (argv[0] === '__complete') {
    const { writeCompletion } = await import('./commands/completion.js');
    await writeCompletion(program, deps, argv.slice(1));
    return ExitCode.OK;
  }
  try {
    await program.parseAsync(normalizeArgv(argv, program), { from: 'user' });
    return ExitCode.OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has already written its message (and help) to stderr.
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return ExitCode.OK;
      if (e.code === 'commander.executeSubCommandAsync') return ExitCode.OK;
      return e.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    const verbose = argv.includes('-v') || argv.includes('--verbose');
    const { text, exitCode } = formatError(e, verbose);
    deps.err.write(text + '\n' + deps.journal.report());
    return exitCode;
  }
}

/**
 * kubectl's flag library (pflag) reads `-o=json`, `-n=team-a` and `--watch=true`/`-A=false`;
 * commander would take "=json" as the value and refuse a value on a boolean flag. Rewrites
 * those spellings into commander's, up to a `--` terminator.
 */
export function normalizeArgv(argv: string[], program: Command): string[] {
  const takesValue = new Map<string, boolean>();
  const visit = (cmd: Command) => {
    for (const o of cmd.options) {
      const value = o.required || o.optional;
      if (o.short) takesValue.set(o.short, value);
      if (o.long) takesValue.set(o.long, value);
    }
    cmd.commands.forEach(visit);
  };
  visit(program);
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i];
    if (t === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^(-[A-Za-z]|--[A-Za-z][\w-]*)=(.*)$/s.exec(t);
    const flag = m?.[1];
    // `--wait=false` where the command defines `--no-wait` (a default-on flag).
    if (m && flag?.startsWith('--') && !takesValue.has(flag) && takesValue.get(`--no-${flag.slice(2)}`) === false) {
      if (/^(false|f|0)$/i.test(m[2])) out.push(`--no-${flag.slice(2)}`);
      else if (!/^(true|t|1)$/i.test(m[2])) out.push(t);
      continue;
    }
    if (!m || flag === undefined || !takesValue.has(flag)) {
      out.push(t);
      continue;
    }
    const value = m[2];
    if (takesValue.get(flag)) {
      // `--output=json` is commander's own form already; `-o=json` is not.
      if (flag.startsWith('--')) out.push(t);
      else out.push(flag, value);
    } else if (/^(true|t|1)$/i.test(value)) out.push(flag);
    else if (!/^(false|f|0)$/i.test(value)) out.push(t); // commander names the bad value
  }
  return out;
}

/** Set by the release bundle (esbuild define); the npm build reads package.json instead. */
declare const __MLOPS_VERSION__: string | undefined;

function packageVersion(): string {
  if (typeof __MLOPS_VERSION__ === 'string') return __MLOPS_VERSION__;
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return '0.0.0';
  }
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const controller = new AbortController();
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(ExitCode.ABORTED);
    interrupted = true;
    controller.abort();
  });
  // EPIPE on stdout (e.g. `| head`) is not an error worth a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  let ended = false;
  const code = await run(
    argv,
    realDeps(packageVersion(), controller.signal, () => ended),
  );
  ended = true;
  process.exitCode = interrupted && code !== 0 ? ExitCode.ABORTED : code;
}
