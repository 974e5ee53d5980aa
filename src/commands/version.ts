import type { Command } from 'commander';
import type { Deps } from '../deps.js';
import { addOutputOption, connectFrom, printerOf } from './common.js';
import { formatError, UsageError } from '../errors.js';

export interface VersionInfo {
  clientVersion: string;
  nodeVersion: string;
  serverVersion?: string;
  serverError?: string;
}

export function register(program: Command, deps: Deps): void {
  const cmd = program
    .command('version')
    .description('print the plugin, Node.js and API server versions')
    .option('--client', 'only the plugin and Node.js versions; do not contact the server');
  addOutputOption(cmd, ['table', 'json', 'yaml']);
  cmd.action(async () => {
    const printer = printerOf(cmd);
    const format = printer.format;
    const info: VersionInfo = { clientVersion: `v${deps.version}`, nodeVersion: process.version };
    let failure: Error | undefined;
    if (!cmd.opts().client) {
      try {
        const { kube } = await connectFrom(cmd, deps);
        const v = await kube.get<{ gitVersion: string }>('/version');
        info.serverVersion = v.gitVersion;
      } catch (e) {
        // A usage error (a bad flag) is not a server's answer: nothing goes to stdout.
        if (e instanceof UsageError) throw e;
        failure = e instanceof Error ? e : new Error(String(e));
        info.serverError = formatError(e).text;
      }
    }
    if (format === 'table') {
      deps.out.write(`Client Version: ${info.clientVersion}\nNode Version: ${info.nodeVersion}\n`);
      if (info.serverVersion) deps.out.write(`Server Version: ${info.serverVersion}\n`);
    } else {
      await printer.printDocument(deps, info);
    }
    // Like kubectl version: the client part is printed, then the server error decides the exit code.
    if (failure) throw failure;
  });
}
