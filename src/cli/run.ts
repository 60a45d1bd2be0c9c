import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Environment } from '../environment.js';
import { ExitCode, UserError } from '../errors.js';
import { renderError } from './errors.js';
import { createProgram } from './program.js';
import { createSession, type CliIo, type Session } from './session.js';

/** What the interruption left, told when the run stops: before the index write, the release is not live. */
export function interruptedError(session: Session, signal: string): UserError {
  if (session.interruptionMeans) return new UserError(`interrupted by ${signal}: ${session.interruptionMeans}`, ExitCode.interrupted);
  const { started, channelIndexWritten } = session.writes;
  if (channelIndexWritten) {
    return new UserError(
      `interrupted by ${signal} after the channel index was written: the release is live, steps after it (history, hooks) may not have run; check 'update-publish status' and run 'update-publish hooks run' if needed`,
      ExitCode.interrupted,
    );
  }
  if (started) {
    return new UserError(`interrupted by ${signal}: open uploads were aborted and the channel index is untouched; run the command again`, ExitCode.interrupted);
  }
  return new UserError(`interrupted by ${signal}: stopped before writing anything; run the command again`, ExitCode.interrupted);
}

/** `--json` anywhere before `--`: usage errors come before options are parsed, so it is read from argv. */
export const wantsJson = (args: string[]) => (args.includes('--') ? args.slice(0, args.indexOf('--')) : args).includes('--json');

/**
 * Runs one command line (arguments after the program name) in a session and
 * returns its exit code. Never exits the process, never touches process-wide
 * state but what the session holds.
 */
export async function runSession(args: string[], session: Session): Promise<number> {
  const { program, invoked } = await createProgram(session, args);
  const json = wantsJson(args);
  if (json) {
    // commander stays silent and renderError prints the one error line and the JSON document.
    const silence = (command: Command): void => {
      command.configureOutput({ writeErr: () => {} }).showHelpAfterError(false);
      command.commands.forEach(silence);
    };
    silence(program);
  }
  const renderOptions = () => ({ ...invoked().optsWithGlobals(), ...(json && { json }) });
  const interruption = session.interruption.signal;
  const interruptedBy = () => (interruption.reason as { signalName?: string } | undefined)?.signalName ?? 'SIGINT';
  try {
    await program.parseAsync(args, { from: 'user' });
    // Finished past an interruption (after the index write, hooks stopped): not a clean success.
    // The command's result is already on stdout, so only the line goes to stderr.
    if (interruption.aborted) {
      session.io.stderr.write(`error: ${interruptedError(session, interruptedBy()).message}\n`);
      return ExitCode.interrupted;
    }
    return session.exitCode ?? ExitCode.ok;
  } catch (error) {
    const code = renderError(interruption.aborted ? interruptedError(session, interruptedBy()) : error, renderOptions(), session);
    return interruption.aborted ? ExitCode.interrupted : code;
  }
}

export interface RunOptions {
  /** The working folder of the run (default: the process's); relative paths start here. */
  cwd?: string;
  /** Variables set (a string) or unset (undefined) for the run, over the process's. */
  env?: Record<string, string | undefined>;
  stdout?: CliIo['stdout'];
  stderr?: CliIo['stderr'];
  stdin?: CliIo['stdin'];
}

/**
 * The whole CLI in-process: `runCli(['publish', '--json'], { cwd, env, stdout, stderr })`
 * resolves with the exit code. cwd and env belong to the run's session, never
 * to the process, so runs may overlap.
 */
export async function runCli(args: string[], options: RunOptions = {}): Promise<number> {
  const session = await createSession(
    { stdout: options.stdout ?? process.stdout, stderr: options.stderr ?? process.stderr, stdin: options.stdin ?? process.stdin },
    { cwd: resolve(process.cwd(), options.cwd ?? '.'), env: overlaid(process.env, options.env ?? {}) },
  );
  return runSession(args, session);
}

/** The process's variables with the run's set over them and its `undefined` ones removed. */
function overlaid(base: Environment, changes: Record<string, string | undefined>): Environment {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...base, ...changes })) if (value !== undefined) env[name] = value;
  return env;
}
