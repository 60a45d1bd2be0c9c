import { spawnSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { looksIncompressible } from '../../src/pack/compression.js';
import { sha256Hex } from '../../src/hash.js';
import { writeZip, type ZipEntry } from '../../src/pack/zip.js';
import { UNZIP } from '../helpers/prerequisites.js';

const randomBytes = (size: number, label = 'x') =>
  createCipheriv('aes-256-ctr', Buffer.alloc(32, label), Buffer.alloc(16)).update(Buffer.alloc(size));
const prose = (size: number) => Buffer.from('the quick brown fox jumps over the lazy dog. '.repeat(Math.ceil(size / 45)).slice(0, size));

interface ReadEntry {
  method: number;
  size: number;
  data: Buffer;
  mode: number;
  date: Date;
}

/** Every entry of a zip, read through its central directory with yauzl's checks (sizes, CRC) on. */
async function readZip(zip: Buffer): Promise<Map<string, ReadEntry>> {
  const file = await yauzl.fromBufferPromise(zip, { lazyEntries: true, validateEntrySizes: true, strictFileNames: true });
  const entries = new Map<string, ReadEntry>();
  for await (const entry of file.eachEntry()) {
    const chunks: Buffer[] = [];
    for await (const chunk of await file.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
    entries.set(entry.fileName, {
      method: entry.compressionMethod,
      size: entry.uncompressedSize,
      data: Buffer.concat(chunks),
      mode: entry.externalFileAttributes >>> 16,
      date: entry.getLastModDate(),
    });
  }
  return entries;
}

describe('writeZip', () => {
  let dir: string;
  const files = new Map<string, Buffer>([
    ['a.json', prose(10_000)],
    ['art/noise.bin', randomBytes(200_000)],
    ['art/exact.bin', randomBytes(1024 * 1024, 'exact')], // read whole and stored: one chunk as large as the file sink's buffer
    ['art/photo.png', prose(5_000)], // a known compressed format: stored, whatever it holds
    ['empty.txt', Buffer.alloc(0)],
    ['tiny.txt', Buffer.from('hi')],
    ['ünïcode/名前.txt', prose(3_000)],
    ['big/model.bin', randomBytes(6 * 1024 * 1024, 'big')], // streamed, stored
    ['big/text.log', prose(9 * 1024 * 1024)], // streamed, deflated with a data descriptor
  ]);
  const entriesIn = (root: string, withHashes = true): ZipEntry[] =>
    [...files.keys()].sort().map((path) => ({
      path,
      absolutePath: join(root, path),
      size: files.get(path)!.length,
      ...(withHashes && { sha256: sha256Hex(files.get(path)!) }),
    }));

  async function writeFiles(root: string) {
    for (const [path, data] of files) {
      await mkdir(join(root, path, '..'), { recursive: true });
      await writeFile(join(root, path), data);
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zip-test-'));
    await writeFiles(join(dir, 'one'));
    await writeFiles(join(dir, 'two'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes a zip that yauzl reads back byte for byte, storing what would not compress', async () => {
    const out = join(dir, 'out.zip');
    const result = await writeZip(entriesIn(join(dir, 'one')), out);
    const zip = await readFile(out);
    expect(result).toMatchObject({ size: zip.length, sha256: sha256Hex(zip) });
    expect(result.packedSizes).toHaveLength(files.size);

    const entries = await readZip(zip);
    expect([...entries.keys()]).toEqual([...files.keys()].sort());
    for (const [path, data] of files) {
      expect(entries.get(path)!.data.equals(data), path).toBe(true);
      expect(entries.get(path)!.mode).toBe(0o100644);
      expect(entries.get(path)!.date.getFullYear()).toBe(1980);
    }
    expect(zip.readUInt16LE(10)).toBe(0); // DOS time of the first local header: 00:00:00
    expect(zip.readUInt16LE(12)).toBe(0x21); // DOS date: 1980-01-01, whatever TZ the test runs in
    const methods = Object.fromEntries([...entries].map(([path, entry]) => [path, entry.method]));
    expect(methods).toEqual({
      'a.json': 8,
      'art/exact.bin': 0,
      'art/noise.bin': 0,
      'art/photo.png': 0,
      'big/model.bin': 0,
      'big/text.log': 8,
      'empty.txt': 0,
      'tiny.txt': 0, // deflate would make it bigger
      'ünïcode/名前.txt': 8,
    });
  });

  it('passes Info-ZIP’s own test when unzip is installed', async (context) => {
    // The unit tier runs without servers or programs: the integration and e2e tiers require unzip under CI.
    if (!UNZIP.installed) context.skip();
    const out = join(dir, 'info-zip.zip');
    await writeZip(entriesIn(join(dir, 'one')), out);
    const check = spawnSync('unzip', ['-t', out], { encoding: 'utf8' });
    expect(check.stdout).toContain('No errors detected');
  });

  it('writes sizes and CRC in every local header: no data descriptor (flag bit 3), no folder entries', async () => {
    const out = join(dir, 'headers.zip');
    await writeZip(entriesIn(join(dir, 'one')), out);
    const zip = await readFile(out);
    const headers = localHeaders(zip);
    expect(headers.map((header) => header.name)).toEqual([...files.keys()].sort());
    for (const header of headers) {
      expect(header.flags & 0x0008, header.name).toBe(0);
      expect(header.flags & 0x0800, header.name).toBe(0x0800); // UTF-8 names
      expect(header.size, header.name).toBe(files.get(header.name)!.length);
    }
  });

  it('is read entry by entry by Java’s ZipFile and streaming ZipInputStream (Android) and Python’s zipfile', async (context) => {
    if (spawnSync('java', ['-version']).status !== 0) context.skip();
    const out = join(dir, 'java.zip');
    await writeZip(entriesIn(join(dir, 'one')), out);
    const java = spawnSync('java', [join(import.meta.dirname, '../helpers/ReadZip.java'), out], { encoding: 'utf8' });
    expect(java.status, java.stdout + java.stderr).toBe(0);
    const expected = [...files.keys()].sort().map((path) => `${sha256Hex(files.get(path)!)} ${path}`);
    const lines = java.stdout.trim().split('\n');
    expect(lines.filter((line) => line.startsWith('ZipInputStream ')).map((line) => line.slice('ZipInputStream '.length))).toEqual(expected);
    expect(lines.filter((line) => line.startsWith('ZipFile ')).map((line) => line.slice('ZipFile '.length))).toEqual(expected);
    const python = spawnSync('python3', ['-c', 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); sys.exit(z.testzip() or 0)', out], { encoding: 'utf8' });
    expect(python.status, python.stderr).toBe(0);
  });

  it('gives the same bytes with one worker and with several', async () => {
    const one = await writeZip(entriesIn(join(dir, 'one')), join(dir, 'w1.zip'), { workers: 1 });
    const several = await writeZip(entriesIn(join(dir, 'one')), join(dir, 'w4.zip'), { workers: 4 });
    expect(several.sha256).toBe(one.sha256);
  });

  it('reports progress inside a large file, deflated or stored, not only when it is written', async () => {
    const progress: number[] = [];
    await writeZip(entriesIn(join(dir, 'one')), join(dir, 'progress.zip'), { onProgress: (bytes) => progress.push(bytes) });
    const sizes = [...files.keys()].sort().map((path) => files.get(path)!.length);
    const boundaries = new Set(sizes.map((_, i) => sizes.slice(0, i + 1).reduce((sum, size) => sum + size, 0)));
    const inside = progress.filter((bytes) => !boundaries.has(bytes));
    // big/model.bin (6 MiB, stored) and big/text.log (9 MiB, deflated) come first: many reports within each.
    expect(inside.length).toBeGreaterThan(20);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(sizes.reduce((sum, size) => sum + size, 0));
  });

  it('leaves no spill file beside the zip, also when packing fails', async () => {
    const root = join(dir, 'spills');
    await writeFiles(root);
    await writeZip(entriesIn(root), join(dir, 'spills.zip'));
    await writeFile(join(root, 'ünïcode/名前.txt'), prose(3_000).reverse());
    await expect(writeZip(entriesIn(root), join(dir, 'spills-failed.zip'))).rejects.toThrow('changed while it was being packed');
    expect((await readdir(dir)).filter((name) => name.includes('.entry-'))).toEqual([]);
  });

  it('gives the same bytes for the same files wherever they are, with or without hashes to check', async () => {
    const first = await writeZip(entriesIn(join(dir, 'one')), join(dir, 'first.zip'));
    const second = await writeZip(entriesIn(join(dir, 'two'), false), join(dir, 'second.zip'));
    expect(second).toEqual(first);
  });

  it('sends the zip through a seal transform and measures what comes out', async () => {
    const reverse = new Transform({ transform: (chunk: Buffer, _encoding, done) => done(null, Buffer.from(chunk).reverse()) });
    const out = join(dir, 'sealed.zip');
    const result = await writeZip(entriesIn(join(dir, 'one')).slice(0, 2), out, { seal: reverse });
    const sealed = await readFile(out);
    expect(result).toMatchObject({ size: sealed.length, sha256: sha256Hex(sealed) });
    expect(sealed.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))).toBe(false);
  });

  it('refuses a file whose bytes are no longer the ones hashed, small or streamed', async () => {
    const root = join(dir, 'changing');
    await writeFiles(root);
    const entries = entriesIn(root);
    await writeFile(join(root, 'a.json'), prose(10_000).reverse()); // same size, other bytes
    await expect(writeZip(entries, join(dir, 'c1.zip'))).rejects.toThrow(
      "'a.json' changed while it was being packed; let whatever writes the package folder finish, then run the command again",
    );
    await writeFiles(root);
    await writeFile(join(root, 'big/model.bin'), randomBytes(6 * 1024 * 1024, 'other'));
    await expect(writeZip(entries, join(dir, 'c2.zip'))).rejects.toThrow("'big/model.bin' changed while it was being packed");
    await writeFiles(root);
    await rm(join(root, 'big/text.log'));
    await expect(writeZip(entries, join(dir, 'c3.zip'))).rejects.toThrow("'big/text.log' was deleted while it was being packed");
  });
});

/** The local headers, walked from the start as a streaming reader does: only sizes in the header can lead to the next one. */
function localHeaders(zip: Buffer) {
  const headers: { name: string; flags: number; size: number }[] = [];
  for (let offset = 0; zip.readUInt32LE(offset) === 0x04034b50; ) {
    const flags = zip.readUInt16LE(offset + 6);
    const compressedSize = zip.readUInt32LE(offset + 18);
    const nameLength = zip.readUInt16LE(offset + 26);
    const extraLength = zip.readUInt16LE(offset + 28);
    headers.push({ name: zip.toString('utf8', offset + 30, offset + 30 + nameLength), flags, size: zip.readUInt32LE(offset + 22) });
    offset += 30 + nameLength + extraLength + compressedSize;
  }
  return headers;
}

describe('looksIncompressible', () => {
  it('tells random bytes from text, and says nothing about samples too short to judge', () => {
    expect(looksIncompressible(randomBytes(64 * 1024))).toBe(true);
    expect(looksIncompressible(randomBytes(4096))).toBe(true);
    expect(looksIncompressible(prose(64 * 1024))).toBe(false);
    expect(looksIncompressible(Buffer.from(JSON.stringify({ values: Array.from({ length: 5000 }, (_, i) => i * 7) })))).toBe(false);
    expect(looksIncompressible(randomBytes(1000))).toBe(false);
  });

  it('keeps deflating data that is mostly random but not quite (float-like, a low-entropy byte in each word)', () => {
    const words = randomBytes(64 * 1024);
    for (let i = 3; i < words.length; i += 4) words[i] = 0x3f + (words[i]! & 1);
    expect(looksIncompressible(words)).toBe(false);
  });
});
