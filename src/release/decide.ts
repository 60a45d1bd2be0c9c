import type { Manifest, Release, VersionClaim } from '../protocol/types.js';
import { ConflictError, UserError } from '../errors.js';
import { currentRelease } from '../protocol/channel-index.js';
import { nextVersion, type Bump } from './version.js';

export type PackageDecision =
  /** Same content as the channel's current release: nothing to write. */
  | { kind: 'unchanged'; release: Release }
  /** New content, or content an interrupted run already stored under `version` (finish that publish). */
  | { kind: 'publish'; version: string; baseVersions: string[] };

export interface PackageFacts {
  id: string;
  channel: string;
  /** Undefined when not taken yet: allowed only when no content in the store is there to compare with (hashesDecide). */
  contentSha256: string | undefined;
  /** The package's releases on the channel, newest first. */
  channelReleases: Release[];
  /** Versions devices may hold from the app binary (`base add`): delta bases beside the releases. */
  channelBases?: string[];
  /** Every version of the package in the store, whatever channel (or none) it is on. */
  storedManifests: Manifest[];
  /** Versions claimed by runs that stopped before their manifest: taken too. */
  unfinished: VersionClaim[];
  /** Channels that release a given version (only needed when content matches a stored version). */
  channelsOf: (version: string) => string[];
  deltaCount: number;
  request: { version?: string; bump?: Bump };
}

/**
 * Whether a package's decisions (version, "unchanged", deltas) need its
 * files' hashes: only when the store holds a version or a claim of it to
 * compare with. Without one, a publish is decided by paths and sizes, and
 * packing takes the hashes in the read that packs each file.
 */
export const hashesDecide = (stored: { manifests: readonly Manifest[]; unfinished: readonly VersionClaim[] }) =>
  stored.manifests.length > 0 || stored.unfinished.length > 0;

/**
 * Decides what publishing a package means, without touching the store: a
 * version names one exact content across all channels.
 */
export function decidePackage(facts: PackageFacts): PackageDecision {
  const { id, channel, channelReleases } = facts;
  if (facts.contentSha256 === undefined && hashesDecide({ manifests: facts.storedManifests, unfinished: facts.unfinished })) {
    throw new Error(`package '${id}': decided without its content's hash while the store holds versions of it`);
  }
  const current = currentRelease(channelReleases);
  const sameContent = facts.storedManifests.find((manifest) => manifest.contentSha256 === facts.contentSha256);

  if (sameContent && current?.version === sameContent.version) return { kind: 'unchanged', release: current };
  if (sameContent) {
    const channels = facts.channelsOf(sameContent.version);
    // Released there after our read of the index: another publisher of this same content won the race.
    if (channels.includes(channel) && !channelReleases.some((release) => release.version === sameContent.version)) {
      throw new ConflictError(
        `package '${id}': ${sameContent.version} was just released on '${channel}' by another publisher with the same content; run 'update-publish status' to see its rules`,
      );
    }
    if (channels.includes(channel)) {
      throw new UserError(
        `package '${id}': this content is version ${sameContent.version}, already released on '${channel}'; run 'update-publish rollback ${id} --to ${sameContent.version} --channel ${channel}' to serve it again`,
      );
    }
    if (channels.length > 0) {
      throw new UserError(
        `package '${id}': this content is already version ${sameContent.version} on channel '${channels[0]}'; run 'update-publish promote ${id}@${sameContent.version} --from ${channels[0]} --to ${channel}' instead`,
      );
    }
    // Stored by a run that never reached the index: finish it under the same version.
    return { kind: 'publish', version: sameContent.version, baseVersions: sameContent.deltas.map((delta) => delta.from) };
  }

  const version = versionForContent(facts);
  const recent = deltaBaseVersions(channelReleases, version, facts.deltaCount);
  // Every listed base too (deltas permitting): a fresh install from the store holds one until its first update.
  const bases = facts.deltaCount > 0 ? (facts.channelBases ?? []).filter((base) => base !== version && !recent.includes(base)) : [];
  return { kind: 'publish', version, baseVersions: [...recent, ...bases] };
}

/**
 * The versions a channel's devices hold, that a new release there gets
 * deltas from (at most `count`): the releases still served (the current one
 * first), then those a rollback sent devices away from, for the few that
 * have not checked in since. At publish and at promote alike.
 */
export function deltaBaseVersions(channelReleases: readonly Release[], version: string, count: number): string[] {
  const servedFirst = [
    ...channelReleases.filter((release) => release.state !== 'rolled-back'),
    ...channelReleases.filter((release) => release.state === 'rolled-back'),
  ];
  return servedFirst
    .map((release) => release.version)
    .filter((candidate) => candidate !== version)
    .slice(0, count);
}

/**
 * The version a content takes, whoever asks (publish, pack): the one the store
 * already holds it under, finished or claimed by an interrupted run; else the
 * next above every version stored or claimed, whatever channel it is on.
 */
export function versionForContent(
  facts: Pick<PackageFacts, 'id' | 'contentSha256' | 'storedManifests' | 'unfinished' | 'request'>,
): string {
  const stored = facts.storedManifests.find((manifest) => manifest.contentSha256 === facts.contentSha256);
  if (stored) return stored.version;
  const claimed = facts.unfinished.find((claim) => claim.contentSha256 === facts.contentSha256);
  if (claimed) return claimed.version;
  const taken = [...facts.storedManifests.map((manifest) => manifest.version), ...facts.unfinished.map((claim) => claim.version)];
  return nextVersion(facts.id, taken, facts.request);
}
