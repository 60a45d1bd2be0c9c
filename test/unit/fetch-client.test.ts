import { createHash, createPrivateKey } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fetchUpdate,
  httpSource,
  IntegrityError,
  type ChannelIndex,
  type Manifest,
  type UpdateSource,
} from '../../src/client/node.js';
import { loadPublicKey } from '../../src/client/trusted-keys.js';
import { UnsafePathError } from '../../src/protocol/path-safety.js';
import { generateSigningKeyPair } from '../../src/keys/signing-keys.js';
import { signDocument, type SigningKey } from '../../src/protocol/signature.js';
import { snapshotTree } from '../helpers/cli.js';
import { storedZip, type StoredZipEntry } from '../helpers/stored-zip.js';

/**
 * The device side against hand-made stores: packages a publisher would never
 * produce (hostile entry names, symlinks), and store states between writes.
 */

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
const json = (document: unknown) => Buffer.from(`${JSON.stringify(document, null, 2)}\n`);
const INDEX = 'channels/production/index.json';

/** A store in memory: key → bytes. */
class MemoryStore implements UpdateSource {
  readonly location = 'memory';
  readonly objects = new Map<string, Buffer>();
  /** Documents served once before the stored one (a reader landing between two writes). */
  async readDocument(key: string) {
    return this.objects.get(key) ?? null;
  }
  async openObject(key: string) {
    const bytes = this.objects.get(key);
    return bytes ? Readable.from([bytes]) : null;
  }

  /**
   * Releases `version` of package "maps" with `files`; the full package is
   * `zip` when given (a crafted one), else made from the files. Signs the
   * manifest and the index when a signer is given.
   */
  release(version: string, files: Record<string, string>, options: { zip?: Buffer; signer?: SigningKey; delta?: { from: string; files: Record<string, string>; removed: string[] } } = {}) {
    const zip = options.zip ?? storedZip(Object.entries(files).map(([name, data]) => ({ name, data })));
    const prefix = `packages/maps/${version}`;
    const full = { key: `${prefix}/full.zip`, size: zip.length, sha256: sha256(zip) };
    this.objects.set(full.key, zip);
    const deltas = [];
    if (options.delta) {
      const deltaZip = storedZip(Object.entries(options.delta.files).map(([name, data]) => ({ name, data })));
      const delta = { from: options.delta.from, key: `${prefix}/delta-from-${options.delta.from}.zip`, size: deltaZip.length, sha256: sha256(deltaZip) };
      this.objects.set(delta.key, deltaZip);
      deltas.push({ ...delta, removed: options.delta.removed });
    }
    const manifest: Manifest = {
      schemaVersion: 1,
      id: 'maps',
      version,
      createdAt: new Date().toISOString(),
      contentSha256: 'not-checked-by-devices',
      files: Object.entries(files).map(([path, data]) => ({ path, size: Buffer.byteLength(data), sha256: sha256(data) })),
      full,
      deltas,
    };
    this.put(`${prefix}/manifest.json`, json(manifest), options.signer);
    const manifestBytes = this.objects.get(`${prefix}/manifest.json`)!;
    const current = this.objects.get(INDEX);
    const index: ChannelIndex = current ? JSON.parse(current.toString()) : { schemaVersion: 1, channel: 'production', updatedAt: '', packages: { maps: { releases: [] } } };
    index.version = (index.version ?? 0) + 1;
    index.packages.maps.releases.unshift({
      version,
      releasedAt: new Date().toISOString(),
      manifest: { key: `${prefix}/manifest.json`, sha256: sha256(manifestBytes) },
      full,
      deltas: deltas.map(({ removed: _removed, ...delta }) => delta),
      rules: { rollout: 100, mandatory: false },
      state: 'active',
    });
    this.put(INDEX, json(index), options.signer);
  }

  /** Stores a JSON document, carrying its own signature when a signer is given. */
  put(key: string, bytes: Buffer, signer?: SigningKey) {
    this.objects.set(key, signer ? json(signDocument(JSON.parse(bytes.toString()), signer)) : bytes);
  }
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'update-publish-fetch-client-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

let devices = 0;
/** A device folder path (not created) inside its own parent, so sibling listings are clean. */
const newDevice = async () => {
  const parent = join(root, `device-${++devices}`);
  await mkdir(parent);
  return join(parent, 'maps');
};
const fetchInto = (store: UpdateSource, intoDir: string, extra: Partial<Parameters<typeof fetchUpdate>[0]> = {}) =>
  fetchUpdate({ source: store, channel: 'production', package: 'maps', device: { deviceId: 'd1' }, intoDir, ...extra });
/** The device folder and everything beside it. */
const deviceState = async (dir: string) => ({ tree: await snapshotTree(dir), siblings: (await readdir(join(dir, '..'))).sort() });

describe('fetchUpdate path safety', () => {
  const hostile: [string, StoredZipEntry, RegExp][] = [
    ['a parent-folder entry', { name: '../escaped.txt', data: 'x' }, /invalid relative path|"\.\." segment/],
    ['an absolute entry', { name: '/tmp/absolute.txt', data: 'x' }, /absolute path/],
    ['a drive letter', { name: 'C:/windows.txt', data: 'x' }, /drive letter|absolute path/],
    ['a backslash', { name: 'sub\\evil.txt', data: 'x' }, /invalid characters|backslash/],
    ['a control character', { name: 'bell\u0007.txt', data: 'x' }, /control character/],
    ['a symbolic link', { name: 'link', data: '/etc/passwd', mode: 0o120777 }, /symbolic link/],
  ];

  it.each(hostile)('refuses %s and writes nothing', async (_what, entry, message) => {
    const store = new MemoryStore();
    // The manifest lists the hostile name too, so only path safety stands in the way.
    store.release('1.0.0', { 'ok.txt': 'fine', [entry.name]: String(entry.data) }, { zip: storedZip([{ name: 'ok.txt', data: 'fine' }, entry]) });
    const device = await newDevice();
    const error = await fetchInto(store, device).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect(error instanceof UnsafePathError || error instanceof IntegrityError).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect(await deviceState(device)).toEqual({ tree: {}, siblings: [] });
    await expect(readFile(join(root, 'escaped.txt'))).rejects.toThrow();
  });

  it('refuses an entry the manifest does not list, and one listed twice', async () => {
    for (const zip of [
      storedZip([{ name: 'ok.txt', data: 'fine' }, { name: 'extra.txt', data: 'surprise' }]),
      storedZip([{ name: 'ok.txt', data: 'fine' }, { name: 'ok.txt', data: 'fine' }]),
    ]) {
      const store = new MemoryStore();
      store.release('1.0.0', { 'ok.txt': 'fine' }, { zip });
      await expect(fetchInto(store, await newDevice())).rejects.toThrow(/which the manifest does not list|twice/);
    }
  });

  it('refuses a zip whose entry differs from the manifest, even with the right object SHA-256', async () => {
    const store = new MemoryStore();
    store.release('1.0.0', { 'ok.txt': 'fine' }, { zip: storedZip([{ name: 'ok.txt', data: 'FINE' }]) });
    await expect(fetchInto(store, await newDevice())).rejects.toThrow(/entry "ok.txt" does not match the manifest/);
  });
});

describe('fetchUpdate install folder', () => {
  it('applies a delta, removing files the new version no longer has', async () => {
    const store = new MemoryStore();
    store.release('1.0.0', { 'a.txt': 'a1', 'b.txt': 'b1', 'gone.txt': 'bye' });
    const device = await newDevice();
    expect(await fetchInto(store, device)).toMatchObject({ version: '1.0.0', kind: 'full' });
    store.release('1.0.1', { 'a.txt': 'a2', 'b.txt': 'b1', 'new/c.txt': 'c' }, { delta: { from: '1.0.0', files: { 'a.txt': 'a2', 'new/c.txt': 'c' }, removed: ['gone.txt'] } });
    expect(await fetchInto(store, device)).toMatchObject({ version: '1.0.1', kind: 'delta', previousVersion: '1.0.0' });
    expect(Object.keys(await snapshotTree(device)).sort()).toEqual(['.update-publish.json', 'a.txt', 'b.txt', 'new/c.txt']);
    expect(await readFile(join(device, 'a.txt'), 'utf8')).toBe('a2');
  });

  it('puts the previous tree back when a crash fell between the two renames', async () => {
    const store = new MemoryStore();
    store.release('1.0.0', { 'a.txt': 'a1' });
    const device = await newDevice();
    await fetchInto(store, device);
    const crashed = `${device}.update-publish-old-deadbeef`;
    await writeFile(join(device, '..', 'maps.update-publish-staging-abc123'), ''); // a crashed run's work folder
    await rename(device, crashed);
    expect(await fetchInto(store, device)).toMatchObject({ updated: false, reason: 'up-to-date', version: '1.0.0' });
    expect((await deviceState(device)).siblings).toEqual(['maps']);
  });

  it('refuses a folder holding another package', async () => {
    const store = new MemoryStore();
    store.release('1.0.0', { 'a.txt': 'a1' });
    const device = await newDevice();
    await mkdir(device);
    await writeFile(join(device, '.update-publish.json'), JSON.stringify({ package: 'levels', version: '1.0.0', channel: 'production' }));
    await expect(fetchInto(store, device)).rejects.toThrow(/holds package 'levels', not 'maps'/);
  });
});

describe('fetchUpdate revision 5 (PROTOCOL.md §10.2, §10.3)', () => {
  /** The store's index with its only release out of reach (a platform nobody sends), one version further on. */
  const servingNobody = (store: MemoryStore) => {
    const index = JSON.parse(store.objects.get(INDEX)!.toString()) as ChannelIndex;
    index.version = (index.version ?? 0) + 1;
    for (const release of index.packages.maps.releases) release.rules = { ...release.rules, platforms: ['nowhere'] };
    store.put(INDEX, json(index));
    return index;
  };

  it('remembers the channel with nothing installed (a trust-only marker), so an older index is refused next time', async () => {
    const store = new MemoryStore();
    store.release('1.0.0', { 'a.txt': 'a1' });
    const older = store.objects.get(INDEX)!;
    const newer = servingNobody(store);
    const device = await newDevice();
    expect(await fetchInto(store, device)).toMatchObject({ updated: false, version: null, reason: 'no-matching-release' });
    expect(JSON.parse(await readFile(join(device, '.update-publish.json'), 'utf8'))).toEqual({
      package: 'maps',
      version: null,
      channel: 'production',
      trust: { channel: 'production', indexVersion: newer.version, signed: false },
    });
    expect((await deviceState(device)).siblings).toEqual(['maps']);
    // A mirror serving the older index (which would install 1.0.0) is refused as a rollback.
    store.objects.set(INDEX, older);
    await expect(fetchInto(store, device)).rejects.toThrow(/rollback/);
    // The trust-only folder takes a real install once the channel serves the device.
    const current = JSON.parse(older.toString()) as ChannelIndex;
    current.version = newer.version! + 1;
    store.put(INDEX, json(current));
    expect(await fetchInto(store, device)).toMatchObject({ updated: true, version: '1.0.0', kind: 'full', previousVersion: null });
    expect(Object.keys(await snapshotTree(device)).sort()).toEqual(['.update-publish.json', 'a.txt']);
  });

  it('installs over content an app shipped in its binary when the app wrote the base marker', async () => {
    const store = new MemoryStore();
    store.release('1.0.1', { 'a.txt': 'a2', 'b.txt': 'b1' }, { delta: { from: '1.0.0', files: { 'a.txt': 'a2' }, removed: [] } });
    const device = await newDevice();
    await mkdir(device);
    await writeFile(join(device, 'a.txt'), 'a1');
    await writeFile(join(device, 'b.txt'), 'b1');
    await writeFile(join(device, '.update-publish.json'), JSON.stringify({ package: 'maps', version: '1.0.0+ios.45' }));
    expect(await fetchInto(store, device)).toMatchObject({ updated: true, version: '1.0.1', kind: 'delta', previousVersion: '1.0.0+ios.45', fallbacks: [] });
    expect(await readFile(join(device, 'a.txt'), 'utf8')).toBe('a2');
  });

  it('falls back to the full package when the file-level delta fails a check', async () => {
    const store = new MemoryStore();
    store.release('1.0.0', { 'a.txt': 'a1', 'b.txt': 'b1' });
    const device = await newDevice();
    await fetchInto(store, device);
    store.release('1.0.1', { 'a.txt': 'a2', 'b.txt': 'b1' }, { delta: { from: '1.0.0', files: { 'a.txt': 'a2' }, removed: [] } });
    const deltaKey = 'packages/maps/1.0.1/delta-from-1.0.0.zip';
    store.objects.set(deltaKey, Buffer.from('not the delta'));
    const result = await fetchInto(store, device);
    expect(result).toMatchObject({ updated: true, version: '1.0.1', kind: 'full' });
    expect(result.fallbacks).toEqual([{ key: deltaKey, problem: expect.stringMatching(/bytes but the manifest lists/) }]);
    expect(await readFile(join(device, 'a.txt'), 'utf8')).toBe('a2');
  });
});

describe('fetchUpdate signatures', () => {
  let signer: SigningKey;
  let trusted: Awaited<ReturnType<typeof loadPublicKey>>;
  beforeAll(async () => {
    const pair = generateSigningKeyPair();
    const key = createPrivateKey(pair.privateKeyPem);
    signer = { key, keyId: pair.keyId };
    trusted = await loadPublicKey(pair.publicKeyPem);
  });

  it("accepts a signed index as one object, and refuses one write's index under another write's signatures", async () => {
    const store = new MemoryStore();
    store.release('1.0.0', { 'a.txt': 'a1' }, { signer });
    const previousSignatures = JSON.parse(store.objects.get(INDEX)!.toString()).signatures;
    store.release('1.0.1', { 'a.txt': 'a2' }, { signer });
    expect(await fetchInto(store, await newDevice(), { publicKeys: [trusted.key] })).toMatchObject({ version: '1.0.1' });
    store.objects.set(INDEX, json({ ...JSON.parse(store.objects.get(INDEX)!.toString()), signatures: previousSignatures }));
    const device = await newDevice();
    await expect(fetchInto(store, device, { publicKeys: [trusted.key] })).rejects.toThrow(/index\.json: signature by key [0-9a-f]{16} does not match the content/);
    expect(await deviceState(device)).toEqual({ tree: {}, siblings: [] });
  });

  it('refuses a manifest with its signatures stripped under a signed index (the index binds the signed bytes)', async () => {
    const store = new MemoryStore();
    store.release('1.0.0', { 'a.txt': 'a1' }, { signer });
    const key = 'packages/maps/1.0.0/manifest.json';
    const { signatures: _signatures, ...unsigned } = JSON.parse(store.objects.get(key)!.toString());
    store.objects.set(key, json(unsigned));
    const device = await newDevice();
    await expect(fetchInto(store, device, { publicKeys: [trusted.key] })).rejects.toThrow(/manifest\.json: SHA-256 is [0-9a-f]{64} but the channel index lists/);
    expect(await deviceState(device)).toEqual({ tree: {}, siblings: [] });
  });

  it('refuses an unsigned index when a key is trusted', async () => {
    const store = new MemoryStore();
    store.release('1.0.0', { 'a.txt': 'a1' });
    await expect(fetchInto(store, await newDevice(), { publicKeys: [trusted.key] })).rejects.toThrow(/index\.json: carries no signature although a public key is trusted/);
  });
});

describe('httpSource', () => {
  it('only requests plain relative keys under the base URL', async () => {
    const source = httpSource('http://127.0.0.1:9/updates');
    for (const key of ['../secrets.json', 'http://evil.example/x', '/etc/passwd', 'a//b']) {
      await expect(source.readDocument(key)).rejects.toBeInstanceOf(IntegrityError);
    }
    expect(() => httpSource('ftp://example.com/')).toThrow(/not an http\(s\) URL/);
    expect(httpSource('https://user:pass@cdn.example.com/u').location).toBe('https://cdn.example.com/u/');
  });
});
