import { createPrivateKey } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/hash.js';
import { generateSigningKeyPair } from '../../src/keys/signing-keys.js';
import { keyObjectSigner } from '../../src/keys/signers.js';
import { checkDocumentSignature } from '../../src/protocol/document-signature.js';
import { IMMUTABLE_CACHE, MUTABLE_CACHE } from '../../src/protocol/layout.js';
import { trustedKeyOf, type SigningKey } from '../../src/protocol/signature.js';
import { createFolderStore } from '../../src/store/folder-store.js';
import { signingStore, UnsignedDocumentError } from '../../src/store/signing-store.js';
import type { Store } from '../../src/store/store.js';

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
  const one = keyObjectSigner(signer.key, 'test key');
  store = signingStore(inner, async () => ({ signers: [one], threshold: 1, trust: { keys: [one.trusted], threshold: 1 } }));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** The stored document, parsed, and whether its own signatures verify with the publisher's key. */
async function stored(key: string): Promise<{ document: Record<string, unknown>; signed: boolean }> {
  const document = JSON.parse((await inner.readDocument(key))!.body.toString('utf8'));
  return { document, signed: checkDocumentSignature(document, [trustedKeyOf(signer.key)]).ok };
}

describe('signingStore', () => {
  it('signs JSON documents inside them, in the same write, and nothing else; no detached .sig exists', async () => {
    const index = body('v1');
    const written = await store.writeDocument(INDEX, index, { ...options(index, MUTABLE_CACHE), ifNoneMatch: true });
    expect(await stored(INDEX)).toEqual({ document: { text: 'v1', signatures: [{ keyid: signer.keyId, alg: 'ed25519', sig: expect.any(String) }] }, signed: true });
    // The bytes stored are reported, so a release can list their SHA-256.
    expect(written!.stored!.equals((await inner.readDocument(INDEX))!.body)).toBe(true);
    const text = Buffer.from('plain');
    await store.writeDocument('notes.txt', text, options(text, MUTABLE_CACHE));
    expect((await inner.readDocument('notes.txt'))!.body.equals(text)).toBe(true);
    expect((await inner.list('')).map((object) => object.key).filter((key) => key.endsWith('.sig'))).toEqual([]);
  });

  it('stores nothing when a conditional write loses', async () => {
    const first = body('first');
    const etag = (await store.writeDocument(INDEX, first, options(first, MUTABLE_CACHE)))!.etag;
    const second = body('second');
    expect(await store.writeDocument(INDEX, second, { ...options(second, MUTABLE_CACHE), ifMatch: `${etag}-stale` })).toBeNull();
    expect(await stored(INDEX)).toMatchObject({ document: { text: 'first' }, signed: true });
  });

  it('refuses to hand out a mutable document its signature does not vouch for, naming what to check and keys resign', async () => {
    const index = body('v1');
    await store.writeDocument(INDEX, index, { ...options(index, MUTABLE_CACHE), ifNoneMatch: true });
    // Changed in the bucket, outside update-publish: an update must not sign it into trust.
    const { document } = await stored(INDEX);
    const tampered = Buffer.from(JSON.stringify({ ...document, text: 'v1, mandatory' }));
    await inner.writeDocument(INDEX, tampered, options(tampered, MUTABLE_CACHE));
    const error = await store.readDocument(INDEX).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnsignedDocumentError);
    expect((error as Error).message).toMatch(
      /^channels\/production\/index\.json signature by key [0-9a-f]{16} does not match the content: the document was altered: it was changed outside update-publish, .*'update-publish keys resign'/,
    );
    // It carries what was read, so `keys resign` can sign exactly that once a person checked it.
    expect((error as UnsignedDocumentError).stored.body.equals(tampered)).toBe(true);
    const unsigned = Buffer.from(JSON.stringify({ text: 'never signed' }));
    await inner.writeDocument(INDEX, unsigned, options(unsigned, MUTABLE_CACHE));
    await expect(store.readDocument(INDEX)).rejects.toThrow(/index\.json carries no signature: /);
  });

  it('hands out package documents unchecked: they are immutable and bound by their SHA-256 in the index', async () => {
    const manifest = body('manifest');
    await inner.writeDocument(MANIFEST, manifest, options(manifest, IMMUTABLE_CACHE));
    expect((await store.readDocument(MANIFEST))!.body.equals(manifest)).toBe(true);
  });

  it('refuses to write when the key cannot be read', async () => {
    const failing = signingStore(inner, async () => {
      throw new Error('no key');
    });
    const index = body('v1');
    await expect(failing.writeDocument(INDEX, index, options(index, MUTABLE_CACHE))).rejects.toThrow('no key');
    expect(await inner.head(INDEX)).toBeNull();
  });
});
