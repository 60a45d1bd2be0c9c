import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { createInflateRaw, inflateRawSync } from 'node:zlib';
import { createDecryptStream } from '../protocol/encryption.js';
import { assertSafeEntryPath, isSymlinkEntry, safeJoin, UnsafePathError } from '../protocol/path-safety.js';
import type { FilePatch, ManifestFile, StoredObject } from '../protocol/types.js';
import { assertStoredBytes, objectTooLarge } from '../client/fetch/download.js';
import { patchedFile, readPatchEntry } from '../client/fetch/apply-patch.js';
import { writeHashed } from '../client/fetch/hashed-write.js';
import { DamagedBaseError, IntegrityError, ProtocolError } from '../client/errors.js';
import { walkZipStream, ZipStreamError, type StreamedEntry } from '../zip-stream.js';

/** Deflated entries up to this size (packed and unpacked) are inflated in one call: a stream per small file cost more than its bytes. */
const WHOLE_ENTRY_SIZE = 1024 * 1024;

/** What a package's entries must be, checked as the object streams in. */
export interface PackageEntriesCheck {
  /** The files of the version the package builds, by path. */
  files: ReadonlyMap<string, ManifestFile>;
  /** Entries that are patches against the base's file at the same path (a patched delta), and the folder those files were kept in. */
  patches?: { listings: ReadonlyMap<string, FilePatch>; baseDir: string };
  /** Entries whose bytes are also written under `dir`, as later patches' bases. */
  keep?: { paths: ReadonlySet<string>; dir: string };
  /** For an encrypted package: the keys, and the id of the one it was sealed with. */
  decryption?: { keys: readonly Buffer[]; keyId: string };
}

/** The entries found, or why they are not what the manifest lists (the stored bytes themselves were sound). */
export type EntriesResult = { paths: Set<string> } | { error: unknown };

/**
 * Reads a package object once, as it arrives: its stored bytes against the
 * listing (size, SHA-256), and with `entries` every entry against the
 * manifest (no entry is written to disk but those `keep` names). Throws when
 * the stored bytes are wrong or the read fails (a wrong object is reported as
 * such, whatever its entries look like); returns the entries' result.
 */
export async function checkStoredObject(stream: Readable, object: StoredObject, entries: PackageEntriesCheck): Promise<EntriesResult>;
export async function checkStoredObject(stream: Readable, object: StoredObject): Promise<undefined>;
export async function checkStoredObject(stream: Readable, object: StoredObject, entries?: PackageEntriesCheck): Promise<EntriesResult | undefined> {
  const hash = createHash('sha256');
  let size = 0;
  let ended = false;
  let failed: { error: unknown } | undefined;
  const raw = stream[Symbol.asyncIterator]();
  const nextChunk = async (): Promise<Buffer | undefined> => {
    if (failed) throw failed.error;
    let next: IteratorResult<Buffer>;
    try {
      next = await raw.next();
    } catch (error) {
      failed = { error };
      throw error;
    }
    if (next.done) {
      ended = true;
      return undefined;
    }
    size += next.value.length;
    if (size > object.size) throw (failed = { error: objectTooLarge(object) }).error;
    hash.update(next.value);
    return next.value;
  };
  // Stopping the entries' walk must not stop the stored bytes' check: return() leaves the stream open.
  const hashed: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        const chunk = await nextChunk();
        return chunk ? { value: chunk, done: false } : { value: undefined, done: true };
      },
      return: async () => ({ value: undefined, done: true }),
    }),
  };
  try {
    let result: EntriesResult | undefined;
    if (entries) {
      try {
        result = { paths: await checkEntries(plainBytes(hashed, entries.decryption), object.key, entries) };
      } catch (error) {
        result = { error };
      }
    }
    while (!ended) await nextChunk();
    assertStoredBytes(object, size, hash.digest('hex'));
    return result;
  } finally {
    stream.destroy();
  }
}

/** A full package holds every file its manifest lists. */
export function assertHoldsEveryFile(objectKey: string, files: readonly ManifestFile[], found: ReadonlySet<string>): void {
  const missing = files.filter((file) => !found.has(file.path));
  if (missing.length > 0) throw new IntegrityError(objectKey, `lacks ${missing.length} ${missing.length === 1 ? 'file' : 'files'} the manifest lists, e.g. ${JSON.stringify(missing[0]!.path)}`);
}

/**
 * What a delta does not carry is copied from its base: each such file must be
 * in the base's manifest, the same size and SHA-256 (the base's full package
 * is checked against that manifest on its own). The first that is not is a DamagedBaseError.
 */
export function assertBaseCarriesTheRest(files: readonly ManifestFile[], carried: ReadonlySet<string>, baseFiles: ReadonlyMap<string, ManifestFile>): void {
  for (const file of files) {
    if (carried.has(file.path)) continue;
    const old = baseFiles.get(file.path);
    if (!old || old.size !== file.size || old.sha256 !== file.sha256) throw new DamagedBaseError(file.path, old ? 'differs' : 'is missing');
  }
}

/** The package's zip bytes: the stored ones, or those decrypted from them (GCM authenticates each chunk). */
function plainBytes(stored: AsyncIterable<Buffer>, decryption: PackageEntriesCheck['decryption']): AsyncIterable<Buffer> {
  if (!decryption) return stored;
  return pipeline(Readable.from(stored, { objectMode: false }), createDecryptStream([...decryption.keys], decryption.keyId), () => {});
}

/** Every entry of the zip against the files listed; returns the paths found. */
async function checkEntries(zip: AsyncIterable<Buffer>, objectKey: string, check: PackageEntriesCheck): Promise<Set<string>> {
  const found = new Set<string>();
  try {
    const central = await walkZipStream(zip, async (entry, data) => {
      const name = entry.name;
      assertSafeEntryPath(name);
      const file = check.files.get(name);
      if (!file) throw new IntegrityError(objectKey, `holds ${JSON.stringify(name)}, which the manifest does not list`);
      if (found.has(name)) throw new IntegrityError(objectKey, `holds ${JSON.stringify(name)} twice`);
      found.add(name);
      const listing = check.patches?.listings.get(name);
      if (listing) {
        const patch = () => readPatchEntry(objectKey, inflated(entry, data), file);
        await patchedFile({ objectKey, patch, listing, file, realBase: check.patches!.baseDir });
        return;
      }
      if (entry.size !== file.size) throw new IntegrityError(objectKey, `entry ${JSON.stringify(name)} is not the ${file.size}-byte file the manifest lists`);
      const sha256 = check.keep?.paths.has(name)
        ? (await writeHashed(Readable.from(inflated(entry, data), { objectMode: false }), safeJoin(check.keep.dir, name))).sha256
        : await sha256Of(inflated(entry, data));
      if (sha256 !== file.sha256) throw new IntegrityError(objectKey, `entry ${JSON.stringify(name)} does not match the manifest's SHA-256`);
    });
    for (const entry of central) if (isSymlinkEntry(entry.externalAttributes)) throw new UnsafePathError(entry.name, 'it is a symbolic link');
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    throw new IntegrityError(objectKey, `is not a valid package zip (${(error as Error).message})`);
  }
  return found;
}

async function sha256Of(chunks: AsyncIterable<Buffer>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

/** An entry's unpacked bytes, never more than its local header declares and exactly that many. */
async function* inflated(entry: StreamedEntry, data: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  const name = JSON.stringify(entry.name);
  let size = 0;
  const counted = (chunk: Buffer) => {
    size += chunk.length;
    if (size > entry.size) throw new ZipStreamError(`entry ${name} inflates past the ${entry.size} bytes its header declares`);
    return chunk;
  };
  if (entry.method === 0) {
    if (entry.compressedSize !== entry.size) throw new ZipStreamError(`stored entry ${name} declares ${entry.compressedSize} bytes packed and ${entry.size} unpacked`);
    for await (const chunk of data) yield counted(chunk);
  } else if (entry.method === 8 && entry.compressedSize <= WHOLE_ENTRY_SIZE && entry.size <= WHOLE_ENTRY_SIZE) {
    const packed: Buffer[] = [];
    for await (const chunk of data) packed.push(chunk);
    try {
      yield counted(inflateRawSync(Buffer.concat(packed), { maxOutputLength: Math.max(1, entry.size) }));
    } catch (error) {
      if (error instanceof ZipStreamError) throw error;
      throw new ZipStreamError(`entry ${name} does not inflate to its ${entry.size} bytes (${(error as Error).message})`);
    }
  } else if (entry.method === 8) {
    const inflate = pipeline(Readable.from(data, { objectMode: false }), createInflateRaw(), () => {});
    try {
      for await (const chunk of inflate) yield counted(chunk as Buffer);
    } catch (error) {
      if (error instanceof ZipStreamError) throw error;
      throw new ZipStreamError(`entry ${name} does not inflate (${(error as Error).message})`);
    } finally {
      inflate.destroy();
    }
  } else throw new ZipStreamError(`entry ${name} uses compression method ${entry.method}, which packages never use`);
  if (size !== entry.size) throw new ZipStreamError(`entry ${name} holds ${size} bytes, its header says ${entry.size}`);
}
