import { availableParallelism } from 'node:os';
import type { ManifestFile } from '../protocol/types.js';
import { ExitCode, UserError } from '../errors.js';
import { hashFilesSync, newBytesCounter, readBytesCounter } from '../hash.js';
import type { HashCache } from './hash-cache.js';
import type { ScannedFile } from './scan.js';

/** A file of the package with its manifest entry and where it is on disk. */
export interface PackageFile extends ManifestFile {
  absolutePath: string;
}

/** A package file as packing takes it: its SHA-256 known (packing checks it), or not yet (packing takes it). */
export type FileToPack = Omit<PackageFile, 'sha256'> & { sha256?: string };

export const allHashed = (files: FileToPack[]): files is PackageFile[] => files.every((file) => file.sha256 !== undefined);

/** Below this many bytes to read, starting threads costs more than they save. */
const POOL_MIN_BYTES = 32 * 1024 * 1024;
/** A batch is one message to a thread: large enough that messaging is noise, small enough to balance threads and show progress. */
const BATCH_BYTES = 4 * 1024 * 1024;
const BATCH_FILES = 256;
/** How often progress is read off the threads' byte count: a terminal shows it move at least once a second. */
const PROGRESS_INTERVAL_MS = 250;

/**
 * Hashes every file, reading only those the cache cannot vouch for. Large
 * amounts are hashed on a pool of worker threads, one per core, in batches;
 * small ones on this thread, where they take less time than a thread's start.
 */
export async function hashFiles(
  files: ScannedFile[],
  cache: HashCache | undefined,
  onProgress?: (doneBytes: number) => void,
  signal?: AbortSignal,
): Promise<PackageFile[]> {
  const sha256s: (string | undefined)[] = files.map((file) => cache?.lookup(file));
  const todo = files.filter((_, i) => sha256s[i] === undefined);
  let doneBytes = sumOfSizes(files) - sumOfSizes(todo);
  onProgress?.(doneBytes);

  const batches = toBatches(todo);
  const pool = sumOfSizes(todo) >= POOL_MIN_BYTES ? await startPool(batches.length) : undefined;
  // Threads count the bytes they read: progress moves inside a large file too, not only when its batch ends.
  const bytesRead = newBytesCounter();
  const readBefore = doneBytes;
  const showProgress = pool && onProgress && setInterval(() => onProgress((doneBytes = readBefore + readBytesCounter(bytesRead))), PROGRESS_INTERVAL_MS);
  // Ctrl-C: a batch on a thread is cut off there (piscina ends the task); one on this thread is short.
  const hashBatch = pool
    ? (paths: string[]) => pool.run({ paths, bytesRead }, { signal }) as Promise<string[]>
    : async (paths: string[]) => {
        signal?.throwIfAborted();
        return hashFilesSync(paths, bytesRead);
      };
  const hashes = new Map<ScannedFile, string>();
  try {
    await Promise.all(
      batches.map(async (batch) => {
        const batchHashes = await hashBatch(batch.map((file) => file.absolutePath)).catch((error: Error) => {
          signal?.throwIfAborted();
          return asUserError(batch)(error);
        });
        batch.forEach((file, i) => {
          hashes.set(file, batchHashes[i]!);
          cache?.remember(file, batchHashes[i]!);
        });
        onProgress?.((doneBytes = readBefore + readBytesCounter(bytesRead)));
      }),
    );
  } finally {
    clearInterval(showProgress);
    await pool?.destroy();
  }
  return files.map((file, i) => ({
    path: file.path,
    size: file.size,
    sha256: sha256s[i] ?? hashes.get(file)!,
    absolutePath: file.absolutePath,
  }));
}

const sumOfSizes = (files: ScannedFile[]) => files.reduce((sum, file) => sum + file.size, 0);

/** Largest files first, so the last batch to finish is a short one and no thread waits long for another. */
function toBatches(files: ScannedFile[]): ScannedFile[][] {
  const batches: ScannedFile[][] = [];
  let batch: ScannedFile[] = [];
  let batchBytes = 0;
  for (const file of [...files].sort((a, b) => b.size - a.size)) {
    if (batch.length > 0 && (batchBytes + file.size > BATCH_BYTES || batch.length === BATCH_FILES)) {
      batches.push(batch);
      batch = [];
      batchBytes = 0;
    }
    batch.push(file);
    batchBytes += file.size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

async function startPool(batchCount: number) {
  // Loaded only here: the pool library takes longer to load than a small package takes to hash.
  const { Piscina } = await import('piscina');
  const threads = Math.min(availableParallelism(), batchCount);
  return new Piscina({
    filename: new URL('./hash-worker.js', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    recordTiming: false,
  });
}

/** A file deleted between listing and hashing is the user's doing, not a bug. */
const asUserError = (batch: ScannedFile[]) => (error: Error) => {
  const gone = batch.find((file) => error.message?.includes(`'${file.absolutePath}'`));
  if (!gone || !/ENOENT/.test(error.message)) throw error;
  throw new UserError(
    `'${gone.path}' was deleted while it was being hashed; let whatever writes the package folder finish, then run the command again`,
    ExitCode.failure,
  );
};

export const toManifestFiles = (files: PackageFile[]): ManifestFile[] =>
  files.map(({ path, size, sha256 }) => ({ path, size, sha256 }));
