import { createHash } from 'node:crypto';
import { SCHEMA_VERSION, type DeltaObject, type Manifest, type ManifestFile, type StoredObject } from './types.js';

/** Same files, same hash: how a version is recognised whatever its number or channel. */
export function contentSha256(files: ManifestFile[]): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(`${file.path}\0${file.size}\0${file.sha256}\n`);
  return hash.digest('hex');
}

export function buildManifest(fields: {
  id: string;
  version: string;
  createdAt: string;
  files: ManifestFile[];
  full: StoredObject;
  deltas: DeltaObject[];
}): Manifest {
  return {
    schemaVersion: SCHEMA_VERSION,
    id: fields.id,
    version: fields.version,
    createdAt: fields.createdAt,
    contentSha256: contentSha256(fields.files),
    files: fields.files,
    full: fields.full,
    deltas: fields.deltas,
  };
}

/** Compact: devices download these documents (the index on every check), and CDNs compress what is left. */
export const serializeDocument = (document: unknown) => Buffer.from(`${JSON.stringify(document)}\n`);
