/**
 * The bytes of the zip profile devices rely on (PROTOCOL: "zip profile"):
 * sizes and CRC-32 in every local header (no data descriptors, so Java's
 * streaming ZipInputStream reads every entry), UTF-8 names, one fixed
 * timestamp written as DOS fields directly (never through a Date, so no time
 * zone can move it), regular-file mode 0644, no folder entries, stored or
 * deflated only. Zip64 fields appear only where a size, an offset or the
 * entry count does not fit the classic ones.
 */

export const METHOD_STORED = 0;
export const METHOD_DEFLATED = 8;

/** Names are UTF-8 (general purpose bit 11); bit 3 (data descriptor) is never set. */
const FLAG_UTF8 = 0x0800;
/** 1980-01-01 00:00:00, the earliest DOS time: time 0, date (0 << 9) | (1 << 5) | 1. */
const DOS_TIME = 0;
const DOS_DATE = 0x0021;
const VERSION_DEFAULT = 20;
const VERSION_ZIP64 = 45;
/** Made by Unix (3), so readers take the mode from the external attributes. */
const MADE_BY_UNIX = 3 << 8;
const REGULAR_FILE_0644 = 0o100644;

const MAX_32 = 0xffffffff;
const MAX_16 = 0xffff;

export interface EntryHeader {
  /** UTF-8 bytes of the name. */
  name: Buffer;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
}

/** Local file header; zip64 extra field (both sizes) when a size does not fit 32 bits. */
export function localHeader(entry: EntryHeader): Buffer {
  const zip64 = entry.size >= MAX_32 || entry.compressedSize >= MAX_32;
  const extra = zip64 ? zip64Extra([entry.size, entry.compressedSize]) : Buffer.alloc(0);
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(zip64 ? VERSION_ZIP64 : VERSION_DEFAULT, 4);
  header.writeUInt16LE(FLAG_UTF8, 6);
  header.writeUInt16LE(entry.method, 8);
  header.writeUInt16LE(DOS_TIME, 10);
  header.writeUInt16LE(DOS_DATE, 12);
  header.writeUInt32LE(entry.crc32 >>> 0, 14);
  header.writeUInt32LE(zip64 ? MAX_32 : entry.compressedSize, 18);
  header.writeUInt32LE(zip64 ? MAX_32 : entry.size, 22);
  header.writeUInt16LE(entry.name.length, 26);
  header.writeUInt16LE(extra.length, 28);
  return Buffer.concat([header, entry.name, extra]);
}

/** Central directory record; zip64 extra holds, in order, whichever of size, compressed size and offset overflow. */
export function centralRecord(entry: EntryHeader, localHeaderOffset: number): Buffer {
  const wide: number[] = [];
  if (entry.size >= MAX_32) wide.push(entry.size);
  if (entry.compressedSize >= MAX_32) wide.push(entry.compressedSize);
  if (localHeaderOffset >= MAX_32) wide.push(localHeaderOffset);
  const extra = wide.length ? zip64Extra(wide) : Buffer.alloc(0);
  const version = wide.length ? VERSION_ZIP64 : VERSION_DEFAULT;
  const record = Buffer.alloc(46);
  record.writeUInt32LE(0x02014b50, 0);
  record.writeUInt16LE(MADE_BY_UNIX | version, 4);
  record.writeUInt16LE(version, 6);
  record.writeUInt16LE(FLAG_UTF8, 8);
  record.writeUInt16LE(entry.method, 10);
  record.writeUInt16LE(DOS_TIME, 12);
  record.writeUInt16LE(DOS_DATE, 14);
  record.writeUInt32LE(entry.crc32 >>> 0, 16);
  record.writeUInt32LE(Math.min(entry.compressedSize, MAX_32), 20);
  record.writeUInt32LE(Math.min(entry.size, MAX_32), 24);
  record.writeUInt16LE(entry.name.length, 28);
  record.writeUInt16LE(extra.length, 30);
  // comment length, disk number start, internal attributes: 0
  record.writeUInt32LE((REGULAR_FILE_0644 << 16) >>> 0, 38);
  record.writeUInt32LE(Math.min(localHeaderOffset, MAX_32), 42);
  return Buffer.concat([record, entry.name, extra]);
}

/** End of central directory, preceded by the zip64 record and locator when a field overflows. */
export function endOfCentralDirectory(entryCount: number, directorySize: number, directoryOffset: number): Buffer {
  const zip64 = entryCount >= MAX_16 || directorySize >= MAX_32 || directoryOffset >= MAX_32;
  const parts: Buffer[] = [];
  if (zip64) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4); // size of the rest of this record
    record.writeUInt16LE(MADE_BY_UNIX | VERSION_ZIP64, 12);
    record.writeUInt16LE(VERSION_ZIP64, 14);
    // this disk, disk with the directory: 0
    record.writeBigUInt64LE(BigInt(entryCount), 24);
    record.writeBigUInt64LE(BigInt(entryCount), 32);
    record.writeBigUInt64LE(BigInt(directorySize), 40);
    record.writeBigUInt64LE(BigInt(directoryOffset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(directoryOffset + directorySize), 8);
    locator.writeUInt32LE(1, 16);
    parts.push(record, locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Math.min(entryCount, MAX_16), 8);
  end.writeUInt16LE(Math.min(entryCount, MAX_16), 10);
  end.writeUInt32LE(Math.min(directorySize, MAX_32), 12);
  end.writeUInt32LE(Math.min(directoryOffset, MAX_32), 16);
  parts.push(end);
  return Buffer.concat(parts);
}

function zip64Extra(values: number[]): Buffer {
  const extra = Buffer.alloc(4 + 8 * values.length);
  extra.writeUInt16LE(0x0001, 0);
  extra.writeUInt16LE(8 * values.length, 2);
  values.forEach((value, i) => extra.writeBigUInt64LE(BigInt(value), 4 + 8 * i));
  return extra;
}
