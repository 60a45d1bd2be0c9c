import * as ed25519 from '@noble/ed25519';
import { p256 } from '@noble/curves/nist.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import canonicalize from 'canonicalize';

/**
 * Signatures inside the documents devices read (channel index, manifest,
 * whitelist meta and shards, archive, history): one object carries its own
 * signatures, so a reader can never pair a document with another one's
 * signature, and nothing has to be read atomically with anything else.
 *
 *   { ...the document's fields..., "signatures": [ { "keyid": "<16 hex>", "alg": "ed25519", "sig": "<base64>" } ] }
 *
 * A signature is over the UTF-8 bytes of the document's canonical JSON (RFC
 * 8785, JCS) with the `signatures` member left out, by the algorithm it names
 * (`alg`; absent: Ed25519, as written before signatures named it): Ed25519, or
 * ECDSA P-256 with SHA-256 (DER-encoded), the signature KMS and HSMs make. Pure
 * JavaScript (no Node APIs): apps and edge functions check documents with the
 * same code.
 */
export const SIGNATURES_FIELD = 'signatures';

/** The signature algorithms devices verify; a key has one, and a signature by it names it. */
export const SIGNATURE_ALGORITHMS = ['ed25519', 'ecdsa-p256-sha256'] as const;
export type SignatureAlgorithm = (typeof SIGNATURE_ALGORITHMS)[number];

export interface DocumentSignature {
  /** First 16 hex digits of SHA-256 over the signing key's DER SubjectPublicKeyInfo. */
  keyid: string;
  /** The algorithm; absent in signatures written before it was named (Ed25519). */
  alg?: SignatureAlgorithm;
  /** Base64 signature over canonicalBytes(document): Ed25519's 64 bytes, or ECDSA's DER. */
  sig: string;
}

/** A public key devices trust: its id, algorithm and raw key (Ed25519: 32 bytes; P-256: the 65-byte uncompressed point). */
export interface TrustedKey {
  keyId: string;
  publicKey: Uint8Array;
  /** Absent: Ed25519. */
  algorithm?: SignatureAlgorithm;
}

/**
 * What a document must carry to be trusted: valid signatures by at least
 * `threshold` distinct keys of `keys` (a root's signing role, or the keys a
 * device was given, threshold 1).
 */
export interface Trust {
  keys: readonly TrustedKey[];
  threshold: number;
}

export type SignatureCheck =
  | { ok: true; keyId: string }
  | { ok: false; reason: 'unsigned' | 'malformed' | 'unknown-key' | 'bad-signature' | 'under-threshold'; message: string };

// @noble/ed25519 takes its SHA-512 from the caller; the pure one keeps this module free of Node APIs.
ed25519.hashes.sha512 = sha512 as typeof ed25519.hashes.sha512;

/** DER SubjectPublicKeyInfo of an Ed25519 key is this fixed prefix, then the 32 key bytes. */
const ED25519_SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);
/** DER SubjectPublicKeyInfo of a P-256 key (id-ecPublicKey, prime256v1), then the 65-byte uncompressed point. */
const P256_SPKI_PREFIX = Uint8Array.from([
  0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
]);
const KEY_ID = /^[0-9a-f]{16}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const hex = (bytes: Uint8Array) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (char) => char.charCodeAt(0));

/** The key id: first 16 hex of SHA-256 over the DER SubjectPublicKeyInfo (stable whatever the PEM wrapping). */
export function keyIdOfSpki(spkiDer: Uint8Array): string {
  return hex(sha256(spkiDer)).slice(0, 16);
}

const hasPrefix = (der: Uint8Array, prefix: Uint8Array, keyLength: number) => der.length === prefix.length + keyLength && prefix.every((byte, i) => der[i] === byte);

/** A trusted key from its DER SubjectPublicKeyInfo; throws on anything but Ed25519 and uncompressed P-256. */
export function trustedKeyFromSpki(spkiDer: Uint8Array): TrustedKey {
  if (hasPrefix(spkiDer, ED25519_SPKI_PREFIX, 32)) return { keyId: keyIdOfSpki(spkiDer), publicKey: spkiDer.slice(ED25519_SPKI_PREFIX.length) };
  if (hasPrefix(spkiDer, P256_SPKI_PREFIX, 65) && spkiDer[P256_SPKI_PREFIX.length] === 0x04) {
    return { keyId: keyIdOfSpki(spkiDer), publicKey: spkiDer.slice(P256_SPKI_PREFIX.length), algorithm: 'ecdsa-p256-sha256' };
  }
  throw new Error('not an Ed25519 or ECDSA P-256 public key (SubjectPublicKeyInfo)');
}

/** The DER SubjectPublicKeyInfo of a trusted key (what its id is computed over). */
export function spkiOfTrustedKey(key: TrustedKey): Uint8Array {
  const prefix = algorithmOf(key) === 'ed25519' ? ED25519_SPKI_PREFIX : P256_SPKI_PREFIX;
  const der = new Uint8Array(prefix.length + key.publicKey.length);
  der.set(prefix);
  der.set(key.publicKey, prefix.length);
  return der;
}

export const algorithmOf = (key: TrustedKey): SignatureAlgorithm => key.algorithm ?? 'ed25519';

/** A trusted key from the PEM text `keys generate` writes (signing-public.pem). */
export function trustedKeyFromPem(pem: string): TrustedKey {
  const body = /-----BEGIN PUBLIC KEY-----([\s\S]*?)-----END PUBLIC KEY-----/.exec(pem)?.[1];
  if (!body) throw new Error('not a PEM public key (-----BEGIN PUBLIC KEY-----)');
  return trustedKeyFromSpki(fromBase64(body.replace(/\s+/g, '')));
}

/** The bytes a document's signatures cover: its canonical JSON (RFC 8785) without `signatures`. */
export function canonicalBytes(document: object): Uint8Array {
  return new TextEncoder().encode(canonicalize(withoutSignatures(document)) ?? '');
}

export function withoutSignatures<T extends object>(document: T): Omit<T, 'signatures'> {
  const { [SIGNATURES_FIELD]: _signatures, ...rest } = document as T & { signatures?: unknown };
  return rest;
}

/** The document with exactly these signatures (its fields first, signatures last). */
export function withSignatures<T extends object>(document: T, signatures: DocumentSignature[]): Omit<T, 'signatures'> & { signatures: DocumentSignature[] } {
  return { ...withoutSignatures(document), [SIGNATURES_FIELD]: signatures };
}

export const isSigned = (document: unknown) =>
  typeof document === 'object' && document !== null && Array.isArray((document as Record<string, unknown>)[SIGNATURES_FIELD]) &&
  ((document as Record<string, unknown[]>)[SIGNATURES_FIELD]).length > 0;

/**
 * Whether one of the document's signatures is a valid one by a trusted key
 * (several keys are trusted during a rotation).
 */
export function checkDocumentSignature(document: unknown, trusted: readonly TrustedKey[]): SignatureCheck {
  return checkDocumentTrust(document, { keys: trusted, threshold: 1 });
}

/**
 * Whether the document carries valid signatures by at least `threshold`
 * distinct trusted keys. A signature by a key not trusted counts for nothing
 * (a removed key); one that does not verify says the document was altered.
 */
export function checkDocumentTrust(document: unknown, trust: Trust): SignatureCheck {
  const trusted = trust.keys;
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return { ok: false, reason: 'malformed', message: 'is not a JSON object, so it cannot carry signatures' };
  }
  const signatures = (document as Record<string, unknown>)[SIGNATURES_FIELD];
  if (signatures === undefined || (Array.isArray(signatures) && signatures.length === 0)) {
    return { ok: false, reason: 'unsigned', message: 'carries no signature' };
  }
  if (!Array.isArray(signatures) || !signatures.every(isSignatureEntry)) {
    return { ok: false, reason: 'malformed', message: `has a malformed "${SIGNATURES_FIELD}" member (each entry is {"keyid","alg","sig"})` };
  }
  let bytes: Uint8Array;
  try {
    bytes = canonicalBytes(document);
  } catch {
    // RFC 8785 has no form for a lone surrogate (nor NaN): no signature can cover such a document.
    return { ok: false, reason: 'malformed', message: 'holds a value canonical JSON cannot represent (a lone surrogate in a string), so no signature can cover it' };
  }
  const known = signatures.filter((signature) => trusted.some((key) => key.keyId === signature.keyid));
  if (known.length === 0) {
    const trustedIds = trusted.map((key) => key.keyId).join(', ') || 'none';
    return {
      ok: false,
      reason: 'unknown-key',
      message: `is signed with key ${signatures.map((signature) => signature.keyid).join(', ')}, which is not a trusted key (trusted: ${trustedIds})`,
    };
  }
  const valid = new Set<string>();
  const invalid: string[] = [];
  for (const signature of known) {
    const key = trusted.find((candidate) => candidate.keyId === signature.keyid)!;
    if (verifies(signature, bytes, key)) valid.add(key.keyId);
    else invalid.push(signature.keyid);
  }
  if (invalid.length > 0 && valid.size < trust.threshold) {
    return {
      ok: false,
      reason: 'bad-signature',
      message: `signature by key ${invalid.join(', ')} does not match the content: the document was altered`,
    };
  }
  if (valid.size < trust.threshold) {
    return {
      ok: false,
      reason: 'under-threshold',
      message: `is signed by ${valid.size} of the trusted keys (${[...valid].join(', ')}), but ${trust.threshold} must sign it: ${trust.threshold - valid.size} more signature${trust.threshold - valid.size === 1 ? '' : 's'} needed`,
    };
  }
  const keyIds = [...valid];
  return { ok: true, keyId: keyIds[0] };
}

function isSignatureEntry(entry: unknown): entry is DocumentSignature {
  const candidate = entry as DocumentSignature;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.keyid === 'string' && KEY_ID.test(candidate.keyid) &&
    typeof candidate.sig === 'string' && BASE64.test(candidate.sig) &&
    (candidate.alg === undefined || (SIGNATURE_ALGORITHMS as readonly string[]).includes(candidate.alg));
}

/** A signature verifies only by its key's own algorithm (one naming another is not that key's). */
function verifies(signature: DocumentSignature, bytes: Uint8Array, key: TrustedKey): boolean {
  const algorithm = algorithmOf(key);
  if ((signature.alg ?? 'ed25519') !== algorithm) return false;
  try {
    const sig = fromBase64(signature.sig);
    if (algorithm === 'ed25519') return ed25519.verify(sig, bytes, key.publicKey);
    // ECDSA as KMS, HSMs and OpenSSL write it: DER, SHA-256 of the bytes, either S (no low-S rule).
    return p256.verify(sig, bytes, key.publicKey, { format: 'der', lowS: false });
  } catch {
    return false;
  }
}
