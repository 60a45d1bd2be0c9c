/**
 * A first publish hashes each file in the read that packs it (issue 27): no
 * hashing pass before packing when the store holds no version to compare with.
 * What it writes must be what a hashing pass would have said.
 */
import { spawnSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/protocol/types.js';
import { makeProject, removeProjects, succeeded, type FileTree, type Project } from '../helpers/cli.js';

afterAll(removeProjects);

const noise = (size: number, label: string) => createCipheriv('aes-256-ctr', Buffer.alloc(32, label), Buffer.alloc(16)).update(Buffer.alloc(size));
const prose = (size: number) => Buffer.from('alpha bravo tile road north south level enemy score map\n'.repeat(Math.ceil(size / 56)).slice(0, size));

/** Small files in batches, an empty one, and large ones streamed: deflated and stored. */
const TREE: FileTree = {
  'a.txt': 'alpha\n',
  'empty.txt': '',
  'levels/1.json': '{"enemies":3}',
  'levels/2.json': prose(70_000),
  'img/tile.png': noise(300_000, 'tile'),
  'big/text.log': prose(3 * 1024 * 1024 + 17),
  'big/model.bin': noise(2 * 1024 * 1024 + 5, 'model'),
};

/** The files as `sha256sum` sees them, by path relative to the package folder. */
function sha256sums(dir: string, paths: string[]): Map<string, string> {
  const result = spawnSync('sha256sum', paths, { cwd: dir, encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return new Map(result.stdout.trim().split('\n').map((line) => [line.slice(66), line.slice(0, 64)]));
}

/** Files older than the hash cache's racy window, so a run may keep their hashes. */
async function agePackage(project: Project, id: string) {
  const past = new Date(Date.now() - 60_000);
  for (const entry of await readdir(project.packageDir(id), { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) await utimes(join(entry.parentPath, entry.name), past, past);
  }
}

describe('a first publish', () => {
  it("lists the hashes sha256sum gives, keeps them in the hash cache, and a republish finds the package unchanged", async () => {
    const project = await makeProject({ packages: { maps: TREE } });
    await agePackage(project, 'maps');
    const published = succeeded(await project.run(['publish', '--yes', '--json']));
    expect(published.packages[0]).toMatchObject({ status: 'published', version: '1.0.0' });
    const manifest = await project.readStoreJson<Manifest>('packages/maps/1.0.0/manifest.json');
    const expected = sha256sums(project.packageDir('maps'), Object.keys(TREE));
    expect(new Map(manifest.files.map((file) => [file.path, file.sha256]))).toEqual(expected);
    expect(manifest.files.map((file) => file.size)).toEqual(manifest.files.map((file) => Buffer.byteLength(TREE[file.path]!)));

    const cache = JSON.parse(await readFile(join(project.dir, '.update-publish', 'hash-cache', 'maps.json'), 'utf8'));
    const cached = new Map(Object.entries(cache.entries as Record<string, { sha256: string }>).map(([path, entry]) => [path, entry.sha256]));
    expect(cached).toEqual(new Map([...expected].map(([path, sha256]) => [join(project.packageDir('maps'), path), sha256])));
    expect(succeeded(await project.run(['publish', '--yes', '--json'])).packages[0].status).toBe('unchanged');
  });

  it('pack --out lists the same hashes', async () => {
    const project = await makeProject({ packages: { maps: TREE } });
    const packed = succeeded(await project.run(['pack', '--out', 'out', '--json']));
    const manifest = JSON.parse(await readFile(packed.packages[0].manifest.path, 'utf8')) as Manifest;
    expect(new Map(manifest.files.map((file) => [file.path, file.sha256]))).toEqual(sha256sums(project.packageDir('maps'), Object.keys(TREE)));
  });

  it('fails cleanly, writing nothing, when a file is not what the hash cache says', async () => {
    const project = await makeProject({ packages: { maps: TREE } });
    await agePackage(project, 'maps');
    // diff hashes the files and keeps their hashes; the store still holds nothing.
    succeeded(await project.run(['diff', '--json']));
    const cachePath = join(project.dir, '.update-publish', 'hash-cache', 'maps.json');
    const cache = JSON.parse(await readFile(cachePath, 'utf8'));
    cache.entries[join(project.packageDir('maps'), 'levels/2.json')].sha256 = 'f'.repeat(64);
    await writeFile(cachePath, JSON.stringify(cache));
    const refused = await project.run(['publish', '--yes', '--json']);
    expect(refused.code).toBe(1);
    expect(refused.json).toEqual({
      error: { message: "'levels/2.json' changed while it was being packed; let whatever writes the package folder finish, then run the command again", exitCode: 1 },
    });
    expect(refused.stderr).not.toMatch(/^\s+at /m);
    expect(await readdir(project.store).catch(() => [])).not.toContain('packages');
  });
});
