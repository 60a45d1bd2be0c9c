import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** Read size for hashing: large enough to amortise each read's round trip to the thread pool. */
export const HASH_BUFFER_SIZE = 1024 * 1024;

/**
 * Hex SHA-256 of a file, streamed through `buffer` (never the whole file in
 * memory). Callers hashing many files pass one buffer per concurrent read, so
 * thousands of small files cost no allocation each. With `expectedSize` (from
 * stat), a short read that ends there is taken as the end of the file: a
 * small file then costs one read, not two.
 */
export async function sha256File(
  path: string,
  buffer: Buffer = Buffer.allocUnsafe(HASH_BUFFER_SIZE),
  expectedSize?: number,
): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(path);
  try {
    for (let position = 0; ; ) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
      if (bytesRead < buffer.length && position === expectedSize) break;
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

export const sha256Hex = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
