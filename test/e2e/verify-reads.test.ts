/**
 * verify reads each package object once (issue 27: each delta was
 * downloaded twice, each base version's full package again for the deltas
 * built on it), and still checks every entry and every delta's rebuild.
 */
import { createCipheriv } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { UpdateSource } from '../../src/client/fetch/source.js';
import { verifyReleases } from '../../src/workflows/verify-releases.js';
import { readArchivedReleases } from '../../src/channel/archive.js';
import { createFolderStore } from '../../src/store/folder-store.js';
import { makeProject, removeProjects, succeeded } from '../helpers/cli.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { MOTO_INSTALLED, s3ProjectConfig, startMotoBucket } from '../helpers/s3-e2e.js';

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
  it('opens each package object once, a base version too, for every delta built on it', async () => {
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
    // Before: 1.0.0's full package twice (its check, then unpacked as the base), each delta twice.
    expect(Object.fromEntries(source.opened)).toEqual({
      'packages/maps/1.0.0/full.zip': 1,
      'packages/maps/1.0.1/full.zip': 1,
      'packages/maps/1.0.2/full.zip': 1,
      'packages/maps/1.0.1/delta-from-1.0.0.zip': 1,
      'packages/maps/1.0.2/delta-from-1.0.0.zip': 1,
      'packages/maps/1.0.2/delta-from-1.0.1.zip': 1,
    });
  });
});

describe.skipIf(!MOTO_INSTALLED)('verify of an S3 store (moto)', () => {
  /** A tile database of incompressible pages, a few rewritten per edition: a patched delta pays. */
  const database = (edition: number) => {
    const noise = (size: number, label: string) => createCipheriv('aes-256-ctr', Buffer.alloc(32, label), Buffer.alloc(16)).update(Buffer.alloc(size));
    const bytes = noise(400 * 1024, 'tiles');
    for (let page = 0; page < edition * 3; page++) noise(4096, `page-${edition}-${page}`).copy(bytes, page * 37 * 4096);
    return bytes;
  };

  it('GETs each object once: full packages, the delta and the patched delta, and each manifest', async () => {
    const { moto, s3 } = await startMotoBucket('e2e-verify-reads');
    const proxy = await startFaultProxy({ target: moto.endpoint, faultRate: 0 });
    try {
      const publishConfig = s3ProjectConfig(moto.endpoint, 'e2e-verify-reads', 'store');
      const project = await makeProject({ packages: { maps: { 'tiles.db': database(1), 'a.json': '{"a":1}', 'b.txt': 'b'.repeat(5000) } }, config: publishConfig });
      succeeded(await project.run(['publish', '--yes', '--json'], { env: moto.env }));
      await project.write('maps', { 'tiles.db': database(2), 'a.json': '{"a":2}' });
      const published = succeeded(await project.run(['publish', '--yes', '--json'], { env: moto.env }));
      const [delta] = published.packages[0].deltas;
      expect(delta.patched).toBeDefined();

      // verify reads through the counting proxy.
      const config = JSON.parse(await readFile(project.configPath, 'utf8'));
      await writeFile(project.configPath, JSON.stringify({ ...config, ...s3ProjectConfig(proxy.endpoint, 'e2e-verify-reads', 'store') }));
      const report = succeeded(await project.run(['verify', '--json'], { env: moto.env }));
      expect(report.problems).toEqual([]);
      expect(report.checked).toMatchObject({ releases: 2, objects: 4, fullPackagesUnpacked: 2, deltasRebuilt: 2 });
      const gets = new Map<string, number>();
      for (const request of proxy.log) {
        const key = decodeURIComponent(request.url.split('?')[0]!).replace('/e2e-verify-reads/store/', '');
        if (request.method === 'GET' && key.startsWith('packages/')) gets.set(key, (gets.get(key) ?? 0) + 1);
      }
      expect(Object.fromEntries(gets)).toEqual({
        'packages/maps/1.0.0/manifest.json': 1,
        'packages/maps/1.0.1/manifest.json': 1,
        'packages/maps/1.0.0/full.zip': 1,
        'packages/maps/1.0.1/full.zip': 1,
        'packages/maps/1.0.1/delta-from-1.0.0.zip': 1,
        'packages/maps/1.0.1/delta-from-1.0.0.patched.zip': 1,
      });
    } finally {
      await proxy.close();
      s3.destroy();
      await moto.stop();
    }
  });
});
