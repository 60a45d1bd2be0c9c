import type { ChannelIndex, Release } from '../client/protocol.js';
import type { Store } from '../store/store.js';
import { upsertRelease } from './channel-index.js';
import { readJsonDocument, updateDocument } from './update-document.js';

/**
 * Releases no device can be served any more stay out of the index devices
 * download (so it stays small as history grows): below a package's newest
 * "floor" release — active, 100%, no targeting, no end date — every older
 * release is unreachable, because the floor matches every device first.
 */
export const archiveKey = (channel: string, id: string) => `channels/${channel}/archive/${id}.json`;

interface ArchiveDocument {
  /** Newest version first; a release may also still be in the index (harmless). */
  releases: Release[];
}

const isFloor = (release: Release, now: Date) => {
  const { rules } = release;
  return (
    release.state === 'active' &&
    rules.rollout === 100 &&
    !rules.platforms &&
    !rules.appVersion &&
    !rules.attributes &&
    !rules.endsAt &&
    (!rules.startsAt || new Date(rules.startsAt) <= now)
  );
};

/** Splits each package's releases into what devices can still get and what is unreachable. */
export function splitUnreachable(index: ChannelIndex, now: Date): { index: ChannelIndex; unreachable: Map<string, Release[]> } {
  const unreachable = new Map<string, Release[]>();
  const packages: ChannelIndex['packages'] = {};
  for (const [id, { releases }] of Object.entries(index.packages)) {
    const floor = releases.findIndex((release) => isFloor(release, now));
    packages[id] = { releases: floor === -1 ? releases : releases.slice(0, floor + 1) };
    if (floor !== -1 && floor + 1 < releases.length) unreachable.set(id, releases.slice(floor + 1));
  }
  return { index: { ...index, packages }, unreachable };
}

const parseArchive = (body: Buffer): ArchiveDocument => JSON.parse(body.toString('utf8'));

/** Adds releases to a package's archive (idempotent: a version is kept once). */
export async function archiveReleases(store: Store, channel: string, id: string, releases: Release[]): Promise<void> {
  await updateDocument(
    store,
    archiveKey(channel, id),
    (archive) => {
      const known = new Set(archive.releases.map((release) => release.version));
      return { releases: [...releases.filter((release) => !known.has(release.version)), ...archive.releases] };
    },
    parseArchive,
    () => ({ releases: [] }),
  );
}

export async function readArchivedReleases(store: Store, channel: string, id: string): Promise<Release[]> {
  return (await readJsonDocument(store, archiveKey(channel, id), parseArchive, () => ({ releases: [] }))).document.releases;
}

/** The index with a package's archived releases back in it, for operations that may reach them (rollback --to). */
export function withArchivedReleases(index: ChannelIndex, id: string, archived: Release[]): ChannelIndex {
  const present = new Set((index.packages[id]?.releases ?? []).map((release) => release.version));
  return archived
    .filter((release) => !present.has(release.version))
    .reduce((next, release) => upsertRelease(next, id, release), index);
}
