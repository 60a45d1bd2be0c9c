import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/hash.js';
import { createFolderStore } from '../../src/store/folder-store.js';
import { IMMUTABLE_CACHE, MUTABLE_CACHE } from '../../src/protocol/layout.js';
import type { Store } from '../../src/store/store.js';
import { generateSigningKeyPair } from '../../src/keys/signing-keys.js';
import { signatureKey, verifyBytes, type SigningKey } from '../../src/protocol/signature.js';
import { signAsStored, signingStore, unsignedDocuments } from '../../src/store/signing-store.js';

const INDEX = 'channels/production/index.json';
const MANIFEST = 'packages/maps/1.0.0/manifest.json';
const body = (text: string) => Buffer.from(`${JSON.stringify({ text })}\n`);
const options = (bytes: Buffer, cacheControl: string) => ({ contentType: 'application/json', cacheControl, sha256: sha256Hex(bytes) });

let root: string;
let inner: Store;
let signer: SigningKey;
let store: Store;

beforeAll(async () => {
  const pair = generateSigningKeyPair();
  signer = { key: createPrivateKey(pair.privateKeyPem), keyId: pair.keyId };
  root = await mkdtemp(join(tmpdir(), 'update-publish-signing-'));
});
beforeEach(async () => {
  inner = createFolderStore(await mkdtemp(join(root, 'store-')));
  store = signingStore(inner, async () => signer);
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** Does the stored `<key>.sig` sign exactly the stored `<key>`? */
async function signedPair(key: string): Promise<boolean> {
  const document = await inner.readDocument(key);
  const signature = await inner.readDocument(signatureKey(key));
  return Boolean(document && signature && verifyBytes(document.body, signature.body, [createPublicKey(signer.key)]).ok);
}

describe('signingStore', () => {
  it('signs JSON documents after writing them, and nothing else', async () => {
    const index = body('v1');
    await store.writeDocument(INDEX, index, { ...options(index, MUTABLE_CACHE), ifNoneMatch: true });
    expect(await signedPair(INDEX)).toBe(true);
    const text = Buffer.from('plain');
    await store.writeDocument('notes.txt', text, options(text, MUTABLE_CACHE));
    expect(await inner.head('notes.txt.sig')).toBeNull();
  });

  it('writes no signature when a conditional write loses', async () => {
    const first = body('first');
    const etag = (await store.writeDocument(INDEX, first, options(first, MUTABLE_CACHE)))!.etag;
    const second = body('second');
    expect(await store.writeDocument(INDEX, second, { ...options(second, MUTABLE_CACHE), ifMatch: `${etag}-stale` })).toBeNull();
    expect((await inner.readDocument(INDEX))!.body.equals(first)).toBe(true);
    expect(await signedPair(INDEX)).toBe(true);
  });

  it('re-signs the stored index when another writer interleaved between the index and its signature', async () => {
    // Writer B lands its index after ours and before our signature; its own signature write comes "later" (never, here).
    const theirs = body('theirs');
    let interleaved = false;
    const racing: Store = {
      ...inner,
      async writeDocument(key, bytes, writeOptions) {
        if (key === signatureKey(INDEX) && !interleaved) {
          interleaved = true;
          await inner.writeDocument(INDEX, theirs, options(theirs, MUTABLE_CACHE));
        }
        return inner.writeDocument(key, bytes, writeOptions);
      },
    };
    const ours = body('ours');
    await signingStore(racing, async () => signer).writeDocument(INDEX, ours, options(ours, MUTABLE_CACHE));
    expect((await inner.readDocument(INDEX))!.body.equals(theirs)).toBe(true);
    expect(await signedPair(INDEX)).toBe(true);
  });

  it('refuses to build on a stored document its signature does not vouch for, and signs nothing', async () => {
    const index = body('v1');
    await store.writeDocument(INDEX, index, { ...options(index, MUTABLE_CACHE), ifNoneMatch: true });
    // Changed in the bucket, outside update-publish: an update must not sign it into trust.
    const tampered = body('v1, mandatory');
    await inner.writeDocument(INDEX, tampered, options(tampered, MUTABLE_CACHE));
    const signatureBefore = (await inner.readDocument(signatureKey(INDEX)))!.body;
    const next = body('v2');
    const etag = (await inner.readDocument(INDEX))!.etag;
    await expect(store.writeDocument(INDEX, next, { ...options(next, MUTABLE_CACHE), ifMatch: etag })).rejects.toThrow(
      /^channels\/production\/index\.json is not signed by this publisher's key \(signature by key [0-9a-f]{16} does not match the content.*\): it was changed outside update-publish, or a run stopped between writing and signing it; .* 'update-publish keys resign'/,
    );
    expect((await inner.readDocument(INDEX))!.body.equals(tampered)).toBe(true);
    expect((await inner.readDocument(signatureKey(INDEX)))!.body.equals(signatureBefore)).toBe(true);

    // Once a person has checked it, it is signed as stored, and updates build on it again.
    expect(await unsignedDocuments(inner, [INDEX, MANIFEST], signer)).toEqual([INDEX]);
    await signAsStored(inner, [INDEX], signer);
    expect(await unsignedDocuments(inner, [INDEX], signer)).toEqual([]);
    expect(await store.writeDocument(INDEX, next, { ...options(next, MUTABLE_CACHE), ifMatch: etag })).not.toBeNull();
    expect(await signedPair(INDEX)).toBe(true);
  });

  it('builds on a document whose writer is between it and its signature, once the signature lands', async () => {
    const theirs = body('theirs');
    const { etag } = (await inner.writeDocument(INDEX, theirs, options(theirs, MUTABLE_CACHE)))!;
    const late = setTimeout(() => void signingStore(inner, async () => signer).writeDocument(INDEX, theirs, options(theirs, MUTABLE_CACHE)), 100);
    try {
      const ours = body('ours');
      expect(await store.writeDocument(INDEX, ours, { ...options(ours, MUTABLE_CACHE), ifMatch: etag })).not.toBeNull();
      expect(await signedPair(INDEX)).toBe(true);
    } finally {
      clearTimeout(late);
    }
  });

  it('signs an identical create-only document left unsigned by an interrupted run, but not different bytes', async () => {
    const manifest = body('manifest');
    await inner.writeDocument(MANIFEST, manifest, options(manifest, IMMUTABLE_CACHE));
    const other = body('another manifest');
    expect(await store.writeDocument(MANIFEST, other, { ...options(other, IMMUTABLE_CACHE), ifNoneMatch: true })).toBeNull();
    expect(await inner.head(signatureKey(MANIFEST))).toBeNull();
    expect(await store.writeDocument(MANIFEST, manifest, { ...options(manifest, IMMUTABLE_CACHE), ifNoneMatch: true })).toBeNull();
    expect(await signedPair(MANIFEST)).toBe(true);
  });

  it('refuses to write when the key cannot be read, and deletes signatures with their documents', async () => {
    const failing = signingStore(inner, async () => {
      throw new Error('no key');
    });
    const index = body('v1');
    await expect(failing.writeDocument(INDEX, index, options(index, MUTABLE_CACHE))).rejects.toThrow('no key');
    expect(await inner.head(INDEX)).toBeNull();

    await store.writeDocument(INDEX, index, options(index, MUTABLE_CACHE));
    await store.delete([INDEX, signatureKey(INDEX)]);
    expect(await inner.list('channels/')).toEqual([]);
  });
});
