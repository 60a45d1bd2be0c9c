import { createHash } from 'node:crypto';
import { parseDocumentJson } from './document-json.js';
import { withoutSignatures } from './document-signature.js';
import { IntegrityError } from './errors.js';
import { manifestSchema, schemaProblem } from './schemas.js';
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

/** A stored manifest, checked field by field: publishers and devices read manifests with this one reader. */
export function parseManifest(body: Buffer, key: string): Manifest {
  let manifest: unknown;
  try {
    manifest = parseDocumentJson(body);
  } catch (error) {
    throw new IntegrityError(key, `is not valid JSON (${(error as Error).message})`);
  }
  const problem = schemaProblem(manifestSchema, manifest);
  if (problem) throw new IntegrityError(key, `is not a manifest (${problem})`);
  return withoutSignatures(manifest as Manifest);
}

/** A version's claim document (`claim.json`): the content it was claimed for. */
export function serializeClaim(manifest: Pick<Manifest, 'id' | 'version' | 'contentSha256'>): Buffer {
  return serializeDocument({ id: manifest.id, version: manifest.version, contentSha256: manifest.contentSha256 });
}

/** The content a stored claim is for; '' when the claim is unreadable (it then matches no content). */
export function claimedContent(body: Buffer): string {
  try {
    const claim = JSON.parse(body.toString('utf8')) as { contentSha256?: unknown };
    return typeof claim.contentSha256 === 'string' ? claim.contentSha256 : '';
  } catch {
    return '';
  }
}
