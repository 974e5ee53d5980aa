// Builds a fresh commander program per run (and per test). Commands register themselves;
// the program knows nothing about what they do.
import { Command, CommanderError } from 'commander';
import type { Deps } from './deps.js';
import { addGlobalOptions } from './commands/common.js';
import * as version from './commands/version.js';
import * as doctor from './commands/doctor.js';

export const COMMANDS = [version, doctor];

export function createProgram(deps: Deps): Command {
  const program = new Command('mlops');
  program
    .name('kubectl mlops')
    .description('Kubernetes routines for ML engineers, as single, safe, verified commands.')
    .usage('COMMAND [flags]')
    .version(deps.version, '--version', 'print the plugin version')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .configureOutput({
      writeOut: (s) => deps.out.write(s),
      writeErr: (s) => deps.err.write(s),
    })
    .exitOverride();
  addGlobalOptions(program);
  for (const c of COMMANDS) c.register(program, deps);
  // Subcommands inherit output and exit handling.
  const inherit = (cmd: Command) => {
    for (const sub of cmd.commands) {
      sub.configureOutput({ writeOut: (s) => deps.out.write(s), writeErr: (s) => deps.err.write(s) });
      sub.exitOverride();
      sub.showHelpAfterError('(run with --help for usage)');
      inherit(sub);
    }
  };
  inherit(program);
  return program;
}

export { CommanderError };
