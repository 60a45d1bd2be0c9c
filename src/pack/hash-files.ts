import { availableParallelism } from 'node:os';
import type { ManifestFile } from '../client/protocol.js';
import { HASH_BUFFER_SIZE, sha256File } from './hash.js';
import type { HashCache } from './hash-cache.js';
import type { ScannedFile } from './scan.js';

/** A file of the package with its manifest entry and where it is on disk. */
export interface PackageFile extends ManifestFile {
  absolutePath: string;
}

/**
 * Reads in flight: enough to keep the disk and the thread pool busy while the
 * main thread hashes (SHA-256 runs at GB/s there, faster than the reads).
 */
const HASH_CONCURRENCY = Math.max(4, availableParallelism() * 2);

/**
 * Hashes every file, reading only those the cache cannot vouch for. A fixed
 * set of workers, each with its own read buffer, takes the next file.
 */
export async function hashFiles(
  files: ScannedFile[],
  cache: HashCache | undefined,
  onProgress?: (doneBytes: number) => void,
): Promise<PackageFile[]> {
  const hashed: PackageFile[] = new Array(files.length);
  let next = 0;
  let doneBytes = 0;
  const worker = async () => {
    let buffer: Buffer | undefined;
    for (let i = next++; i < files.length; i = next++) {
      const file = files[i]!;
      let sha256 = cache?.lookup(file);
      if (sha256 === undefined) {
        sha256 = await sha256File(file.absolutePath, (buffer ??= Buffer.allocUnsafe(HASH_BUFFER_SIZE)), file.size);
        cache?.remember(file, sha256);
      }
      doneBytes += file.size;
      onProgress?.(doneBytes);
      hashed[i] = { path: file.path, size: file.size, sha256, absolutePath: file.absolutePath };
    }
  };
  await Promise.all(Array.from({ length: Math.min(HASH_CONCURRENCY, files.length) }, worker));
  return hashed;
}

export const toManifestFiles = (files: PackageFile[]): ManifestFile[] =>
  files.map(({ path, size, sha256 }) => ({ path, size, sha256 }));
