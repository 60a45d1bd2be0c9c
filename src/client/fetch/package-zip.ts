import { close, fstat, open, read } from 'node:fs';
import { Readable } from 'node:stream';
import { inflateRawSync } from 'node:zlib';
import { promisify } from 'node:util';
import yauzl, { type Entry, type Options, type ZipFile } from 'yauzl';

/** Bytes per read of an entry's data: yauzl's own reader reads 16 KiB at a time, a syscall and a write per 16 KiB of a 1 GiB file. */
const ENTRY_READ_SIZE = 1024 * 1024;
/** Bytes read at once when reads follow one another (the central directory). */
const READ_AHEAD_SIZE = 64 * 1024;

/**
 * yauzl's view of a zip on disk through one file descriptor: the central
 * directory by positional reads, each entry's data as a stream of 1 MiB
 * chunks. yauzl still does all the zip work (records, inflate, byte counts).
 */
class PackageFileReader extends yauzl.RandomAccessReader {
  // yauzl's reference count of users of the file (its typings leave them out).
  declare ref: () => void;
  declare unref: () => void;

  constructor(
    private readonly fd: number,
    private readonly size: number,
  ) {
    super();
  }

  // Not fs.createReadStream: destroying one (yauzl does, when an entry is done) closes the shared descriptor.
  override _readStreamForRange(start: number, end: number): Readable {
    const fd = this.fd;
    let position = start;
    return new Readable({
      highWaterMark: ENTRY_READ_SIZE,
      read() {
        const length = Math.min(ENTRY_READ_SIZE, end - position);
        if (length <= 0) return void this.push(null);
        const buffer = Buffer.allocUnsafe(length);
        read(fd, buffer, 0, length, position, (error, bytesRead) => {
          if (error) return void this.destroy(error);
          if (bytesRead === 0) return void this.destroy(new Error('unexpected end of file'));
          position += bytesRead;
          this.push(bytesRead < length ? buffer.subarray(0, bytesRead) : buffer);
        });
      },
    });
  }

  /** The block read ahead for the central directory: yauzl reads it record by record, two small reads each. */
  private ahead: { position: number; bytes: Buffer } | undefined;
  private lastEnd = -1;

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (error: Error | null) => void): void {
    const ahead = this.ahead;
    if (ahead && position >= ahead.position && position + length <= ahead.position + ahead.bytes.length) {
      ahead.bytes.copy(buffer, offset, position - ahead.position, position - ahead.position + length);
      return process.nextTick(callback, null);
    }
    const sequential = position === this.lastEnd && length < READ_AHEAD_SIZE;
    this.lastEnd = position + length;
    if (sequential) return this.readAhead(buffer, offset, length, position, callback);
    this.readFully(buffer, offset, length, position, callback);
  }

  /** Reads a block from `position` (as much as the file has), keeps it, and answers from it. */
  private readAhead(buffer: Buffer, offset: number, length: number, position: number, callback: (error: Error | null) => void): void {
    const block = Buffer.allocUnsafe(Math.max(length, Math.min(READ_AHEAD_SIZE, this.size - position)));
    this.readFully(block, 0, block.length, position, (error) => {
      if (error) return callback(error);
      this.ahead = { position, bytes: block };
      block.copy(buffer, offset, 0, length);
      callback(null);
    });
  }

  readFully(buffer: Buffer, offset: number, length: number, position: number, callback: (error: Error | null) => void): void {
    // Held open while reading, as yauzl's own reads hold it (a zip closed meanwhile closes the file after).
    this.ref();
    const finish = (error: Error | null) => {
      this.unref();
      callback(error);
    };
    const next = (done: number) => {
      if (done === length) return finish(null);
      read(this.fd, buffer, offset + done, length - done, position + done, (error, bytesRead) => {
        if (error) return finish(error);
        if (bytesRead === 0) return finish(new Error('unexpected end of file'));
        next(done + bytesRead);
      });
    };
    next(0);
  }

  override close(callback: (error: Error | null) => void): void {
    close(this.fd, callback);
  }
}

/** Opens a package zip for reading with large reads; entries may be read at the same time. The caller closes it. */
export async function openPackageZip(path: string, options: Options): Promise<ZipFile> {
  const fd = await promisify(open)(path, 'r');
  try {
    const { size } = await promisify(fstat)(fd);
    return await yauzl.fromRandomAccessReaderPromise(new PackageFileReader(fd, size), size, { ...options, autoClose: false });
  } catch (error) {
    close(fd, () => {});
    throw error;
  }
}

/** Entries up to this size (packed and unpacked) are read whole: a stream chain per small file cost more than its bytes. */
export const WHOLE_ENTRY_SIZE = 1024 * 1024;

/**
 * The unpacked bytes of a small entry of a zip opened by openPackageZip, read
 * in one read and inflated at once, never past the size its record declares.
 */
export async function readSmallEntry(zip: ZipFile, entry: Entry): Promise<Buffer> {
  const { fileDataStart } = await zip.readLocalFileHeaderPromise(entry, { minimal: true });
  const packed = Buffer.allocUnsafe(entry.compressedSize);
  const reader = (zip as unknown as { reader: PackageFileReader }).reader;
  await new Promise<void>((resolve, reject) =>
    reader.readFully(packed, 0, packed.length, fileDataStart, (error) => (error ? reject(error) : resolve())),
  );
  let bytes: Buffer;
  if (entry.compressionMethod === 0) bytes = packed;
  else if (entry.compressionMethod === 8) {
    try {
      bytes = inflateRawSync(packed, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
    } catch (error) {
      // Past the declared size (RangeError) or not deflate at all: either way not the entry its record describes.
      throw new Error(`entry ${JSON.stringify(entry.fileName)} does not inflate to its ${entry.uncompressedSize} bytes (${(error as Error).message})`);
    }
  } else throw new Error(`unsupported compression method: ${entry.compressionMethod}`);
  if (bytes.length !== entry.uncompressedSize) {
    throw new Error(`entry ${JSON.stringify(entry.fileName)} holds ${bytes.length} bytes, its record says ${entry.uncompressedSize}`);
  }
  return bytes;
}
