import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DeltaObject, Manifest, StoredObject } from '../protocol/types.js';
import type { DeltaPlan } from '../release/delta-plan.js';
import { deltaPackageKey, fullPackageKey } from '../protocol/layout.js';
import { createEncryptStream, ENCRYPTION_ALGORITHM, encryptionKeyId } from '../protocol/encryption.js';
import { toManifestFiles, type PackageFile } from './hash-files.js';
import { buildManifest } from '../protocol/manifest.js';
import { writeZip } from './zip.js';

/** A package object written to the staging folder, ready to upload. */
export interface StagedObject extends StoredObject {
  localPath: string;
}

export interface BuiltPackages {
  manifest: Manifest;
  full: StagedObject;
  deltas: (StagedObject & { from: string })[];
}

export interface PackOptions {
  /** Seals every package object (AES-256-GCM, chunked); the manifest stays readable. */
  encryptionKey?: Buffer;
}

/** Writes the full package and one delta per plan into stagingDir (laid out like the store), and the manifest describing them. */
export async function buildPackages(
  id: string,
  version: string,
  files: PackageFile[],
  deltaPlans: DeltaPlan[],
  stagingDir: string,
  packOptions: PackOptions = {},
): Promise<BuiltPackages> {
  const { encryptionKey } = packOptions;
  const stage = async (key: string, entries: PackageFile[]): Promise<StagedObject> => {
    const localPath = join(stagingDir, key);
    await mkdir(dirname(localPath), { recursive: true });
    const seal = encryptionKey && createEncryptStream(encryptionKey);
    return { key, localPath, ...(await writeZip(entries, localPath, { seal })) };
  };
  const byPath = new Map(files.map((file) => [file.path, file]));
  const full = await stage(fullPackageKey(id, version), files);
  const deltas = [];
  for (const plan of deltaPlans) {
    const staged = await stage(
      deltaPackageKey(id, version, plan.fromVersion),
      plan.files.map((file) => byPath.get(file.path)!),
    );
    deltas.push({ ...staged, from: plan.fromVersion, removed: plan.removed });
  }
  const manifest = buildManifest({
    id,
    version,
    createdAt: new Date().toISOString(),
    files: toManifestFiles(files),
    full: storedObject(full),
    deltas: deltas.map(({ from, key, size, sha256, removed }): DeltaObject => ({ from, key, size, sha256, removed })),
  });
  if (encryptionKey) manifest.encryption = { algorithm: ENCRYPTION_ALGORITHM, keyId: encryptionKeyId(encryptionKey) };
  return { manifest, full, deltas };
}

const storedObject = ({ key, size, sha256 }: StoredObject): StoredObject => ({ key, size, sha256 });
