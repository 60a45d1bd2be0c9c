/**
 * What a person reads: dry runs that say "would", counts in good English,
 * rules without a stray "-", help without "(default: [])", scheduled releases
 * and missing whitelists in status, and a config that shadows another.
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_PATH, makeProject, removeProjects, succeeded } from '../helpers/cli.js';

afterAll(removeProjects);

describe('a dry run', () => {
  it('says what it would do and shows the rules it would write', async () => {
    const project = await makeProject();
    const result = await project.run(['publish', '--dry-run', '--rollout', '10', '--platform', 'ios']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/would upload 1 object \(/);
    expect(result.stderr).not.toMatch(/✔ uploaded/);
    expect(result.stdout).toMatch(/maps +would publish +1\.0\.0 .* rollout 10%; platforms ios/);
  });
});

describe('wording', () => {
  it('counts in the singular when there is one, and writes no bare "-" after the rollout', async () => {
    const project = await makeProject();
    const published = await project.run(['publish', '--yes']);
    expect(published.stderr).toMatch(/✔ maps: 1 file, /);
    expect(published.stderr).toMatch(/✔ uploaded 1 object \(/);
    expect(published.stdout).toMatch(/ rollout 100%$/m);
    expect(published.stdout).not.toMatch(/rollout 100%; -/);
    const verify = await project.run(['verify']);
    expect(verify.stdout).toMatch(/no problems in 1 release, 1 object, 1 full package unpacked, 0 deltas rebuilt/);
  });

  it('--help shows no "(default: [])"', () => {
    for (const command of ['fetch', 'verify']) {
      const help = spawnSync(process.execPath, [CLI_PATH, command, '--help'], { encoding: 'utf8' }).stdout;
      expect(help).toContain('--public-key');
      expect(help).not.toContain('(default: [])');
    }
  });
});

describe('status', () => {
  it('shows a release scheduled for later as scheduled, and one whose window closed as ended', async () => {
    const project = await makeProject();
    succeeded(await project.run(['publish', '--yes', '--starts-at', '2099-01-01T00:00:00Z']));
    expect((await project.run(['status'])).stdout).toMatch(/maps +1\.0\.0 +scheduled /);
    const json = succeeded(await project.run(['status', '--json']));
    expect(json.channels[0].packages[0].releases[0]).toMatchObject({ state: 'active', serving: 'scheduled' });
    succeeded(await project.run(['edit', 'maps', '--starts-at', '2020-01-01T00:00:00Z', '--ends-at', '2020-06-01T00:00:00Z', '--yes']));
    expect((await project.run(['status'])).stdout).toMatch(/maps +1\.0\.0 +ended /);
  });

  it('flags a whitelist a release names that was removed from the store', async () => {
    const project = await makeProject();
    await writeFile(join(project.dir, 'qa.txt'), 'device-1\n');
    succeeded(await project.run(['whitelist', 'upload', 'qa', 'qa.txt', '--yes']));
    succeeded(await project.run(['publish', '--yes', '--rollout', '0', '--whitelist', 'qa']));
    succeeded(await project.run(['whitelist', 'rm', 'qa', '--yes']));
    const status = await project.run(['status']);
    expect(status.stdout).toContain('whitelist qa (missing: qa)');
    expect(status.stderr).toMatch(/warning: maps@1\.0\.0 on production names whitelist 'qa', which is not in the store: nobody is in it/);
    expect(succeeded(await project.run(['status', '--json'])).channels[0].packages[0].releases[0].missingWhitelists).toEqual(['qa']);
  });
});

describe('config discovery', () => {
  it('warns when a .update-publishrc.json and a package.json key both configure the project', async () => {
    const project = await makeProject({ configFile: false });
    const config = { store: './releases', packages: { maps: { dir: 'assets/maps' } } };
    await writeFile(join(project.dir, '.update-publishrc.json'), JSON.stringify(config));
    await writeFile(join(project.dir, 'package.json'), JSON.stringify({ name: 'app', 'update-publish': { ...config, channel: 'staging' } }));
    const result = await project.run(['diff']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/warning: .*package\.json is the config used; .*\.update-publishrc\.json is ignored: remove the one you do not mean/);
  });
});
