import type { ChannelIndex } from '../client/protocol.js';
import { channelIndexKey } from '../store/layout.js';
import type { Store } from '../store/store.js';
import { emptyIndex, parseIndex } from './channel-index.js';
import { readJsonDocument, updateDocument } from './update-document.js';

export interface IndexSnapshot {
  index: ChannelIndex;
  /** null when the channel has no index yet. */
  etag: string | null;
  key: string;
}

export async function readIndex(store: Store, channel: string): Promise<IndexSnapshot> {
  const { document, etag, key } = await readJsonDocument(store, channelIndexKey(channel), parseIndex, () => emptyIndex(channel));
  return { index: document, etag, key };
}

/**
 * THE way a channel index changes: read → apply → conditional write, retried
 * on a lost race (see updateDocument). `apply` is re-run on the fresh index
 * each time, so two publishers never drop each other's releases; it may throw
 * to refuse the change.
 */
export async function updateIndex(
  store: Store,
  channel: string,
  apply: (index: ChannelIndex) => ChannelIndex,
  options: { dryRun?: boolean } = {},
): Promise<IndexSnapshot> {
  const { document, etag, key } = await updateDocument(
    store,
    channelIndexKey(channel),
    (index) => ({ ...apply(index), updatedAt: new Date().toISOString() }),
    parseIndex,
    () => emptyIndex(channel),
    options,
  );
  return { index: document, etag, key };
}
