/**
 * verify reads each base version's full package once for all the deltas
 * built on it (issue 27: each delta used to download and unpack its base
 * again), and still rebuilds every delta.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { UpdateSource } from '../../src/client/fetch/source.js';
import { verifyReleases } from '../../src/workflows/verify-releases.js';
import { readArchivedReleases } from '../../src/channel/archive.js';
import { createFolderStore } from '../../src/store/folder-store.js';
import { makeProject, removeProjects, succeeded } from '../helpers/cli.js';

afterAll(removeProjects);

/** The folder store as a device source, counting how often each object is opened. */
function countingSource(store: string): UpdateSource & { opened: Map<string, number> } {
  const opened = new Map<string, number>();
  const missing = (error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  };
  return {
    location: store,
    opened,
    readDocument: (key) => readFile(join(store, key)).catch(missing),
    async openObject(key) {
      opened.set(key, (opened.get(key) ?? 0) + 1);
      const path = join(store, key);
      return (await readFile(path).then(() => true, missing)) ? createReadStream(path) : null;
    },
  };
}

describe('verify', () => {
  it('downloads a base version once for every delta built on it', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'one', 'b.txt': 'b'.repeat(5000) } } });
    succeeded(await project.run(['publish', '--yes', '--json']));
    await project.write('maps', { 'a.txt': 'two' });
    succeeded(await project.run(['publish', '--yes', '--json']));
    await project.write('maps', { 'a.txt': 'three' });
    succeeded(await project.run(['publish', '--yes', '--json']));

    const source = countingSource(project.store);
    const store = createFolderStore(project.store);
    // The archived releases (1.0.0, 1.0.1) are checked too, as the CLI's verify does.
    const report = await verifyReleases(source, ['production'], { archivedReleases: (channel, id) => readArchivedReleases(store, channel, id), tempRoot: tmpdir() });
    expect(report.problems).toEqual([]);
    expect(report.checked.releases).toBe(3);
    // 1.0.1 from 1.0.0; 1.0.2 from 1.0.1 and from 1.0.0.
    expect(report.checked.deltasRebuilt).toBe(3);
    // 1.0.0's full package: checked once, unpacked once as the base of both deltas from it (before: once per delta).
    expect(source.opened.get('packages/maps/1.0.0/full.zip')).toBe(2);
    expect(source.opened.get('packages/maps/1.0.1/full.zip')).toBe(2);
  });
});
