import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import archiver from 'archiver';
import { isPrecompressed } from './compression.js';

export interface ZipEntry {
  /** Name inside the zip (POSIX, NFC). */
  path: string;
  absolutePath: string;
}

/**
 * A fixed timestamp, built from local-time fields because zip stores DOS local
 * time: the bytes come out the same in every time zone.
 */
const FIXED_DATE = new Date(1980, 0, 1, 0, 0, 0);
const FILE_MODE = 0o644;

/**
 * Streams the entries into a zip at outPath in the order given (callers pass
 * them sorted) and returns its size and SHA-256, hashed on the way to disk.
 * Same entries, same bytes.
 */
export async function writeZip(entries: ZipEntry[], outPath: string): Promise<{ size: number; sha256: string }> {
  const archive = archiver('zip', { zlib: { level: 6 }, forceZip64: false });
  const hash = createHash('sha256');
  let size = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  const written = pipeline(archive, measure, createWriteStream(outPath));
  for (const entry of entries) {
    // archiver reads one entry at a time, so lazily opened streams keep file handles bounded.
    archive.append(createReadStream(entry.absolutePath), {
      name: entry.path,
      date: FIXED_DATE,
      mode: FILE_MODE,
      store: isPrecompressed(entry.path),
    });
  }
  await archive.finalize();
  await written;
  return { size, sha256: hash.digest('hex') };
}
