import { createRequire } from 'node:module';
import { Command } from 'commander';
import { registerCommands } from './commands/index.js';
import { addGlobalOptions } from './global-options.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

export interface Program {
  program: Command;
  /** The command whose action ran (the program until one does): errors render with its options. */
  invoked(): Command;
}

/** The command tree, without running it: main.ts runs it, tests inspect it. */
export function createProgram(): Program {
  const program = new Command('update-publish')
    .description('Ship in-app content updates (offline packages) to mobile apps without an app-store release.')
    .version(version)
    .enablePositionalOptions()
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(add --help for usage)')
    // Errors are one line: the hint above follows the message on its line.
    .configureOutput({ outputError: (text, write) => write(text.replace(/\n$/, ' ')) })
    .exitOverride();
  registerCommands(program);
  addGlobalOptions(program);
  let invoked = program;
  program.hook('preAction', (_program, actionCommand) => {
    invoked = actionCommand;
  });
  return { program, invoked: () => invoked };
}
