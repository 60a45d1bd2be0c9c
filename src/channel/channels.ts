import { channelIndexKey, channelPrefix } from '../protocol/layout.js';
import type { Store } from '../store/store.js';
import { listChannels, readIndex, unknownChannel } from './index-store.js';

/**
 * Which channels exist: those with an index in the store (released to, or
 * made with `channel create`) and those the config names. Any other name is a
 * typo, refused before it can create a channel nobody meant.
 */
export interface ChannelListing {
  name: string;
  /** Has an index in the store. */
  inStore: boolean;
  /** Named by the config (`channel` or `channels`). */
  configured: boolean;
  /** Releases its index lists, all packages together (0 without an index). */
  releases: number;
  /** Of those, the ones devices are served (active). */
  served: number;
}

export async function listKnownChannels(store: Store, configured: readonly string[]): Promise<ChannelListing[]> {
  const inStore = await listChannels(store);
  const names = [...new Set([...inStore, ...configured])].sort();
  return Promise.all(
    names.map(async (name) => {
      const releases = inStore.includes(name) ? Object.values((await readIndex(store, name)).index.packages).flatMap((entry) => entry.releases) : [];
      return {
        name,
        inStore: inStore.includes(name),
        configured: configured.includes(name),
        releases: releases.length,
        served: releases.filter((release) => release.state === 'active').length,
      };
    }),
  );
}

/** Refuses (exit 2, with "did you mean") a channel that neither the store nor the config knows. */
export async function requireKnownChannel(store: Store, channel: string, configured: readonly string[]): Promise<void> {
  if (configured.includes(channel)) return;
  const inStore = await listChannels(store);
  if (!inStore.includes(channel)) throw unknownChannel(channel, store.location, [...new Set([...inStore, ...configured])].sort());
}

/** Every object of a channel: index, archive, history, signatures. */
export async function channelKeys(store: Store, channel: string): Promise<string[]> {
  return (await store.list(channelPrefix(channel))).map((object) => object.key);
}

/**
 * Removes a channel: its index first (devices and publishers then see no
 * channel), then its archive and history.
 */
export async function removeChannelObjects(store: Store, channel: string, keys: string[]): Promise<void> {
  const index = channelIndexKey(channel);
  if (keys.includes(index)) await store.delete([index]);
  const rest = keys.filter((key) => key !== index);
  if (rest.length) await store.delete(rest);
}
