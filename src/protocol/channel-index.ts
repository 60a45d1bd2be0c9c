import semver from 'semver';
import { SCHEMA_VERSION, type Base, type ChannelIndex, type Release } from './types.js';
import { withoutSignatures } from './document-signature.js';
import { assertChannelBinding, parseChannelDocumentJson } from './channel-document.js';
import { IntegrityError } from './errors.js';
import { indexProblem } from './schemas.js';

export const emptyIndex = (channel: string): ChannelIndex => ({
  schemaVersion: SCHEMA_VERSION,
  channel,
  updatedAt: new Date(0).toISOString(),
  packages: {},
});

/** A stored channel index, checked field by field and bound to its channel (when given), without its signatures. */
export function parseIndex(body: Buffer, key: string, channel?: string): ChannelIndex {
  const index = validateIndex(parseChannelDocumentJson(body, key), key);
  if (channel !== undefined) assertChannelBinding(index, key, channel);
  return index;
}

/** An index document already parsed from JSON, checked field by field; returned without its signatures. */
export function validateIndex(document: unknown, key: string): ChannelIndex {
  const index = document as ChannelIndex;
  if (typeof index !== 'object' || index === null || typeof index.packages !== 'object') {
    throw new IntegrityError(key, `is malformed (no "packages"); restore it from the store's history or your backup`);
  }
  if (index.schemaVersion > SCHEMA_VERSION) {
    throw new IntegrityError(key, `has schema version ${index.schemaVersion}; upgrade update-publish to read it`);
  }
  const problem = indexProblem(index);
  if (problem) throw new IntegrityError(key, `is malformed at ${problem}; restore it from the store's history or your backup`);
  return withoutSignatures(index);
}

/**
 * The release a package stands on: the newest not rolled back (a halted one
 * counts, resume serves it again). What publish compares new content with and
 * what rollout, halt and resume act on.
 */
export const currentRelease = (releases: readonly Release[]): Release | undefined =>
  releases.find((release) => release.state !== 'rolled-back');

/** Newest active-or-not release of a package on the channel (versions are kept newest first). */
export const latestRelease = (index: ChannelIndex, id: string): Release | undefined => index.packages[id]?.releases[0];

export const findRelease = (index: ChannelIndex, id: string, version: string): Release | undefined =>
  index.packages[id]?.releases.find((release) => release.version === version);

/** Adds or replaces a release, keeping the package's releases newest first. Returns a new index. */
export function upsertRelease(index: ChannelIndex, id: string, release: Release): ChannelIndex {
  const others = (index.packages[id]?.releases ?? []).filter((existing) => existing.version !== release.version);
  const releases = [...others, release].sort((a, b) => semver.rcompare(a.version, b.version));
  return { ...index, packages: { ...index.packages, [id]: { ...index.packages[id], releases } } };
}

/** Adds or replaces a base (content shipped in the app binary), keeping bases newest first. Returns a new index. */
export function upsertBase(index: ChannelIndex, id: string, base: Base): ChannelIndex {
  const current = index.packages[id] ?? { releases: [] };
  const bases = [...(current.bases ?? []).filter((existing) => existing.version !== base.version), base].sort((a, b) => semver.rcompare(a.version, b.version));
  return { ...index, packages: { ...index.packages, [id]: { ...current, bases } } };
}

/** Applies a change to one release; returns a new index. */
export function updateRelease(index: ChannelIndex, id: string, version: string, change: (release: Release) => Release): ChannelIndex {
  const releases = index.packages[id].releases.map((release) => (release.version === version ? change(release) : release));
  return { ...index, packages: { ...index.packages, [id]: { ...index.packages[id], releases } } };
}
