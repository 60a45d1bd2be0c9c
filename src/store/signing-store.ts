import { createPublicKey } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError } from '../errors.js';
import { sha256Hex } from '../hash.js';
import { MUTABLE_CACHE } from '../protocol/layout.js';
import type { Store } from './store.js';
import { signatureKey, signBytes, verifyBytes, type SigningKey } from '../protocol/signature.js';

/** Documents devices must be able to trust (manifests, channel indexes) and every other JSON document beside them. */
const isSignedDocument = (key: string) => key.endsWith('.json');

/** Read-back rounds after an index write; one suffices unless writers keep racing. */
const SETTLE_ROUNDS = 3;
/** Between another writer's document and its signature: re-read once after this long. */
const SIGNER_SETTLE_MS = 500;

/** Writes `<key>.sig` over `body`. */
async function writeSignature(store: Store, key: string, body: Buffer, signer: SigningKey, cacheControl: string): Promise<void> {
  const signature = signBytes(body, signer);
  await store.writeDocument(signatureKey(key), signature, { contentType: 'application/json', cacheControl, sha256: sha256Hex(signature) });
}

/** Why the stored signature of `key` does not vouch for `body` as signed by `signer`, or undefined when it does. */
export async function signatureProblem(store: Store, key: string, body: Buffer, signer: SigningKey): Promise<string | undefined> {
  const signature = await store.readDocument(signatureKey(key));
  if (!signature) return 'has no signature';
  const verified = verifyBytes(body, signature.body, [createPublicKey(signer.key)]);
  return verified.ok ? undefined : `is not signed by this publisher's key (${verified.message})`;
}

/** The signed documents among `keys` whose stored signature is missing or not this publisher's. */
export async function unsignedDocuments(store: Store, keys: string[], signer: SigningKey): Promise<string[]> {
  const unsigned: string[] = [];
  for (const key of keys.filter(isSignedDocument)) {
    const current = await store.readDocument(key);
    if (current && (await signatureProblem(store, key, current.body, signer))) unsigned.push(key);
  }
  return unsigned;
}

/**
 * Signs the documents as they are stored, once a person has checked them
 * (after a key rotation, or a run stopped between a document and its signature).
 */
export async function signAsStored(store: Store, keys: string[], signer: SigningKey): Promise<void> {
  for (const key of keys) {
    const current = await store.readDocument(key);
    if (current) await writeSignature(store, key, current.body, signer, MUTABLE_CACHE);
  }
}

/**
 * Signs every JSON document written through the store (manifests, channel
 * indexes), whatever command writes it, by writing `<key>.sig` over the exact
 * bytes stored.
 *
 * Order: the document first, then its signature. The document write is the
 * one that may be conditional (create-only manifest, compare-and-swap index),
 * so a signature is only ever written for bytes that really landed. Devices
 * can still read a new index with the previous signature (or the reverse) in
 * the moment between the two writes: they re-read both once on a mismatch.
 * A crash between the two writes leaves a document devices refuse, and that
 * publishers refuse to build on, until a person checks it and signs it with
 * `keys resign` (fail closed); `verify` reports it meanwhile.
 */
export function signingStore(store: Store, signer: () => Promise<SigningKey>): Store {
  const sign = async (key: string, body: Buffer, cacheControl: string) => writeSignature(store, key, body, await signer(), cacheControl);

  const hasValidSignature = async (key: string, body: Buffer) => (await signatureProblem(store, key, body, await signer())) === undefined;

  /**
   * An update builds on the stored document and signs the result, so what it
   * builds on must carry a valid signature of ours: else the update would vouch
   * for bytes changed outside update-publish. A writer caught between its
   * document and its signature is waited for once.
   */
  const assertSignedBase = async (key: string, etag: string) => {
    for (let attempt = 1; ; attempt++) {
      const current = await store.readDocument(key);
      // Changed since it was read: the conditional write loses and the update starts again.
      if (!current || current.etag !== etag) return;
      const problem = await signatureProblem(store, key, current.body, await signer());
      if (!problem) return;
      if (attempt === 2) {
        throw new StoreError(
          `${key} ${problem}: it was changed outside update-publish, or a run stopped between writing and signing it; check it (update-publish status, verify --public-key), then sign what is stored with 'update-publish keys resign', or restore it`,
        );
      }
      await sleep(SIGNER_SETTLE_MS);
    }
  };

  /**
   * Two publishers updating an index can interleave (A index, B index,
   * B signature, A signature) and leave B's index under A's signature. Read
   * back until the stored pair verifies. Re-signing the stored index extends
   * no new trust: updateIndex already builds every change on the stored index.
   */
  const settle = async (key: string) => {
    for (let round = 0; round < SETTLE_ROUNDS; round++) {
      const current = await store.readDocument(key);
      if (!current || (await hasValidSignature(key, current.body))) return;
      await sign(key, current.body, MUTABLE_CACHE);
    }
  };

  // Everything but document writes and deletes passes straight through.
  return {
    ...store,

    async writeDocument(key, body, options) {
      if (!isSignedDocument(key)) return store.writeDocument(key, body, options);
      await signer(); // an unreadable key fails before the document changes
      if (options.ifMatch !== undefined) await assertSignedBase(key, options.ifMatch);
      const written = await store.writeDocument(key, body, options);
      if (written) {
        await sign(key, body, options.cacheControl);
        if (options.cacheControl === MUTABLE_CACHE) await settle(key);
      } else if (options.ifNoneMatch) {
        // A create-only write found the same bytes: a resumed run whose first
        // attempt may have stopped before signing them. Identical bytes are
        // exactly what this write meant to sign.
        const existing = await store.readDocument(key);
        if (existing?.body.equals(body) && !(await hasValidSignature(key, body))) {
          await sign(key, body, options.cacheControl);
        }
      }
      return written;
    },

    // A signature goes with its document (a listing-based caller may name both: delete each once).
    delete: (keys) => store.delete([...new Set(keys.flatMap((key) => (isSignedDocument(key) ? [key, signatureKey(key)] : [key])))]),
  };
}
