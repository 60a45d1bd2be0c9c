import type { ChannelIndex } from '../protocol/types.js';
import { splitUnreachable } from '../release/reachability.js';
import { archiveReleases } from './archive.js';
import { channelIndexKey, channelsPrefix, INDEX_FILE } from '../protocol/layout.js';
import { DOCUMENT_LIMITS } from '../protocol/limits.js';
import { didYouMean } from '../suggest.js';
import type { Store } from '../store/store.js';
import { StoreError, UserError } from '../errors.js';
import { highestRecordedIndexVersion } from './history.js';
import { readWhitelistMeta } from './whitelists.js';
import { whitelistBindings, type WhitelistMeta } from '../protocol/whitelist.js';
import { emptyIndex, parseIndex } from '../protocol/channel-index.js';
import { readChannelDocument, type DocumentKind } from './versioned-document.js';
import { boundDocumentVersion, documentBindings, type BoundDocument, type DocumentBindings } from '../protocol/document-binding.js';
import { appReleasesWhitelists, switchesWhitelists } from '../protocol/whitelist-rules.js';
import { APP_RELEASES } from './app-releases-store.js';
import { SWITCHES } from './switches-store.js';

export interface IndexSnapshot {
  index: ChannelIndex;
  /** null when the channel has no index yet. */
  etag: string | null;
  key: string;
}


/** Every channel with an index in the store, sorted. */
export async function listChannels(store: Store): Promise<string[]> {
  const objects = await store.list(channelsPrefix);
  return objects
    .map((object) => object.key.slice(channelsPrefix.length).split('/'))
    .filter((parts) => parts.length === 2 && parts[1] === INDEX_FILE)
    .map((parts) => parts[0])
    .sort();
}

/** Every channel holding any document (an index, switches, app releases), sorted. */
export async function listChannelFolders(store: Store): Promise<string[]> {
  const objects = await store.list(channelsPrefix);
  const names = objects.map((object) => object.key.slice(channelsPrefix.length).split('/')).filter((parts) => parts.length >= 2);
  return [...new Set(names.map((parts) => parts[0]))].sort();
}

/**
 * `channels/<channel>/index.json` as a document kind: read and written like
 * every channel document (channel/versioned-document.ts), changed only
 * through workflows/change-pipeline.ts. A write moves the releases no device
 * can reach any more to the channel's archive before the index that drops them.
 */
export const INDEX: DocumentKind<ChannelIndex> = {
  what: 'channel index',
  key: channelIndexKey,
  // The protocol's reader, as devices read it (channel binding included).
  parse: (body, key, channel) => parseIndex(body, key, channel),
  empty: emptyIndex,
  maxBytes: DOCUMENT_LIMITS.index,
  capHint: "gc releases no device needs ('update-publish gc') or split packages across channels",
  snapshots: false,
  async settle(store, channel, document, now) {
    // Never built on an index older than the history records (a replayed signed index).
    assertNotReplayed(channelIndexKey(channel), (document.version ?? 1) - 1, await highestRecordedIndexVersion(store, channel));
    const { index: reachable, unreachable } = splitUnreachable(document, now);
    const { versions, whitelists } = await storedDocuments(store, channel, document.documents);
    const named = new Set([...namedWhitelistsOf(reachable), ...whitelists]);
    const index = { ...withWhitelistBindings(reachable, await whitelistMetas(store, named)), documents: versions };
    return {
      document: index,
      async beforeWrite() {
        for (const [id, releases] of unreachable) await archiveReleases(store, channel, id, releases);
      },
    };
  },
};

/**
 * An index older than one the channel's history records as written is an
 * older signed index put back (a replay): signing a change on top of it
 * would serve its releases again under a new, higher version.
 */
function assertNotReplayed(key: string, version: number, recorded: number): void {
  if (version >= recorded) return;
  throw new StoreError(
    `${key} is version ${version}, but the channel's history records that version ${recorded} was written: an older index was put back in the store (a replay); nothing was written; restore the newest index (version ${recorded}) from your backup or the bucket's object versions`,
  );
}

/** Refuses a replayed index before any work (every index write checks again). */
export async function assertIndexNotReplayed(store: Store, channel: string): Promise<void> {
  const { index, key } = await readIndex(store, channel);
  assertNotReplayed(key, index.version ?? 0, await highestRecordedIndexVersion(store, channel));
}

/**
 * The switches and app-releases versions an index written now names (0: the
 * channel has none): devices refuse any other copy. A stored one older than
 * the index named before is a replay: the binding stays where it was (devices
 * keep refusing the copy; `verify` reports it), and the index write goes on,
 * so a halt is never held up by a replayed switches document.
 */
async function storedDocuments(store: Store, channel: string, previous: DocumentBindings | undefined): Promise<{ versions: Required<DocumentBindings>; whitelists: string[] }> {
  const { document: switches } = await readChannelDocument(store, SWITCHES, channel);
  const { document: appReleases } = await readChannelDocument(store, APP_RELEASES, channel);
  const version = (document: { version: number }, name: BoundDocument) => Math.max(document.version, boundDocumentVersion({ documents: previous }, name) ?? 0);
  return {
    versions: documentBindings({ switches: version(switches, 'switches'), appReleases: version(appReleases, 'appReleases') }),
    // Their rules' lists are bound too: devices read the index before either document (PROTOCOL.md §7).
    whitelists: [...switchesWhitelists(switches), ...appReleasesWhitelists(appReleases)],
  };
}

/** Every whitelist the index's releases name (archived ones come back through an index write, which binds them then). */
const namedWhitelistsOf = (index: ChannelIndex) =>
  new Set(Object.values(index.packages).flatMap(({ releases }) => releases.flatMap((release) => release.rules.whitelist ?? [])));

/** The stored metas of these lists (absent ones left out). */
async function whitelistMetas(store: Store, names: Set<string>): Promise<Map<string, WhitelistMeta>> {
  const metas = new Map<string, WhitelistMeta>();
  for (const name of names) {
    const meta = await readWhitelistMeta(store, name);
    if (meta) metas.set(name, meta);
  }
  return metas;
}

/** The index naming the upload of every whitelist its rules use (devices read exactly those: no rollback of a list). */
function withWhitelistBindings(index: ChannelIndex, metas: Map<string, WhitelistMeta>): ChannelIndex {
  const { whitelists: _previous, ...rest } = index;
  const bindings = whitelistBindings(metas.keys(), metas);
  return bindings ? { ...rest, whitelists: bindings } : rest;
}

export async function readIndex(store: Store, channel: string): Promise<IndexSnapshot> {
  const { document, etag, key } = await readChannelDocument(store, INDEX, channel);
  return { index: document, etag, key };
}

/**
 * A channel's index, refused (usage error) when the channel has none: a
 * command naming it meant one with releases. `configured` channels exist
 * without an index (nothing released there yet); any other name is a typo.
 */
export async function requireExistingChannel(store: Store, channel: string, configured: readonly string[] = []): Promise<IndexSnapshot> {
  const snapshot = await readIndex(store, channel);
  if (snapshot.etag === null) {
    if (configured.includes(channel)) throw new UserError(`channel '${channel}' has nothing released yet in ${store.location}; publish to it first`);
    throw unknownChannel(channel, store.location, [...new Set([...(await listChannels(store)), ...configured])].sort());
  }
  return snapshot;
}

/** `unknown channel 'prodution' in <store>; did you mean 'production'? channels: production, staging; …`. */
export function unknownChannel(channel: string, location: string, known: readonly string[]): UserError {
  const listed = known.length ? ` channels: ${known.join(', ')};` : '';
  return new UserError(
    `unknown channel '${channel}' in ${location};${didYouMean(channel, known)}${listed} create it with 'update-publish channel create ${channel}' or list it under "channels" in the config`,
  );
}

/** A package a command names must be released on the channel (usage error): devices answer 'unknown-package', operators mistyped. */
export function requireReleasedPackage(index: ChannelIndex, packageId: string): void {
  if (index.packages[packageId]) return;
  const released = Object.keys(index.packages);
  throw new UserError(
    `package '${packageId}' is not released on channel '${index.channel}'; ${released.length ? `released there: ${released.join(', ')}` : 'nothing is released there yet'}`,
  );
}

