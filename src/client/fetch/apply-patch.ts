import { createHash } from 'node:crypto';
import { lstat, readFile, realpath } from 'node:fs/promises';
import { sep } from 'node:path';
import { Readable } from 'node:stream';
import { maxPatchBytes } from '../../protocol/decoding-limits.js';
import { safeJoin } from '../../protocol/path-safety.js';
import type { FilePatch, ManifestFile } from '../../protocol/types.js';
import { DamagedBaseError, IntegrityError } from '../errors.js';
import { writeHashed } from './hashed-write.js';

/**
 * A patch that cannot be applied, or makes other bytes than the manifest
 * lists: the patched delta is useless, the file-level delta is not.
 */
export class PatchError extends IntegrityError {
  constructor(objectKey: string, path: string, why: string) {
    super(objectKey, `patch for ${JSON.stringify(path)} ${why}`);
    this.name = 'PatchError';
  }
}

const ZSTD_FRAME_MAGIC = 0xfd2fb528;

/**
 * The content size a zstd frame declares, or null when it declares none (a
 * streamed frame). A declared size other than the manifest's is refused
 * before decoding; the patched delta's SHA-256, from the signed manifest,
 * already vouches for the rest.
 */
export function declaredContentSize(frame: Buffer): number | null {
  if (frame.length < 6 || frame.readUInt32LE(0) !== ZSTD_FRAME_MAGIC) return null;
  const descriptor = frame[4]!;
  const singleSegment = (descriptor >> 5) & 1;
  const sizeFlag = descriptor >> 6;
  const offset = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][descriptor & 3]!;
  const width = [singleSegment ? 1 : 0, 2, 4, 8][sizeFlag]!;
  if (width === 0 || frame.length < offset + width) return null;
  if (width === 1) return frame[offset]!;
  if (width === 2) return frame.readUInt16LE(offset) + 256;
  if (width === 4) return frame.readUInt32LE(offset);
  return Number(frame.readBigUInt64LE(offset));
}

/**
 * Makes `file` at target from the installed copy's file (baseDir, which must
 * be the one the patch was made against) and the patch: zstd with the old
 * file as raw-content dictionary, as `zstd -d --patch-from=OLD PATCH` does.
 * The result is checked against the manifest's size and SHA-256 before it
 * counts; the old and new file are held in memory (deltaPatches.maxFileSize
 * bounds both).
 */
export async function applyPatch(options: {
  objectKey: string;
  patch: Readable;
  listing: FilePatch;
  file: ManifestFile;
  realBase: string;
  target: string;
}): Promise<void> {
  const { objectKey, listing, file } = options;
  const newBytes = await patchedFile({ objectKey, patch: () => readPatchEntry(objectKey, options.patch, file), listing, file, realBase: options.realBase });
  await writeHashed(Readable.from([newBytes]), options.target);
}

/**
 * The file a patch makes from the base's file in realBase, checked against
 * the manifest's size and SHA-256. The base is checked before the patch is read.
 */
export async function patchedFile(options: { objectKey: string; patch: () => Promise<Buffer>; listing: FilePatch; file: ManifestFile; realBase: string }): Promise<Buffer> {
  const { objectKey, listing, file } = options;
  const oldBytes = await readBaseFile(options.realBase, listing);
  const patch = await options.patch();
  const declared = declaredContentSize(patch);
  if (declared !== null && declared !== file.size) throw new PatchError(objectKey, file.path, `declares ${declared} bytes, not the ${file.size}-byte file the manifest lists`);
  let newBytes: Buffer;
  try {
    newBytes = await decodeBounded(patch, oldBytes, file.size);
  } catch (error) {
    throw new PatchError(objectKey, file.path, `cannot be decoded into the ${file.size}-byte file the manifest lists (${(error as Error).message})`);
  }
  if (newBytes.length !== file.size || createHash('sha256').update(newBytes).digest('hex') !== file.sha256) {
    throw new PatchError(objectKey, file.path, "does not make the file the manifest lists (size or SHA-256 differ)");
  }
  return newBytes;
}

/** A patch entry for `file`, read whole but never past maxPatchBytes (a deflate bomb stops there). */
export function readPatchEntry(objectKey: string, source: AsyncIterable<Buffer> & { destroy?: () => void }, file: ManifestFile): Promise<Buffer> {
  const limit = maxPatchBytes(file.size);
  return readPatch(source, limit, () => new PatchError(objectKey, file.path, `inflates past ${limit} bytes, more than a patch for a ${file.size}-byte file takes`));
}

/** The patch entry, read whole but never past `limit` bytes (a deflate bomb stops there). */
async function readPatch(source: AsyncIterable<Buffer> & { destroy?: () => void }, limit: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of source) {
      size += (chunk as Buffer).length;
      if (size > limit) throw tooLarge();
      chunks.push(chunk as Buffer);
    }
  } finally {
    source.destroy?.();
  }
  return Buffer.concat(chunks);
}

let zstdReady: Promise<typeof import('@bokuweb/zstd-wasm')> | undefined;

/**
 * zstd with the old file as raw-content dictionary, decoded in one pass into
 * a buffer of exactly the manifest's size: libzstd refuses (dstSize_tooSmall)
 * a frame that would make more, whatever its header says or omits.
 */
async function decodeBounded(patch: Buffer, oldBytes: Buffer, size: number): Promise<Buffer> {
  // Loaded on first use: only patched deltas need the decoder.
  zstdReady ??= import('@bokuweb/zstd-wasm').then(async (zstd) => {
    await zstd.init();
    return zstd;
  });
  const zstd = await zstdReady;
  const context = zstd.createDCtx();
  try {
    // An empty output buffer would be a 0-byte allocation; a 1-byte one still refuses any longer result.
    return Buffer.from(zstd.decompressUsingDict(context, patch, oldBytes, { defaultHeapSize: Math.max(size, 1) }));
  } finally {
    zstd.freeDCtx(context);
  }
}

/** The installed file a patch applies to: a regular file inside the base, exactly the one the patch was made against. */
async function readBaseFile(realBase: string, listing: FilePatch): Promise<Buffer> {
  const path = safeJoin(realBase, listing.path);
  const stats = await lstat(path).catch(() => null);
  if (!stats?.isFile()) throw new DamagedBaseError(listing.path, stats ? 'is not a regular file' : 'is missing');
  if (!(await realpath(path)).startsWith(realBase + sep)) throw new DamagedBaseError(listing.path, 'lies behind a symbolic link');
  if (stats.size !== listing.baseSize) throw new DamagedBaseError(listing.path, 'was changed since it was installed');
  const bytes = await readFile(path);
  if (createHash('sha256').update(bytes).digest('hex') !== listing.baseSha256) throw new DamagedBaseError(listing.path, 'was changed since it was installed');
  return bytes;
}
