// The entry point: builds real dependencies, runs the program, and is the only place that
// prints errors and sets the exit code.
import fs from 'node:fs';
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
    deps.err.write(text + '\n' + deps.journal.report());
    return exitCode;
  }
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
  const code = await run(argv, realDeps(packageVersion(), controller.signal));
  process.exitCode = interrupted && code !== 0 ? ExitCode.ABORTED : code;
}
