/**
 * The temp folder and the disks: a full disk is named by where it is mounted
 * (the store's, not the staging folder's when a copy into the store fails),
 * and staging folders left by killed runs are cleaned by the next run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, removeProjects, succeeded } from '../helpers/cli.js';

afterAll(removeProjects);

const FULL_DISK = fileURLToPath(new URL('../helpers/full-disk.cjs', import.meta.url));
/** Where the disk holding `dir` is mounted, as df says. */
const mountOf = (dir: string) => spawnSync('df', ['--output=target', dir], { encoding: 'utf8' }).stdout.trim().split('\n').at(-1)!;
const hasDf = spawnSync('df', ['--output=target', '.'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!hasDf)('a full disk', () => {
  it('while packing into the staging folder: names the temp disk and TMPDIR, exit 1', async () => {
    const project = await makeProject();
    const tmp = join(project.dir, 'tmp');
    await mkdir(tmp);
    const result = await project.run(['publish', '--yes'], { env: { NODE_OPTIONS: `--require ${FULL_DISK}`, FULL_DISK: 'staging', TMPDIR: tmp } });
    expect(result.code, result.stderr).toBe(1);
    const error = result.stderr.trimEnd().split('\n').at(-1)!;
    expect(error).toContain(`error: the disk mounted at ${mountOf(tmp)} is full (writing ${tmp}/update-publish-staging-`);
    expect(error).toContain('point TMPDIR at a folder on a disk with room');
    expect(error).not.toMatch(/a bug/);
  });

  it('while copying into the folder store: names the store\'s disk and a store path, not the staging file', async () => {
    const project = await makeProject();
    const result = await project.run(['publish', '--yes'], { env: { NODE_OPTIONS: `--require ${FULL_DISK}`, FULL_DISK: 'store' } });
    expect(result.code, result.stderr).toBe(1);
    const error = result.stderr.trimEnd().split('\n').at(-1)!;
    expect(error).toContain(`the disk mounted at ${mountOf(project.dir)} is full (writing ${project.store}/packages/maps/1.0.0/full.zip`);
    expect(error).not.toContain('update-publish-staging-');
    expect(existsSync(project.storePath('channels/production/index.json'))).toBe(false);
  });
});

describe('staging folders of killed runs', () => {
  it('are removed by the next publish; a live run\'s are kept', async () => {
    const project = await makeProject();
    const tmp = join(project.dir, 'tmp');
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid!;
    const dead = join(tmp, `update-publish-staging-${deadPid}-aB3dE9`);
    const live = join(tmp, `update-publish-staging-${process.pid}-xY7wQ2`);
    const notOurs = join(tmp, 'update-publish-e2e-aB3dE9');
    for (const dir of [dead, live, notOurs]) {
      await mkdir(join(dir, 'packages'), { recursive: true });
      await writeFile(join(dir, 'packages', 'full.zip'), 'half a zip');
    }
    succeeded(await project.run(['publish', '--yes', '--json'], { env: { TMPDIR: tmp } }));
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(notOurs)).toBe(true);
    // The run's own staging folder is gone too.
    expect(spawnSync('ls', [tmp], { encoding: 'utf8' }).stdout.split('\n').filter((name) => name.includes(`-staging-`)).length).toBe(1);
  });
});
