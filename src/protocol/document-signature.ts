import * as ed25519 from '@noble/ed25519';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import canonicalize from 'canonicalize';

/**
 * Signatures inside the documents devices read (channel index, manifest,
 * whitelist meta and shards, archive, history): one object carries its own
 * signatures, so a reader can never pair a document with another one's
 * signature, and nothing has to be read atomically with anything else.
 *
 *   { ...the document's fields..., "signatures": [ { "keyid": "<16 hex>", "sig": "<base64>" } ] }
 *
 * A signature is Ed25519 over the UTF-8 bytes of the document's canonical
 * JSON (RFC 8785, JCS) with the `signatures` member left out. Pure JavaScript
 * (no Node APIs): apps and edge functions check documents with the same code.
 */
export const SIGNATURES_FIELD = 'signatures';

export interface DocumentSignature {
  /** First 16 hex digits of SHA-256 over the signing key's DER SubjectPublicKeyInfo. */
  keyid: string;
  /** Base64 Ed25519 signature over canonicalBytes(document). */
  sig: string;
}

/** A public key devices trust: the raw 32-byte Ed25519 key and its id. */
export interface TrustedKey {
  keyId: string;
  publicKey: Uint8Array;
}

export type SignatureCheck =
  | { ok: true; keyId: string }
  | { ok: false; reason: 'unsigned' | 'malformed' | 'unknown-key' | 'bad-signature'; message: string };

// @noble/ed25519 takes its SHA-512 from the caller; the pure one keeps this module free of Node APIs.
ed25519.hashes.sha512 = sha512 as typeof ed25519.hashes.sha512;

/** DER SubjectPublicKeyInfo of an Ed25519 key is this fixed prefix, then the 32 key bytes. */
const ED25519_SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);
const KEY_ID = /^[0-9a-f]{16}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const hex = (bytes: Uint8Array) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (char) => char.charCodeAt(0));

/** The key id: first 16 hex of SHA-256 over the DER SubjectPublicKeyInfo (stable whatever the PEM wrapping). */
export function keyIdOfSpki(spkiDer: Uint8Array): string {
  return hex(sha256(spkiDer)).slice(0, 16);
}

/** A trusted key from its DER SubjectPublicKeyInfo; throws on anything but Ed25519. */
export function trustedKeyFromSpki(spkiDer: Uint8Array): TrustedKey {
  const prefixOk = spkiDer.length === ED25519_SPKI_PREFIX.length + 32 && ED25519_SPKI_PREFIX.every((byte, i) => spkiDer[i] === byte);
  if (!prefixOk) throw new Error('not an Ed25519 public key (SubjectPublicKeyInfo)');
  return { keyId: keyIdOfSpki(spkiDer), publicKey: spkiDer.slice(ED25519_SPKI_PREFIX.length) };
}

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
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return { ok: false, reason: 'malformed', message: 'is not a JSON object, so it cannot carry signatures' };
  }
  const signatures = (document as Record<string, unknown>)[SIGNATURES_FIELD];
  if (signatures === undefined || (Array.isArray(signatures) && signatures.length === 0)) {
    return { ok: false, reason: 'unsigned', message: 'carries no signature' };
  }
  if (!Array.isArray(signatures) || !signatures.every(isSignatureEntry)) {
    return { ok: false, reason: 'malformed', message: `has a malformed "${SIGNATURES_FIELD}" member (each entry is {"keyid","sig"})` };
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
  for (const signature of known) {
    const key = trusted.find((candidate) => candidate.keyId === signature.keyid)!;
    if (verifies(signature.sig, bytes, key.publicKey)) return { ok: true, keyId: key.keyId };
  }
  return {
    ok: false,
    reason: 'bad-signature',
    message: `signature by key ${known.map((signature) => signature.keyid).join(', ')} does not match the content: the document was altered`,
  };
}

function isSignatureEntry(entry: unknown): entry is DocumentSignature {
  const candidate = entry as DocumentSignature;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.keyid === 'string' && KEY_ID.test(candidate.keyid) &&
    typeof candidate.sig === 'string' && BASE64.test(candidate.sig);
}

function verifies(sig: string, bytes: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return ed25519.verify(fromBase64(sig), bytes, publicKey);
  } catch {
    return false;
  }
}
