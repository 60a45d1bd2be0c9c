/**
 * The README's path for a new project works today: the package packed into a
 * tarball installs without build tools, install scripts or warnings, and
 * `npx update-publish` then runs from the new project. The tarball is vendored
 * inside the app's repository (README "Install in your project and in CI",
 * both CI templates), so `npm ci` on a clean runner — a fresh checkout, the
 * packing folder gone, an npm cache that never saw the tarball — installs it.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

const folders: string[] = [];
afterAll(async () => Promise.all(folders.map((dir) => rm(dir, { recursive: true, force: true }))));
const tempFolder = async (prefix: string) => {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  folders.push(dir);
  return dir;
};

const npm = (args: string[], cwd: string, env: Record<string, string> = {}) => {
  const run = spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, CI: 'true', npm_config_update_notifier: 'false', ...env } });
  return { ...run, output: `${run.stdout}${run.stderr}` };
};

describe('installing from a packed tarball', () => {
  let packed: string;
  let tarball: string;
  beforeAll(async () => {
    packed = await tempFolder('update-publish-pack-');
    // dist/ is already built (npm test builds first); packing again must not rebuild under running tests.
    const pack = npm(['pack', '--ignore-scripts', '--pack-destination', packed], REPO_ROOT);
    expect(pack.status, pack.output).toBe(0);
    [tarball] = await readdir(packed);
  }, 120_000);

  it('ships dist/, PROTOCOL.md, LICENSE and the docs the README links, and nothing of src/ or test/', async () => {
    const listing = spawnSync('tar', ['tzf', join(packed, tarball)], { encoding: 'utf8' }).stdout.split('\n');
    expect(listing).toContain('package/dist/cli/main.js');
    expect(listing).toContain('package/PROTOCOL.md');
    expect(listing).toContain('package/LICENSE');
    expect(listing).toContain('package/README.md');
    const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
    for (const [, target] of readme.matchAll(/\]\(((?:docs\/|PROTOCOL|LICENSE)[^)#]*)/g)) expect(listing, target).toContain(`package/${target}`);
    expect(listing.filter((path) => path.startsWith('package/src/') || path.startsWith('package/test/'))).toEqual([]);
    const license = spawnSync('tar', ['xzOf', join(packed, tarball), 'package/LICENSE'], { encoding: 'utf8' }).stdout;
    expect(license).toMatch(/^MIT License/);
  });

  it('npm install of the tarball and npx update-publish init/publish in an empty project', { timeout: 240_000 }, async () => {
    const project = await tempFolder('update-publish-newproject-');
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

  it('the README and both CI templates vendor the tarball in the repository, and npm ci installs it on a clean runner', { timeout: 240_000 }, async () => {
    const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
    const install = /npm install --save-dev (\.\/vendor\/update-publish-[^ \n]*\.tgz)/.exec(readme);
    expect(install, 'the README installs the tarball from ./vendor/').not.toBeNull();
    for (const template of ['github-actions.yml', 'gitlab-ci.yml']) {
      const text = await readFile(join(REPO_ROOT, 'templates', template), 'utf8');
      expect(text, template).toMatch(/vendor\/update-publish-<version>\.tgz/);
      expect(text, template).toMatch(/npm ci\b/);
    }

    // The developer's machine: the tarball copied into vendor/, installed by the README's command.
    const app = await tempFolder('update-publish-app-');
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'my-app', version: '1.0.0', private: true }));
    await mkdir(join(app, 'vendor'));
    await cp(join(packed, tarball), join(app, install![1].replace('0.1.0', manifestVersion(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')))));
    const added = npm(['install', '--save-dev', '--no-audit', '--no-fund', '--prefer-offline', install![1]], app);
    expect(added.status, added.output).toBe(0);
    const recorded = JSON.parse(await readFile(join(app, 'package.json'), 'utf8')).devDependencies['update-publish'];
    expect(recorded).toBe(`file:${install![1].slice(2)}`);

    // A clean runner: a fresh checkout of what is committed, and an npm cache that never held the
    // tarball (the registry packages' content is shared, read-only, so the test needs no network).
    const runner = await tempFolder('update-publish-runner-');
    for (const file of ['package.json', 'package-lock.json', 'vendor']) await cp(join(app, file), join(runner, file), { recursive: true });
    const cache = await cacheWithout(await readFile(join(runner, 'vendor', tarball)));
    const ci = npm(['ci', '--offline', '--no-audit', '--no-fund'], runner, { npm_config_cache: cache });
    expect(ci.status, ci.output).toBe(0);
    const run = spawnSync('npx', ['--no-install', 'update-publish', '--version'], { cwd: runner, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    expect(run.status, run.stderr).toBe(0);
  });
});

const manifestVersion = (packageJson: string) => JSON.parse(packageJson).version as string;

/**
 * A copy of this machine's npm cache without the tarball: the index copied, content hard-linked
 * (cacache never changes a content file in place), and the tarball's content removed, so npm ci
 * can only read it from the checkout.
 */
async function cacheWithout(tarballBytes: Buffer): Promise<string> {
  const cache = await tempFolder('update-publish-npm-cache-');
  const userCache = spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).stdout.trim();
  const source = join(userCache, '_cacache');
  await mkdir(join(cache, '_cacache'));
  await cp(join(source, 'index-v5'), join(cache, '_cacache', 'index-v5'), { recursive: true }).catch(() => {});
  const linked = spawnSync('cp', ['-al', join(source, 'content-v2'), join(cache, '_cacache', 'content-v2')], { encoding: 'utf8' });
  expect(linked.status, linked.stderr).toBe(0);
  for (const algorithm of ['sha512', 'sha1']) {
    const hex = createHash(algorithm).update(tarballBytes).digest('hex');
    await unlink(join(cache, '_cacache', 'content-v2', algorithm, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4))).catch(() => {});
  }
  return cache;
}
