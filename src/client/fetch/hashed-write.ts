import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { makeDirectory } from '../../make-dir.js';

/**
 * Streams into a new file (exclusive create: an existing file or symlink at
 * the target is an error, never written through) and returns the size and
 * SHA-256 of what was written. `limit` stops a source that sends more than it
 * should before it fills the disk; `onBytes` hears of each chunk (progress).
 */
export async function writeHashed(
  source: Readable,
  target: string,
  limit?: { bytes: number; error: () => Error },
  onBytes?: (bytes: number) => void,
): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (limit && size > limit.bytes) return callback(limit.error());
      hash.update(chunk);
      onBytes?.(chunk.length);
      callback(null, chunk);
    },
  });
  // The source may fail while the file is created (yauzl refuses an entry inflating past its declared
  // size at once): held here, pipeline still rejects with it, instead of an unhandled 'error' ending the process.
  const hold = () => {};
  source.on('error', hold);
  try {
    const file = await createExclusive(target).catch((error: unknown) => {
      source.destroy();
      throw error;
    });
    await pipeline(source, measure, createWriteStream('', { fd: file }));
  } finally {
    source.off('error', hold);
  }
  return { size, sha256: hash.digest('hex') };
}

/**
 * Creates the file, and its folder only when it is missing: most files of a
 * tree land in a folder made for an earlier one, and a mkdir and stat per file
 * were a third of the calls of an install.
 */
export async function createExclusive(target: string): Promise<FileHandle> {
  try {
    return await open(target, 'wx');
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    await makeDirectory(dirname(target));
    return open(target, 'wx');
  }
}

/** Writes bytes already in memory into a new file (exclusive create, as writeHashed) and returns their SHA-256. */
export async function writeBytesHashed(bytes: Buffer, target: string): Promise<{ size: number; sha256: string }> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const handle = await createExclusive(target);
  try {
    await handle.writeFile(bytes);
  } finally {
    await handle.close();
  }
  return { size: bytes.length, sha256 };
}
