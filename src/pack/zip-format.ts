/**
 * The zip format's records (PKWARE APPNOTE 6.3), as bytes. Pure: zip.ts
 * decides what goes in and streams it. Zip64 fields appear only where a
 * value does not fit in 32 (or 16) bits, so ordinary packages are plain zips.
 */

export const METHOD_STORE = 0;
export const METHOD_DEFLATE = 8;

/** One entry as the central directory describes it. */
export interface ZipRecord {
  /** UTF-8 name (flag bit 11 says so). */
  name: Buffer;
  method: typeof METHOD_STORE | typeof METHOD_DEFLATE;
  crc32: number;
  size: number;
  compressedSize: number;
  /** Offset of the entry's local header in the archive. */
  offset: number;
  /** Sizes and CRC follow the data (written while streaming) instead of preceding it. */
  dataDescriptor: boolean;
  /** The local header carries a zip64 extra field (and the data descriptor 64-bit sizes). */
  zip64: boolean;
}

const MAX_32 = 0xffffffff;
const MAX_16 = 0xffff;
/**
 * Entries this large get zip64 fields in their local header: deflate can
 * outgrow its input slightly (5 bytes per 16 KiB block), and a streamed
 * entry's header is written before its compressed size is known.
 */
export const ZIP64_ENTRY_SIZE = MAX_32 - 0x1000000;

const FLAG_DATA_DESCRIPTOR = 1 << 3;
const FLAG_UTF8 = 1 << 11;
const VERSION_DEFLATE = 20;
const VERSION_ZIP64 = 45;
/** Made by Unix (3), so readers take the high 16 bits of the external attributes as a mode. */
const VERSION_MADE_BY = (3 << 8) | VERSION_ZIP64;
/** 1980-01-01 00:00:00 in DOS date/time: every entry the same timestamp, in every time zone. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const DOS_TIME = 0;
/** A regular file, rw-r--r--. */
const EXTERNAL_ATTRIBUTES = (0o100644 << 16) >>> 0;

const ZIP64_EXTRA_ID = 0x0001;

/** Little-endian writer over a fixed-size buffer. */
class Fields {
  readonly bytes: Buffer;
  private at = 0;
  constructor(size: number) {
    this.bytes = Buffer.alloc(size);
  }
  u16(value: number) {
    this.at = this.bytes.writeUInt16LE(value, this.at);
    return this;
  }
  u32(value: number) {
    this.at = this.bytes.writeUInt32LE(value >>> 0, this.at);
    return this;
  }
  u64(value: number) {
    this.at = this.bytes.writeBigUInt64LE(BigInt(value), this.at);
    return this;
  }
  raw(buffer: Buffer) {
    this.at += buffer.copy(this.bytes, this.at);
    return this;
  }
}

const flagsOf = (record: Pick<ZipRecord, 'dataDescriptor'>) => FLAG_UTF8 | (record.dataDescriptor ? FLAG_DATA_DESCRIPTOR : 0);
const versionNeeded = (zip64: boolean) => (zip64 ? VERSION_ZIP64 : VERSION_DEFLATE);

/** The local file header; with a data descriptor, CRC and sizes are zero here and follow the data. */
export function localHeader(record: Omit<ZipRecord, 'offset'>): Buffer {
  const known = !record.dataDescriptor;
  const extraLength = record.zip64 ? 20 : 0;
  const fields = new Fields(30 + record.name.length + extraLength)
    .u32(0x04034b50)
    .u16(versionNeeded(record.zip64))
    .u16(flagsOf(record))
    .u16(record.method)
    .u16(DOS_TIME)
    .u16(DOS_DATE)
    .u32(known ? record.crc32 : 0)
    .u32(record.zip64 ? MAX_32 : known ? record.compressedSize : 0)
    .u32(record.zip64 ? MAX_32 : known ? record.size : 0)
    .u16(record.name.length)
    .u16(extraLength)
    .raw(record.name);
  if (record.zip64) {
    fields.u16(ZIP64_EXTRA_ID).u16(16).u64(known ? record.size : 0).u64(known ? record.compressedSize : 0);
  }
  return fields.bytes;
}

/** CRC and sizes after a streamed entry's data (64-bit sizes when the local header had zip64). */
export function dataDescriptor(record: Pick<ZipRecord, 'crc32' | 'size' | 'compressedSize' | 'zip64'>): Buffer {
  const fields = new Fields(record.zip64 ? 24 : 16).u32(0x08074b50).u32(record.crc32);
  return record.zip64
    ? fields.u64(record.compressedSize).u64(record.size).bytes
    : fields.u32(record.compressedSize).u32(record.size).bytes;
}

function centralHeader(record: ZipRecord): Buffer {
  // Only the values that overflow go into the zip64 extra field, in this order.
  const wide = [record.size, record.compressedSize, record.offset].filter((value) => value >= MAX_32);
  const extraLength = wide.length ? 4 + 8 * wide.length : 0;
  const fields = new Fields(46 + record.name.length + extraLength)
    .u32(0x02014b50)
    .u16(VERSION_MADE_BY)
    .u16(versionNeeded(record.zip64 || wide.length > 0))
    .u16(flagsOf(record))
    .u16(record.method)
    .u16(DOS_TIME)
    .u16(DOS_DATE)
    .u32(record.crc32)
    .u32(Math.min(record.compressedSize, MAX_32))
    .u32(Math.min(record.size, MAX_32))
    .u16(record.name.length)
    .u16(extraLength)
    .u16(0) // comment length
    .u16(0) // disk number
    .u16(0) // internal attributes
    .u32(EXTERNAL_ATTRIBUTES)
    .u32(Math.min(record.offset, MAX_32))
    .raw(record.name);
  if (wide.length) {
    fields.u16(ZIP64_EXTRA_ID).u16(8 * wide.length);
    for (const value of wide) fields.u64(value);
  }
  return fields.bytes;
}

/** Central directory and end records for entries written before `offset`. */
export function centralDirectory(records: ZipRecord[], offset: number): Buffer {
  const headers = records.map(centralHeader);
  const size = headers.reduce((sum, header) => sum + header.length, 0);
  const zip64 = records.length >= MAX_16 || size >= MAX_32 || offset >= MAX_32;
  const end = new Fields(zip64 ? 56 + 20 + 22 : 22);
  if (zip64) {
    const zip64EndOffset = offset + size;
    end
      .u32(0x06064b50)
      .u64(44) // size of the rest of this record
      .u16(VERSION_MADE_BY)
      .u16(VERSION_ZIP64)
      .u32(0) // this disk
      .u32(0) // disk where the central directory starts
      .u64(records.length)
      .u64(records.length)
      .u64(size)
      .u64(offset)
      // the locator
      .u32(0x07064b50)
      .u32(0)
      .u64(zip64EndOffset)
      .u32(1);
  }
  end
    .u32(0x06054b50)
    .u16(0)
    .u16(0)
    .u16(Math.min(records.length, MAX_16))
    .u16(Math.min(records.length, MAX_16))
    .u32(Math.min(size, MAX_32))
    .u32(Math.min(offset, MAX_32))
    .u16(0); // comment length
  return Buffer.concat([...headers, end.bytes]);
}
