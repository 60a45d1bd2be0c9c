import { APP_RELEASES } from '../channel/app-releases-store.js';
import { listChannelFolders, readIndex, requireExistingChannel, updateIndex } from '../channel/index-store.js';
import { SWITCHES } from '../channel/switches-store.js';
import { readVersionedDocument, updateVersionedDocument, type DocumentKind } from '../channel/versioned-document.js';
import { indexLifetimeMs, receiptsSettingsOf } from '../config/schema.js';
import type { VersionedChannelDocument } from '../protocol/channel-document.js';
import type { WorkflowContext } from './context.js';
import { finishInterruptedWork } from './after-index.js';

/** A document written again: its new version and expiry. */
export interface RefreshedDocument {
  version: number;
  expires: string;
}

export interface RefreshedChannel {
  channel: string;
  /** The index version written (in a dry run: that would be); absent for a channel of switches or app releases alone. */
  version?: number;
  expires?: string;
  /** Present when the channel has them. */
  switches?: RefreshedDocument;
  appReleases?: RefreshedDocument;
}

/**
 * Writes each channel's index, switches and app releases again with one more
 * version and a fresh expiry, nothing else changed: what a scheduled job runs
 * so devices never see an expired document while nothing is published.
 */
export async function refreshIndexes(context: WorkflowContext, channel?: string): Promise<{ channels: RefreshedChannel[]; dryRun: boolean }> {
  const { store } = context;
  const folders = await listChannelFolders(store);
  if (channel !== undefined && !folders.includes(channel)) await requireExistingChannel(store, channel);
  const names = channel ? [channel] : folders;
  const lifetimeMs = indexLifetimeMs(context.config);
  const channels: RefreshedChannel[] = [];
  for (const name of names) {
    const refreshed: RefreshedChannel = { channel: name };
    if ((await readIndex(store, name)).etag !== null) {
      await finishInterruptedWork(context, name);
      const { index } = await updateIndex(store, name, (current) => current, { lifetimeMs, dryRun: context.dryRun, receipts: receiptsSettingsOf(context.config) });
      Object.assign(refreshed, { version: index.version ?? 0, expires: index.expires! });
    }
    const switches = await refreshDocument(context, SWITCHES, name, lifetimeMs);
    const appReleases = await refreshDocument(context, APP_RELEASES, name, lifetimeMs);
    channels.push({ ...refreshed, ...(switches && { switches }), ...(appReleases && { appReleases }) });
  }
  return { channels, dryRun: context.dryRun };
}

/** The document again, as its next version; nothing when the channel has none. */
async function refreshDocument<T extends VersionedChannelDocument>(
  context: WorkflowContext,
  kind: DocumentKind<T>,
  channel: string,
  lifetimeMs: number,
): Promise<RefreshedDocument | undefined> {
  if ((await readVersionedDocument(context.store, kind, channel)).etag === null) return undefined;
  const { document } = await updateVersionedDocument(context.store, kind, channel, (current) => current, { lifetimeMs });
  return { version: document.version, expires: document.expires! };
}
