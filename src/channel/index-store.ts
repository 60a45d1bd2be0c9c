import type { ChannelIndex } from '../protocol/types.js';
import { splitUnreachable } from '../release/reachability.js';
import { archiveReleases } from './archive.js';
import { channelIndexKey, channelsPrefix, INDEX_FILE } from '../protocol/layout.js';
import { DOCUMENT_LIMITS } from '../protocol/limits.js';
import { didYouMean } from '../suggest.js';
import type { Store } from '../store/store.js';
import { UserError } from '../errors.js';
import { emptyIndex, parseIndex } from '../protocol/channel-index.js';
import { readChannelDocument, type DocumentKind } from './versioned-document.js';

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
  settle(store, channel, document, now) {
    const { index, unreachable } = splitUnreachable(document, now);
    return {
      document: index,
      async beforeWrite() {
        for (const [id, releases] of unreachable) await archiveReleases(store, channel, id, releases);
      },
    };
  },
};

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

