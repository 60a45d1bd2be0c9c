import type { KeyObject } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sha256Hex } from '../../hash.js';
import { parseIndex } from '../../protocol/channel-index.js';
import { channelIndexKey } from '../../protocol/layout.js';
import { signatureKey, verifyBytes } from '../../protocol/signature.js';
import { parseManifest } from '../../protocol/manifest.js';
import type { ChannelIndex, Manifest, Release, StoredObject } from '../../protocol/types.js';
import { INSTALL_STATE_FILE } from './install-state.js';
import { IntegrityError, ProtocolError, SignatureError } from '../errors.js';
import type { UpdateSource } from './source.js';

/** Public keys a device trusts; without any, signatures are not checked (SHA-256 chains still are). */
export type TrustedKeys = readonly KeyObject[] | undefined;

/** How long to wait before re-reading an index whose signature did not match (a publisher between its two writes). */
export const INDEX_RETRY_DELAY_MS = 500;

/** With trusted keys, `<key>.sig` must exist and sign exactly `body`. */
export async function checkSignature(source: UpdateSource, key: string, body: Buffer, publicKeys: TrustedKeys): Promise<void> {
  if (!publicKeys?.length) return;
  const signature = await source.readDocument(signatureKey(key));
  if (!signature) {
    throw new SignatureError(key, `has no signature (${signatureKey(key)} is missing) although a public key is trusted; the store is unsigned or the signature was removed`);
  }
  const result = verifyBytes(body, signature, publicKeys);
  if (!result.ok) throw new SignatureError(key, result.message);
}

/**
 * The channel's index, signature checked. A mismatch is re-read once: the
 * publisher writes the index, then its signature, and a reader can land in
 * between.
 */
export async function readChannelIndex(
  source: UpdateSource,
  channel: string,
  publicKeys: TrustedKeys,
  retryDelayMs = INDEX_RETRY_DELAY_MS,
): Promise<{ index: ChannelIndex; key: string }> {
  const key = channelIndexKey(channel);
  for (let attempt = 1; ; attempt++) {
    const body = await source.readDocument(key);
    if (!body) {
      throw new ProtocolError(`channel '${channel}' has no index at ${source.location} (${key}); check --channel and the store`);
    }
    try {
      await checkSignature(source, key, body, publicKeys);
    } catch (error) {
      if (attempt >= 2 || !(error instanceof SignatureError)) throw error;
      await sleep(retryDelayMs);
      continue;
    }
    const index = parseIndex(body, key);
    if (index.channel !== channel) throw new IntegrityError(key, `names channel '${index.channel}', not '${channel}': it was copied from another channel`);
    return { index, key };
  }
}

/**
 * The manifest a release points at: its SHA-256 must be the one the index
 * lists (the signed index vouches for it), its own signature valid, and it
 * must describe the same version and objects as the index.
 */
export async function readReleaseManifest(
  source: UpdateSource,
  packageId: string,
  release: Release,
  publicKeys: TrustedKeys,
): Promise<Manifest> {
  const { key, sha256 } = release.manifest;
  const body = await source.readDocument(key);
  if (!body) throw new IntegrityError(key, 'is missing from the store');
  const actual = sha256Hex(body);
  if (actual !== sha256) {
    throw new IntegrityError(key, `SHA-256 is ${actual} but the channel index lists ${sha256}: the manifest was altered or replaced`);
  }
  await checkSignature(source, key, body, publicKeys);
  const manifest = parseManifest(body, key);
  if (manifest.id !== packageId || manifest.version !== release.version) {
    throw new IntegrityError(key, `describes ${manifest.id}@${manifest.version}, not ${packageId}@${release.version}`);
  }
  if (manifest.files.some((file) => file.path === INSTALL_STATE_FILE)) {
    throw new IntegrityError(key, `lists a file named ${INSTALL_STATE_FILE}, which the installer reserves`);
  }
  assertSameObject(key, 'full package', manifest.full, release.full);
  for (const delta of release.deltas) {
    const listed = manifest.deltas.find((candidate) => candidate.from === delta.from);
    if (!listed) throw new IntegrityError(key, `does not list the delta from ${delta.from} that the channel index lists`);
    assertSameObject(key, `delta from ${delta.from}`, listed, delta);
  }
  return manifest;
}

/** A manifest read by key alone (a delta's base version), signature checked. */
export async function readManifestAt(source: UpdateSource, key: string, publicKeys: TrustedKeys): Promise<Manifest> {
  const body = await source.readDocument(key);
  if (!body) throw new IntegrityError(key, 'is missing from the store');
  await checkSignature(source, key, body, publicKeys);
  return parseManifest(body, key);
}

function assertSameObject(key: string, what: string, inManifest: StoredObject, inIndex: StoredObject): void {
  if (inManifest.key !== inIndex.key || inManifest.size !== inIndex.size || inManifest.sha256 !== inIndex.sha256) {
    throw new IntegrityError(key, `lists the ${what} as ${inManifest.key} (${inManifest.size} bytes, ${inManifest.sha256}), the channel index as ${inIndex.key} (${inIndex.size} bytes, ${inIndex.sha256})`);
  }
}
