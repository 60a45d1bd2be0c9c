/**
 * The README's path for a new project works today: the package packed into a
 * tarball installs without build tools, install scripts or warnings, and
 * `npx update-publish` then runs from the new project.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

const folders: string[] = [];
afterAll(async () => Promise.all(folders.map((dir) => rm(dir, { recursive: true, force: true }))));

const npm = (args: string[], cwd: string) => {
  const run = spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true', npm_config_update_notifier: 'false' } });
  return { ...run, output: `${run.stdout}${run.stderr}` };
};

it('npm pack, then npm install of the tarball and npx update-publish init/publish in an empty project', { timeout: 240_000 }, async () => {
  const packed = await mkdtemp(join(tmpdir(), 'update-publish-pack-'));
  const project = await mkdtemp(join(tmpdir(), 'update-publish-newproject-'));
  folders.push(packed, project);
  // dist/ is already built (npm test builds first); packing again must not rebuild under running tests.
  const pack = npm(['pack', '--ignore-scripts', '--pack-destination', packed], REPO_ROOT);
  expect(pack.status, pack.output).toBe(0);
  const [tarball] = await readdir(packed);
  const listing = spawnSync('tar', ['tzf', join(packed, tarball)], { encoding: 'utf8' }).stdout.split('\n');
  expect(listing).toContain('package/dist/cli/main.js');
  expect(listing.filter((path) => path.startsWith('package/src/') || path.startsWith('package/test/'))).toEqual([]);
  const manifest = JSON.parse(spawnSync('tar', ['xzOf', join(packed, tarball), 'package/package.json'], { encoding: 'utf8' }).stdout);
  // Nothing runs at install: no build step that needs tsc, no install-scripts warning.
  for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) expect(manifest.scripts?.[script], script).toBeUndefined();

  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'my-app', version: '1.0.0', private: true }));
  const install = npm(['install', '--save-dev', '--no-audit', '--no-fund', '--prefer-offline', join(packed, tarball)], project);
  expect(install.status, install.output).toBe(0);
  expect(install.output).not.toMatch(/npm warn|npm WARN|gyp/);

  await mkdir(join(project, 'assets', 'maps'), { recursive: true });
  await writeFile(join(project, 'assets', 'maps', 'a.txt'), 'hello');
  for (const args of [['update-publish', 'init', '--yes'], ['update-publish', 'publish', '--yes', '--json']]) {
    const run = spawnSync('npx', ['--no-install', ...args], { cwd: project, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    expect(run.status, `${args.join(' ')}: ${run.stdout}${run.stderr}`).toBe(0);
  }
});
