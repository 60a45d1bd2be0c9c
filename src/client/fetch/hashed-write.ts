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
  await makeDirectory(dirname(target));
  await pipeline(source, measure, createWriteStream(target, { flags: 'wx' }));
  return { size, sha256: hash.digest('hex') };
}
