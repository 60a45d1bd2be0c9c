/**
 * Hashing and packing on worker threads: the workers load the built code
 * (dist/), so these run in the integration tier, after `npm test` builds
 * (`npm run test:unit` passes on a clean clone without a build).
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as HashFiles from '../../src/pack/hash-files.js';
import type { ScannedFile } from '../../src/pack/scan.js';
import type * as Zip from '../../src/pack/zip.js';
import { REPO_ROOT } from '../helpers/cli.js';

const built = <T>(module: string): Promise<T> => import(pathToFileURL(join(REPO_ROOT, 'dist', module)).href) as Promise<T>;
const sha256Hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const prose = (size: number) => Buffer.from('the quick brown fox jumps over the lazy dog. '.repeat(Math.ceil(size / 45)).slice(0, size));
const noise = (size: number, label: string) => {
  const chunks: Buffer[] = [];
  for (let i = 0; chunks.length * 32 < size; i++) chunks.push(createHash('sha256').update(`${label}:${i}`).digest());
  return Buffer.concat(chunks).subarray(0, size);
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'worker-threads-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('worker threads (the built code)', () => {
  it('hash large amounts, in order, and name a file deleted meanwhile', async () => {
    const { hashFiles } = await built<typeof HashFiles>('pack/hash-files.js');
    // Past the 32 MB at which threads start.
    const files: ScannedFile[] = [];
    const contents: Buffer[] = [];
    for (let i = 0; i < 9; i++) {
      const content = Buffer.alloc(5 * 1024 * 1024 + i, `big ${i};`);
      const absolutePath = join(dir, `big${i}`);
      await writeFile(absolutePath, content);
      contents.push(content);
      files.push({ path: `big${i}`, absolutePath, size: content.length, mtimeMs: 0, ctimeMs: 0, ino: i });
    }
    const progress: number[] = [];
    const hashed = await hashFiles(files, undefined, (done) => progress.push(done));
    expect(hashed.map((file) => file.sha256)).toEqual(contents.map(sha256Hex));
    expect(progress.at(-1)).toBe(files.reduce((sum, file) => sum + file.size, 0));
    await rm(files[4]!.absolutePath);
    await expect(hashFiles(files, undefined)).rejects.toThrow(/'big4' was deleted while it was being hashed/);
  });

  it('pack the same bytes on several threads as on one', async () => {
    const { writeZip } = await built<typeof Zip>('pack/zip.js');
    const root = join(dir, 'pooled');
    // Past the 16 MB of small files at which threads start.
    const pooled = Array.from({ length: 40 }, (_, i) => ({ path: `t/${String(i).padStart(2, '0')}.txt`, bytes: i % 3 ? prose(500_000 + i) : noise(500_000, `r${i}`) }));
    await mkdir(join(root, 't'), { recursive: true });
    for (const { path, bytes } of pooled) await writeFile(join(root, path), bytes);
    const entries = pooled.map(({ path, bytes }) => ({ path, absolutePath: join(root, path), size: bytes.length, sha256: sha256Hex(bytes) }));
    const one = await writeZip(entries, join(dir, 'p1.zip'), { workers: 1 });
    const three = await writeZip(entries, join(dir, 'p3.zip'), { workers: 3 });
    expect(three.sha256).toBe(one.sha256);
    // Nothing hashed them yet (a first publish): the threads take each SHA-256 as they pack, the bytes stay the same.
    const unhashed = entries.map(({ sha256: _, ...entry }) => entry);
    const taken = await writeZip(unhashed, join(dir, 'p3-unhashed.zip'), { workers: 3 });
    expect(taken.sha256).toBe(one.sha256);
    expect(taken.entrySha256s).toEqual(entries.map((entry) => entry.sha256));
  });
});
