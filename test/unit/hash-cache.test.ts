import { mkdtemp, rename, stat, utimes, writeFile } from 'node:fs/promises';
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
  return { path: 'f.txt', absolutePath: path, size: stats.size, mtimeMs: stats.mtimeMs, ino: stats.ino };
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
  it('trusts an entry only while path, size, mtime and inode all match', async () => {
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
