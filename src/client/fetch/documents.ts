import type { KeyObject } from 'node:crypto';
import { sha256Hex } from '../../hash.js';
import type { Trust, TrustedKey } from '../../protocol/document-signature.js';
import { checkTrustedSignature, readIndexDocument, readSignedDocument, type DeviceTrust } from '../read-documents.js';
import { parseDocumentJson } from '../../protocol/document-json.js';
import { parseManifest } from '../../protocol/manifest.js';
import { trustedKeyOf } from '../../protocol/signature.js';
import type { DeltaObject, Manifest, Release, StoredObject } from '../../protocol/types.js';
import { INSTALL_STATE_FILE } from '../../protocol/layout.js';
import { IntegrityError, ProtocolError } from '../errors.js';
import type { UpdateSource } from './source.js';

/** Public keys a device trusts, or a Trust (a root's signing keys and threshold); without any, signatures are not checked (SHA-256 chains still are). */
export type TrustedKeys = readonly (KeyObject | TrustedKey)[] | Trust | undefined;

export { DOCUMENT_LIMITS } from '../../protocol/limits.js';
import { DOCUMENT_LIMITS } from '../../protocol/limits.js';

/** Node KeyObjects as the trusted-key form the pure readers take. */
export const asTrusted = (keys: TrustedKeys): DeviceTrust => (keys && 'threshold' in keys ? keys : (keys ?? []).map((key) => ('publicKey' in key ? key : trustedKeyOf(key))));

/**
 * Checks a document's own signatures. With trusted keys one of them must be a
 * valid signature by a trusted key; returns whether the document was verified.
 */
export const checkSignature = (key: string, document: unknown, publicKeys: TrustedKeys): boolean => checkTrustedSignature(key, document, asTrusted(publicKeys));

/** A signed JSON document: parsed, its size bounded, its signatures checked against the trusted keys. */
export const readSignedJson = (source: UpdateSource, key: string, publicKeys: TrustedKeys, maxBytes: number) => readSignedDocument(source, key, asTrusted(publicKeys), maxBytes);

/** The channel's index, as update-publish/client reads it (read-documents.ts), with Node keys accepted too. */
export const readChannelIndex = (source: UpdateSource, channel: string, publicKeys: TrustedKeys, maxBytes: number = DOCUMENT_LIMITS.index) =>
  readIndexDocument(source, channel, asTrusted(publicKeys), maxBytes);

/**
 * The manifest a release points at: its SHA-256 must be the one the index
 * lists (the signed index vouches for it), its own signature valid, and it
 * must describe the same version and objects as the index.
 */
export async function readReleaseManifest(source: UpdateSource, packageId: string, release: Release): Promise<Manifest> {
  const { key, sha256, size } = release.manifest;
  const body = await source.readDocument(key, size ?? DOCUMENT_LIMITS.manifest);
  if (!body) throw new IntegrityError(key, 'is missing from the store');
  const actual = sha256Hex(body);
  if (actual !== sha256) {
    throw new IntegrityError(key, `SHA-256 is ${actual} but the channel index lists ${sha256}: the manifest was altered or replaced`);
  }
  // Bound by its SHA-256 to the verified index entry: trusted as the index is (signatures it carries add nothing).
  const manifest = parseManifest(body, key);
  if (manifest.id !== packageId || manifest.version !== release.version) {
    throw new IntegrityError(key, `describes ${manifest.id}@${manifest.version}, not ${packageId}@${release.version}`);
  }
  if (manifest.files.some((file) => file.path === INSTALL_STATE_FILE)) {
    throw new IntegrityError(key, `lists a file named ${INSTALL_STATE_FILE}, which the installer reserves`);
  }
  assertSameObject(key, 'full package', manifest.full, release.full);
  const added: DeltaObject[] = [];
  for (const delta of release.deltas) {
    const listed = manifest.deltas.find((candidate) => candidate.from === delta.from);
    if (listed) {
      assertSameObject(key, `delta from ${delta.from}`, listed, delta);
      if (delta.patched) {
        if (!listed.patched) throw new IntegrityError(key, `does not list the patched delta from ${delta.from} that the channel index lists`);
        assertSameObject(key, `patched delta from ${delta.from}`, listed.patched, delta.patched);
      }
      continue;
    }
    // Built when the release was promoted to this channel: the index (signed, read first) vouches for it.
    if (!Array.isArray(delta.removed) || delta.patched) throw new IntegrityError(key, `does not list the delta from ${delta.from} that the channel index lists`);
    added.push({ from: delta.from, key: delta.key, size: delta.size, sha256: delta.sha256, removed: delta.removed });
  }
  // The manifest as this release serves it: its own deltas and the channel's.
  return added.length ? { ...manifest, deltas: [...manifest.deltas, ...added] } : manifest;
}

/**
 * A manifest read by key (a delta's base version): bound by `sha256` when a
 * release entry lists it; else, with trusted keys, by its own signature.
 */
export async function readManifestAt(source: UpdateSource, key: string, publicKeys: TrustedKeys, sha256?: string): Promise<Manifest> {
  const body = await source.readDocument(key, DOCUMENT_LIMITS.manifest);
  if (!body) throw new IntegrityError(key, 'is missing from the store');
  const manifest = parseManifest(body, key);
  if (sha256 === undefined) checkSignature(key, parseDocumentJson(body), publicKeys);
  else if (sha256Hex(body) !== sha256) throw new IntegrityError(key, `SHA-256 is ${sha256Hex(body)} but the release lists ${sha256}: the manifest was altered or replaced`);
  return manifest;
}

function assertSameObject(key: string, what: string, inManifest: StoredObject, inIndex: StoredObject): void {
  if (inManifest.key !== inIndex.key || inManifest.size !== inIndex.size || inManifest.sha256 !== inIndex.sha256) {
    throw new IntegrityError(key, `lists the ${what} as ${inManifest.key} (${inManifest.size} bytes, ${inManifest.sha256}), the channel index as ${inIndex.key} (${inIndex.size} bytes, ${inIndex.sha256})`);
  }
}
