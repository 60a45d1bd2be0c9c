import { createPublicKey } from 'node:crypto';
import { sha256Hex } from '../pack/hash.js';
import { MUTABLE_CACHE } from '../store/layout.js';
import type { Store } from '../store/store.js';
import type { SigningKey } from './keys.js';
import { signatureKey, signBytes, verifyBytes } from './signature.js';

/** Documents devices must be able to trust: manifests and channel indexes. */
const isSignedDocument = (key: string) => key.endsWith('.json');

/** Read-back rounds after an index write; one suffices unless writers keep racing. */
const SETTLE_ROUNDS = 3;

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
 * A crash between the two writes leaves a document devices refuse until the
 * next write signs it (fail closed); `verify` reports it meanwhile.
 */
export function signingStore(store: Store, signer: () => Promise<SigningKey>): Store {
  const writeSignature = async (key: string, body: Buffer, cacheControl: string) => {
    const signature = signBytes(body, await signer());
    await store.writeDocument(signatureKey(key), signature, {
      contentType: 'application/json',
      cacheControl,
      sha256: sha256Hex(signature),
    });
  };

  const hasValidSignature = async (key: string, body: Buffer) => {
    const signature = await store.readDocument(signatureKey(key));
    return signature !== null && verifyBytes(body, signature.body, [createPublicKey((await signer()).key)]).ok;
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
      await writeSignature(key, current.body, MUTABLE_CACHE);
    }
  };

  // Everything but document writes and deletes passes straight through.
  return {
    ...store,

    async writeDocument(key, body, options) {
      if (!isSignedDocument(key)) return store.writeDocument(key, body, options);
      await signer(); // an unreadable key fails before the document changes
      const written = await store.writeDocument(key, body, options);
      if (written) {
        await writeSignature(key, body, options.cacheControl);
        if (options.cacheControl === MUTABLE_CACHE) await settle(key);
      } else if (options.ifNoneMatch) {
        // A create-only write found the same bytes: a resumed run whose first
        // attempt may have stopped before signing them. Identical bytes are
        // exactly what this write meant to sign.
        const existing = await store.readDocument(key);
        if (existing?.body.equals(body) && !(await hasValidSignature(key, body))) {
          await writeSignature(key, body, options.cacheControl);
        }
      }
      return written;
    },

    // A signature goes with its document (a listing-based caller may name both: delete each once).
    delete: (keys) => store.delete([...new Set(keys.flatMap((key) => (isSignedDocument(key) ? [key, signatureKey(key)] : [key])))]),
  };
}
