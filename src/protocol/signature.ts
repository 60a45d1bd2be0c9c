import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';

/** A key with the id written next to every signature it makes, so verifiers can pick the right public key. */
export interface SigningKey {
  key: KeyObject;
  keyId: string;
}

/** File names `keys generate` writes: apps ship the public one. */
export const PRIVATE_KEY_FILE = 'signing-private.pem';
export const PUBLIC_KEY_FILE = 'signing-public.pem';

/** First 16 hex of SHA-256 over the DER SubjectPublicKeyInfo: stable whatever the PEM line wrapping. */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

/**
 * Detached signatures: the document at `<key>.sig` signs the exact bytes
 * stored at `<key>`, so verifiers never re-serialise JSON before checking.
 */
export const SIGNATURE_ALGORITHM = 'ed25519';

export const signatureKey = (key: string) => `${key}.sig`;

const signatureDocumentSchema = z.object({
  algorithm: z.literal(SIGNATURE_ALGORITHM),
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  signature: z.base64(),
});

export type SignatureDocument = z.infer<typeof signatureDocumentSchema>;

export type VerifyResult =
  | { ok: true; keyId: string }
  | { ok: false; reason: 'malformed' | 'unknown-key' | 'bad-signature'; message: string; keyId?: string };

/** The `.sig` document bytes for `bytes`. */
export function signBytes(bytes: Uint8Array, signer: SigningKey): Buffer {
  const document: SignatureDocument = {
    algorithm: SIGNATURE_ALGORITHM,
    keyId: signer.keyId,
    signature: sign(null, bytes, signer.key).toString('base64'),
  };
  return Buffer.from(`${JSON.stringify(document, null, 2)}\n`);
}

/** Checks `bytes` against a `.sig` document, trusting only `publicKeys` (several during a key rotation). */
export function verifyBytes(bytes: Uint8Array, sigDocBytes: Uint8Array, publicKeys: readonly KeyObject[]): VerifyResult {
  const document = parseSignatureDocument(sigDocBytes);
  if (!document) {
    return {
      ok: false,
      reason: 'malformed',
      message: `signature document is not {"algorithm":"${SIGNATURE_ALGORITHM}","keyId","signature"}`,
    };
  }
  const trusted = publicKeys.find((key) => keyIdOf(key) === document.keyId);
  if (!trusted) {
    const known = publicKeys.map(keyIdOf).join(', ') || 'none';
    return {
      ok: false,
      reason: 'unknown-key',
      keyId: document.keyId,
      message: `signed with key ${document.keyId}, which is not a trusted key (trusted: ${known})`,
    };
  }
  if (!verify(null, bytes, trusted, Buffer.from(document.signature, 'base64'))) {
    return {
      ok: false,
      reason: 'bad-signature',
      keyId: document.keyId,
      message: `signature by key ${document.keyId} does not match the content: the object was altered or the signature belongs to another object`,
    };
  }
  return { ok: true, keyId: document.keyId };
}

function parseSignatureDocument(bytes: Uint8Array): SignatureDocument | undefined {
  try {
    const parsed = signatureDocumentSchema.safeParse(JSON.parse(Buffer.from(bytes).toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
