import { mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HashCache } from '../../src/pack/hash-cache.js';
import { hashFiles } from '../../src/pack/hash-files.js';
import { HASH_BUFFER_SIZE, sha256File, sha256Hex } from '../../src/hash.js';
import type { ScannedFile } from '../../src/pack/scan.js';

describe('hashFiles', () => {
  let dir: string;
  const contents: Buffer[] = [];
  const scanned: ScannedFile[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hash-files-'));
    // Sizes around the read buffer's (empty, one byte, exactly one buffer, more), under the 32 MB that start threads.
    const sizes = [0, 1, 4096, HASH_BUFFER_SIZE - 1, HASH_BUFFER_SIZE, HASH_BUFFER_SIZE + 1, 3 * HASH_BUFFER_SIZE + 17];
    for (let i = 0; i < 21; i++) {
      const size = sizes[i % sizes.length]!;
      const content = Buffer.alloc(size, `file ${i};`);
      const absolutePath = join(dir, `f${i}`);
      await writeFile(absolutePath, content);
      const stats = await stat(absolutePath);
      contents.push(content);
      scanned.push({ path: `f${i}`, absolutePath, size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino });
    }
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('hashes every file, in the order given, whatever its size', async () => {
    const progress: number[] = [];
    const hashed = await hashFiles(scanned, undefined, (done) => progress.push(done));
    expect(hashed.map((file) => file.path)).toEqual(scanned.map((file) => file.path));
    expect(hashed.map((file) => file.sha256)).toEqual(contents.map((content) => sha256Hex(content)));
    expect(progress.at(-1)).toBe(contents.reduce((sum, content) => sum + content.length, 0));
  });

  it('hashes a file larger than the buffer it is given', async () => {
    const content = Buffer.alloc(100_000, 'xyz');
    const path = join(dir, 'large');
    await writeFile(path, content);
    expect(await sha256File(path, Buffer.alloc(4096))).toBe(sha256Hex(content));
  });
});

describe('hash cache with hashFiles', () => {
  it('rewrites the cache only when something was hashed or a file is gone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hash-cache-save-'));
    const old = new Date(Date.now() - 60_000);
    const scanned: ScannedFile[] = [];
    for (const name of ['a', 'b']) {
      const absolutePath = join(dir, name);
      await writeFile(absolutePath, name);
      await utimes(absolutePath, old, old);
      const stats = await stat(absolutePath);
      scanned.push({ path: name, absolutePath, size: stats.size, mtimeMs: stats.mtimeMs, ctimeMs: stats.ctimeMs, ino: stats.ino });
    }
    const cachePath = join(dir, 'cache.json');
    const run = async (files: ScannedFile[]) => {
      const cache = await HashCache.load(cachePath);
      await hashFiles(files, cache);
      await cache.save(files);
      return (await stat(cachePath)).mtimeMs;
    };
    const written = await run(scanned);
    const past = new Date(Math.floor(written / 1000) * 1000 - 10_000); // whole seconds: mtimeMs reads back exactly
    await utimes(cachePath, past, past);
    expect(await run(scanned)).toBe(past.getTime()); // all hits: not rewritten
    expect(await run(scanned.slice(0, 1))).toBeGreaterThan(past.getTime()); // 'b' is gone: rewritten
    await rm(dir, { recursive: true, force: true });
  });
});
