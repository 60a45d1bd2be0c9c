/**
 * Issue 15, item 3: a delta where a folder became a file (and the reverse)
 * and files were removed leaves exactly the new version's tree: no emptied
 * folder stays behind.
 */
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, removeProjects, snapshotTree, succeeded } from '../helpers/cli.js';

afterAll(removeProjects);

/** Every folder under dir, relative, sorted: what a tree leaves behind that files alone do not show. */
async function folders(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (at: string) => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      found.push(relative(dir, join(at, entry.name)));
      await walk(join(at, entry.name));
    }
  };
  await walk(dir);
  return found.sort();
}

describe('delta application', () => {
  it('turns a folder into a file and a file into a folder, and prunes folders the removed files emptied', async () => {
    const project = await makeProject({
      packages: { maps: { 'data/x.txt': 'x', 'config': 'was a file', 'old/sub/y.txt': 'y', 'keep.txt': 'same' } },
    });
    succeeded(await project.run(['publish', '--yes', '--json']));
    const device = join(project.dir, 'device', 'maps');
    succeeded(await project.run(['fetch', 'maps', '--into', device, '--json']));

    await project.remove('maps', ['data/x.txt', 'config', 'old/sub/y.txt']);
    const { rm } = await import('node:fs/promises');
    await rm(join(project.packageDir('maps'), 'data'), { recursive: true });
    await rm(join(project.packageDir('maps'), 'old'), { recursive: true });
    await project.write('maps', { data: 'now a file', 'config/app.json': '{"now":"a folder"}' });
    const published = succeeded(await project.run(['publish', '--yes', '--json']));
    expect(published.packages[0].deltas.map((delta: { from: string }) => delta.from)).toEqual(['1.0.0']);

    expect(succeeded(await project.run(['fetch', 'maps', '--into', device, '--json']))).toMatchObject({ version: '1.0.1', kind: 'delta' });
    expect(await snapshotTree(device, { ignore: ['.update-publish.json'] })).toEqual(await snapshotTree(project.packageDir('maps')));
    expect(await folders(device)).toEqual(['config']);
  });
});
