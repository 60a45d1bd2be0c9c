import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { IMMUTABLE_CACHE, MUTABLE_CACHE } from '../../src/protocol/layout.js';
import type { Store, WriteOptions } from '../../src/store/store.js';

/** The S3 minimum part size, so a few MiB already make a multipart upload. */
export const PART_SIZE = 5 * 1024 * 1024;

export const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
export const json = (value: unknown) => Buffer.from(JSON.stringify(value));
export const documentOptions = (body: Buffer): WriteOptions => ({
  contentType: 'application/json',
  cacheControl: MUTABLE_CACHE,
  sha256: sha256(body),
});
export const putOptions = (file: { bytes: Buffer }) => ({
  contentType: 'application/zip',
  cacheControl: IMMUTABLE_CACHE,
  sha256: sha256(file.bytes),
  size: file.bytes.length,
});

export interface TestFile {
  path: string;
  bytes: Buffer;
}
export interface TestFiles {
  /** A scratch folder, removed after the file's tests. */
  dir: string;
  /** Under one part. */
  small: TestFile;
  /** Three parts. */
  large: TestFile;
  /** Five parts. */
  huge: TestFile;
}

/** Random local files for upload tests, written before the first test and removed after the last. */
export function useTestFiles(): TestFiles {
  const files = {} as TestFiles;
  beforeAll(async () => {
    files.dir = await mkdtemp(join(tmpdir(), 'store-contract-'));
    for (const [name, size] of [['small', 1000], ['large', 2 * PART_SIZE + 123], ['huge', 4 * PART_SIZE + 1]] as const) {
      const bytes = randomBytes(size);
      const path = join(files.dir, `${name}.bin`);
      await writeFile(path, bytes);
      files[name] = { path, bytes };
    }
  });
  afterAll(() => rm(files.dir, { recursive: true, force: true }));
  return files;
}

/**
 * The behaviour every store must share. `open` gives a fresh, empty store for
 * each test (a new folder, or a new prefix in the bucket).
 */
export function storeContract(open: () => Promise<Store>, files: TestFiles) {
  let store: Store;
  beforeEach(async () => {
    store = await open();
    return () => store.close();
  });

  it('reads back a written document with an etag, and reports absent objects as null', async () => {
    const body = json({ hello: 'world' });
    const written = await store.writeDocument('channels/production/index.json', body, documentOptions(body));
    expect(written?.etag).toEqual(expect.any(String));

    const read = await store.readDocument('channels/production/index.json');
    expect(read?.body.equals(body)).toBe(true);
    expect(read?.etag).toBe(written?.etag);
    expect(await store.head('channels/production/index.json')).toMatchObject({
      key: 'channels/production/index.json',
      size: body.length,
      sha256: sha256(body),
    });

    expect(await store.readDocument('channels/missing/index.json')).toBeNull();
    expect(await store.head('channels/missing/index.json')).toBeNull();
    await expect(store.openRead('channels/missing/index.json')).rejects.toBeInstanceOf(StoreError);
  });

  it('writes conditionally: If-None-Match only creates, If-Match only replaces the version read', async () => {
    const key = 'channels/beta/index.json';
    const first = json({ version: 1 });
    const second = json({ version: 2 });
    const created = await store.writeDocument(key, first, { ...documentOptions(first), ifNoneMatch: true });
    expect(created).not.toBeNull();
    expect(await store.writeDocument(key, second, { ...documentOptions(second), ifNoneMatch: true })).toBeNull();

    const replaced = await store.writeDocument(key, second, { ...documentOptions(second), ifMatch: created!.etag });
    expect(replaced).not.toBeNull();
    expect(replaced!.etag).not.toBe(created!.etag);

    // The first etag is stale now: the write must lose and leave version 2 in place.
    expect(await store.writeDocument(key, first, { ...documentOptions(first), ifMatch: created!.etag })).toBeNull();
    expect((await store.readDocument(key))?.body.equals(second)).toBe(true);

    // If-Match on a document that does not exist is a lost condition, not a create.
    expect(await store.writeDocument('channels/gone/index.json', first, { ...documentOptions(first), ifMatch: replaced!.etag })).toBeNull();
    expect(await store.head('channels/gone/index.json')).toBeNull();

    // Without a condition the write always replaces.
    expect(await store.writeDocument(key, first, documentOptions(first))).not.toBeNull();
    expect((await store.readDocument(key))?.body.equals(first)).toBe(true);
  });

  it.each(['small', 'large'] as const)('stores a %s file byte for byte, with its sha256 and full progress', async (name) => {
    const file = files[name];
    const key = `packages/maps/1.0.0/${name}.zip`;
    const progress: number[] = [];
    await store.putFile(key, file.path, putOptions(file), (loaded) => progress.push(loaded));

    expect(progress.at(-1)).toBe(file.bytes.length);
    expect(await store.head(key)).toMatchObject({ key, size: file.bytes.length, sha256: sha256(file.bytes) });
    expect((await buffer(await store.openRead(key))).equals(file.bytes)).toBe(true);
    expect(await store.listOpenUploads()).toEqual([]);
  });

  it('lists every object under a prefix, recursively, with keys relative to the store', async () => {
    const keys = ['packages/maps/1.0.0/manifest.json', 'packages/maps/1.1.0/manifest.json', 'packages/mapsx/1.0.0/manifest.json', 'channels/production/index.json'];
    for (const key of keys) await store.writeDocument(key, json(key), documentOptions(json(key)));

    const maps = await store.list('packages/maps/');
    expect(maps.map((object) => object.key).sort()).toEqual(['packages/maps/1.0.0/manifest.json', 'packages/maps/1.1.0/manifest.json']);
    expect(maps[0].size).toBe(json(maps[0].key).length);
    expect((await store.list('')).map((object) => object.key).sort()).toEqual([...keys].sort());
    expect(await store.list('packages/levels/')).toEqual([]);
  });

  it('deletes the given keys, ignores absent ones, and handles more keys than one S3 request takes', async () => {
    const keep = 'packages/maps/1.0.0/manifest.json';
    const doomed = ['packages/maps/0.9.0/manifest.json', 'packages/maps/0.9.0/full.zip'];
    for (const key of [keep, ...doomed]) await store.writeDocument(key, json(key), documentOptions(json(key)));

    // 1000 absent keys first, so the last real key falls in a second DeleteObjects batch.
    const absent = Array.from({ length: 1000 }, (_, index) => `packages/absent/${index}.zip`);
    await store.delete([doomed[0], ...absent, doomed[1]]);
    expect((await store.list('')).map((object) => object.key)).toEqual([keep]);
    await store.delete([]);
  });

  it('keeps all six changes when six publishers update one document at once', async () => {
    const key = 'channels/production/index.json';
    const publish = async (name: string) => {
      for (let attempt = 0; attempt < 100; attempt++) {
        const current = await store.readDocument(key);
        const names: string[] = current ? JSON.parse(current.body.toString()) : [];
        const body = json([...names, name]);
        const condition = current ? { ifMatch: current.etag } : { ifNoneMatch: true };
        if (await store.writeDocument(key, body, { ...documentOptions(body), ...condition })) return;
      }
      throw new Error(`${name} never won a write`);
    };
    const publishers = ['a', 'b', 'c', 'd', 'e', 'f'];
    await Promise.all(publishers.map(publish));

    const final = JSON.parse((await store.readDocument(key))!.body.toString());
    expect([...final].sort()).toEqual(publishers);
  });
}
