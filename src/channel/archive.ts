import { parseDocumentJson } from '../protocol/document-json.js';
import semver from 'semver';
import { z } from 'zod';
import { StoreError } from '../errors.js';
import { releaseSchema, schemaProblem } from '../protocol/schemas.js';
import { archiveKey } from '../protocol/layout.js';
import type { ChannelIndex, Release } from '../protocol/types.js';
import { withArchivedReleases } from '../release/reachability.js';
import type { Store } from '../store/store.js';
import { readJsonDocument, updateDocument } from './update-document.js';

/**
 * `channels/<channel>/archive/<id>.json`: the releases of a package that left
 * the channel's index because no device can reach them (release/reachability.ts),
 * kept because rollback --to, halt and delta bases can still need them.
 */
interface ArchiveDocument {
  /** Newest version first; a release may also still be in the index (harmless). */
  releases: Release[];
}

const archiveSchema = z.looseObject({ releases: z.array(releaseSchema) });

/** Validated as strictly as the index: rollback --to writes what it finds here back into it. */
function parseArchive(body: Buffer, key: string): ArchiveDocument {
  let archive: unknown;
  try {
    archive = parseDocumentJson(body);
  } catch (error) {
    throw new StoreError(`archive ${key} is not valid JSON (${(error as Error).message}); restore it from your backup, or move it aside (its releases then cannot be rolled back to)`);
  }
  const problem = schemaProblem(archiveSchema, archive);
  if (problem) throw new StoreError(`archive ${key} is malformed at ${problem}; restore it from your backup, or move it aside (its releases then cannot be rolled back to)`);
  return archive as ArchiveDocument;
}

/** Adds releases to a package's archive: a version is kept once, as last archived (its state may have changed since). */
export async function archiveReleases(store: Store, channel: string, id: string, releases: Release[]): Promise<void> {
  await updateDocument(
    store,
    archiveKey(channel, id),
    (archive) => {
      const incoming = new Set(releases.map((release) => release.version));
      const merged = [...releases, ...archive.releases.filter((release) => !incoming.has(release.version))];
      return { releases: merged.sort((a, b) => semver.rcompare(a.version, b.version)) };
    },
    parseArchive,
    () => ({ releases: [] }),
  );
}

/** Drops releases from a package's archive (gc's retention): `rollback --to` can no longer reach them. */
export async function pruneArchivedReleases(store: Store, channel: string, id: string, versions: string[]): Promise<void> {
  const dropped = new Set(versions);
  await updateDocument(
    store,
    archiveKey(channel, id),
    (archive) => ({ releases: archive.releases.filter((release) => !dropped.has(release.version)) }),
    parseArchive,
    () => ({ releases: [] }),
  );
}

export async function readArchivedReleases(store: Store, channel: string, id: string): Promise<Release[]> {
  return (await readJsonDocument(store, archiveKey(channel, id), parseArchive, () => ({ releases: [] }))).document.releases;
}

/**
 * The channel's index with the archived releases of `ids` (default: every
 * package it lists) back in it: every release the channel still answers for.
 */
export async function withArchive(store: Store, index: ChannelIndex, ids: string[] = Object.keys(index.packages)): Promise<ChannelIndex> {
  let merged = index;
  for (const id of ids) merged = withArchivedReleases(merged, id, await readArchivedReleases(store, index.channel, id));
  return merged;
}

/** A package's releases on the channel, archived ones included, newest first. */
export async function packageReleases(store: Store, index: ChannelIndex, id: string): Promise<Release[]> {
  return (await withArchive(store, index, [id])).packages[id]?.releases ?? [];
}
