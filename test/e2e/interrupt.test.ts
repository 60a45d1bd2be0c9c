/**
 * Ctrl-C at a real terminal (tmux), while a spinner runs: the key must reach
 * the CLI as SIGINT at every stage (a spinner that puts the terminal in raw
 * mode swallows it), and each stage must stop: before the channel index
 * write the run exits 130 and the index is untouched.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, removeProjects, type Project } from '../helpers/cli.js';
import { closeTerminals, openTerminal, tmuxInstalled, type Terminal } from '../helpers/terminal.js';


const SLOW_DISK = fileURLToPath(new URL('../helpers/slow-disk.cjs', import.meta.url));
const INDEX_KEY = 'channels/production/index.json';

afterAll(async () => {
  await closeTerminals();
  await removeProjects();
});

/** Six files of 2 MiB each (packing streams them), with random content (stored as is). */
const largeFiles = () => Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`large-${i}.bin`, randomBytes(2 * 1024 * 1024)]));

/** Forty small files: with every whole-file read slowed, reading documents lasts seconds. */
const smallFiles = () => Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`file-${i}.txt`, `content ${i} `.repeat(20)]));

/** Types Ctrl-C once the screen shows `stage`, and returns the exit code and how long the CLI took to stop. */
async function interruptAt(terminal: Terminal, stage: RegExp): Promise<{ code: number; stoppedInMs: number; screen: string }> {
  // A busy machine (the whole suite running) starts the CLI slowly: the stage may take a while to show.
  await terminal.waitFor(stage, 90_000);
  const pressed = Date.now();
  await terminal.keys('C-c');
  const code = await terminal.exitCode(15_000);
  return { code, stoppedInMs: Date.now() - pressed, screen: await terminal.screen() };
}

describe.skipIf(!tmuxInstalled)('Ctrl-C at a terminal while a spinner runs', { timeout: 180_000 }, () => {
  const slow = (variable: 'SLOW_READ_MS' | 'SLOW_DISK_MS' | 'SLOW_STREAM_MS', ms: number) => ({ NODE_OPTIONS: `--require ${SLOW_DISK}`, [variable]: String(ms) });

  it('publish: stops while packing, exits 130, and the channel index is untouched', async () => {
    // Files over 1 MiB are streamed into the zip: with every chunk slowed, packing lasts seconds.
    const project = await makeProject({ packages: { maps: largeFiles() } });
    const terminal = await openTerminal(['publish', '--yes'], { cwd: project.dir, env: slow('SLOW_STREAM_MS', 40) });
    // Packing, the longest stage, shows bytes, share and (once it can tell) the time left.
    const { code, stoppedInMs, screen } = await interruptAt(terminal, /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] maps: packing 1\.0\.0 [\d.]+ (KiB|MiB) \/ [\d.]+ MiB \(\d+%/);

    expect(code, screen).toBe(130);
    // Packing stops mid-way: the 5 s grace period is not what ended it.
    expect(stoppedInMs, screen).toBeLessThan(4000);
    expect(screen).toMatch(/error: interrupted by SIGINT: stopped before writing anything/);
    expect(existsSync(project.storePath(INDEX_KEY))).toBe(false);
  });

  it('publish: stops while uploading, exits 130, and the channel index is untouched', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'alpha' }, levels: { 'b.txt': 'beta' } } });
    const terminal = await openTerminal(['publish', '--yes'], { cwd: project.dir, env: slow('SLOW_DISK_MS', 800) });
    const { code, screen } = await interruptAt(terminal, /uploading/);

    expect(code, screen).toBe(130);
    expect(screen).toMatch(/error: interrupted by SIGINT: open uploads were aborted and the channel index is untouched/);
    expect(existsSync(project.storePath(INDEX_KEY))).toBe(false);
  });

  describe('verify', () => {
    let project: Project;

    it('stops at once, exits 130, and its message speaks of no upload or index', async () => {
      // A package of 12 MiB read in slowed chunks: the check of its objects lasts seconds.
      project = await makeProject({ packages: { maps: largeFiles() } });
      expect((await project.run(['publish', '--yes'])).code).toBe(0);
      const terminal = await openTerminal(['verify'], { cwd: project.dir, env: { ...slow('SLOW_STREAM_MS', 40), SLOW_READ_MS: '50' } });
      // Verify shows the bytes checked and their share too.
      const { code, stoppedInMs, screen } = await interruptAt(terminal, /verifying production: maps@1\.0\.0 [\d.]+ (KiB|MiB) \/ [\d.]+ MiB \(\d+%/);

      expect(code, screen).toBe(130);
      expect(stoppedInMs, screen).toBeLessThan(4000);
      const errorLine = screen.split('\n').find((line) => line.startsWith('error:'));
      expect(errorLine).toMatch(/^error: interrupted by SIGINT: stopped before writing anything/);
      expect(errorLine).not.toMatch(/upload|index/);
    });
  });
});
