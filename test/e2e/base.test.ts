import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/protocol/types.js';
import { makeProject, removeProjects, succeeded, type Project } from '../helpers/cli.js';

afterAll(removeProjects);

/** The content an app ships inside its binary: what a fresh store install holds. */
const SHIPPED = { 'tiles/a.json': '{"tile":"a"}', 'tiles/b.json': '{"tile":"b"}', 'style.css': 'body{}' };

describe('base add: content from the app binary as a delta base', () => {
  let project: Project;
  beforeAll(async () => {
    project = await makeProject({ packages: { maps: { ...SHIPPED, 'tiles/b.json': '{"tile":"b2"}' } } });
    const shipped = join(project.dir, 'app-assets');
    for (const [path, content] of Object.entries(SHIPPED)) {
      await mkdir(join(shipped, path, '..'), { recursive: true });
      await writeFile(join(shipped, path), content);
    }
  });

  it('records the folder as a version devices may hold, never served', async () => {
    const result = succeeded(await project.run(['base', 'add', 'maps', '--dir', 'app-assets', '--version', '0.9.0', '--json']));
    expect(result).toMatchObject({ channel: 'production', package: 'maps', version: '0.9.0', files: 3, packed: true, manifest: { key: 'packages/maps/0.9.0/manifest.json' } });
    const index = await project.readStoreJson('channels/production/index.json');
    expect(index.packages.maps.releases).toEqual([]);
    expect(index.packages.maps.bases).toMatchObject([{ version: '0.9.0', manifest: { key: 'packages/maps/0.9.0/manifest.json' } }]);
    // Never served: a device without the package gets nothing yet, a device reporting it is told it is not a release.
    const fresh = succeeded(await project.run(['resolve', '--package', 'maps', '--json']));
    expect(fresh).toMatchObject({ update: false, reason: 'unknown-package' });
  });

  it('a later publish builds a delta from it, which a device reporting that version gets', async () => {
    const published = succeeded(await project.run(['publish', '--yes', '--json']));
    expect(published.packages[0].version).toBe('0.9.1'); // the next above every stored version, the base's too
    expect(published.packages[0].deltas.map((delta: { from: string }) => delta.from)).toEqual(['0.9.0']);
    const manifest: Manifest = await project.readStoreJson('packages/maps/0.9.1/manifest.json');
    expect(manifest.deltas[0]).toMatchObject({ from: '0.9.0', removed: [] });
    const resolution = succeeded(await project.run(['resolve', '--package', 'maps', '--installed', '0.9.0', '--json']));
    expect(resolution).toMatchObject({ update: true, version: '0.9.1', kind: 'delta', key: 'packages/maps/0.9.1/delta-from-0.9.0.zip' });
  });

  it('status and history show the base, and gc keeps it while the channel lists it', async () => {
    const status = succeeded(await project.run(['status', '--json']));
    expect(status.channels[0].packages[0].bases).toMatchObject([{ version: '0.9.0' }]);
    const text = await project.run(['status']);
    expect(text.stdout).toMatch(/0\.9\.0\s+base/);
    const history = succeeded(await project.run(['history', 'maps', '--json']));
    expect(history.entries.map((entry: { action: string; version: string }) => `${entry.action} ${entry.version}`)).toContain('base-add 0.9.0');
    const gc = succeeded(await project.run(['gc', '--older-than', '0s', '--yes', '--json']));
    expect(gc.deleted.filter((key: string) => key.startsWith('packages/maps/0.9.0/'))).toEqual([]);
  });

  it('refuses a version stored with other content, and content stored under another version', async () => {
    await writeFile(join(project.dir, 'app-assets', 'style.css'), 'body{color:red}');
    const other = await project.run(['base', 'add', 'maps', '--dir', 'app-assets', '--version', '0.9.0']);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('version 0.9.0 is already stored with other content');
    await writeFile(join(project.dir, 'app-assets', 'style.css'), 'body{}');
    const again = await project.run(['base', 'add', 'maps', '--dir', 'app-assets', '--version', '0.8.0']);
    expect(again.code, again.stderr).toBe(2);
    expect(again.stderr).toContain('this content is already version 0.9.0');
    const missing = await project.run(['base', 'add', 'maps', '--dir', 'nowhere', '--version', '0.9.2']);
    expect(missing.stderr).toContain('--dir nowhere is not a folder');
  });
});
