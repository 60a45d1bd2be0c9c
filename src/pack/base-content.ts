import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Entry, ZipFile } from 'yauzl';
import { StoreError } from '../errors.js';
import { createDecryptStream } from '../protocol/encryption.js';
import type { Manifest, ManifestFile } from '../protocol/types.js';
import type { Store } from '../store/store.js';
import type { ContentCache } from './content-cache.js';
import { makeDirectory } from '../make-dir.js';

/**
 * The old content a patch is made against: the base version's files. They
 * come from the local content cache when it holds them (a publisher's own
 * machine), else from the base version's full package in the store, reading
 * only its central directory and the entries needed (ranged reads). Every
 * file is checked against the base manifest's SHA-256 before it is used: a
 * patch made against wrong bytes would make wrong files on every device.
 */
export class BaseContent {
  constructor(
    private readonly store: Store,
    private readonly cache: ContentCache | undefined,
    private readonly workDir: string,
    /** The key package objects are sealed with, when encryption is configured. */
    private readonly encryptionKey?: Buffer,
  ) {}

  /** Local paths of the base files asked for, by path; a file the store cannot give is left out. */
  async fetch(base: Manifest, files: ManifestFile[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const missing: ManifestFile[] = [];
    for (const file of files) {
      const cached = await this.cache?.lookup(file.sha256);
      if (cached) found.set(file.path, cached);
      else missing.push(file);
    }
    if (missing.length === 0) return found;
    const dir = join(this.workDir, 'base', base.version);
    await makeDirectory(dir);
    const zip = await this.openPackage(base, dir);
    try {
      const wanted = new Map(missing.map((file) => [file.path, file]));
      for await (const entry of zip.eachEntry() as AsyncIterable<Entry>) {
        const file = wanted.get(entry.fileName);
        if (!file) continue;
        const target = join(dir, file.sha256);
        if (await extractChecked(zip, entry, file, target)) found.set(file.path, target);
      }
    } finally {
      zip.close();
    }
    return found;
  }

  private async openPackage(base: Manifest, dir: string): Promise<ZipFile> {
    const { default: yauzl } = await import('yauzl');
    const { key, size } = base.full;
    if (!base.encryption) {
      return yauzl.fromRandomAccessReaderPromise(storeRangeReader(yauzl, this.store, key), size, { lazyEntries: true, strictFileNames: true });
    }
    // Sealed in authenticated chunks: no random access, so the package is opened once into a local file.
    if (!this.encryptionKey) throw new StoreError(`${key} is encrypted and no encryption key is configured to read it for patches`);
    const plain = join(dir, 'full.zip');
    await pipeline(await this.store.openRead(key), createDecryptStream([this.encryptionKey], base.encryption.keyId), createWriteStream(plain));
    return yauzl.openPromise(plain, { lazyEntries: true, strictFileNames: true });
  }
}

/** Streams one entry to target, keeping it only when it is the file the base manifest lists. */
async function extractChecked(zip: ZipFile, entry: Entry, file: ManifestFile, target: string): Promise<boolean> {
  const hash = createHash('sha256');
  const stream = await zip.openReadStreamPromise(entry);
  await pipeline(stream.on('data', (chunk: Buffer) => hash.update(chunk)), createWriteStream(target));
  if (hash.digest('hex') === file.sha256) return true;
  await rm(target, { force: true });
  return false;
}

/** yauzl's random access over ranged store reads: the central directory, then one range per entry. */
function storeRangeReader(yauzl: typeof import('yauzl'), store: Store, key: string) {
  const reader = new (yauzl.RandomAccessReader as unknown as new () => InstanceType<typeof yauzl.RandomAccessReader>)();
  reader._readStreamForRange = (start: number, end: number): Readable => {
    const through = new PassThrough();
    if (end <= start) return through.end();
    store.openRead(key, { start, end: end - 1 }).then(
      (body) => body.on('error', (error) => through.destroy(error)).pipe(through),
      (error: Error) => through.destroy(error),
    );
    return through;
  };
  return reader;
}
