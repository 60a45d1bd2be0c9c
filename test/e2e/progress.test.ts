/**
 * Progress inside large files (issue 26, item 2), read off a real terminal:
 * hashing, packing and fetching one large file show bytes, share, rate and
 * time left moving while the file is under way, in the line format upload
 * uses, redrawn at least once a second.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, removeProjects, succeeded } from '../helpers/cli.js';
import { closeTerminals, openTerminal, tmuxInstalled, type Terminal } from '../helpers/terminal.js';

if (!tmuxInstalled && process.env.CI === 'true') throw new Error('tmux is required under CI (apt-get install tmux): progress is tested at a real terminal');

const SLOW_DISK = fileURLToPath(new URL('../helpers/slow-disk.cjs', import.meta.url));

afterAll(async () => {
  await closeTerminals();
  await removeProjects();
});

/** `mib` MiB that do not compress: packing reads the file twice (its CRC, then into the zip), fetching downloads it whole. */
const incompressible = (mib: number) => randomBytes(mib * 1024 * 1024);

/**
 * Watches the terminal until the CLI ends and returns every distinct progress
 * line of `stage` seen under way (share above 0% and below 100%), with when it was first seen.
 */
async function progressSeen(terminal: Terminal, stage: RegExp, timeoutMs = 120_000): Promise<{ line: string; at: number }[]> {
  const seen = new Map<string, number>();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const screen = await terminal.screen();
    for (const line of screen.split('\n')) {
      const match = stage.exec(line);
      if (match && Number(match.groups!.share) > 0 && Number(match.groups!.share) < 100 && !seen.has(match[0])) seen.set(match[0], Date.now());
    }
    if (/\[exit \d+\]/.test(screen)) break;
    if (Date.now() > deadline) throw new Error(`the CLI did not end; screen:\n${screen}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return [...seen].map(([line, at]) => ({ line, at }));
}

/** The line format of upload: done / total (share, rate, time left). */
const progress = String.raw`[\d.]+ (?:B|KiB|MiB) \/ 34 MiB \((?<share>\d+)%(?:, [\d.]+ (?:B|KiB|MiB)\/s, [\w ]+ left)?\)`;

describe.skipIf(!tmuxInstalled)('progress inside one large file', () => {
  it('hashing and packing a 34 MiB file show the bytes done moving, then fetching it does too', async () => {
    // A first publish hashes while it packs (issue 27): hashing is a step of its own once the store holds a version.
    const project = await makeProject({ packages: { maps: { 'world.bin': 'small' } } });
    succeeded(await project.run(['publish', '--yes']));
    await project.write('maps', { 'world.bin': incompressible(34) });
    // Every 1 MiB read of hashing and every 64 KiB chunk of packing and fetching slowed: each stage lasts seconds.
    const env = { NODE_OPTIONS: `--require ${SLOW_DISK}`, SLOW_READ_SYNC_MS: '80', SLOW_STREAM_MS: '6' };

    const publish = await openTerminal(['publish', '--yes'], { cwd: project.dir, env });
    const published = await progressSeen(publish, new RegExp(String.raw`maps: (?<stage>hashing|packing 1\.0\.1) ${progress}`));
    const screen = await publish.screen();
    expect(await publish.exitCode(), screen).toBe(0);
    for (const stage of ['hashing', 'packing 1.0.1']) {
      const lines = published.filter(({ line }) => line.startsWith(`maps: ${stage} `));
      // Before, both sat at 0% until the file was done, then jumped.
      expect.soft(lines.length, `${stage}: ${JSON.stringify(published)}\n${screen}`).toBeGreaterThanOrEqual(2);
    }
    await publish.close();

    const fetch = await openTerminal(['fetch', 'maps', '--into', 'device'], { cwd: project.dir, env });
    const fetched = await progressSeen(fetch, new RegExp(String.raw`maps: (?<stage>downloading 1\.0\.1|installing 1\.0\.1) ${progress}`));
    const fetchScreen = await fetch.screen();
    expect(await fetch.exitCode(), fetchScreen).toBe(0);
    expect(fetchScreen).toMatch(/maps: installed 1\.0\.1 into device/);
    // Before, "checking production" alone until the install was done.
    expect(fetched.length, `${JSON.stringify(fetched)}\n${fetchScreen}`).toBeGreaterThanOrEqual(2);
  }, 240_000);
});
