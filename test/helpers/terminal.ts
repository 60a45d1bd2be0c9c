/**
 * A real pseudo-terminal for end-to-end tests of prompts: the CLI runs inside
 * a private tmux server (its own socket in a temp folder, no user config); tests type with
 * `keys`/`type` and read the screen with `waitFor`.
 *
 * - `openTerminal(args, { cwd, env })` runs `node bin/update-publish.js …args`
 *   at a 200×50 terminal. CI, NO_COLOR and FORCE_COLOR are removed from its
 *   environment (a person at a terminal), then `env` is laid over.
 * - `waitFor(text)` polls the screen until it shows `text` (string or RegExp)
 *   and returns the screen; it fails with the screen after `timeoutMs`.
 * - `exitCode()` waits for the CLI to end and returns its exit code.
 * - `close()` kills the private tmux server (and so the CLI);
 *   `closeTerminals()` (afterAll) closes every terminal still open.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI_PATH } from './cli.js';
import { TMUX } from './prerequisites.js';

const run = promisify(execFile);

export const tmuxInstalled = TMUX.installed;

export interface Terminal {
  /** Named keys, as tmux spells them: Enter, Space, Down, Up, C-c, y… */
  keys(...names: string[]): Promise<void>;
  /** Literal text. */
  type(text: string): Promise<void>;
  screen(): Promise<string>;
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<string>;
  exitCode(timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
const open = new Set<Terminal>();

export async function closeTerminals(): Promise<void> {
  await Promise.all([...open].map((terminal) => terminal.close()));
}

export async function openTerminal(
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined> },
): Promise<Terminal> {
  // tmux leaves its socket file behind after kill-server: keep it in a folder we remove.
  const socketDir = await mkdtemp(join(tmpdir(), 'update-publish-tmux-'));
  const env: Record<string, string | undefined> = { ...process.env, CI: undefined, NO_COLOR: undefined, FORCE_COLOR: undefined, TMUX: undefined, ...options.env };
  for (const name of Object.keys(env)) if (env[name] === undefined) delete env[name];
  const tmux = (...tmuxArgs: string[]) => run('tmux', ['-S', join(socketDir, 'socket'), '-f', '/dev/null', ...tmuxArgs], { env: env as NodeJS.ProcessEnv });

  // The shell stays after the CLI ends so its exit code can be read off the screen.
  const command = `${[process.execPath, CLI_PATH, ...args].map(quote).join(' ')}; echo "[exit $?]"; sleep 600`;
  await tmux('new-session', '-d', '-s', 'main', '-x', '200', '-y', '50', '-c', options.cwd, command);

  const screen = async () => (await tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', 'main')).stdout;
  const waitFor = async (text: string | RegExp, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const shown = await screen();
      if (typeof text === 'string' ? shown.includes(text) : text.test(shown)) return shown;
      if (Date.now() > deadline) throw new Error(`terminal never showed ${String(text)}; screen:\n${shown}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const terminal: Terminal = {
    keys: async (...names) => void (await tmux('send-keys', '-t', 'main', ...names)),
    type: async (text) => void (await tmux('send-keys', '-t', 'main', '-l', text)),
    screen,
    waitFor,
    async exitCode(timeoutMs) {
      const shown = await waitFor(/\[exit \d+\]/, timeoutMs);
      return Number(/\[exit (\d+)\]/.exec(shown)![1]);
    },
    async close() {
      open.delete(terminal);
      await tmux('kill-server').catch(() => {});
      await rm(socketDir, { recursive: true, force: true });
    },
  };
  open.add(terminal);
  return terminal;
}
