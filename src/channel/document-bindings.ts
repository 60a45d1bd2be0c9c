import { StoreError } from '../errors.js';
import { emptyIndex, parseIndex } from '../protocol/channel-index.js';
import { boundDocumentVersion, type BoundDocument, type DocumentBindings } from '../protocol/document-binding.js';
import { channelIndexKey, documentSnapshotKey } from '../protocol/layout.js';
import type { Store } from '../store/store.js';
import { readJsonDocument } from './update-document.js';

/**
 * The publisher's side of the index's `documents` binding (PROTOCOL.md §3.1):
 * never build a change on a switches or app-releases document older than the
 * one the channel index names. That is an older signed copy put back in the
 * store (a replay); signing on top of it would serve its values again under a
 * new, higher version. (Index writes never name it either: INDEX.settle.)
 */
export function assertNotBehindBinding(key: string, storedVersion: number, boundVersion: number | undefined): void {
  if (boundVersion === undefined || storedVersion >= boundVersion) return;
  throw new StoreError(
    `${key} is version ${storedVersion}, but the channel index names version ${boundVersion}: an older copy was put back in the store (a replay); nothing was written; restore version ${boundVersion} (${documentSnapshotKey(key, boundVersion)} when it was kept, your backup, or the bucket's object versions)`,
  );
}

/** The binding the channel's stored index carries (none without an index). */
export async function storedIndexBindings(store: Store, channel: string): Promise<DocumentBindings | undefined> {
  const { document } = await readJsonDocument(store, channelIndexKey(channel), (body, key) => parseIndex(body, key, channel), () => emptyIndex(channel));
  return document.documents;
}

/**
 * A bound document kind's settle step (switches, app releases): never built on
 * a copy older than the index names (a replay put back in the store); the
 * version it builds on is the one before the document's new version.
 */
export const settleUnlessReplayed =
  <T extends { version: number }>(name: BoundDocument, key: (channel: string) => string) =>
  async (store: Store, channel: string, document: T) => {
    const bindings = await storedIndexBindings(store, channel);
    assertNotBehindBinding(key(channel), document.version - 1, boundDocumentVersion({ documents: bindings }, name));
    return { document, async beforeWrite() {} };
  };
