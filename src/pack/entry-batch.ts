import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { crc32, deflateRawSync } from 'node:zlib';
import { isPrecompressed, looksIncompressible } from './compression.js';
import { METHOD_DEFLATED, METHOD_STORED } from './zip-format.js';

/** What packing one small file needs to know of it (see zip.ts). */
export interface SmallEntry {
  path: string;
  absolutePath: string;
  size: number;
  sha256?: string;
}

/** A packed small entry; its bytes are `data[offset, offset + compressedSize)` of the batch's buffer. */
export type PackedEntry =
  | { method: number; crc32: number; compressedSize: number; offset: number; sha256: string }
  | { problem: 'changed' | 'was deleted' };

export const DEFLATE_LEVEL = 6;
/** How much of an entry decides store or deflate. */
export const SAMPLE_SIZE = 64 * 1024;
/** Below this, deflate's own overhead outweighs what it saves. */
const SMALLEST_WORTH_DEFLATING = 64;

export const shouldStore = (entry: SmallEntry, sample: Uint8Array) =>
  entry.size < SMALLEST_WORTH_DEFLATING || isPrecompressed(entry.path) || looksIncompressible(sample);

/**
 * Reads, hashes (and checks size and SHA-256 when given), takes the CRC-32 of and, unless
 * its content says store, deflates each file: everything a small entry costs,
 * in one synchronous pass, so a worker thread can do it. The packed bytes of
 * the whole batch come back in one buffer (one transfer between threads).
 * Content alone decides, so the bytes never depend on which thread ran it.
 */
export function packSmallEntries(entries: SmallEntry[]): { entries: PackedEntry[]; data: Uint8Array } {
  const packed: PackedEntry[] = [];
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(entry.absolutePath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      packed.push({ problem: 'was deleted' });
      continue;
    }
    // The hash the manifest lists: taken here, in the read packing makes anyway, when no earlier pass took it.
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (bytes.length !== entry.size || (entry.sha256 !== undefined && sha256 !== entry.sha256)) {
      packed.push({ problem: 'changed' });
      continue;
    }
    let body: Uint8Array = bytes;
    let method = METHOD_STORED;
    if (!shouldStore(entry, bytes.subarray(0, SAMPLE_SIZE))) {
      const deflated = deflateRawSync(bytes, { level: DEFLATE_LEVEL });
      // Keeping the smaller of the two is still content alone deciding.
      if (deflated.length < bytes.length) [body, method] = [deflated, METHOD_DEFLATED];
    }
    packed.push({ method, crc32: crc32(bytes), compressedSize: body.length, offset, sha256 });
    parts.push(body);
    offset += body.length;
  }
  const data = new Uint8Array(offset);
  let at = 0;
  for (const part of parts) {
    data.set(part, at);
    at += part.length;
  }
  return { entries: packed, data };
}
