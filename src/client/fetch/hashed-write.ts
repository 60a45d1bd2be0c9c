import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { makeDirectory } from '../../make-dir.js';

/**
 * Streams into a new file (exclusive create: an existing file or symlink at
 * the target is an error, never written through) and returns the size and
 * SHA-256 of what was written. `limit` stops a source that sends more than it
 * should before it fills the disk.
 */
export async function writeHashed(
  source: Readable,
  target: string,
  limit?: { bytes: number; error: () => Error },
): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (limit && size > limit.bytes) return callback(limit.error());
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  // The source may fail while the folder is made (yauzl refuses an entry inflating past its declared
  // size at once): held here, pipeline still rejects with it, instead of an unhandled 'error' ending the process.
  const hold = () => {};
  source.on('error', hold);
  try {
    await makeDirectory(dirname(target));
    await pipeline(source, measure, createWriteStream(target, { flags: 'wx' }));
  } finally {
    source.off('error', hold);
  }
  return { size, sha256: hash.digest('hex') };
}
