import { close, fstat, open, read } from 'node:fs';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import yauzl, { type Options, type ZipFile } from 'yauzl';

/** Bytes per read of an entry's data: yauzl's own reader reads 16 KiB at a time, a syscall and a write per 16 KiB of a 1 GiB file. */
const ENTRY_READ_SIZE = 1024 * 1024;

/**
 * yauzl's view of a zip on disk through one file descriptor: the central
 * directory by positional reads, each entry's data as a stream of 1 MiB
 * chunks. yauzl still does all the zip work (records, inflate, byte counts).
 */
class PackageFileReader extends yauzl.RandomAccessReader {
  // yauzl's reference count of users of the file (its typings leave them out).
  declare ref: () => void;
  declare unref: () => void;

  constructor(private readonly fd: number) {
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

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (error: Error | null) => void): void {
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
    return await yauzl.fromRandomAccessReaderPromise(new PackageFileReader(fd), size, { ...options, autoClose: false });
  } catch (error) {
    close(fd, () => {});
    throw error;
  }
}
