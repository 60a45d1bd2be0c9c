import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createDecryptStream, ENCRYPTION_ALGORITHM, encryptionKeyId } from '../../protocol/encryption.js';
import type { Manifest, StoredObject } from '../../protocol/types.js';
import { writeHashed } from './hashed-write.js';
import { IntegrityError, ProtocolError } from '../errors.js';
import type { UpdateSource } from './source.js';

/**
 * Downloads a package object to `target`, checking on the way that it is
 * exactly the bytes the manifest lists (size, SHA-256 of the stored bytes).
 * Returns the bytes downloaded.
 */
export async function downloadObject(source: UpdateSource, object: StoredObject, target: string, onBytes?: (bytes: number) => void): Promise<number> {
  const stream = await source.openObject(object.key, object.size);
  if (!stream) throw missingObject(object);
  const { size, sha256 } = await writeHashed(stream, target, { bytes: object.size, error: () => objectTooLarge(object) }, onBytes);
  assertStoredBytes(object, size, sha256);
  return size;
}

export const missingObject = (object: StoredObject) => new IntegrityError(object.key, 'is missing from the store');

/** The object sent more bytes than the manifest lists (refused as they arrive). */
export const objectTooLarge = (object: StoredObject) => new IntegrityError(object.key, `is larger than the ${object.size} bytes the manifest lists: it was altered or replaced`);

/** The bytes read are exactly the object the manifest lists: its size and SHA-256. */
export function assertStoredBytes(object: StoredObject, size: number, sha256: string): void {
  if (size !== object.size) {
    throw new IntegrityError(object.key, `is ${size} bytes but the manifest lists ${object.size}: it was truncated or replaced`);
  }
  if (sha256 !== object.sha256) {
    throw new IntegrityError(object.key, `SHA-256 is ${sha256} but the manifest lists ${object.sha256}: the object was altered or damaged`);
  }
}

/** Refuses before any download when the package is encrypted and none of the keys is the one it needs. */
export function assertDecryptable(manifest: Manifest, decryptionKeys: readonly Buffer[] | undefined): void {
  const { encryption } = manifest;
  if (!encryption) return;
  if (encryption.algorithm !== ENCRYPTION_ALGORITHM) {
    throw new ProtocolError(`${manifest.id}@${manifest.version} is encrypted with '${encryption.algorithm}', which this version cannot read; upgrade update-publish`);
  }
  const given = (decryptionKeys ?? []).map(encryptionKeyId);
  if (given.length === 0) {
    throw new ProtocolError(`${manifest.id}@${manifest.version} is encrypted (key id ${encryption.keyId}) and no decryption key was given; pass the key with id ${encryption.keyId}`, 'input');
  }
  if (!given.includes(encryption.keyId)) {
    throw new ProtocolError(
      `${manifest.id}@${manifest.version} is encrypted with key id ${encryption.keyId}, but the decryption key given has id ${given.join(', ')}; pass the key with id ${encryption.keyId}`,
    );
  }
}

/**
 * Downloads and checks a package object, then opens it when the manifest
 * says it is encrypted. Returns the path of the plain zip and the bytes downloaded.
 */
export async function downloadPackage(
  source: UpdateSource,
  manifest: Manifest,
  object: StoredObject,
  workPath: string,
  decryptionKeys: readonly Buffer[] | undefined,
  onBytes?: (bytes: number) => void,
): Promise<{ zipPath: string; bytes: number }> {
  const downloaded = `${workPath}.download`;
  const bytes = await downloadObject(source, object, downloaded, onBytes);
  if (!manifest.encryption) return { zipPath: downloaded, bytes };
  const zipPath = `${workPath}.zip`;
  // The ciphertext already matched the signed SHA-256; GCM authenticates the plaintext again chunk by chunk.
  await pipeline(
    createReadStream(downloaded),
    createDecryptStream([...(decryptionKeys ?? [])], manifest.encryption.keyId),
    createWriteStream(zipPath, { flags: 'wx' }),
  );
  await rm(downloaded, { force: true });
  return { zipPath, bytes };
}
