import { createRequire } from 'node:module';
import type { HookEventName } from '../protocol/release-event.js';
import { Command } from 'commander';
import { registerAccess } from './commands/access.js';
import { registerBase } from './commands/base.js';
import { registerAppRelease } from './commands/app-release.js';
import { registerChannel } from './commands/channel.js';
import { registerCompletion } from './commands/completion.js';
import { registerConsole } from './commands/console.js';
import { registerDiff } from './commands/diff.js';
import { registerEdit } from './commands/edit.js';
import { registerFetch } from './commands/fetch.js';
import { registerGc } from './commands/gc.js';
import { registerHalt } from './commands/halt.js';
import { registerHealth } from './commands/health.js';
import { registerHistory } from './commands/history.js';
import { registerHooks } from './commands/hooks.js';
import { registerInit } from './commands/init.js';
import { registerKeys } from './commands/keys.js';
import { registerPack } from './commands/pack.js';
import { registerPromote } from './commands/promote.js';
import { registerPublish } from './commands/publish.js';
import { registerRefresh } from './commands/refresh.js';
import { registerReceipts } from './commands/receipts.js';
import { registerResolve } from './commands/resolve.js';
import { registerResume } from './commands/resume.js';
import { registerRollback } from './commands/rollback.js';
import { registerRollout } from './commands/rollout.js';
import { registerServe } from './commands/serve.js';
import { registerStatus } from './commands/status.js';
import { registerSwitch } from './commands/switch.js';
import { registerVerify } from './commands/verify.js';
import { registerWhitelist } from './commands/whitelist.js';
import { addGlobalOptions } from './global-options.js';
import type { Session } from './session.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** Every command, in the order help lists them; each registers its flags and its action. */
const COMMANDS = [
  registerInit,
  registerPack,
  registerDiff,
  registerPublish,
  registerStatus,
  registerResolve,
  registerGc,
  registerRollout,
  registerHalt,
  registerResume,
  registerRollback,
  registerHealth,
  registerEdit,
  registerPromote,
  registerBase,
  registerChannel,
  registerHistory,
  registerHooks,
  registerWhitelist,
  registerSwitch,
  registerAppRelease,
  registerFetch,
  registerVerify,
  registerServe,
  registerConsole,
  registerKeys,
  registerAccess,
  registerRefresh,
  registerReceipts,
  registerCompletion,
];

/** The hook event each writing command fires: its hooks' env:NAME values are checked before the command's first write. */
const HOOK_EVENT_OF_COMMAND: Record<string, HookEventName> = {
  publish: 'publish',
  rollout: 'rollout',
  halt: 'halt',
  resume: 'resume',
  rollback: 'rollback',
  promote: 'promote',
  edit: 'edit',
  'switch set': 'switch',
  'switch rm': 'switch',
  'switch rollback': 'switch',
  'app-release add': 'app-release',
  'app-release rm': 'app-release',
  'app-release rollout': 'app-release',
  'app-release halt': 'app-release',
};

/** `switch set` for the command `update-publish switch set`. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at?.parent; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

export interface Program {
  program: Command;
  /** The command whose action ran (the program until one does): errors render with its options. */
  invoked(): Command;
}

/** The command tree of one run, without running it: run.ts runs it, tests inspect it. */
export function createProgram(session: Session): Program {
  const { stdout, stderr } = session.io;
  const program = new Command('update-publish')
    .description('Ship in-app content updates (offline packages) to mobile apps without an app-store release.')
    .version(version)
    .enablePositionalOptions()
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(add --help for usage)')
    // Errors are one line: the hint above follows the message on its line.
    .configureOutput({
      writeOut: (text) => void stdout.write(text),
      writeErr: (text) => void stderr.write(text),
      outputError: (text, write) => write(text.replace(/\n$/, ' ')),
    })
    .exitOverride();
  for (const register of COMMANDS) register(program, session);
  addGlobalOptions(program);
  let invoked = program;
  program.hook('preAction', (_program, actionCommand) => {
    invoked = actionCommand;
    const event = HOOK_EVENT_OF_COMMAND[commandPath(actionCommand)];
    const hooksOn = (actionCommand.opts() as { hooks?: boolean }).hooks !== false;
    session.hookEvents = event && hooksOn ? [event] : [];
  });
  return { program, invoked: () => invoked };
}
