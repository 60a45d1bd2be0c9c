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
/** Reads of large files: 1 MiB, not streams' 64 KiB, so a 100 MB file is 100 trips to the disk threads, not 1,600. */
const LARGE_READ_SIZE = 1024 * 1024;
/** Units prepared ahead of the one being written, per worker. */
const UNITS_AHEAD_PER_WORKER = 4;
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
  // Batches beyond what the threads hold (one running, one queued in the thread each), oldest first: a thread that
  // comes free takes the next; this thread packs one per turn of the event loop, so between two of
  // its deflates the threads' results come in and they get new batches instead of idling.
  const waiting: { batch: SmallEntry[]; resolve: (packed: PackedBatch | Promise<PackedBatch>) => void; reject: (error: unknown) => void }[] = [];
  let pooled = 0;
  let turnScheduled = false;
  const dispatch = () => {
    while (waiting.length > 0 && pooled < 2 * threads) {
      const next = waiting.shift()!;
      pooled++;
      next.resolve(
        pool!.run(next.batch).finally(() => {
          pooled--;
          dispatch();
        }),
      );
    }
    if (waiting.length === 0 || turnScheduled) return;
    turnScheduled = true;
    setImmediate(() => {
      turnScheduled = false;
      const next = waiting.shift();
      if (next) {
        try {
          next.resolve(packSmallEntries(next.batch));
        } catch (error) {
          next.reject(error);
        }
      }
      dispatch();
    });
  };
  const packSmall = (batch: SmallEntry[]): PackedBatch | Promise<PackedBatch> => {
    if (!pool) return packSmallEntries(batch);
    return new Promise<PackedBatch>((resolve, reject) => {
      waiting.push({ batch, resolve, reject });
      dispatch();
    });
  };
  const prepared: (Promise<PreparedEntry[]> | undefined)[] = new Array(units.length);
  let stopped = false;
  const prepare = (i: number): Promise<PreparedEntry[]> => {
    if (prepared[i]) return prepared[i];
    const unit = units[i]!;
    const promise = prepareUnit(unit, outPath, packSmall, options.signal, (read) => reportPartial(unit.first, Math.floor(read / 2)));
    promise.catch(() => {}); // awaited in order below; a failure ahead of its turn must not go unhandled
    return (prepared[i] = promise);
  };
  // Four units per worker in flight (a few MB): while this thread deflates a batch whose turn to be
  // written has come, the threads still have units ahead to pack rather than waiting for it.
  const prepareUpTo = (index: number) => {
    for (let i = index; i < Math.min(units.length, index + UNITS_AHEAD_PER_WORKER * workers); i++) prepare(i);
  };
  // Large files start at once, a few at a time, not when their turn nears: their read (CRC-32, SHA-256,
  // deflate in zlib's threads) then overlaps the small batches instead of trailing them on one core
  // (issue 27: a 100 MB file sorted last kept one core idle for a third of the pack). Prepared, one
  // holds no memory: its bytes stay in the source file or a spill file until written.
  const largeUnits = units.flatMap((unit, i) => (isLargeUnit(unit) ? [i] : []));
  let largeStarted = 0;
  let largeRunning = 0;
  const startLargeUnits = () => {
    while (!stopped && largeStarted < largeUnits.length && largeRunning < workers) {
      const i = largeUnits[largeStarted++]!;
      if (prepared[i]) continue;
      largeRunning++;
      const settled = () => {
        largeRunning--;
        startLargeUnits();
      };
      prepare(i).then(settled, settled);
    }
  };
  startLargeUnits();
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
      const packed = await prepare(u);
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
    stopped = true;
    await Promise.allSettled(prepared);
    await pool?.destroy();
    await Promise.all(units.map((unit) => (unit.entries.length === 1 ? rm(spillPathOf(outPath, unit.first), { force: true }) : undefined)));
  }
  return { size: sink.size, sha256: sink.hash.digest('hex'), packedSizes, entrySha256s };
}

const spillPathOf = (outPath: string, index: number) => `${outPath}.entry-${index}`;

const isLargeUnit = (unit: Unit) => unit.entries.length === 1 && unit.entries[0]!.size > WHOLE_ENTRY_LIMIT;

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
    // The next batch waits in the thread's own queue: it starts the moment the last ends, not when
    // this thread, perhaps mid-deflate itself, gets round to handing it over.
    concurrentTasksPerWorker: 2,
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
  if (isLargeUnit(unit)) return [await prepareLargeEntry(first!, spillPathOf(outPath, unit.first), signal, onRead)];
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
    for await (const chunk of createReadStream(body.path, { highWaterMark: LARGE_READ_SIZE }) as AsyncIterable<Buffer>) {
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
  await pipeline([createReadStream(entry.absolutePath, { highWaterMark: LARGE_READ_SIZE }), check, ...(store ? [] : [createDeflateRaw(DEFLATE_OPTIONS), count]), output], { signal }).catch(
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
