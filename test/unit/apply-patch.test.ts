import { createCipheriv, createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPatch, declaredContentSize, PatchError } from '../../src/client/fetch/apply-patch.js';
import { DamagedBaseError } from '../../src/client/errors.js';
import { makePatch, patchLevel } from '../../src/pack/patches.js';

const noise = (size: number, label: string) => createCipheriv('aes-256-ctr', Buffer.alloc(32, label), Buffer.alloc(16)).update(Buffer.alloc(size));
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('applyPatch', () => {
  let dir: string;
  const oldBytes = noise(300_000, 'old');
  const newBytes = Buffer.concat([oldBytes.subarray(0, 100_000), Buffer.from('inserted'), oldBytes.subarray(100_000)]);
  const file = { path: 'data/tiles.db', size: newBytes.length, sha256: sha256(newBytes) };
  const listing = { path: 'data/tiles.db', baseSize: oldBytes.length, baseSha256: sha256(oldBytes) };
  let patch: Buffer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apply-patch-'));
    await mkdir(join(dir, 'base', 'data'), { recursive: true });
    await mkdir(join(dir, 'out'), { recursive: true });
    await writeFile(join(dir, 'base', 'data', 'tiles.db'), oldBytes);
    patch = await makePatch(oldBytes, newBytes);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const apply = (bytes: Buffer, target: string) =>
    applyPatch({ objectKey: 'delta.patched.zip', patch: Readable.from([bytes]), listing, file, realBase: join(dir, 'base'), target: join(dir, 'out', target) });

  it('round-trips byte for byte, the patch a small share of the file', async () => {
    expect(patch.length).toBeLessThan(1000);
    await apply(patch, 'ok');
    expect((await readFile(join(dir, 'out', 'ok'))).equals(newBytes)).toBe(true);
  });

  it('refuses a damaged patch and writes nothing', async () => {
    const damaged = Buffer.from(patch);
    damaged[damaged.length - 5] ^= 0xff;
    await expect(apply(damaged, 'damaged')).rejects.toBeInstanceOf(PatchError);
    await expect(apply(Buffer.from('not a zstd frame'), 'garbage')).rejects.toBeInstanceOf(PatchError);
    expect(await readdir(join(dir, 'out'))).not.toContain('damaged');
    expect(await readdir(join(dir, 'out'))).not.toContain('garbage');
  });

  it('refuses a patch that decodes to other bytes than the manifest lists', async () => {
    const other = await makePatch(oldBytes, Buffer.concat([newBytes.subarray(0, -1), Buffer.from('!')]));
    await expect(apply(other, 'other')).rejects.toThrow('does not make the file the manifest lists');
    expect(await readdir(join(dir, 'out'))).not.toContain('other');
  });

  it('says the installed copy is damaged when the base file is not the one patched against', async () => {
    await writeFile(join(dir, 'base', 'data', 'tiles.db'), noise(300_000, 'edited'));
    try {
      await expect(apply(patch, 'edited')).rejects.toBeInstanceOf(DamagedBaseError);
    } finally {
      await writeFile(join(dir, 'base', 'data', 'tiles.db'), oldBytes);
    }
  });

  it('reads the content size a zstd frame declares, and none from a streamed frame', () => {
    expect(declaredContentSize(Buffer.from('28b52ffd2405000000', 'hex'))).toBe(5); // single segment, 1-byte size
    expect(declaredContentSize(patch)).toBeNull();
    expect(declaredContentSize(Buffer.from('nope'))).toBeNull();
  });

  it('picks a zstd level whose search reaches back one file length', () => {
    expect([1e6, 8 * 2 ** 20, 9 * 2 ** 20, 20 * 2 ** 20, 64 * 2 ** 20].map(patchLevel)).toEqual([19, 19, 20, 21, 22]);
  });
});
