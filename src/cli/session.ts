import { setMaxListeners } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { Ora } from 'ora';
import { isFlagSet, type Environment } from '../environment.js';

/** The streams a run talks through: the process's own, or a test's. */
export interface CliIo {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean; columns?: number };
  stdin: Readable & { isTTY?: boolean };
}

/**
 * One run of the CLI: everything that used to be process-wide (streams, the
 * working folder and the environment, the interruption, the exit code), so the
 * whole CLI can run in-process, many times and at once, in tests.
 */
export interface Session {
  io: CliIo;
  /** The run's working folder: relative paths (flags, config search, a store given as a path) start here. */
  cwd: string;
  /** The run's environment variables: settings (UPDATE_PUBLISH_*, CI, NO_COLOR), `env:NAME` values, AWS settings, hooks' variables. */
  env: Environment;
  /** Aborted on Ctrl-C / SIGTERM: in-flight uploads stop and clean up, and no further write lands before the index. */
  interruption: AbortController;
  /** What the run has written so far: an interruption says what it left. */
  writes: {
    /** Set at the first write to the store. */
    started: boolean;
    /** Set once a channel index write landed: an interruption after it leaves a live release. */
    channelIndexWritten: boolean;
  };
  /** Set by a command that runs until it is stopped (serve): what the interruption line says instead of the one about uploads and the index. */
  interruptionMeans?: string;
  /** The hook events the running command fires (none with --no-hooks): their hooks' `env:NAME` values are checked before its first write. */
  hookEvents: string[];
  /** Set by a command that finished but must not exit 0 (a failed required hook, verify's problems). */
  exitCode?: number;
  /** A person watching: both output streams on a terminal, not CI. Spinners, colour and prompts are for them only. */
  terminal: boolean;
  /** Loaded only where a spinner can show: CI logs and pipes never pay for it. */
  ora?: (options: Parameters<typeof import('ora').default>[0]) => Ora;
  /** Masks secrets (environment values with secret-looking names, URL credentials) in anything printed. */
  redact: (text: string) => string;
}

/** Where a run is, and what it sees: the process entry gives the process's own. */
export interface SessionPlace {
  cwd: string;
  env: Environment;
}

export async function createSession(io: CliIo, { cwd, env }: SessionPlace): Promise<Session> {
  const terminal = Boolean(io.stdout.isTTY && io.stderr.isTTY) && !isFlagSet(env, 'CI') && env.TERM !== 'dumb';
  const { secretRedactor } = await import('./redact.js');
  const interruption = new AbortController();
  // Every upload, hashing task and hook listens to it at once: that many listeners are expected.
  setMaxListeners(0, interruption.signal);
  return {
    io,
    cwd,
    env,
    interruption,
    writes: { started: false, channelIndexWritten: false },
    hookEvents: [],
    terminal,
    ora: terminal ? (await import('ora')).default : undefined,
    redact: secretRedactor(env),
  };
}
