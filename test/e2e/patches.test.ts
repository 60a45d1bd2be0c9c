import { spawnSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { mkdtemp, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/protocol/types.js';
import { makeProject, removeProjects, sha256, snapshotTree, succeeded, unzipTo, type Project } from '../helpers/cli.js';
import { ZSTD } from '../helpers/prerequisites.js';

afterAll(removeProjects);

const INDEX = 'channels/production/index.json';
const noise = (size: number, label: string) => createCipheriv('aes-256-ctr', Buffer.alloc(32, label), Buffer.alloc(16)).update(Buffer.alloc(size));
/** A tile database: 400 KB of pages, of which a few are rewritten between versions. */
const database = (edition: number) => {
  const bytes = noise(400 * 1024, 'tiles');
  for (let page = 0; page < edition * 3; page++) noise(4096, `page-${edition}-${page}`).copy(bytes, page * 37 * 4096);
  return bytes;
};
const hasZstd = ZSTD.installed;

const publish = async (project: Project) => succeeded(await project.run(['publish', '--yes', '--json']));
const resolveFor = async (project: Project, args: string[]) =>
  succeeded(await project.run(['resolve', '--package', 'maps', '--device-id', 'd1', '--installed', '1.0.0', '--json', ...args]));

describe('binary patches in deltas', () => {
  let project: Project;
  let manifest: Manifest;
  const device = () => mkdtemp(join(tmpdir(), 'update-publish-device-'));

  beforeAll(async () => {
    project = await makeProject({
      packages: { maps: { 'tiles.db': database(1), 'small.json': '{"a":1}', 'added-later.txt': 'x' } },
    });
    await publish(project);
    await project.write('maps', { 'tiles.db': database(2), 'small.json': '{"a":2}' });
    await publish(project);
    manifest = await project.readStoreJson('packages/maps/1.0.1/manifest.json');
  });

  it('publishes a patched delta beside the file-level one, listed in the manifest and the index', async () => {
    const [delta] = manifest.deltas;
    expect(delta.patched).toMatchObject({ key: 'packages/maps/1.0.1/delta-from-1.0.0.patched.zip', format: 'zstd-patch-from' });
    const v1: Manifest = await project.readStoreJson('packages/maps/1.0.0/manifest.json');
    const oldTiles = v1.files.find((file) => file.path === 'tiles.db')!;
    expect(delta.patched!.patches).toEqual([{ path: 'tiles.db', baseSize: oldTiles.size, baseSha256: oldTiles.sha256 }]);
    // Far smaller than the file-level delta, which holds the whole (incompressible) database.
    expect(delta.patched!.size).toBeLessThan(delta.size * 0.25);
    const index = await project.readStoreJson(INDEX);
    const { key, size, sha256: hash } = delta.patched!;
    expect(index.packages.maps.releases[0].deltas[0].patched).toEqual({ key, size, sha256: hash });
    expect(sha256(await readFile(project.storePath(key)))).toBe(hash);
  });

  it.skipIf(!hasZstd)('every patch round-trips byte for byte through the reference zstd command', async () => {
    const dir = await device();
    await unzipTo(project.storePath(manifest.deltas[0].patched!.key), join(dir, 'patched'));
    await unzipTo(project.storePath('packages/maps/1.0.0/full.zip'), join(dir, 'old'));
    for (const patch of manifest.deltas[0].patched!.patches) {
      const out = join(dir, 'new.bin');
      const zstd = spawnSync('zstd', ['-q', '-d', '-f', `--patch-from=${join(dir, 'old', patch.path)}`, join(dir, 'patched', patch.path), '-o', out], { encoding: 'utf8' });
      expect(zstd.status, zstd.stderr).toBe(0);
      expect(sha256(await readFile(out))).toBe(manifest.files.find((file) => file.path === patch.path)!.sha256);
    }
  });

  it('offers the patched delta only to a device that says it can apply patches', async () => {
    const without = await resolveFor(project, []);
    expect(without).toMatchObject({ kind: 'delta', patched: false, key: manifest.deltas[0].key });
    expect(await resolveFor(project, ['--no-patches'])).toMatchObject({ patched: false, key: manifest.deltas[0].key });
    expect(await resolveFor(project, ['--patches'])).toMatchObject({ kind: 'delta', patched: true, key: manifest.deltas[0].patched!.key });
  });

  it('fetch applies the patches (its default), checks every file, and --no-patches takes the file-level delta', async () => {
    for (const [flags, patched] of [[[], true], [['--no-patches'], false]] as const) {
      const dir = await device();
      await writeFile(join(dir, '.update-publish.json'), JSON.stringify({ package: 'maps', version: '1.0.0', channel: 'production', installedAt: '2026-01-01T00:00:00Z' }));
      await unzipTo(project.storePath('packages/maps/1.0.0/full.zip'), dir);
      const run = await project.run(['fetch', 'maps', '--into', dir, '--json', ...flags]);
      const result = succeeded(run);
      expect(result.fallbacks, run.stderr).toEqual([]);
      expect(result).toMatchObject({ updated: true, version: '1.0.1', kind: 'delta', patched });
      const size = patched ? manifest.deltas[0].patched!.size : manifest.deltas[0].size;
      expect(result.bytesDownloaded).toBe(size);
      expect(await snapshotTree(dir, { ignore: ['.update-publish.json'] })).toEqual(await snapshotTree(project.packageDir('maps')));
    }
  });

  it('a corrupted patch falls back to the file-level delta and never leaves a wrong file', async () => {
    const key = manifest.deltas[0].patched!.key;
    const original = await readFile(project.storePath(key));
    const corrupt = Buffer.from(original);
    corrupt[Math.floor(corrupt.length / 2)] ^= 0x01;
    await writeFile(project.storePath(key), corrupt);
    try {
      const dir = await device();
      await writeFile(join(dir, '.update-publish.json'), JSON.stringify({ package: 'maps', version: '1.0.0', channel: 'production', installedAt: '2026-01-01T00:00:00Z' }));
      await unzipTo(project.storePath('packages/maps/1.0.0/full.zip'), dir);
      const result = succeeded(await project.run(['fetch', 'maps', '--into', dir, '--json']));
      expect(result).toMatchObject({ updated: true, kind: 'delta', patched: false });
      expect(result.bytesDownloaded).toBe(manifest.deltas[0].size);
      expect(await snapshotTree(dir, { ignore: ['.update-publish.json'] })).toEqual(await snapshotTree(project.packageDir('maps')));
    } finally {
      await writeFile(project.storePath(key), original);
    }
  });

  it('keeps the new version’s patchable files in the local content cache for the next publish', async () => {
    const tiles = manifest.files.find((file) => file.path === 'tiles.db')!;
    const cached = await readFile(join(project.dir, '.update-publish/content-cache/maps', tiles.sha256));
    expect(sha256(cached)).toBe(tiles.sha256);
  });

  it('patches against the content cache without reading the base package from the store', async () => {
    const other = await makeProject({ packages: { maps: { 'tiles.db': database(1), 'same.txt': 'same' } } });
    await publish(other);
    // Replaced by a new file (new inode), as editors and build tools do: the cache keeps 1.0.0's bytes.
    await writeFile(join(other.packageDir('maps'), 'tiles.db.new'), database(2));
    await rename(join(other.packageDir('maps'), 'tiles.db.new'), join(other.packageDir('maps'), 'tiles.db'));
    await rename(other.storePath('packages/maps/1.0.0/full.zip'), join(other.dir, 'full.zip.aside'));
    try {
      const result = await publish(other);
      expect(result.packages[0].deltas[0].patched).toBeDefined();
    } finally {
      await rename(join(other.dir, 'full.zip.aside'), other.storePath('packages/maps/1.0.0/full.zip'));
    }
  });

  it('verify rebuilds the new version from both the file-level and the patched delta', async () => {
    const result = succeeded(await project.run(['verify', '--json']));
    expect(result.problems).toEqual([]);
    expect(result.checked.deltasRebuilt).toBe(2);
  });

  it('builds no patch when deltaPatches is disabled, or for files under minFileSize', async () => {
    const other = await makeProject({
      packages: { maps: { 'tiles.db': database(1), 'same.txt': 'same' } },
      // tiles.db is nearly the whole package: deltaMaxRatio 1 keeps its file-level delta.
      config: { deltaPatches: { enabled: false }, deltaMaxRatio: 1 },
    });
    await publish(other);
    await other.write('maps', { 'tiles.db': database(2) });
    const result = await publish(other);
    expect(result.packages[0].deltas[0].patched).toBeUndefined();
    const small = await makeProject({ packages: { maps: { 'tiles.db': database(1), 'same.txt': 'same' } }, config: { deltaPatches: { minFileSize: 1024 * 1024 }, deltaMaxRatio: 1 } });
    await publish(small);
    await small.write('maps', { 'tiles.db': database(2) });
    expect((await publish(small)).packages[0].deltas[0].patched).toBeUndefined();
  });
});
