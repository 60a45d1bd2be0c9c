import type { Environment } from '../environment.js';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { outputLines } from './output-lines.js';
import type { CommandHook } from '../config/hook-schema.js';
import type { HookHandler } from './context.js';
import { isReleaseEvent, type HookEvent } from '../protocol/release-event.js';

const DEFAULT_TIMEOUT_MS = 60_000;
/** After SIGTERM, how long the command gets to clean up before SIGKILL. */
const KILL_GRACE_MS = 2_000;

/** The event as UP_* variables, for commands that would rather not parse JSON. */
export function eventEnv(event: HookEvent): Record<string, string> {
  const common = {
    UP_EVENT: event.event,
    UP_CHANNEL: event.channel,
    /** Space-separated: keys never contain spaces (see protocol/layout.ts). */
    UP_CHANGED_KEYS: event.changedKeys.join(' '),
    UP_STORE: event.store,
    UP_AT: event.at,
    UP_ACTOR: event.actor,
    UP_MESSAGE: (isReleaseEvent(event) && event.message) || '',
    UP_COMMIT: (isReleaseEvent(event) && event.commit) || '',
  };
  if (isReleaseEvent(event)) {
    return {
      ...common,
      UP_PACKAGE: event.package,
      UP_VERSION: event.version,
      UP_PREVIOUS_VERSION: event.previousVersion ?? '',
      UP_ROLLOUT: String(event.rollout),
      UP_MANDATORY: String(event.mandatory),
      UP_RULES: JSON.stringify(event.rules),
      UP_SIZE: String(event.size),
      UP_KEY: event.key,
    };
  }
  const document = { ...common, UP_ACTION: event.action, UP_DOCUMENT_KEY: event.documentKey, UP_DOCUMENT_VERSION: String(event.documentVersion) };
  if (event.event === 'switch') return { ...document, UP_KEYS: event.keys.join(' ') };
  return { ...document, UP_PLATFORM: event.platform, UP_VERSION: event.version, UP_ROLLOUT: String(event.rollout), UP_MANDATORY: String(event.mandatory) };
}

/** What every command gets from the CLI's environment: enough to find programs, files and the locale, nothing secret. */
const BASIC_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'TEMP', 'TMP', 'TERM', 'CI', 'NO_COLOR', 'SYSTEMROOT', 'COMSPEC', 'PATHEXT'];

/** The command's environment: the basic variables, the LC_* locale, those the hook names in `env`, and the event's UP_*. */
export function commandEnv(hook: Pick<CommandHook, 'env'>, event: HookEvent, parent: Environment): Record<string, string> {
  const passed = new Set([...BASIC_ENV, ...(hook.env ?? [])]);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value !== undefined && (passed.has(name) || name.startsWith('LC_'))) env[name] = value;
  }
  return { ...env, ...eventEnv(event) };
}

export const runCommandHook: HookHandler<CommandHook> = async (hook, event, context) => {
  const timeoutMs = hook.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (context.dryRun) {
    return `would run \`${hook.run}\`${hook.cwd ? ` in ${hook.cwd}` : ''} with UP_* variables and the event JSON on stdin, timeout ${timeoutMs} ms`;
  }
  // detached: the command leads its own process group, so a timeout kills its children too.
  const child = spawn(hook.run, {
    shell: true,
    detached: true,
    cwd: resolve(context.cwd, hook.cwd ?? '.'),
    env: commandEnv(hook, event, context.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  let stoppedBecause: string | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (because: string) => {
    if (stoppedBecause) return;
    stoppedBecause = because;
    killGroup('SIGTERM');
    killTimer = setTimeout(() => {
      killGroup('SIGKILL');
      // A grandchild that left the group could hold the pipes open forever.
      child.stdout.destroy();
      child.stderr.destroy();
    }, KILL_GRACE_MS);
  };
  const timer = setTimeout(() => stop(`timed out after ${timeoutMs} ms`), timeoutMs);
  // Ctrl-C reaches the CLI, not the command's own process group: pass it on.
  const interrupt = () => stop('interrupted');
  context.signal?.addEventListener('abort', interrupt, { once: true });
  if (context.signal?.aborted) interrupt();

  // Bounded: the first lines as they come, the last ones when it ends (see output-lines.ts).
  const lines = outputLines((line) => context.output(line));
  child.stdout.on('data', (chunk: Buffer) => lines.write('stdout', chunk));
  child.stderr.on('data', (chunk: Buffer) => lines.write('stderr', chunk));
  // A command that ignores stdin may exit before reading it: that is not a failure.
  child.stdin.on('error', () => {});
  child.stdin.end(JSON.stringify(event));

  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
    });
    lines.end();
    if (stoppedBecause) throw new Error(`${stoppedBecause}; its process group was killed`);
    if (code !== 0) throw new Error(signal ? `killed by ${signal}` : `exited with code ${code}`);
    return 'exited with code 0';
  } finally {
    clearTimeout(timer);
    clearTimeout(killTimer);
    context.signal?.removeEventListener('abort', interrupt);
  }
};
