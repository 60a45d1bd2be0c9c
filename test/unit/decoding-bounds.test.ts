import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPatch, PatchError } from '../../src/client/fetch/apply-patch.js';
import { maxPatchBytes } from '../../src/protocol/decoding-limits.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A zstd frame that declares no content size and holds `blocks` RLE blocks of 128 KiB: 4 bytes each, 128 KiB decoded each. */
export function zstdBomb(blocks: number): Buffer {
  const parts = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58])];
  for (let i = 0; i < blocks; i++) {
    const header = (i === blocks - 1 ? 1 : 0) | (1 << 1) | ((128 * 1024) << 3);
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff, 0x41]));
  }
  return Buffer.concat(parts);
}

describe('decoding is bounded by the size the manifest lists (issue 28 item 1)', () => {
  let dir: string;
  const oldBytes = Buffer.alloc(300_000, 7);
  const newBytes = Buffer.alloc(300_000, 0x41);
  const file = { path: 'data/tiles.db', size: newBytes.length, sha256: sha256(newBytes) };
  const listing = { path: 'data/tiles.db', baseSize: oldBytes.length, baseSha256: sha256(oldBytes) };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'decoding-bounds-'));
    await mkdir(join(dir, 'base', 'data'), { recursive: true });
    await mkdir(join(dir, 'out'), { recursive: true });
    await writeFile(join(dir, 'base', 'data', 'tiles.db'), oldBytes);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const apply = (patch: Readable, target: string) =>
    applyPatch({ objectKey: 'delta.patched.zip', patch, listing, file, realBase: join(dir, 'base'), target: join(dir, 'out', target) });

  it('an 8 KiB streamed zstd frame that decodes to 256 MiB is refused without decoding past the file size', async () => {
    const before = process.resourceUsage().maxRSS;
    const error = await apply(Readable.from([zstdBomb(2048)]), 'bomb').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PatchError);
    expect((error as Error).message).toContain('cannot be decoded into the 300000-byte file the manifest lists');
    // maxRSS is in KiB: decoding the bomb whole took 256 MiB more.
    expect(process.resourceUsage().maxRSS - before).toBeLessThan(200 * 1024);
    expect(await readdir(join(dir, 'out'))).not.toContain('bomb');
  });

  it('a patch entry that inflates past a little more than the file is refused as it streams', async () => {
    let served = 0;
    // A 64 MiB entry, as a deflate bomb inflates: the reader stops at the bound.
    const endless = new Readable({
      read() {
        served += 64 * 1024;
        this.push(served > 64 * 1024 * 1024 ? null : Buffer.alloc(64 * 1024));
      },
    });
    await expect(apply(endless, 'inflated')).rejects.toThrow(`inflates past ${maxPatchBytes(file.size)} bytes`);
    expect(served).toBeLessThan(maxPatchBytes(file.size) + 256 * 1024);
  });
});
