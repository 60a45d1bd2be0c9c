import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPackageZip, readSmallEntry } from '../../src/client/fetch/package-zip.js';
import { centralRecord, endOfCentralDirectory, localHeader, METHOD_DEFLATED, METHOD_STORED, type EntryHeader } from '../../src/pack/zip-format.js';

/** A zip whose records say what `declared` says, whatever the data is. */
function zipOf(entries: { name: string; method: number; data: Buffer; declaredSize: number }[]): Buffer {
  const parts: Buffer[] = [];
  const directory: Buffer[] = [];
  let offset = 0;
  for (const { name, method, data, declaredSize } of entries) {
    const header: EntryHeader = { name: Buffer.from(name), method, crc32: crc32(data), compressedSize: data.length, size: declaredSize };
    const local = localHeader(header);
    directory.push(centralRecord(header, offset));
    parts.push(local, data);
    offset += local.length + data.length;
  }
  const central = Buffer.concat(directory);
  return Buffer.concat([...parts, central, endOfCentralDirectory(entries.length, central.length, offset)]);
}

describe('readSmallEntry', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'package-zip-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const entriesOf = async (zip: Buffer) => {
    const path = join(dir, `${Math.random().toString(36).slice(2)}.zip`);
    await writeFile(path, zip);
    const file = await openPackageZip(path, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true });
    const read: (Buffer | Error)[] = [];
    for await (const entry of file.eachEntry()) read.push(await readSmallEntry(file, entry).catch((error: Error) => error));
    file.close();
    return read;
  };

  it('reads stored and deflated entries, empty ones too', async () => {
    const text = Buffer.from('tile road north '.repeat(500));
    const read = await entriesOf(
      zipOf([
        { name: 'a.txt', method: METHOD_DEFLATED, data: deflateRawSync(text), declaredSize: text.length },
        { name: 'b.bin', method: METHOD_STORED, data: Buffer.from('stored'), declaredSize: 6 },
        { name: 'empty.txt', method: METHOD_DEFLATED, data: deflateRawSync(Buffer.alloc(0)), declaredSize: 0 },
      ]),
    );
    expect(read).toEqual([text, Buffer.from('stored'), Buffer.alloc(0)]);
  });

  it('never inflates past the size the record declares, and refuses data that is not deflate', async () => {
    const bomb = deflateRawSync(Buffer.alloc(10 * 1024 * 1024));
    const [tooLarge, tooSmall, garbage] = await entriesOf(
      zipOf([
        { name: 'bomb.txt', method: METHOD_DEFLATED, data: bomb, declaredSize: 10 },
        { name: 'short.txt', method: METHOD_DEFLATED, data: deflateRawSync(Buffer.from('abc')), declaredSize: 4 },
        { name: 'garbage.txt', method: METHOD_DEFLATED, data: Buffer.from([0xff, 0xff, 0xff, 0xff]), declaredSize: 4 },
      ]),
    );
    expect(String(tooLarge)).toMatch(/bomb\.txt.*does not inflate to its 10 bytes/);
    expect(String(tooSmall)).toMatch(/short\.txt.*holds 3 bytes, its record says 4/);
    expect(String(garbage)).toMatch(/garbage\.txt.*does not inflate/);
  });
});
