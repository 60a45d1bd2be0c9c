import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import { canonicalBytes, keyIdOfSpki, trustedKeyFromSpki, withSignatures, type TrustedKey } from './document-signature.js';

/** A key with the id written next to every signature it makes, so verifiers can pick the right public key. */
export interface SigningKey {
  key: KeyObject;
  keyId: string;
}

/** File names `keys generate` writes: apps ship the public one. */
export const PRIVATE_KEY_FILE = 'signing-private.pem';
export const PUBLIC_KEY_FILE = 'signing-public.pem';

const spkiOf = (key: KeyObject) => (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' });

/** First 16 hex of SHA-256 over the DER SubjectPublicKeyInfo: stable whatever the PEM line wrapping. */
export function keyIdOf(key: KeyObject): string {
  return keyIdOfSpki(spkiOf(key));
}

/** The trusted-key form (raw Ed25519 bytes and id) of a Node key, public or private. */
export function trustedKeyOf(key: KeyObject): TrustedKey {
  return trustedKeyFromSpki(spkiOf(key));
}

/** The document signed by `signer`: any earlier signatures are replaced (a publisher vouches alone). */
export function signDocument<T extends object>(document: T, signer: SigningKey) {
  const sig = sign(null, canonicalBytes(document), signer.key).toString('base64');
  return withSignatures(document, [{ keyid: signer.keyId, sig }]);
}
