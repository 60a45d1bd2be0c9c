import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DeltaPatchesConfig } from '../config/schema.js';
import type { DeltaObject, Manifest, PatchedDeltaObject, StoredObject } from '../protocol/types.js';
import { PATCH_FORMAT } from '../protocol/types.js';
import type { DeltaPlan } from '../release/delta-plan.js';
import { deltaPackageKey, fullPackageKey, patchedDeltaPackageKey } from '../protocol/layout.js';
import { createEncryptStream, ENCRYPTION_ALGORITHM, encryptionKeyId } from '../protocol/encryption.js';
import type { BaseContent } from './base-content.js';
import { toManifestFiles, type FileToPack, type PackageFile } from './hash-files.js';
import { buildManifest } from '../protocol/manifest.js';
import { buildPatches, type StagedPatch } from './patches.js';
import { writeZip, type ZipEntry } from './zip.js';
import { makeDirectory } from '../make-dir.js';

/** A package object written to the staging folder, ready to upload. */
export interface StagedObject extends StoredObject {
  localPath: string;
}

export interface StagedDelta extends StagedObject {
  from: string;
  /** The same delta with binary patches, when any patch paid. */
  patched?: StagedObject & { patches: StagedPatch[] };
}

export interface BuiltPackages {
  manifest: Manifest;
  /** The package's files with the SHA-256 each was packed with (taken while packing where none was given). */
  files: PackageFile[];
  full: StagedObject;
  deltas: StagedDelta[];
  /** Deltas built but left out: not meaningfully smaller than the full package (PackOptions.deltaMaxRatio). */
  skippedDeltas?: SkippedDelta[];
}

export interface SkippedDelta {
  from: string;
  /** The smallest form of the delta (patched, when there was one). */
  size: number;
  /** Its size as a share of the full package's. */
  share: number;
}

export interface PackOptions {
  /** Seals every package object (AES-256-GCM, chunked); the manifest stays readable. */
  encryptionKey?: Buffer;
  /** Binary patches in deltas, with where the base versions' content comes from; absent: file-level deltas only. */
  patches?: { settings: DeltaPatchesConfig; baseContent: BaseContent };
  /** Ctrl-C: packing stops mid-file. */
  signal?: AbortSignal;
  /** Bytes of files packed so far, across the full package and every delta, and the total. */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  /** A delta larger than this share of the full package is left out: devices download the full package instead. Default 1 (every delta kept). */
  deltaMaxRatio?: number;
}

/** Whether a delta of `size` bytes (its smallest form) is worth storing beside a full package of `fullSize`. */
export const deltaWorthKeeping = (size: number, fullSize: number, maxRatio: number) => size <= fullSize * maxRatio;

/** Bytes packing reads: the full package's files and every delta's. */
export const bytesToPack = (files: FileToPack[], deltaPlans: DeltaPlan[]) =>
  [...files, ...deltaPlans.flatMap((plan) => plan.files)].reduce((sum, file) => sum + file.size, 0);

/**
 * Writes the full package and one delta per plan into stagingDir (laid out
 * like the store), and the manifest describing them. A file without a
 * SHA-256 (a first publish: nothing hashed it yet) is hashed in the read
 * that packs it, so each byte is read once.
 */
export async function buildPackages(
  id: string,
  version: string,
  filesToPack: FileToPack[],
  deltaPlans: DeltaPlan[],
  stagingDir: string,
  packOptions: PackOptions = {},
): Promise<BuiltPackages> {
  const { encryptionKey, signal, onProgress } = packOptions;
  const totalBytes = bytesToPack(filesToPack, deltaPlans);
  let packedBefore = 0;
  const stage = async (key: string, entries: ZipEntry[]): Promise<StagedObject & { packedSizes: number[]; entrySha256s: string[] }> => {
    const localPath = join(stagingDir, key);
    await makeDirectory(dirname(localPath));
    const seal = encryptionKey && createEncryptStream(encryptionKey);
    const { size, sha256, packedSizes, entrySha256s } = await writeZip(entries, localPath, {
      seal,
      signal,
      onProgress: (bytes) => onProgress?.(Math.min(totalBytes, packedBefore + bytes), totalBytes),
    });
    packedBefore += entries.reduce((sum, entry) => sum + entry.size, 0);
    return { key, localPath, size, sha256, packedSizes, entrySha256s };
  };
  const { packedSizes: _, entrySha256s, ...full } = await stage(fullPackageKey(id, version), filesToPack);
  const files = filesToPack.map((file, i): PackageFile => ({ ...file, sha256: entrySha256s[i]! }));
  const byPath = new Map(files.map((file) => [file.path, file]));
  const deltas: (StagedDelta & { removed: string[] })[] = [];
  const skippedDeltas: SkippedDelta[] = [];
  for (const plan of deltaPlans) {
    const deltaFiles = plan.files.map((file) => byPath.get(file.path)!);
    const { packedSizes, entrySha256s: __, ...staged } = await stage(deltaPackageKey(id, version, plan.fromVersion), deltaFiles);
    const delta: StagedDelta & { removed: string[] } = { ...staged, from: plan.fromVersion, removed: plan.removed };
    if (packOptions.patches?.settings.enabled) {
      const patches = await buildPatches({
        files: deltaFiles,
        base: plan.base,
        packedSizes: new Map(deltaFiles.map((file, index) => [file.path, packedSizes[index]!])),
        settings: packOptions.patches.settings,
        baseContent: packOptions.patches.baseContent,
        dir: join(stagingDir, 'patches', id, plan.fromVersion),
      });
      if (patches.length > 0) {
        const patchOf = new Map(patches.map((patch) => [patch.path, patch]));
        // Same paths, same order: a patch entry stands where the whole file would.
        const entries = deltaFiles.map((file): ZipEntry => {
          const patch = patchOf.get(file.path);
          return patch ? { path: file.path, absolutePath: patch.localPath, size: patch.size, sha256: patch.sha256 } : file;
        });
        const { packedSizes: ___, entrySha256s: ____, ...patched } = await stage(patchedDeltaPackageKey(id, version, plan.fromVersion), entries);
        delta.patched = { ...patched, patches };
      }
    }
    const smallest = Math.min(delta.size, delta.patched?.size ?? Infinity);
    if (!deltaWorthKeeping(smallest, full.size, packOptions.deltaMaxRatio ?? 1)) {
      // Nearly the full package again: a second object to upload and store that saves devices nothing.
      await Promise.all([rm(delta.localPath, { force: true }), delta.patched && rm(delta.patched.localPath, { force: true })]);
      skippedDeltas.push({ from: plan.fromVersion, size: smallest, share: full.size === 0 ? 1 : smallest / full.size });
      continue;
    }
    deltas.push(delta);
  }
  const manifest = buildManifest({
    id,
    version,
    createdAt: new Date().toISOString(),
    files: toManifestFiles(files),
    full: storedObject(full),
    deltas: deltas.map(({ from, key, size, sha256, removed, patched }): DeltaObject => ({
      from,
      key,
      size,
      sha256,
      removed,
      ...(patched && { patched: patchedObject(patched) }),
    })),
  });
  if (encryptionKey) manifest.encryption = { algorithm: ENCRYPTION_ALGORITHM, keyId: encryptionKeyId(encryptionKey) };
  return { manifest, files, full, deltas, ...(skippedDeltas.length > 0 && { skippedDeltas }) };
}

/** Delta packages alone (file-level), for a version whose full package exists: promote's deltas for the target channel's versions. */
export async function buildDeltaPackages(
  id: string,
  version: string,
  files: PackageFile[],
  deltaPlans: DeltaPlan[],
  stagingDir: string,
  packOptions: PackOptions = {},
): Promise<(StagedDelta & { removed: string[] })[]> {
  const { encryptionKey, signal, onProgress } = packOptions;
  const totalBytes = bytesToPack([], deltaPlans);
  const byPath = new Map(files.map((file) => [file.path, file]));
  const deltas: (StagedDelta & { removed: string[] })[] = [];
  let packedBefore = 0;
  for (const plan of deltaPlans) {
    const key = deltaPackageKey(id, version, plan.fromVersion);
    const localPath = join(stagingDir, key);
    await makeDirectory(dirname(localPath));
    const entries = plan.files.map((file) => byPath.get(file.path)!);
    const { size, sha256 } = await writeZip(entries, localPath, {
      seal: encryptionKey && createEncryptStream(encryptionKey),
      signal,
      onProgress: (bytes) => onProgress?.(Math.min(totalBytes, packedBefore + bytes), totalBytes),
    });
    packedBefore += entries.reduce((sum, entry) => sum + entry.size, 0);
    deltas.push({ key, localPath, size, sha256, from: plan.fromVersion, removed: plan.removed });
  }
  return deltas;
}

const storedObject = ({ key, size, sha256 }: StoredObject): StoredObject => ({ key, size, sha256 });

const patchedObject = (patched: StagedObject & { patches: StagedPatch[] }): PatchedDeltaObject => ({
  ...storedObject(patched),
  format: PATCH_FORMAT,
  patches: patched.patches.map(({ path, baseSize, baseSha256 }) => ({ path, baseSize, baseSha256 })),
});
