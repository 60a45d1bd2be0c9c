/**
 * A package zip read front to back as it downloads (verify reads each object
 * once, and never to disk): local headers and entry data in order, then the
 * central directory and end records, each held to what the local headers
 * said. Only the zip profile packages follow (PROTOCOL §9) is read: sizes in
 * every local header (no data descriptors), UTF-8 names, no encryption,
 * one disk. Anything else is a ZipStreamError naming what is wrong.
 */

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_RECORD = 0x02014b50;
const ZIP64_END = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const END_RECORD = 0x06054b50;
const ZIP64_EXTRA = 0x0001;
const FLAG_ENCRYPTED = 0x0001;
const FLAG_DATA_DESCRIPTOR = 0x0008;
const FLAG_UTF8 = 0x0800;
const MAX_16 = 0xffff;
const MAX_32 = 0xffffffff;

export class ZipStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipStreamError';
  }
}

/** One entry as its local header describes it. */
export interface StreamedEntry {
  name: string;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  /** Where its local header starts. */
  offset: number;
}

/** What only the central directory says about an entry. */
export interface CentralEntry extends StreamedEntry {
  externalAttributes: number;
}

/** Reads exact byte counts from a stream of chunks, keeping only what is not yet consumed. */
class ChunkReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes consumed so far: the position in the zip. */
  position = 0;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private async fill(bytes: number): Promise<boolean> {
    while (this.buffered < bytes) {
      const next = await this.source.next();
      if (next.done) return false;
      if (next.value.length === 0) continue;
      this.chunks.push(next.value);
      this.buffered += next.value.length;
    }
    return true;
  }

  /** Up to `bytes` of what is buffered, as one chunk (no copy when a chunk is split or taken whole). */
  private shift(bytes: number): Buffer {
    const first = this.chunks[0]!;
    let taken = first;
    if (first.length <= bytes) this.chunks.shift();
    else {
      taken = first.subarray(0, bytes);
      this.chunks[0] = first.subarray(bytes);
    }
    this.buffered -= taken.length;
    this.position += taken.length;
    return taken;
  }

  async exactly(bytes: number, what: string): Promise<Buffer> {
    if (bytes === 0) return Buffer.alloc(0);
    if (!(await this.fill(bytes))) throw new ZipStreamError(`ends inside ${what}`);
    if (this.chunks[0]!.length >= bytes) return this.shift(bytes);
    const parts: Buffer[] = [];
    for (let left = bytes; left > 0; ) {
      const part = this.shift(left);
      parts.push(part);
      left -= part.length;
    }
    return Buffer.concat(parts, bytes);
  }

  /** The next `bytes` bytes as they arrive. */
  async *take(bytes: number, what: string): AsyncGenerator<Buffer> {
    for (let left = bytes; left > 0; ) {
      if (!(await this.fill(1))) throw new ZipStreamError(`ends inside ${what}`);
      const part = this.shift(left);
      left -= part.length;
      yield part;
    }
  }

  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }
}

/** The zip64 extra field's values, in the order the fields set to their maximum appear. */
function zip64Values(extra: Buffer, wanted: number, where: string): bigint[] {
  for (let at = 0; at + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(at);
    const length = extra.readUInt16LE(at + 2);
    if (at + 4 + length > extra.length) break;
    if (id === ZIP64_EXTRA) {
      if (length < 8 * wanted) throw new ZipStreamError(`${where} has a zip64 field too short for its sizes`);
      return Array.from({ length: wanted }, (_, i) => extra.readBigUInt64LE(at + 4 + 8 * i));
    }
    at += 4 + length;
  }
  throw new ZipStreamError(`${where} lacks the zip64 field its sizes call for`);
}

const toNumber = (value: bigint, where: string) => {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipStreamError(`${where} declares an impossible size`);
  return Number(value);
};

/** Fields stored as 32 bits, or as their maximum with the value in the zip64 extra field (in this order). */
function widen(fields: number[], extra: Buffer, where: string): number[] {
  const wide = fields.filter((value) => value === MAX_32).length;
  if (wide === 0) return fields;
  const values = zip64Values(extra, wide, where);
  let next = 0;
  return fields.map((value) => (value === MAX_32 ? toNumber(values[next++]!, where) : value));
}

function decodeName(bytes: Buffer, flags: number, where: string): string {
  if (!(flags & FLAG_UTF8)) throw new ZipStreamError(`${where} does not mark its name as UTF-8 (flag bit 11)`);
  const name = bytes.toString('utf8');
  if (!Buffer.from(name, 'utf8').equals(bytes)) throw new ZipStreamError(`${where} has a name that is not valid UTF-8`);
  return name;
}

/**
 * Walks the zip in `source`: `onEntry` gets each entry and its stored
 * (possibly deflated) bytes, which it must read to the end before it returns;
 * then the central directory must list exactly those entries, at the offsets
 * they were found at, and nothing may follow the end record. Returns the
 * central directory's entries.
 */
export async function walkZipStream(source: AsyncIterable<Buffer>, onEntry: (entry: StreamedEntry, data: AsyncGenerator<Buffer>) => Promise<void>): Promise<CentralEntry[]> {
  const reader = new ChunkReader(source[Symbol.asyncIterator]());
  const entries: StreamedEntry[] = [];
  let signature = (await reader.exactly(4, 'the first record')).readUInt32LE(0);
  while (signature === LOCAL_HEADER) {
    const offset = reader.position - 4;
    const where = `the local header at offset ${offset}`;
    const header = await reader.exactly(26, where);
    const flags = header.readUInt16LE(2);
    if (flags & FLAG_ENCRYPTED) throw new ZipStreamError(`${where} marks its entry encrypted`);
    if (flags & FLAG_DATA_DESCRIPTOR) throw new ZipStreamError(`${where} defers its sizes to a data descriptor (flag bit 3), which packages never use`);
    const nameBytes = await reader.exactly(header.readUInt16LE(22), where);
    const extra = await reader.exactly(header.readUInt16LE(24), where);
    const name = decodeName(nameBytes, flags, where);
    // The local zip64 field holds both sizes, uncompressed first.
    const [size, compressedSize] = widen([header.readUInt32LE(18), header.readUInt32LE(14)], extra, `entry ${JSON.stringify(name)}`);
    const entry: StreamedEntry = { name, method: header.readUInt16LE(4), crc32: header.readUInt32LE(10), compressedSize: compressedSize!, size: size!, offset };
    const dataEnd = reader.position + entry.compressedSize;
    await onEntry(entry, reader.take(entry.compressedSize, `entry ${JSON.stringify(name)}`));
    // Whatever the reader left (it stopped early) is skipped here, so the walk stays in step.
    for await (const _ of reader.take(dataEnd - reader.position, `entry ${JSON.stringify(name)}`));
    entries.push(entry);
    signature = (await reader.exactly(4, 'the record after an entry')).readUInt32LE(0);
  }

  const directoryOffset = reader.position - 4;
  const central: CentralEntry[] = [];
  while (signature === CENTRAL_RECORD) {
    const where = `central directory record ${central.length + 1}`;
    const record = await reader.exactly(42, where);
    const flags = record.readUInt16LE(4);
    const nameBytes = await reader.exactly(record.readUInt16LE(24), where);
    const extra = await reader.exactly(record.readUInt16LE(26), where);
    await reader.exactly(record.readUInt16LE(28), where); // comment
    if (record.readUInt16LE(30) !== 0) throw new ZipStreamError(`${where} names another disk`);
    const name = decodeName(nameBytes, flags, where);
    const [size, compressedSize, offset] = widen([record.readUInt32LE(20), record.readUInt32LE(16), record.readUInt32LE(38)], extra, `${where} (${JSON.stringify(name)})`);
    const entry: CentralEntry = { name, method: record.readUInt16LE(6), crc32: record.readUInt32LE(12), compressedSize: compressedSize!, size: size!, offset: offset!, externalAttributes: record.readUInt32LE(34) };
    const local = entries[central.length];
    if (!local) throw new ZipStreamError(`${where} lists ${JSON.stringify(name)}, which no local header holds`);
    // A reader that goes by the directory (most do) must find exactly what the walk checked.
    for (const field of ['name', 'method', 'crc32', 'compressedSize', 'size', 'offset'] as const) {
      if (entry[field] !== local[field]) throw new ZipStreamError(`${where} (${JSON.stringify(name)}) disagrees with its local header on ${field}`);
    }
    if (flags & (FLAG_ENCRYPTED | FLAG_DATA_DESCRIPTOR)) throw new ZipStreamError(`${where} (${JSON.stringify(name)}) sets flags its local header does not`);
    central.push(entry);
    signature = (await reader.exactly(4, 'the record after the central directory')).readUInt32LE(0);
  }
  if (central.length !== entries.length) throw new ZipStreamError(`the central directory lists ${central.length} entries, the zip holds ${entries.length}`);
  const directorySize = reader.position - 4 - directoryOffset;

  let zip64: { count: number; size: number; offset: number } | undefined;
  if (signature === ZIP64_END) {
    const where = 'the zip64 end record';
    const recordOffset = reader.position - 4;
    const length = toNumber((await reader.exactly(8, where)).readBigUInt64LE(0), where);
    if (length < 44) throw new ZipStreamError(`${where} is too short`);
    const record = await reader.exactly(length, where);
    if (record.readUInt32LE(4) !== 0 || record.readUInt32LE(8) !== 0) throw new ZipStreamError(`${where} names another disk`);
    zip64 = { count: toNumber(record.readBigUInt64LE(20), where), size: toNumber(record.readBigUInt64LE(28), where), offset: toNumber(record.readBigUInt64LE(36), where) };
    if ((await reader.exactly(4, 'the zip64 locator')).readUInt32LE(0) !== ZIP64_LOCATOR) throw new ZipStreamError('the zip64 end record is not followed by its locator');
    const locator = await reader.exactly(16, 'the zip64 locator');
    if (toNumber(locator.readBigUInt64LE(4), 'the zip64 locator') !== recordOffset) throw new ZipStreamError('the zip64 locator points elsewhere than its end record');
    signature = (await reader.exactly(4, 'the end record')).readUInt32LE(0);
  }
  if (signature !== END_RECORD) throw new ZipStreamError(`unexpected bytes at offset ${reader.position - 4} (signature 0x${signature.toString(16).padStart(8, '0')})`);
  const end = await reader.exactly(18, 'the end record');
  await reader.exactly(end.readUInt16LE(16), 'the end record'); // comment
  if (end.readUInt16LE(0) !== 0 || end.readUInt16LE(2) !== 0) throw new ZipStreamError('the end record names another disk');
  const declared = {
    count: end.readUInt16LE(6) === MAX_16 && zip64 ? zip64.count : end.readUInt16LE(6),
    size: end.readUInt32LE(8) === MAX_32 && zip64 ? zip64.size : end.readUInt32LE(8),
    offset: end.readUInt32LE(12) === MAX_32 && zip64 ? zip64.offset : end.readUInt32LE(12),
  };
  if (declared.count !== central.length || declared.size !== directorySize || declared.offset !== directoryOffset) {
    throw new ZipStreamError('the end record does not describe the central directory that precedes it');
  }
  if (zip64 && (zip64.count !== central.length || zip64.size !== directorySize || zip64.offset !== directoryOffset)) {
    throw new ZipStreamError('the zip64 end record does not describe the central directory that precedes it');
  }
  if (!(await reader.atEnd())) throw new ZipStreamError('bytes follow the end record');
  return central;
}
