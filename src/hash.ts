import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';

/** Read size for hashing: large enough that a read's fixed cost is noise. */
export const HASH_BUFFER_SIZE = 1024 * 1024;

/** Hex SHA-256 of a file, streamed through `buffer` (never the whole file in memory). */
export async function sha256File(path: string, buffer: Buffer = Buffer.allocUnsafe(HASH_BUFFER_SIZE)): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(path);
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

export const sha256Hex = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/**
 * A count of bytes shared between threads (one BigInt64 over a SharedArrayBuffer):
 * a worker adds as it reads, so the main thread can show progress inside a large file.
 */
export type BytesCounter = BigInt64Array;

export const newBytesCounter = (): BytesCounter => new BigInt64Array(new SharedArrayBuffer(8));
export const readBytesCounter = (counter: BytesCounter) => Number(Atomics.load(counter, 0));

/**
 * Hex SHA-256 of each file, one after another through one buffer. Blocking:
 * for worker threads, where a blocking read costs no other work its turn, and
 * for amounts that take the main thread a few milliseconds.
 */
export function hashFilesSync(paths: string[], bytesRead?: BytesCounter): string[] {
  const buffer = Buffer.allocUnsafe(HASH_BUFFER_SIZE);
  return paths.map((path) => {
    const hash = createHash('sha256');
    const fd = openSync(path, 'r');
    try {
      for (;;) {
        const read = readSync(fd, buffer, 0, buffer.length, null);
        if (read === 0) break;
        hash.update(buffer.subarray(0, read));
        if (bytesRead) Atomics.add(bytesRead, 0, BigInt(read));
      }
    } finally {
      closeSync(fd);
    }
    return hash.digest('hex');
  });
}
