import { createRequire } from 'node:module';
import type { HookEventName } from '../protocol/release-event.js';
import { Command } from 'commander';
import { addGlobalOptions, GLOBAL_OPTIONS_WITH_VALUE } from './global-options.js';
import type { Session } from './session.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

type Register = (program: Command, session: Session) => void;

/**
 * Every command, in the order help lists them, by name: each registers its
 * flags and its action. A run loads only the command it names (commandNamed):
 * thirty commands' code, and the libraries they use, took longer to load than
 * an unchanged publish takes to run (issue 27).
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  init: async () => (await import('./commands/init.js')).registerInit,
  pack: async () => (await import('./commands/pack.js')).registerPack,
  diff: async () => (await import('./commands/diff.js')).registerDiff,
  publish: async () => (await import('./commands/publish.js')).registerPublish,
  status: async () => (await import('./commands/status.js')).registerStatus,
  resolve: async () => (await import('./commands/resolve.js')).registerResolve,
  gc: async () => (await import('./commands/gc.js')).registerGc,
  rollout: async () => (await import('./commands/rollout.js')).registerRollout,
  halt: async () => (await import('./commands/halt.js')).registerHalt,
  resume: async () => (await import('./commands/resume.js')).registerResume,
  rollback: async () => (await import('./commands/rollback.js')).registerRollback,
  health: async () => (await import('./commands/health.js')).registerHealth,
  edit: async () => (await import('./commands/edit.js')).registerEdit,
  promote: async () => (await import('./commands/promote.js')).registerPromote,
  base: async () => (await import('./commands/base.js')).registerBase,
  channel: async () => (await import('./commands/channel.js')).registerChannel,
  history: async () => (await import('./commands/history.js')).registerHistory,
  hooks: async () => (await import('./commands/hooks.js')).registerHooks,
  whitelist: async () => (await import('./commands/whitelist.js')).registerWhitelist,
  switch: async () => (await import('./commands/switch.js')).registerSwitch,
  'app-release': async () => (await import('./commands/app-release.js')).registerAppRelease,
  fetch: async () => (await import('./commands/fetch.js')).registerFetch,
  verify: async () => (await import('./commands/verify.js')).registerVerify,
  serve: async () => (await import('./commands/serve.js')).registerServe,
  console: async () => (await import('./commands/console.js')).registerConsole,
  keys: async () => (await import('./commands/keys.js')).registerKeys,
  access: async () => (await import('./commands/access.js')).registerAccess,
  refresh: async () => (await import('./commands/refresh.js')).registerRefresh,
  receipts: async () => (await import('./commands/receipts.js')).registerReceipts,
  completion: async () => (await import('./commands/completion.js')).registerCompletion,
};

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

/**
 * The command a command line names, when loading it alone answers it: not
 * for `completion` (it lists every command), help, a typo or no command,
 * which get the whole program.
 */
function commandNamed(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return undefined;
    if (GLOBAL_OPTIONS_WITH_VALUE.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg !== 'completion' && Object.hasOwn(COMMANDS, arg) ? arg : undefined;
  }
  return undefined;
}

/**
 * The command tree of one run, without running it: run.ts runs it, tests
 * inspect it. Given the command line, only the command it names is loaded.
 */
export async function createProgram(session: Session, args?: string[]): Promise<Program> {
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
  const named = args === undefined ? undefined : commandNamed(args);
  const loads = named === undefined ? Object.values(COMMANDS) : [COMMANDS[named]!];
  for (const register of await Promise.all(loads.map((load) => load()))) register(program, session);
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
