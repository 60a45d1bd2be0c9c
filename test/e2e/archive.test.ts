import { readFile, rm, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, removeProjects, succeeded, type Project } from '../helpers/cli.js';

/**
 * The index devices download keeps only releases a device can still get;
 * older ones move to channels/<ch>/archive/<pkg>.json and come back when an
 * operation makes them reachable again (halt, rollback).
 */
describe('index archive', () => {
  let project: Project;
  const indexVersions = async () =>
    (await project.readStoreJson('channels/production/index.json')).packages.maps.releases.map(
      (release: { version: string; state: string }) => `${release.version}:${release.state}`,
    );
  const resolve = async (installed?: string) =>
    succeeded(await project.run(['resolve', '--package', 'maps', '--device-id', 'd1', '--json', ...(installed ? ['--installed', installed] : [])]));

  beforeAll(async () => {
    project = await makeProject({ packages: { maps: { 'a.txt': 'v0', 'same.txt': 'unchanged in every version' } } });
    for (const content of ['v1', 'v2']) {
      succeeded(await project.run(['publish', '--yes', '--json']));
      await project.write('maps', { 'a.txt': content });
    }
    succeeded(await project.run(['publish', '--yes', '--json']));
  });
  afterAll(removeProjects);

  it('keeps only the newest unconditional release in the index and archives the rest', async () => {
    expect(await indexVersions()).toEqual(['1.0.2:active']);
    const archive = await project.readStoreJson('channels/production/archive/maps.json');
    expect(archive.releases.map((release: { version: string }) => release.version)).toEqual(['1.0.1', '1.0.0']);
    // Deltas still come from every recent version, archived or not.
    const index = await project.readStoreJson('channels/production/index.json');
    expect(index.packages.maps.releases[0].deltas.map((delta: { from: string }) => delta.from)).toEqual(['1.0.1', '1.0.0']);
  });

  it('a device that skipped an archived mandatory release is still told the update is mandatory', async () => {
    const other = await makeProject({ packages: { maps: { 'a.txt': 'v0' } } });
    succeeded(await other.run(['publish', '--yes', '--json']));
    await other.write('maps', { 'a.txt': 'v1' });
    succeeded(await other.run(['publish', '--mandatory', '--yes', '--json']));
    await other.write('maps', { 'a.txt': 'v2' });
    succeeded(await other.run(['publish', '--yes', '--json']));
    const skipped = succeeded(await other.run(['resolve', '--package', 'maps', '--installed', '1.0.0', '--json']));
    expect(skipped).toMatchObject({ version: '1.0.2', mandatory: true });
    const took = succeeded(await other.run(['resolve', '--package', 'maps', '--installed', '1.0.1', '--json']));
    expect(took).toMatchObject({ version: '1.0.2', mandatory: false });
  });

  it('verify checks archived releases too', async () => {
    const verify = () => project.run(['verify', '--json']);
    expect(succeeded(await verify()).checked.releases).toBe(3);
    const archivedFull = project.storePath('packages/maps/1.0.0/full.zip');
    const bytes = await readFile(archivedFull);
    await rm(archivedFull);
    try {
      const broken = await verify();
      expect(broken.code).toBe(1);
      expect(JSON.parse(broken.stdout).problems).toContainEqual(expect.objectContaining({ key: 'packages/maps/1.0.0/full.zip' }));
    } finally {
      await writeFile(archivedFull, bytes);
    }
  });

  it('a gray release keeps the release below it reachable', async () => {
    await project.write('maps', { 'a.txt': 'v3' });
    succeeded(await project.run(['publish', '--rollout', '10', '--yes', '--json']));
    expect(await indexVersions()).toEqual(['1.0.3:active', '1.0.2:active']);
  });

  it('halt brings the archived fallback back for devices, rollback reaches an archived version', async () => {
    succeeded(await project.run(['halt', 'maps', '--yes', '--json']));
    expect(await indexVersions()).toEqual(['1.0.3:halted', '1.0.2:active']);
    succeeded(await project.run(['rollback', 'maps', '--to', '1.0.0', '--yes', '--json']));
    expect(await indexVersions()).toEqual(['1.0.3:rolled-back', '1.0.2:rolled-back', '1.0.1:rolled-back', '1.0.0:active']);
    expect(await resolve('1.0.2')).toMatchObject({ update: true, version: '1.0.0', reason: 'rollback' });
    expect(await resolve()).toMatchObject({ update: true, version: '1.0.0', kind: 'full' });
  });

  it('the archive keeps the state a release had when it left the index: rollback never picks a rolled-back version', async () => {
    // Continues the history above: 1.0.3–1.0.1 rolled back, 1.0.0 active. A new release archives them again.
    await project.write('maps', { 'a.txt': 'v4' });
    succeeded(await project.run(['publish', '--yes', '--json']));
    const archive = await project.readStoreJson('channels/production/archive/maps.json');
    expect(archive.releases.map((release: { version: string; state: string }) => `${release.version}:${release.state}`)).toEqual([
      '1.0.3:rolled-back',
      '1.0.2:rolled-back',
      '1.0.1:rolled-back',
      '1.0.0:active',
    ]);
    const rollback = succeeded(await project.run(['rollback', 'maps', '--dry-run', '--json']));
    expect(rollback).toMatchObject({ from: '1.0.4', to: '1.0.0', rolledBack: ['1.0.4'] });
  });
});

