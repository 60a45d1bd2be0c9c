/**
 * `npx update-publish` in a clone before its first build: one line saying
 * what to run, never Node's stack trace for a missing dist/.
 */
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { CLI_PATH } from '../helpers/cli.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

it('a clone without dist/ prints one line naming npm run build, exit 1', async () => {
  const clone = await mkdtemp(join(tmpdir(), 'launcher-'));
  dirs.push(clone);
  await mkdir(join(clone, 'bin'));
  await copyFile(CLI_PATH, join(clone, 'bin', 'update-publish.js'));
  const run = spawnSync(process.execPath, [join(clone, 'bin', 'update-publish.js'), 'status'], { encoding: 'utf8' });
  expect(run.status).toBe(1);
  expect(run.stderr).toBe("error: update-publish is not built in this folder yet: run 'npm run build', then the command again\n");
  expect(run.stdout).toBe('');
});
