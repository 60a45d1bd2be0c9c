/**
 * Starts the built CLI and hands back the child, for tests that signal it
 * mid-run (SIGTERM, SIGKILL). `runCli` (helpers/cli.ts) is the plain
 * run-to-completion form.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI_PATH } from './cli.js';

export interface RunningCli {
  child: ChildProcess;
  /** Resolves at the first line on stderr: the program is loaded and working. */
  firstOutput: Promise<void>;
  /** Exit code (128 + n when killed by a signal), stdout, stderr. */
  done: Promise<{ code: number; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

export function spawnCli(args: string[], options: { cwd: string; env?: Record<string, string> }): RunningCli {
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    cwd: options.cwd,
    env: { ...process.env, CI: 'true', NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
  const firstOutput = new Promise<void>((resolve) => {
    child.stderr!.once('data', () => resolve());
    child.once('close', () => resolve());
  });
  const done = new Promise<Awaited<RunningCli['done']>>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        code: code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 0) : 0),
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      }),
    );
  });
  return { child, firstOutput, done };
}

/**
 * The JSON document a command that runs until stopped (serve, console) prints
 * once it is ready; rejects, with its stderr, if it exits first.
 */
export function firstJsonDocument<T>(running: RunningCli, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let stdout = '';
    running.child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      try {
        resolve(JSON.parse(stdout) as T);
      } catch {
        // the document is not complete yet
      }
    });
    void running.done.then(({ code, stderr }) => reject(new Error(`${what} exited ${code} before printing its document:\n${stderr}`)));
  });
}
