import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, createDeflateRaw } from 'node:zlib';
import { ExitCode, UserError } from '../errors.js';
import { DEFLATE_LEVEL, packSmallEntries, SAMPLE_SIZE, shouldStore, type SmallEntry } from './entry-batch.js';
import { centralRecord, endOfCentralDirectory, localHeader, METHOD_DEFLATED, METHOD_STORED, type EntryHeader } from './zip-format.js';
import { ZipFileSink } from './zip-sink.js';

export interface ZipEntry {
  /** Name inside the zip (POSIX, NFC). */
  path: string;
  absolutePath: string;
  /** Size when the file was hashed. */
  size: number;
  /** The SHA-256 the manifest lists; when given, the bytes packed are checked against it, else packing takes it (WrittenZip.entrySha256s). */
  sha256?: string;
}

export interface ZipOptions {
  /** Transforms the zip on its way to disk (encryption); size and SHA-256 are then of the sealed bytes. */
  seal?: Transform;
  /** Entries prepared (read, checked, deflated) at once; default one per core. The bytes never depend on it. */
  workers?: number;
  /** Ctrl-C: packing stops mid-way (mid-file too), the partial zip is the caller's temp file. */
  signal?: AbortSignal;
  /**
   * Bytes of entries packed so far (their size before packing), moving inside
   * large files too: half for reading and deflating one, half for writing it.
   */
  onProgress?: (entryBytes: number) => void;
}

export interface WrittenZip {
  size: number;
  sha256: string;
  /** Bytes each entry takes inside the zip (compressed, without headers), in entry order. */
  packedSizes: number[];
  /** SHA-256 of each entry's content (the file as read, before packing), in entry order. */
  entrySha256s: string[];
}

const DEFLATE_OPTIONS = { level: DEFLATE_LEVEL };
/** Files up to this size are packed whole, in batches (on worker threads when there is enough); larger ones stream. */
const WHOLE_ENTRY_LIMIT = 1024 * 1024;
/** A batch is one message to a thread: large enough that messaging is noise, small enough to keep memory flat. */
const BATCH_BYTES = 1024 * 1024;
const BATCH_FILES = 256;
/** Below this many bytes of small files, starting threads costs more than they save. */
const POOL_MIN_BYTES = 16 * 1024 * 1024;

/** An entry ready to be written: its header fields and where its packed bytes are. */
interface PreparedEntry extends EntryHeader {
  /** Of the file's content, taken in the read that packs it. */
  sha256: string;
  /** In memory (small entries), or a file to stream: the source itself (stored) or a spill of its deflated bytes. */
  body: Buffer | { path: string; spill: boolean };
}

/** Consecutive entries prepared together: a batch of small files, or one large file. */
interface Unit {
  first: number;
  entries: ZipEntry[];
}

/**
 * Writes the entries into a zip at outPath in the order given (callers pass
 * them sorted) and returns its size and SHA-256, hashed on the way to disk.
 * Same entries, same bytes, whatever the number of workers: each entry is
 * packed on its own (small files in batches on worker threads, large ones
 * deflated in zlib's thread pool) and written in order, with a fixed
 * timestamp and mode, and store or deflate decided by content alone. Sizes
 * and CRC-32 go in each local header (no data descriptors): a large file is
 * read for its CRC first, or deflated into a spill file beside the zip, so
 * memory stays bounded by the batches in flight.
 */
export async function writeZip(entries: ZipEntry[], outPath: string, options: ZipOptions = {}): Promise<WrittenZip> {
  const workers = Math.max(1, options.workers ?? availableParallelism());
  const units = toUnits(entries);
  const smallBytes = entries.reduce((sum, entry) => sum + (entry.size <= WHOLE_ENTRY_LIMIT ? entry.size : 0), 0);
  // One thread fewer than workers, and this thread deflates too whenever every thread has a batch
  // running and one waiting: with the threads alone a core sat idle (issue 27: 1.1 cores busy of 2),
  // and a thread more costs ~35 MB of peak memory (20,000 files: 316 MB against 282 MB).
  const threads = workers - 1;
  const pool = workers > 1 && smallBytes >= POOL_MIN_BYTES ? await startPool(threads) : undefined;
  let pooled = 0;
  const packSmall = (batch: SmallEntry[]): PackedBatch | Promise<PackedBatch> => {
    if (!pool) return packSmallEntries(batch);
    // Deferred a turn: the units after this one go to the threads first, so they never wait on this thread's deflate.
    if (pooled >= 2 * threads) return new Promise<void>((resolve) => setImmediate(resolve)).then(() => packSmallEntries(batch));
    pooled++;
    return pool.run(batch).finally(() => pooled--);
  };
  const prepared: Promise<PreparedEntry[]>[] = [];
  // Two units per worker in flight: one being packed, one waiting its turn to be written.
  const prepareUpTo = (index: number) => {
    for (let i = prepared.length; i < Math.min(units.length, index + 2 * workers); i++) {
      const unit = units[i]!;
      const promise = prepareUnit(unit, outPath, packSmall, options.signal, (read) => reportPartial(unit.first, Math.floor(read / 2)));
      promise.catch(() => {}); // awaited in order below; a failure ahead of its turn must not go unhandled
      prepared.push(promise);
    }
  };
  const packedSizes: number[] = [];
  const entrySha256s: string[] = [];
  let entryBytes = 0;
  // Large entries under way: bytes of each counted so far, until the entry is written.
  const partial = new Map<number, number>();
  const report = () => {
    let under = 0;
    for (const value of partial.values()) under += value;
    options.onProgress?.(entryBytes + under);
  };
  const reportPartial = (index: number, bytes: number) => {
    partial.set(index, bytes);
    report();
  };

  async function* zipBytes(): AsyncGenerator<Buffer> {
    const directory: Buffer[] = [];
    let offset = 0;
    for (let u = 0; u < units.length; u++) {
      options.signal?.throwIfAborted();
      prepareUpTo(u);
      const unit = units[u]!;
      const packed = await prepared[u]!;
      for (const [i, entry] of packed.entries()) {
        const header = localHeader(entry);
        directory.push(centralRecord(entry, offset));
        yield header;
        const size = unit.entries[i]!.size;
        if (Buffer.isBuffer(entry.body)) yield entry.body;
        else {
          const read = Math.floor(size / 2);
          yield* streamBody(unit.entries[i]!, entry, (streamed) => reportPartial(unit.first, read + Math.floor(((size - read) * streamed) / Math.max(1, entry.compressedSize))));
        }
        offset += header.length + entry.compressedSize;
        packedSizes.push(entry.compressedSize);
        entrySha256s.push(entry.sha256);
        partial.delete(unit.first + i);
        entryBytes += size;
        report();
      }
      prepared[u] = Promise.resolve([]); // written: its buffers may go
    }
    const directoryBytes = Buffer.concat(directory);
    yield directoryBytes;
    yield endOfCentralDirectory(entries.length, directoryBytes.length, offset);
  }

  const sink = new ZipFileSink(outPath);
  try {
    await pipeline([Readable.from(zipBytes(), { objectMode: false }), ...(options.seal ? [options.seal] : []), sink] as [Readable, ...Writable[]], {
      signal: options.signal,
    });
  } finally {
    // Units prepared ahead of a failure may hold spill files: wait for them, then remove every spill.
    await Promise.allSettled(prepared);
    await pool?.destroy();
    await Promise.all(units.map((unit) => (unit.entries.length === 1 ? rm(spillPathOf(outPath, unit.first), { force: true }) : undefined)));
  }
  return { size: sink.size, sha256: sink.hash.digest('hex'), packedSizes, entrySha256s };
}

const spillPathOf = (outPath: string, index: number) => `${outPath}.entry-${index}`;

function toUnits(entries: ZipEntry[]): Unit[] {
  const units: Unit[] = [];
  let batch: Unit | undefined;
  let batchBytes = 0;
  entries.forEach((entry, index) => {
    if (entry.size > WHOLE_ENTRY_LIMIT) {
      units.push({ first: index, entries: [entry] });
      batch = undefined;
      return;
    }
    if (!batch || batchBytes + entry.size > BATCH_BYTES || batch.entries.length === BATCH_FILES) {
      batch = { first: index, entries: [] };
      batchBytes = 0;
      units.push(batch);
    }
    batch.entries.push(entry);
    batchBytes += entry.size;
  });
  return units;
}

type PackedBatch = ReturnType<typeof packSmallEntries>;
type PackPool = { run(entries: SmallEntry[]): Promise<PackedBatch>; destroy(): Promise<void> };

async function startPool(threads: number): Promise<PackPool> {
  // Loaded only here: the pool library takes longer to load than a small package takes to pack.
  const { Piscina } = await import('piscina');
  return new Piscina({
    filename: new URL('./pack-worker.js', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    recordTiming: false,
    // Each batch's buffers die at once: a small young generation collects them before they pile up per thread.
    resourceLimits: { maxYoungGenerationSizeMb: 4 },
  });
}

async function prepareUnit(
  unit: Unit,
  outPath: string,
  packSmall: (batch: SmallEntry[]) => PackedBatch | Promise<PackedBatch>,
  signal: AbortSignal | undefined,
  onRead: (bytes: number) => void,
): Promise<PreparedEntry[]> {
  const [first] = unit.entries;
  if (unit.entries.length === 1 && first!.size > WHOLE_ENTRY_LIMIT) return [await prepareLargeEntry(first!, spillPathOf(outPath, unit.first), signal, onRead)];
  const plain = unit.entries.map(({ path, absolutePath, size, sha256 }) => ({ path, absolutePath, size, sha256 }));
  const packed = await packSmall(plain);
  const data = Buffer.from(packed.data.buffer, packed.data.byteOffset, packed.data.byteLength);
  return packed.entries.map((result, i) => {
    const entry = unit.entries[i]!;
    if ('problem' in result) throw changedWhilePacking(entry, result.problem);
    const { method, crc32: crc, compressedSize, offset, sha256 } = result;
    return { name: Buffer.from(entry.path, 'utf8'), method, crc32: crc, compressedSize, size: entry.size, sha256, body: data.subarray(offset, offset + compressedSize) };
  });
}

/** Streams a large entry's packed bytes; a stored source must still be the bytes its CRC was taken of. */
async function* streamBody(entry: ZipEntry, prepared: PreparedEntry, onStreamed: (bytes: number) => void): AsyncGenerator<Buffer> {
  const body = prepared.body as { path: string; spill: boolean };
  let crc = 0;
  let size = 0;
  try {
    for await (const chunk of createReadStream(body.path) as AsyncIterable<Buffer>) {
      if (!body.spill) crc = crc32(chunk, crc);
      size += chunk.length;
      yield chunk;
      onStreamed(size);
    }
  } catch (error) {
    vanished(entry)(error);
  }
  if (size !== prepared.compressedSize || (!body.spill && crc !== prepared.crc32)) throw changedWhilePacking(entry);
}

async function prepareLargeEntry(entry: ZipEntry, spillPath: string, signal: AbortSignal | undefined, onRead: (bytes: number) => void): Promise<PreparedEntry> {
  const name = Buffer.from(entry.path, 'utf8');
  const sample = await readSample(entry);
  const store = shouldStore(entry, sample);
  // One read checks the file, takes its CRC and, unless it is stored, deflates it into the spill file.
  const check = checkedBytes(entry, onRead);
  const output = store ? new Writable({ write: (_chunk, _encoding, done) => done() }) : createWriteStream(spillPath);
  let compressedSize = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      compressedSize += chunk.length;
      done(null, chunk);
    },
  });
  // Ctrl-C stops this read too: the zip's pipeline waits for entries prepared ahead before it ends.
  await pipeline([createReadStream(entry.absolutePath), check, ...(store ? [] : [createDeflateRaw(DEFLATE_OPTIONS), count]), output], { signal }).catch(
    (error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' ? changedWhilePacking(entry, 'was deleted') : error;
    },
  );
  const header = { name, crc32: check.crc32, size: entry.size, sha256: check.sha256 };
  if (!store && compressedSize < entry.size) return { ...header, method: METHOD_DEFLATED, compressedSize, body: { path: spillPath, spill: true } };
  if (!store) await rm(spillPath, { force: true });
  return { ...header, method: METHOD_STORED, compressedSize: entry.size, body: { path: entry.absolutePath, spill: false } };
}

async function readSample(entry: ZipEntry): Promise<Buffer> {
  const handle = await open(entry.absolutePath).catch(vanished(entry));
  const sample = Buffer.alloc(SAMPLE_SIZE);
  try {
    const { bytesRead } = await handle.read(sample, 0, SAMPLE_SIZE, 0);
    return sample.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Passes a file's bytes through, taking their CRC-32 and SHA-256, and fails if they are not the ones hashed before. */
function checkedBytes(entry: ZipEntry, onRead: (bytes: number) => void): Transform & { crc32: number; sha256: string } {
  const hash = createHash('sha256');
  let size = 0;
  const check = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      check.crc32 = crc32(chunk, check.crc32);
      size += chunk.length;
      onRead(size);
      callback(null, chunk);
    },
    flush(callback) {
      try {
        check.sha256 = hash.digest('hex');
        assertUnchanged(entry, size, check.sha256);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  }) as Transform & { crc32: number; sha256: string };
  check.crc32 = 0;
  return check;
}

function assertUnchanged(entry: ZipEntry, size: number, sha256: string) {
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
