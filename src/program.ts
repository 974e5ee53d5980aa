// Builds a fresh commander program per run (and per test). Commands register themselves;
// the program knows nothing about what they do.
import { Command, CommanderError } from 'commander';
import type { Deps } from './deps.js';
import { addGlobalOptions } from './commands/common.js';
import { examplesText } from './commands/examples.js';
import * as version from './commands/version.js';
import * as doctor from './commands/doctor.js';
import * as debugPod from './commands/debug-pod.js';
import * as history from './commands/history.js';
import * as ship from './commands/ship.js';
import * as rollback from './commands/rollback.js';
import * as scale from './commands/scale.js';
import * as config from './commands/config.js';
import * as storage from './commands/storage.js';
import * as completion from './commands/completion.js';
import * as gpus from './commands/gpus.js';

export const COMMANDS = [version, doctor, debugPod, history, rollback, ship, scale, config, storage, completion, gpus];

export function createProgram(deps: Deps): Command {
  const program = new Command('mlops');
  program
    .name('kubectl mlops')
    .description('Kubernetes routines for ML engineers, as single, safe, verified commands.')
    .usage('COMMAND [flags]')
    .version(deps.version, '--version', 'print the plugin version')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false })
    .configureOutput({
      writeOut: (s) => deps.out.write(s),
      writeErr: (s) => deps.err.write(s),
    })
    .exitOverride();
  // Every command parses the global flags itself (kubectl's persistent flags), so a
  // subcommand's flags never get swallowed by its parent: `debug-pod list -o name`.
  program.enablePositionalOptions();
  addGlobalOptions(program);
  for (const c of COMMANDS) c.register(program, deps);
  const examples = (cmd: Command, path: string) => {
    const text = examplesText(path);
    if (text) cmd.addHelpText('after', text);
  };
  examples(program, '');
  const inherit = (cmd: Command, parentPath = '') => {
    for (const sub of cmd.commands) {
      const path = parentPath ? `${parentPath} ${sub.name()}` : sub.name();
      examples(sub, path);
      addGlobalOptions(sub);
      sub.configureOutput({ writeOut: (s) => deps.out.write(s), writeErr: (s) => deps.err.write(s) });
      sub.exitOverride();
      sub.showHelpAfterError('(run with --help for usage)');
      inherit(sub, path);
    }
  };
  inherit(program);
  return program;
}

export { CommanderError };
