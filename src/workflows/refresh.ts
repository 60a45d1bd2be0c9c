import { APP_RELEASES } from '../channel/app-releases-store.js';
import { INDEX, listChannelFolders, requireExistingChannel } from '../channel/index-store.js';
import { SWITCHES } from '../channel/switches-store.js';
import { readChannelDocument, writeChannelDocument, type DocumentKind } from '../channel/versioned-document.js';
import { indexLifetimeMs } from '../config/schema.js';
import type { StampedFields } from '../protocol/channel-document.js';
import type { WorkflowContext } from './context.js';
import { withReceiptsSettings } from '../channel/receipts-settings.js';
import { finishInterruptedWork } from './change-pipeline.js';

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
    await finishInterruptedWork(context, name);
    const switches = await refreshDocument(context, SWITCHES, name, lifetimeMs);
    const appReleases = await refreshDocument(context, APP_RELEASES, name, lifetimeMs);
    // Last: it names the switches and app-releases versions just written (PROTOCOL.md §3.1 `documents`), and
    // carries the config's current receipts setting (§18).
    const index = await refreshDocument(context, INDEX, name, lifetimeMs, (current) => withReceiptsSettings(current, context.config));
    channels.push({ channel: name, ...index, ...(switches && { switches }), ...(appReleases && { appReleases }) });
  }
  return { channels, dryRun: context.dryRun };
}

/** A channel's index written again, stamps only (whitelist upload: it then names the new upload). */
export const refreshIndex = (context: WorkflowContext, channel: string) => refreshDocument(context, INDEX, channel, indexLifetimeMs(context.config));

/** The document again, as its next version; nothing when the channel has none. */
async function refreshDocument<T extends StampedFields>(
  context: WorkflowContext,
  kind: DocumentKind<T>,
  channel: string,
  lifetimeMs: number,
  settings: (document: T) => T = (document) => document,
): Promise<RefreshedDocument | undefined> {
  if ((await readChannelDocument(context.store, kind, channel)).etag === null) return undefined;
  // Nothing changes but the stamps: no history, no hooks (not a change of what devices get).
  const { document } = await writeChannelDocument(context.store, kind, channel, settings, { lifetimeMs });
  return { version: document.version ?? 0, expires: document.expires! };
}
