import { crc32, deflateRawSync } from 'node:zlib';

/**
 * A zip written byte by byte, for packages a publisher would never produce
 * (hostile names, links, duplicates): stored entries, sizes and CRC in the
 * local header (no data descriptors), UTF-8 names (flag bit 11), DOS time
 * 1980-01-01 00:00, names and Unix modes exactly as given.
 */
export interface StoredZipEntry {
  name: string;
  data: Buffer | string;
  /** Unix mode in the external attributes (default a regular file, 0o100644). */
  mode?: number;
  /** Deflated (method 8) instead of stored, with this uncompressed size in its headers (a lie makes a deflate bomb). */
  deflatedAs?: number;
}

const UTF8_NAMES = 0x0800;
const MADE_BY_UNIX = (3 << 8) | 20;
const DOS_DATE_1980 = (1 << 5) | 1;

export function storedZip(entries: StoredZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const plain = Buffer.from(entry.data);
    const crc = crc32(plain);
    const data = entry.deflatedAs === undefined ? plain : deflateRawSync(plain);
    const method = entry.deflatedAs === undefined ? 0 : 8;
    const declared = entry.deflatedAs ?? plain.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(UTF8_NAMES, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_DATE_1980, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(declared, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(MADE_BY_UNIX, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(UTF8_NAMES, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(DOS_DATE_1980, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(declared, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((entry.mode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
