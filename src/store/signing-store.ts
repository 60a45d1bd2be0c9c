import { parseDocumentJson } from '../protocol/document-json.js';
import { StoreError } from '../errors.js';
import { sha256Hex } from '../hash.js';
import { checkDocumentTrust } from '../protocol/document-signature.js';
import { packagesPrefix } from '../protocol/layout.js';
import { ROOT_PREFIX } from '../protocol/root.js';
import { serializeDocument } from '../protocol/manifest.js';
import { signWithAll, type SignerSet } from '../keys/signers.js';
import type { Store, StoredDocument } from './store.js';

/** Every JSON document written is signed (its signatures inside it; see protocol/document-signature.ts); roots carry their root keys' signatures. */
const isSignedDocument = (key: string) => key.endsWith('.json') && !key.startsWith(ROOT_PREFIX);

/**
 * Mutable documents a publisher builds on (channel index, archive, history,
 * whitelists): read back only when they carry this publisher's signature.
 * Package documents are immutable and bound by their SHA-256 in the index.
 */
const isVerifiedOnRead = (key: string) => isSignedDocument(key) && !key.startsWith(packagesPrefix);

/**
 * A stored document that does not carry a valid signature of this publisher:
 * changed outside update-publish, signed with another key, or written before
 * signing was turned on. Carries what was read, so `keys resign` can sign it.
 */
export class UnsignedDocumentError extends StoreError {
  constructor(
    readonly key: string,
    readonly problem: string,
    readonly stored: StoredDocument,
  ) {
    super(
      `${key} ${problem}: it was changed outside update-publish, signed with another key, or written before signing was turned on; restore it if it was altered, else sign it again with 'update-publish keys resign' (--public-key OLD.pem after a key rotation)`,
    );
    this.name = 'UnsignedDocumentError';
  }
}

/** The body signed by every key of the set: a JSON object gets its `signatures`; anything else is stored as it is. */
async function signedBody(body: Buffer, signers: SignerSet): Promise<Buffer> {
  let document: unknown;
  try {
    document = JSON.parse(body.toString('utf8'));
  } catch {
    return body;
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return body;
  return serializeDocument(await signWithAll(document, signers));
}

/**
 * Signs every JSON document written through the store, whatever command
 * writes it, inside the document itself: the signed bytes land in one write,
 * conditional or create-only as the caller asked, so no reader ever sees a
 * document without its signature. Mutable documents are read back only when
 * their signature is this publisher's: an update never vouches for bytes
 * changed outside update-publish.
 */
export function signingStore(store: Store, signer: () => Promise<SignerSet>): Store {
  const problemOf = async (stored: StoredDocument): Promise<string | undefined> => {
    let document: unknown;
    try {
      document = parseDocumentJson(stored.body);
    } catch (error) {
      return `is not valid JSON (${(error as Error).message})`;
    }
    const check = checkDocumentTrust(document, (await signer()).trust);
    return check.ok ? undefined : check.message;
  };

  return {
    ...store,

    async readDocument(key) {
      const stored = await store.readDocument(key);
      if (!stored || !isVerifiedOnRead(key)) return stored;
      const problem = await problemOf(stored);
      if (problem) throw new UnsignedDocumentError(key, problem, stored);
      return stored;
    },

    async writeDocument(key, body, options) {
      if (!isSignedDocument(key)) return store.writeDocument(key, body, options);
      const signed = await signedBody(body, await signer());
      const written = await store.writeDocument(key, signed, { ...options, sha256: sha256Hex(signed) });
      return written && { ...written, stored: signed };
    },
  };
}
