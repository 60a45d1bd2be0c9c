import { mkdtemp, readFile, rename, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HashCache } from '../../src/pack/hash-cache.js';
import { hashFiles } from '../../src/pack/hash-files.js';
import { sha256Hex } from '../../src/hash.js';
import type { ScannedFile } from '../../src/pack/scan.js';

const OLD = new Date(Date.now() - 60_000);

async function scanned(path: string): Promise<ScannedFile> {
  const stats = await stat(path);
  return { path: 'f.txt', absolutePath: path, size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino };
}

/** Writes a file with an mtime safely in the past (outside the racy window). */
async function writeOld(path: string, content: string, mtime = OLD) {
  await writeFile(path, content);
  await utimes(path, mtime, mtime);
}

async function hashViaCache(cachePath: string, file: string) {
  const cache = await HashCache.load(cachePath);
  const entry = await scanned(file);
  const [hashed] = await hashFiles([entry], cache);
  await cache.save([entry]);
  return hashed.sha256;
}

describe('hash cache', () => {
  it('trusts an entry only while path, size, mtime, ctime and inode all match', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hash-cache-'));
    const file = join(dir, 'f.txt');
    const cachePath = join(dir, 'cache.json');
    await writeOld(file, 'one');
    expect(await hashViaCache(cachePath, file)).toBe(sha256Hex('one'));
    const cached = await HashCache.load(cachePath);
    expect(cached.lookup(await scanned(file))).toBe(sha256Hex('one'));

    // Same size and mtime, new content: only the inode tells (an editor's save-by-rename).
    const replacement = join(dir, 'replacement.txt');
    await writeOld(replacement, 'two');
    await rename(replacement, file);
    expect(await hashViaCache(cachePath, file)).toBe(sha256Hex('two'));

    // Size changes.
    await writeOld(file, 'three!');
    expect(await hashViaCache(cachePath, file)).toBe(sha256Hex('three!'));

    // Same size and inode, only the mtime moves.
    await writeOld(file, 'four!!', new Date(OLD.getTime() + 5_000));
    expect(await hashViaCache(cachePath, file)).toBe(sha256Hex('four!!'));

    // Same path, size, inode and mtime (cp -p of a same-size file over it, a tree unzipped with
    // fixed timestamps): only the ctime tells, which nobody can set back.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await writeOld(file, 'five!!', new Date(OLD.getTime() + 5_000));
    expect(await hashViaCache(cachePath, file)).toBe(sha256Hex('five!!'));
  });

  it('hashes everything again when told to ignore it (--no-cache), and rewrites it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hash-cache-'));
    const file = join(dir, 'f.txt');
    const cachePath = join(dir, 'cache.json');
    await writeOld(file, 'one');
    await hashViaCache(cachePath, file);
    // A cache that lies (written by hand, or by a tool that kept every stamp):
    const document = JSON.parse(await readFile(cachePath, 'utf8'));
    document.entries[file].sha256 = 'f'.repeat(64);
    await writeFile(cachePath, JSON.stringify(document));
    expect((await HashCache.load(cachePath)).lookup(await scanned(file))).toBe('f'.repeat(64));
    const ignoring = await HashCache.load(cachePath, true);
    expect(ignoring.lookup(await scanned(file))).toBeUndefined();
    const [hashed] = await hashFiles([await scanned(file)], ignoring);
    await ignoring.save([await scanned(file)]);
    expect(hashed.sha256).toBe(sha256Hex('one'));
    expect((await HashCache.load(cachePath)).lookup(await scanned(file))).toBe(sha256Hex('one'));
  });

  it('does not remember files modified just now (racy entries)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hash-cache-'));
    const file = join(dir, 'f.txt');
    const cachePath = join(dir, 'cache.json');
    await writeFile(file, 'fresh');
    await hashViaCache(cachePath, file);
    expect((await HashCache.load(cachePath)).lookup(await scanned(file))).toBeUndefined();
  });

  it('starts empty when the cache file is corrupt', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hash-cache-'));
    const file = join(dir, 'f.txt');
    const cachePath = join(dir, 'cache.json');
    await writeOld(file, 'x');
    await writeFile(cachePath, '{not json');
    expect(await hashViaCache(cachePath, file)).toBe(sha256Hex('x'));
  });
});
