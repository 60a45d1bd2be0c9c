/**
 * verify checks a package as it streams in (issue 27), without building the
 * tree a device builds: it must refuse every package the conformance vectors
 * say a device refuses, for the same reason, and accept every other, whatever
 * the chunks the bytes arrive in.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DamagedBaseError, ProtocolError } from '../../src/client/errors.js';
import type { ManifestFile } from '../../src/protocol/types.js';
import { assertBaseCarriesTheRest, assertHoldsEveryFile, checkStoredObject } from '../../src/workflows/verify-package.js';

const VECTORS = join(dirname(fileURLToPath(import.meta.url)), '../conformance');
const { cases } = JSON.parse(readFileSync(join(VECTORS, 'packages.json'), 'utf8')) as { cases: Record<string, any>[] };
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The bytes in chunks of `size` (the walk must not depend on where a chunk ends). */
const chunked = (bytes: Buffer, size: number) => Readable.from(Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size)));

async function verdict(input: Record<string, any>, chunkSize: number): Promise<unknown> {
  const bytes = readFileSync(join(VECTORS, input.package));
  const object = { key: input.package as string, size: bytes.length, sha256: sha256(bytes) };
  const files = input.manifest.files as ManifestFile[];
  const result = await checkStoredObject(chunked(bytes, chunkSize), object, { files: new Map(files.map((file) => [file.path, file])) });
  try {
    if ('error' in result) throw result.error;
    if (input.kind === 'full') assertHoldsEveryFile(object.key, files, result.paths);
    else {
      const installed = Object.entries(input.installed as Record<string, string>).map(([path, base64]) => {
        const content = Buffer.from(base64, 'base64');
        return [path, { path, size: content.length, sha256: sha256(content) }] as const;
      });
      assertBaseCarriesTheRest(files, result.paths, new Map(installed));
    }
  } catch (error) {
    if (error instanceof DamagedBaseError) return { ok: false, error: 'damaged-base' };
    if (error instanceof ProtocolError) return { ok: false, error: 'bad-package' };
    throw error;
  }
  return { ok: true };
}

describe('verify reads a package as a device would, streaming', () => {
  it('has the package vectors to check against', () => {
    expect(cases.filter((input) => input.check === 'package').length).toBeGreaterThan(20);
  });

  for (const input of cases.filter((candidate) => candidate.check === 'package')) {
    it(input.name, async () => {
      const want = input.expected.ok ? { ok: true } : input.expected;
      for (const chunkSize of [1 << 20, 7]) expect(await verdict(input, chunkSize)).toEqual(want);
    });
  }

  it('reports a wrong object as wrong bytes, whatever its entries look like', async () => {
    const input = cases.find((candidate) => candidate.check === 'package' && candidate.kind === 'full' && candidate.expected.ok)!;
    const bytes = readFileSync(join(VECTORS, input.package));
    const damaged = Buffer.from(bytes);
    damaged[40] ^= 0xff;
    const object = { key: 'packages/maps/1.0.0/full.zip', size: bytes.length, sha256: sha256(bytes) };
    const files = new Map((input.manifest.files as ManifestFile[]).map((file) => [file.path, file]));
    await expect(checkStoredObject(chunked(damaged, 1000), object, { files })).rejects.toThrow(/SHA-256 is [0-9a-f]+ but the manifest lists/);
    await expect(checkStoredObject(chunked(bytes.subarray(0, 100), 1000), object, { files })).rejects.toThrow(/is 100 bytes but the manifest lists/);
    await expect(checkStoredObject(chunked(Buffer.concat([bytes, Buffer.alloc(10)]), 1000), object, { files })).rejects.toThrow(/is larger than the/);
  });
});

describe('the zip walk past the classic limits', () => {
  it('reads an archive of 65,536 entries, whose counts only the zip64 end record holds', async () => {
    const { centralRecord, endOfCentralDirectory, localHeader } = await import('../../src/pack/zip-format.js');
    const parts: Buffer[] = [];
    const central: Buffer[] = [];
    const files: ManifestFile[] = [];
    let offset = 0;
    for (let i = 0; i < 65_536; i++) {
      const path = `f${i}`;
      const entry = { name: Buffer.from(path), method: 0, crc32: 0, compressedSize: 0, size: 0 };
      const header = localHeader(entry);
      parts.push(header);
      central.push(centralRecord(entry, offset));
      offset += header.length;
      files.push({ path, size: 0, sha256: sha256(Buffer.alloc(0)) });
    }
    const directory = Buffer.concat(central);
    const zip = Buffer.concat([...parts, directory, endOfCentralDirectory(65_536, directory.length, offset)]);
    const object = { key: 'packages/many/1.0.0/full.zip', size: zip.length, sha256: sha256(zip) };
    const result = await checkStoredObject(chunked(zip, 1 << 16), object, { files: new Map(files.map((file) => [file.path, file])) });
    expect('paths' in result && result.paths.size).toBe(65_536);
    // The same archive with one record's offset moved: the directory no longer describes what was walked.
    const moved = Buffer.from(zip);
    const firstRecord = parts.reduce((sum, part) => sum + part.length, 0);
    moved.writeUInt32LE(1, firstRecord + 42);
    const bad = await checkStoredObject(chunked(moved, 1 << 16), { ...object, size: moved.length, sha256: sha256(moved) }, { files: new Map(files.map((file) => [file.path, file])) });
    expect('error' in bad && String(bad.error)).toMatch(/disagrees with its local header on offset/);
  });
});
