import { setTimeout as sleep } from 'node:timers/promises';
import type { ChannelIndex } from '../client/protocol.js';
import { ConflictError } from '../errors.js';
import { serializeDocument } from '../pack/manifest.js';
import { sha256Hex } from '../pack/hash.js';
import { channelIndexKey, MUTABLE_CACHE } from '../store/layout.js';
import type { Store } from '../store/store.js';
import { emptyIndex, parseIndex } from './channel-index.js';

const MAX_ATTEMPTS = 10;
const BASE_DELAY_MS = 50;
const MAX_DELAY_MS = 2_000;

export interface IndexSnapshot {
  index: ChannelIndex;
  /** null when the channel has no index yet. */
  etag: string | null;
  key: string;
}

export async function readIndex(store: Store, channel: string): Promise<IndexSnapshot> {
  const key = channelIndexKey(channel);
  const document = await store.readDocument(key);
  return document
    ? { index: parseIndex(document.body, key), etag: document.etag, key }
    : { index: emptyIndex(channel), etag: null, key };
}

/**
 * Read → apply → conditional write, again on a lost race with jittered
 * backoff. `apply` is re-run on the fresh index each time, so two publishers
 * never drop each other's releases; it may throw to refuse the change.
 */
export async function updateIndex(
  store: Store,
  channel: string,
  apply: (index: ChannelIndex) => ChannelIndex,
  options: { dryRun?: boolean } = {},
): Promise<IndexSnapshot> {
  for (let attempt = 1; ; attempt++) {
    const current = await readIndex(store, channel);
    const index = { ...apply(current.index), updatedAt: new Date().toISOString() };
    if (options.dryRun) return { ...current, index };
    const body = serializeDocument(index);
    const written = await store.writeDocument(current.key, body, {
      contentType: 'application/json',
      cacheControl: MUTABLE_CACHE,
      sha256: sha256Hex(body),
      ...(current.etag === null ? { ifNoneMatch: true } : { ifMatch: current.etag }),
    });
    if (written) return { index, etag: written.etag, key: current.key };
    if (attempt === MAX_ATTEMPTS) {
      throw new ConflictError(
        `channel '${channel}': the index kept changing under us (${MAX_ATTEMPTS} attempts); another publisher is busy, run the command again`,
      );
    }
    const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
    await sleep(Math.random() * ceiling);
  }
}
