import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { once } from 'node:events';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ExitCode, UserError } from '../errors.js';
import { isPrecompressed, looksIncompressible } from './compression.js';

export interface ZipEntry {
  /** Name inside the zip (POSIX, NFC). */
  path: string;
  absolutePath: string;
  /** Size when the file was hashed. */
  size: number;
  /** The SHA-256 the manifest lists; when given, the bytes packed are checked against it. */
  sha256?: string;
}

/**
 * A fixed timestamp, built from local-time fields because zip stores DOS local
 * time: the bytes come out the same in every time zone.
 */
const FIXED_DATE = new Date(1980, 0, 1, 0, 0, 0);
const FILE_MODE = 0o644;
/** Files up to this size are read once into memory (checked and sampled there); larger ones stream. */
const WHOLE_ENTRY_LIMIT = 1024 * 1024;
/** How much of an entry decides store or deflate. */
const SAMPLE_SIZE = 64 * 1024;

/**
 * Streams the entries into a zip at outPath in the order given (callers pass
 * them sorted) with archiver, and returns its size and SHA-256, hashed on the
 * way to disk. Same entries, same bytes: a fixed timestamp and mode, and store
 * or deflate decided by content alone (known compressed formats, or bytes that
 * look random, are stored). `seal` (encryption) transforms the zip on the way,
 * in the same pass; size and SHA-256 are then of the sealed bytes.
 */
export async function writeZip(
  entries: ZipEntry[],
  outPath: string,
  seal?: Transform,
): Promise<{ size: number; sha256: string }> {
  // Loaded on first use: only pack and publish write zips.
  const { default: archiver } = await import('archiver');
  const archive = archiver('zip', { zlib: { level: 6 } });
  const sink = new ZipFileSink(outPath);
  const written = pipeline([archive, ...(seal ? [seal] : []), sink]);
  try {
    for (const entry of entries) {
      const { body, store } = await openEntry(entry);
      // One entry at a time: open files and buffered bytes stay bounded whatever the tree.
      const processed = [once(archive, 'entry')];
      // archiver does not hear a piped source fail (e.g. the file changed under us): listen ourselves.
      if (!Buffer.isBuffer(body)) processed.push(once(body, 'error').then(([error]) => Promise.reject(error)));
      archive.append(body, { name: entry.path, date: FIXED_DATE, mode: FILE_MODE, store });
      await Promise.race(processed);
    }
    await archive.finalize();
    await written;
  } catch (error) {
    // Tears the whole pipeline down (the partial zip is the caller's temp file).
    archive.destroy(error as Error);
    await written.catch(() => {});
    throw error;
  }
  return { size: sink.size, sha256: sink.hash.digest('hex') };
}

/** Bytes gathered into one write to disk. */
const SINK_BUFFER_SIZE = 1024 * 1024;

/**
 * The zip's way to disk: hashes and counts every chunk, and gathers chunks
 * into large writes. archiver emits each header field as its own tiny chunk,
 * the whole central directory in one synchronous burst; copied here at once,
 * they die young instead of queueing as objects in a file stream (for 20,000
 * entries, ~100 MB at the end of every pack).
 */
class ZipFileSink extends Writable {
  readonly hash = createHash('sha256');
  size = 0;
  private handle: FileHandle | undefined;
  private readonly buffer = Buffer.allocUnsafe(SINK_BUFFER_SIZE);
  private filled = 0;

  constructor(private readonly path: string) {
    super();
  }

  override _construct(callback: (error?: Error | null) => void): void {
    open(this.path, 'w').then((handle) => {
      this.handle = handle;
      callback();
    }, callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    if (this.filled + chunk.length <= this.buffer.length) {
      this.filled += chunk.copy(this.buffer, this.filled);
      callback();
      return;
    }
    this.flush()
      .then(() => (chunk.length < this.buffer.length ? void (this.filled = chunk.copy(this.buffer)) : this.writeAll(chunk)))
      .then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.flush()
      .then(() => this.handle!.close())
      .then(() => {
        this.handle = undefined;
        callback();
      }, callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const handle = this.handle;
    this.handle = undefined;
    (handle ? handle.close() : Promise.resolve()).then(() => callback(error), () => callback(error));
  }

  private async flush(): Promise<void> {
    const filled = this.filled;
    this.filled = 0;
    if (filled > 0) await this.writeAll(this.buffer.subarray(0, filled));
  }

  private async writeAll(bytes: Buffer): Promise<void> {
    for (let offset = 0; offset < bytes.length; ) offset += (await this.handle!.write(bytes, offset)).bytesWritten;
  }
}

/** The entry's bytes (a buffer, or a checked stream for large files) and whether to store them. */
async function openEntry(entry: ZipEntry): Promise<{ body: Buffer | Readable; store: boolean }> {
  if (entry.size <= WHOLE_ENTRY_LIMIT) {
    const bytes = await readFile(entry.absolutePath).catch(vanished(entry));
    assertUnchanged(entry, bytes.length, entry.sha256 && createHash('sha256').update(bytes).digest('hex'));
    return { body: bytes, store: shouldStore(entry, bytes.subarray(0, SAMPLE_SIZE)) };
  }
  const handle = await open(entry.absolutePath).catch(vanished(entry));
  const sample = Buffer.alloc(SAMPLE_SIZE);
  try {
    await handle.read(sample, 0, SAMPLE_SIZE, 0);
  } finally {
    await handle.close();
  }
  return { body: createReadStream(entry.absolutePath).pipe(checkedBytes(entry)), store: shouldStore(entry, sample) };
}

/** Below this, deflate's own overhead outweighs what it saves. */
const SMALLEST_WORTH_DEFLATING = 64;

const shouldStore = (entry: ZipEntry, sample: Buffer) =>
  entry.size < SMALLEST_WORTH_DEFLATING || isPrecompressed(entry.path) || looksIncompressible(sample);

/** Passes a file's bytes through and fails the archive if they are not the ones hashed. */
function checkedBytes(entry: ZipEntry): Transform {
  const hash = entry.sha256 ? createHash('sha256') : undefined;
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash?.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
    flush(callback) {
      try {
        assertUnchanged(entry, size, hash?.digest('hex'));
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}

function assertUnchanged(entry: ZipEntry, size: number, sha256: string | undefined) {
  if (size !== entry.size || (entry.sha256 !== undefined && sha256 !== entry.sha256)) throw changedWhilePacking(entry);
}

/** The file is not what was hashed: the manifest would lie about the zip. */
function changedWhilePacking(entry: ZipEntry, what = 'changed'): UserError {
  return new UserError(
    `'${entry.path}' ${what} while it was being packed; let whatever writes the package folder finish, then run the command again`,
    ExitCode.failure,
  );
}

const vanished = (entry: ZipEntry) => (error: unknown) => {
  throw (error as NodeJS.ErrnoException).code === 'ENOENT' ? changedWhilePacking(entry, 'was deleted') : error;
};
