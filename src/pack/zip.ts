import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { ExitCode, UserError } from '../errors.js';
import { isPrecompressed, looksIncompressible } from './compression.js';
import {
  centralDirectory,
  dataDescriptor,
  localHeader,
  METHOD_DEFLATE,
  METHOD_STORE,
  ZIP64_ENTRY_SIZE,
  type ZipRecord,
} from './zip-format.js';

export interface ZipEntry {
  /** Name inside the zip (POSIX, NFC). */
  path: string;
  absolutePath: string;
  /** Size when the file was hashed. */
  size: number;
  /** The SHA-256 the manifest lists; when given, the bytes packed are checked against it. */
  sha256?: string;
}

const DEFLATE_OPTIONS: zlib.ZlibOptions = { level: 6 };
/** Entries up to this size are read whole and compressed ahead of the writer, several at once, on the thread pool. */
const WHOLE_ENTRY_LIMIT = 4 * 1024 * 1024;
/** Read-ahead holds at most this many bytes and entries: memory stays bounded whatever the tree. */
const READ_AHEAD_BYTES = 48 * 1024 * 1024;
const READ_AHEAD_ENTRIES = Math.max(4, availableParallelism() * 2);
const CHUNK_SIZE = 1024 * 1024;
/** How much of an entry decides store or deflate. */
const SAMPLE_SIZE = 64 * 1024;

const deflateRaw = promisify(zlib.deflateRaw);

type Header = Omit<ZipRecord, 'offset'>;
/** An entry ready to write: its bytes in memory, or (large) streamed from disk by the writer. */
type PreparedEntry = { entry: ZipEntry; header: Header; data?: Buffer };

/**
 * Streams the entries into a zip at outPath in the order given (callers pass
 * them sorted) and returns its size and SHA-256, hashed on the way to disk.
 * Same entries, same bytes: a fixed timestamp and mode, and store or deflate
 * decided by content alone. `seal` (encryption) transforms the zip on the
 * way, in the same pass; size and SHA-256 are then of the sealed bytes.
 */
export async function writeZip(
  entries: ZipEntry[],
  outPath: string,
  seal?: Transform,
): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline([
    Readable.from(zipBytes(entries), { objectMode: false, highWaterMark: CHUNK_SIZE }),
    ...(seal ? [seal] : []),
    measure,
    createWriteStream(outPath),
  ]);
  return { size, sha256: hash.digest('hex') };
}

/** The archive's bytes in order: local header and data per entry, then the central directory. */
async function* zipBytes(entries: ZipEntry[]): AsyncGenerator<Buffer> {
  const records: ZipRecord[] = [];
  let offset = 0;
  for await (const { entry, header, data } of readAhead(entries)) {
    const record: ZipRecord = { ...header, offset };
    const head = localHeader(record);
    yield head;
    offset += head.length;
    if (data) {
      yield data;
      offset += data.length;
    } else {
      Object.assign(record, yield* streamEntry(entry, header));
      offset += record.compressedSize;
      if (record.dataDescriptor) {
        const descriptor = dataDescriptor(record);
        yield descriptor;
        offset += descriptor.length;
      }
    }
    records.push(record);
  }
  yield centralDirectory(records, offset);
}

/**
 * Prepares entries ahead of the writer, in parallel, and hands them over in
 * order; small entries hold their (compressed) bytes, large ones nothing.
 */
async function* readAhead(entries: ZipEntry[]): AsyncGenerator<PreparedEntry> {
  const pending: { prepared: Promise<PreparedEntry>; bytes: number }[] = [];
  let next = 0;
  let heldBytes = 0;
  const fill = () => {
    while (next < entries.length && pending.length < READ_AHEAD_ENTRIES) {
      const entry = entries[next]!;
      const bytes = entry.size <= WHOLE_ENTRY_LIMIT ? entry.size : 0;
      if (pending.length > 0 && heldBytes + bytes > READ_AHEAD_BYTES) return;
      const prepared = entry.size <= WHOLE_ENTRY_LIMIT ? prepareWhole(entry) : prepareStreamed(entry);
      // Awaited in order below; this only keeps a failure ahead of the writer from counting as unhandled.
      prepared.catch(() => {});
      pending.push({ prepared, bytes });
      heldBytes += bytes;
      next++;
    }
  };
  fill();
  while (pending.length > 0) {
    const { prepared, bytes } = pending.shift()!;
    yield await prepared;
    heldBytes -= bytes;
    fill();
  }
}

const nameOf = (entry: ZipEntry) => Buffer.from(entry.path, 'utf8');
const zip64For = (size: number) => size >= ZIP64_ENTRY_SIZE;

async function prepareWhole(entry: ZipEntry): Promise<PreparedEntry> {
  const raw = await readFile(entry.absolutePath).catch(vanished(entry));
  assertUnchanged(entry, raw.length, entry.sha256 && createHash('sha256').update(raw).digest('hex'));
  let data = raw;
  if (!isPrecompressed(entry.path) && !looksIncompressible(raw.subarray(0, SAMPLE_SIZE))) {
    const deflated = await deflateRaw(raw, DEFLATE_OPTIONS);
    // Deflate can lose on small or odd files: keep whichever is smaller (still decided by content alone).
    if (deflated.length < raw.length) data = deflated;
  }
  const header: Header = {
    name: nameOf(entry),
    method: data === raw ? METHOD_STORE : METHOD_DEFLATE,
    crc32: zlib.crc32(raw),
    size: raw.length,
    compressedSize: data.length,
    dataDescriptor: false,
    zip64: false,
  };
  return { entry, header, data };
}

/**
 * A large entry: a sample decides store or deflate. Stored, its CRC is computed
 * now so the local header is complete (streaming unzippers need that for
 * stored data); deflated, sizes and CRC follow the data in a descriptor.
 */
async function prepareStreamed(entry: ZipEntry): Promise<PreparedEntry> {
  const handle = await open(entry.absolutePath).catch(vanished(entry));
  try {
    const sample = Buffer.allocUnsafe(SAMPLE_SIZE);
    const { bytesRead } = await handle.read(sample, 0, SAMPLE_SIZE, 0);
    const base = { name: nameOf(entry), size: entry.size, zip64: zip64For(entry.size) };
    if (!isPrecompressed(entry.path) && !looksIncompressible(sample.subarray(0, bytesRead))) {
      return { entry, header: { ...base, method: METHOD_DEFLATE, crc32: 0, compressedSize: 0, dataDescriptor: true } };
    }
    let crc32 = 0;
    for await (const chunk of readChunks(handle, Buffer.allocUnsafe(CHUNK_SIZE))) crc32 = zlib.crc32(chunk, crc32);
    return { entry, header: { ...base, method: METHOD_STORE, crc32, compressedSize: entry.size, dataDescriptor: false } };
  } finally {
    await handle.close();
  }
}

/** Reads a whole file in chunks; with `buffer` every chunk reuses it (the caller must not keep them). */
async function* readChunks(handle: Awaited<ReturnType<typeof open>>, buffer?: Buffer): AsyncGenerator<Buffer> {
  for (let position = 0; ; ) {
    const target = buffer ?? Buffer.allocUnsafe(CHUNK_SIZE);
    const { bytesRead } = await handle.read(target, 0, target.length, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield target.subarray(0, bytesRead);
  }
}

/** Streams a large entry's data (deflated or not), checking it on the way; returns what the central directory needs. */
async function* streamEntry(
  entry: ZipEntry,
  header: Header,
): AsyncGenerator<Buffer, Pick<ZipRecord, 'crc32' | 'size' | 'compressedSize'>> {
  const hash = entry.sha256 ? createHash('sha256') : undefined;
  let crc32 = 0;
  let size = 0;
  const handle = await open(entry.absolutePath).catch(vanished(entry));
  async function* raw() {
    for await (const chunk of readChunks(handle)) {
      crc32 = zlib.crc32(chunk, crc32);
      hash?.update(chunk);
      size += chunk.length;
      yield chunk;
    }
  }
  let compressedSize = 0;
  try {
    if (header.method === METHOD_STORE) {
      for await (const chunk of raw()) {
        compressedSize += chunk.length;
        yield chunk;
      }
    } else {
      const deflate = zlib.createDeflateRaw(DEFLATE_OPTIONS);
      const fed = pipeline(Readable.from(raw()), deflate);
      fed.catch(() => {}); // a read failure also fails the iteration below
      for await (const chunk of deflate as AsyncIterable<Buffer>) {
        compressedSize += chunk.length;
        yield chunk;
      }
      await fed;
    }
  } finally {
    await handle.close();
  }
  assertUnchanged(entry, size, hash?.digest('hex'));
  if (header.method === METHOD_STORE && crc32 !== header.crc32) throw changedWhilePacking(entry);
  return { crc32, size, compressedSize };
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
