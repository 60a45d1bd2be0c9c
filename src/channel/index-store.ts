import type { ChannelIndex, Release } from '../protocol/types.js';
import { splitUnreachable } from '../release/reachability.js';
import { archiveReleases } from './archive.js';
import { channelIndexKey, channelsPrefix, INDEX_FILE, MUTABLE_CACHE } from '../protocol/layout.js';
import { serializeDocument } from '../protocol/manifest.js';
import { sha256Hex } from '../hash.js';
import { didYouMean } from '../suggest.js';
import type { Store } from '../store/store.js';
import { indexLifetimeMs } from '../config/schema.js';
import { StoreError, UserError } from '../errors.js';
import { emptyIndex, parseIndex } from '../protocol/channel-index.js';
import { readJsonDocument, updateDocument } from './update-document.js';
import { highestRecordedIndexVersion } from './history.js';
import { readWhitelistMeta } from './whitelists.js';
import { whitelistBindings, type WhitelistMeta } from '../protocol/whitelist.js';

export interface IndexSnapshot {
  index: ChannelIndex;
  /** null when the channel has no index yet. */
  etag: string | null;
  key: string;
}

/** A channel's index as publishers read it: one copied from another channel is refused, as devices refuse it. */
const channelIndexParser = (channel: string) => (body: Buffer, key: string) => {
  const index = parseIndex(body, key);
  if (index.channel !== channel) {
    throw new StoreError(
      `channel index ${key} names channel '${index.channel}', not '${channel}': it was copied from another channel; restore it from the store's history or your backup`,
    );
  }
  return index;
};

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

export async function readIndex(store: Store, channel: string): Promise<IndexSnapshot> {
  const { document, etag, key } = await readJsonDocument(store, channelIndexKey(channel), channelIndexParser(channel), () => emptyIndex(channel));
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

/**
 * An index older than one the channel's history records as written is an
 * older signed index put back (a replay): signing a change on top of it
 * would serve its releases again under a new, higher version.
 */
function assertNotReplayed(key: string, current: ChannelIndex, recorded: number): void {
  const version = current.version ?? 0;
  if (version >= recorded) return;
  throw new StoreError(
    `${key} is version ${version}, but the channel's history records that version ${recorded} was written: an older index was put back in the store (a replay); nothing was written; restore the newest index (version ${recorded}) from your backup or the bucket's object versions`,
  );
}

/** Every whitelist the index's releases name (archived ones come back through an index write, which binds them then). */
const namedWhitelistsOf = (index: ChannelIndex) =>
  new Set(Object.values(index.packages).flatMap(({ releases }) => releases.flatMap((release) => release.rules.whitelist ?? [])));

/** The metas of these lists, read once per index update (a lost race re-applies with the ones read). */
async function whitelistMetas(store: Store, names: Set<string>, cache: Map<string, WhitelistMeta | null>): Promise<Map<string, WhitelistMeta>> {
  for (const name of names) if (!cache.has(name)) cache.set(name, await readWhitelistMeta(store, name));
  return new Map([...cache].filter((entry): entry is [string, WhitelistMeta] => entry[1] !== null && names.has(entry[0])));
}

/** The index naming the upload of every whitelist its rules use (devices read exactly those: no rollback of a list). */
function withWhitelistBindings(index: ChannelIndex, metas: Map<string, WhitelistMeta>): ChannelIndex {
  const { whitelists: _previous, ...rest } = index;
  const bindings = whitelistBindings(metas.keys(), metas);
  return bindings ? { ...rest, whitelists: bindings } : rest;
}

/** Refuses a replayed index before any work (updateIndex checks again at the write). */
export async function assertIndexNotReplayed(store: Store, channel: string): Promise<void> {
  const { index, key } = await readIndex(store, channel);
  assertNotReplayed(key, index, await highestRecordedIndexVersion(store, channel));
}

/** Writes an empty index for a new channel; false when the channel already has one. */
export async function createIndex(store: Store, channel: string): Promise<boolean> {
  const body = serializeDocument({ ...emptyIndex(channel), updatedAt: new Date().toISOString() });
  const written = await store.writeDocument(channelIndexKey(channel), body, {
    contentType: 'application/json',
    cacheControl: MUTABLE_CACHE,
    sha256: sha256Hex(body),
    ifNoneMatch: true,
  });
  return written !== null;
}

/** A package a command names must be released on the channel (usage error): devices answer 'unknown-package', operators mistyped. */
export function requireReleasedPackage(index: ChannelIndex, packageId: string): void {
  if (index.packages[packageId]) return;
  const released = Object.keys(index.packages);
  throw new UserError(
    `package '${packageId}' is not released on channel '${index.channel}'; ${released.length ? `released there: ${released.join(', ')}` : 'nothing is released there yet'}`,
  );
}

/**
 * THE way a channel index changes: read → apply → conditional write, retried
 * on a lost race (see updateDocument). `apply` is re-run on the fresh index
 * each time, so two publishers never drop each other's releases; it may throw
 * to refuse the change. Releases no device can reach any more move to the
 * channel's archive before the index that drops them is written. Every write
 * is one `version` above the stored index and expires `lifetimeMs` from now
 * (devices refuse an older or an expired index).
 */
export async function updateIndex(
  store: Store,
  channel: string,
  apply: (index: ChannelIndex) => ChannelIndex,
  options: { lifetimeMs?: number; dryRun?: boolean; beforeWrite?: (index: ChannelIndex) => Promise<void> } = {},
): Promise<IndexSnapshot> {
  let unreachable = new Map<string, Release[]>();
  const metas = new Map<string, WhitelistMeta | null>();
  const recorded = await highestRecordedIndexVersion(store, channel);
  const { document, etag, key } = await updateDocument(
    store,
    channelIndexKey(channel),
    async (current) => {
      assertNotReplayed(channelIndexKey(channel), current, recorded);
      const now = new Date();
      const fresh = { version: (current.version ?? 0) + 1, expires: new Date(now.getTime() + (options.lifetimeMs ?? indexLifetimeMs({}))).toISOString(), updatedAt: now.toISOString() };
      const split = splitUnreachable({ ...apply(current), ...fresh }, now);
      unreachable = split.unreachable;
      return withWhitelistBindings(split.index, await whitelistMetas(store, namedWhitelistsOf(split.index), metas));
    },
    channelIndexParser(channel),
    () => emptyIndex(channel),
    {
      dryRun: options.dryRun,
      beforeWrite: async (index) => {
        for (const [id, releases] of unreachable) await archiveReleases(store, channel, id, releases);
        await options.beforeWrite?.(index);
      },
    },
  );
  return { index: document, etag, key };
}
