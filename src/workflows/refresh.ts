import { APP_RELEASES } from '../channel/app-releases-store.js';
import { INDEX, listChannelFolders, readIndex, requireExistingChannel } from '../channel/index-store.js';
import { moveRecordAside, raiseIndexHighWater, readIndexEvidence, versionFloor } from '../channel/index-evidence.js';
import { UserError } from '../errors.js';
import { plural } from '../format.js';
import { confirmOrDecline } from './context.js';
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
  /** `--accept-index`: the stored index a person checked and accepted, and the damaged records moved aside. */
  accepted?: AcceptedIndex;
  /** Present when the channel has them. */
  switches?: RefreshedDocument;
  appReleases?: RefreshedDocument;
}

/**
 * Writes each channel's index, switches and app releases again with one more
 * version and a fresh expiry, nothing else changed: what a scheduled job runs
 * so devices never see an expired document while nothing is published.
 */
export async function refreshIndexes(context: WorkflowContext, channel?: string, acceptIndexVersion?: number): Promise<{ channels: RefreshedChannel[]; dryRun: boolean }> {
  const { store } = context;
  const folders = await listChannelFolders(store);
  if (channel !== undefined && !folders.includes(channel)) await requireExistingChannel(store, channel);
  if (acceptIndexVersion !== undefined && channel === undefined) throw new UserError('--accept-index names one channel\'s index: give --channel too');
  const names = channel ? [channel] : folders;
  const lifetimeMs = indexLifetimeMs(context.config);
  const channels: RefreshedChannel[] = [];
  for (const name of names) {
    const accepted = acceptIndexVersion === undefined ? undefined : await acceptIndex(context, name, acceptIndexVersion);
    if (accepted && context.dryRun) {
      // The records are not moved in a dry run, so the write it describes could not be attempted.
      channels.push({ channel: name, version: accepted.nextVersion, accepted });
      continue;
    }
    await finishInterruptedWork(context, name);
    const switches = await refreshDocument(context, SWITCHES, name, lifetimeMs);
    const appReleases = await refreshDocument(context, APP_RELEASES, name, lifetimeMs);
    // Last: it names the switches and app-releases versions just written (PROTOCOL.md §3.1 `documents`), and
    // carries the config's current receipts setting (§18).
    const index = await refreshDocument(context, INDEX, name, lifetimeMs, (current) => withReceiptsSettings(current, context.config), accepted?.floor);
    channels.push({ channel: name, ...index, ...(accepted && { accepted }), ...(switches && { switches }), ...(appReleases && { appReleases }) });
  }
  return { channels, dryRun: context.dryRun };
}

export interface AcceptedIndex {
  /** The stored index version accepted. */
  version: number;
  /** The highest version any record names (damaged ones read as text): the next index is written above it. */
  floor: number;
  nextVersion: number;
  /** Damaged records moved aside, each to `<key>.damaged-<time>`. */
  movedAside: { key: string; to: string; problem: string }[];
}

/**
 * A person checked the stored index and accepts it as the one to build on,
 * although the channel's records say a newer one was written or cannot be
 * read: damaged records are moved aside (kept for inspection) and the mark
 * raised to the highest version any record names, so the next index is
 * numbered above every version devices may have seen.
 */
async function acceptIndex(context: WorkflowContext, channel: string, version: number): Promise<AcceptedIndex> {
  const { store } = context;
  const { index, etag, key } = await readIndex(store, channel);
  if (etag === null) throw new UserError(`--accept-index ${version}: channel '${channel}' has no index in ${store.location}; there is nothing to accept`);
  if ((index.version ?? 0) !== version) {
    throw new UserError(`--accept-index ${version}: ${key} is version ${index.version ?? 0}, not ${version}; check that index, then name its version`);
  }
  const evidence = await readIndexEvidence(store, channel);
  const floor = Math.max(version, versionFloor(evidence));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const movedAside = evidence.damaged.map(({ key: damagedKey, problem }) => ({ key: damagedKey, to: `${damagedKey}.damaged-${stamp}`, problem }));
  const moving = movedAside.length ? `, moving ${plural(movedAside.length, 'damaged record')} aside (${movedAside.map((moved) => moved.key).join(', ')})` : '';
  await confirmOrDecline(context, `Build on ${key} (version ${version}) as the newest index of '${channel}'${moving}? The next index is version ${floor + 1}.`);
  if (!context.dryRun) {
    for (const record of evidence.damaged) await moveRecordAside(store, record, `${record.key}.damaged-${stamp}`);
    await raiseIndexHighWater(store, channel, floor);
  }
  return { version, floor, nextVersion: floor + 1, movedAside };
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
  versionFloor?: number,
): Promise<RefreshedDocument | undefined> {
  if ((await readChannelDocument(context.store, kind, channel)).etag === null) return undefined;
  // Nothing changes but the stamps: no history, no hooks (not a change of what devices get).
  const { document } = await writeChannelDocument(context.store, kind, channel, settings, { lifetimeMs, versionFloor });
  return { version: document.version ?? 0, expires: document.expires! };
}
