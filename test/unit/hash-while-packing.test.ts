import { createCipheriv, createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPackages } from '../../src/pack/build-packages.js';
import type { FileToPack } from '../../src/pack/hash-files.js';

const sha256Hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const noise = (size: number, label: string) => createCipheriv('aes-256-ctr', Buffer.alloc(32, label), Buffer.alloc(16)).update(Buffer.alloc(size));
const prose = (size: number) => Buffer.from('the quick brown fox jumps over the lazy dog. '.repeat(Math.ceil(size / 45)).slice(0, size));

/** Small files (one batch), one streamed and deflated, one streamed and stored. */
const CONTENT: Record<string, Buffer> = {
  'a.txt': Buffer.from('alpha\n'),
  'b/c.json': prose(20_000),
  'b/d.png': noise(40_000, 'd'),
  'big/text.log': prose(2 * 1024 * 1024 + 3),
  'big/model.bin': noise(3 * 1024 * 1024 + 1, 'model'),
};

let dir: string;
let files: FileToPack[];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hash-while-packing-'));
  files = [];
  for (const path of Object.keys(CONTENT).sort()) {
    const absolutePath = join(dir, 'tree', path);
    await mkdir(dirname(absolutePath), { recursive: true });
    await writeFile(absolutePath, CONTENT[path]!);
    files.push({ path, absolutePath, size: CONTENT[path]!.length });
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('packing files nothing hashed yet (a first publish)', () => {
  it('takes each SHA-256 in the read that packs it: the manifest lists the files as hashed, the zip is the same', async () => {
    const unhashed = await buildPackages('maps', '1.0.0', files, [], join(dir, 'unhashed'));
    const expected = files.map(({ path }) => ({ path, size: CONTENT[path]!.length, sha256: sha256Hex(CONTENT[path]!) }));
    expect(unhashed.manifest.files).toEqual(expected);
    expect(unhashed.files.map(({ path, size, sha256 }) => ({ path, size, sha256 }))).toEqual(expected);
    // The same files with their hashes given (checked, not taken): the same bytes.
    const hashed = await buildPackages('maps', '1.0.0', unhashed.files, [], join(dir, 'hashed'));
    expect(hashed.full.sha256).toBe(unhashed.full.sha256);
    expect(hashed.manifest.contentSha256).toBe(unhashed.manifest.contentSha256);
  });

  it('fails cleanly when a file is not the size it was listed with, small or streamed', async () => {
    for (const path of ['b/c.json', 'big/text.log']) {
      const grown = files.map((file) => (file.path === path ? { ...file, size: file.size - 1 } : file));
      await expect(buildPackages('maps', '1.0.0', grown, [], join(dir, 'grown'))).rejects.toThrow(
        `'${path}' changed while it was being packed; let whatever writes the package folder finish, then run the command again`,
      );
    }
  });

  it('still checks the hashes it is given (from the hash cache) beside those it takes', async () => {
    const lying = files.map((file) => (file.path === 'big/model.bin' ? { ...file, sha256: 'f'.repeat(64) } : file));
    await expect(buildPackages('maps', '1.0.0', lying, [], join(dir, 'lying'))).rejects.toThrow("'big/model.bin' changed while it was being packed");
  });
});
