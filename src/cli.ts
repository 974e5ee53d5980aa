// The entry point: builds real dependencies, runs the program, and is the only place that
// prints errors and sets the exit code.
import fs from 'node:fs';
import { createProgram, CommanderError } from './program.js';
import { realDeps, type Deps } from './deps.js';
import { ExitCode, formatError } from './errors.js';

export async function run(argv: string[], deps: Deps): Promise<number> {
  const program = createProgram(deps);
  try {
    await program.parseAsync(argv, { from: 'user' });
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
    deps.err.write(text + '\n');
    return exitCode;
  }
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return '0.0.0';
  }
}

export async function main(): Promise<void> {
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
  const code = await run(process.argv.slice(2), realDeps(packageVersion(), controller.signal));
  process.exitCode = interrupted && code !== 0 ? ExitCode.ABORTED : code;
}
