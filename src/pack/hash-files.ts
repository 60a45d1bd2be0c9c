import { availableParallelism } from 'node:os';
import pLimit from 'p-limit';
import type { ManifestFile } from '../client/protocol.js';
import { sha256File } from './hash.js';
import type { HashCache } from './hash-cache.js';
import type { ScannedFile } from './scan.js';

/** A file of the package with its manifest entry and where it is on disk. */
export interface PackageFile extends ManifestFile {
  absolutePath: string;
}

/** Reads in flight: enough to keep the disk and the hash busy at once. */
const HASH_CONCURRENCY = Math.max(4, availableParallelism() * 2);

/** Hashes every file, reading only those the cache cannot vouch for. */
export async function hashFiles(
  files: ScannedFile[],
  cache: HashCache | undefined,
  onProgress?: (doneBytes: number) => void,
): Promise<PackageFile[]> {
  const limit = pLimit(HASH_CONCURRENCY);
  let doneBytes = 0;
  return Promise.all(
    files.map((file) =>
      limit(async () => {
        let sha256 = cache?.lookup(file);
        if (sha256 === undefined) {
          sha256 = await sha256File(file.absolutePath);
          cache?.remember(file, sha256);
        }
        doneBytes += file.size;
        onProgress?.(doneBytes);
        return { path: file.path, size: file.size, sha256, absolutePath: file.absolutePath };
      }),
    ),
  );
}

export const toManifestFiles = (files: PackageFile[]): ManifestFile[] =>
  files.map(({ path, size, sha256 }) => ({ path, size, sha256 }));
