import type { ReceiptsSettings } from './receipts.js';
import type { DocumentBindings } from './document-binding.js';

/**
 * The documents devices read from the store. Changing a field here changes
 * the protocol: bump SCHEMA_VERSION and keep readers of the old one working.
 */
export const SCHEMA_VERSION = 1;

export interface ManifestFile {
  /** POSIX path relative to the package root, Unicode NFC. */
  path: string;
  size: number;
  sha256: string;
}

export interface StoredObject {
  /** Object key relative to the store root. */
  key: string;
  size: number;
  sha256: string;
}

export interface DeltaObject extends StoredObject {
  /** The version a device must hold for this delta to apply. */
  from: string;
  /** Files the device deletes after extracting the delta. */
  removed: string[];
  /** The same delta with some files as binary patches; absent when no patch helped. */
  patched?: PatchedDeltaObject;
}

/** How a patch is encoded: zstd with the base file as raw-content dictionary (`zstd -d --patch-from=OLD PATCH`). */
export const PATCH_FORMAT = 'zstd-patch-from';

/** A file of a patched delta whose zip entry is a patch against the base version's file at the same path. */
export interface FilePatch {
  path: string;
  /** The base file the patch applies to, as the base version's manifest lists it. */
  baseSize: number;
  baseSha256: string;
}

/** A patched delta package: entries named in `patches` hold patches, every other entry the whole file. */
export interface PatchedDeltaObject extends StoredObject {
  format: typeof PATCH_FORMAT;
  patches: FilePatch[];
}

/**
 * A delta as the channel index lists it: the patched one only for devices
 * that can apply patches. One built when the release was promoted to this
 * channel (for the versions its devices hold) is not in the manifest, which
 * is written once: it carries its own `removed` here.
 */
export interface ReleaseDelta extends Omit<DeltaObject, 'removed' | 'patched'> {
  patched?: StoredObject;
  removed?: string[];
}

/** How package objects are sealed at rest (see encryption.ts); absent = plain zips. */
export interface ManifestEncryption {
  algorithm: 'aes-256-gcm-chunked';
  /** Names the key without revealing it, so devices holding several keys pick the right one. */
  keyId: string;
}

export interface Manifest {
  schemaVersion: number;
  id: string;
  version: string;
  createdAt: string;
  /** SHA-256 over the sorted file list: equal content, equal hash, whatever the version. */
  contentSha256: string;
  files: ManifestFile[];
  /** Object sizes and SHA-256 are of the bytes as stored: ciphertext when encrypted. */
  full: StoredObject;
  deltas: DeltaObject[];
  encryption?: ManifestEncryption;
}

/**
 * `packages/<id>/<version>/claim.json`, written create-only before any object
 * of a version: the publisher that created it owns the version's keys.
 */
export interface VersionClaim {
  version: string;
  /** The content the version is for (the manifest's contentSha256). */
  contentSha256: string;
}

/**
 * Who a release (or a switch variant, or an app release) is served to. Absent
 * fields match every device; the rollout share is of devices, by a bucket
 * fixed per device and salt (protocol/rollout.ts).
 */
export interface TargetingRules {
  /** Platforms served (e.g. ios, android); absent = all. */
  platforms?: string[];
  /** Semver range the app version must satisfy; absent = all. */
  appVersion?: string;
  /** Share of devices served, 0–100 with two decimals (for people). */
  rollout: number;
  /** The same share in basis points, 0–10000: what devices compare with (no floats on devices). Absent in older indexes. */
  rolloutBasisPoints?: number;
  startsAt?: string;
  endsAt?: string;
  /** Names of whitelists whose members are served even outside the rollout. */
  whitelist?: string[];
  /** Device attributes that must match exactly. */
  attributes?: Record<string, string>;
}

export interface ReleaseRules extends TargetingRules {
  mandatory: boolean;
}

export type ReleaseState = 'active' | 'halted' | 'rolled-back';

export interface Release {
  version: string;
  releasedAt: string;
  /** `size` (bytes of the stored manifest) bounds what a device downloads for it; absent in older indexes. */
  manifest: { key: string; sha256: string; size?: number };
  full: StoredObject;
  deltas: ReleaseDelta[];
  rules: ReleaseRules;
  state: ReleaseState;
  /** Release notes (`--message`), for people and for apps that show them. */
  message?: string;
  /** The git commit the publisher ran in, when it ran inside a git work tree. */
  commit?: string;
}

export interface ChannelIndex {
  schemaVersion: number;
  channel: string;
  updatedAt: string;
  /** One more on every write: devices refuse an index older than one they accepted (a rollback attack). */
  version?: number;
  /** ISO-8601; devices refuse the index after it (a freeze attack). Every write sets a fresh one. */
  expires?: string;
  /** The upload (and shard count) of every whitelist the releases' rules name, as written: devices read exactly those shards. */
  whitelists?: Record<string, { version: number; shards: number }>;
  /** The switches and app-releases versions the index was written with: devices refuse any other copy (a replay). */
  documents?: DocumentBindings;
  /** Releases per package id, newest version first. */
  packages: Record<string, PackageReleases>;
  /** Where devices send receipts (PROTOCOL.md §18); absent: send none. */
  receipts?: ReceiptsSettings;
}

export interface PackageReleases {
  releases: Release[];
  /** Versions devices may hold without any release (content shipped inside the app binary): delta bases, never served. */
  bases?: Base[];
}

/** Content an app ships in its binary, recorded with `base add`: a version devices report, with its manifest. */
export interface Base {
  version: string;
  addedAt: string;
  manifest: { key: string; sha256: string; size?: number };
}
