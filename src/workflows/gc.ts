import { pruneArchivedReleases, readArchivedReleases } from '../channel/archive.js';
import { listChannels, readIndex } from '../channel/index-store.js';
import { packagesPrefix } from '../protocol/layout.js';
import { planGc, type ChannelHoldings, type KeptVersion, type Retention } from '../release/gc-plan.js';
import { plural } from '../format.js';
import { confirmOrDecline, type WorkflowContext } from './context.js';

export interface GcResult {
  dryRun: boolean;
  /** Deleted, or in a dry run what would be. */
  deleted: string[];
  abortedUploads: { key: string; uploadId: string }[];
  /** Unreferenced version folders kept because something in them is newer than the age. */
  keptRecent: string[];
  /** Every version kept, and why. */
  kept: KeptVersion[];
  /** Archived releases dropped by the retention (or in a dry run, that would be). */
  prunedArchive: { channel: string; package: string; versions: string[] }[];
}

/**
 * Removes what no device can be served and no retention keeps: archived releases beyond the
 * retention (their archive rewritten first, so no document names a removed object), then the
 * version folders nothing references, then stale uploads.
 */
export async function collectGarbage(context: WorkflowContext, maxAgeMs: number, retention: Retention = {}): Promise<GcResult> {
  const { store } = context;
  const channels: ChannelHoldings[] = [];
  for (const channel of await listChannels(store)) {
    const { index } = await readIndex(store, channel);
    const archived: ChannelHoldings['archived'] = {};
    for (const id of Object.keys(index.packages)) archived[id] = await readArchivedReleases(store, channel, id);
    channels.push({ index, archived });
  }
  const plan = planGc(channels, await store.list(packagesPrefix), await store.listOpenUploads(), new Date(), maxAgeMs, {
    retention,
    deltaCount: context.config.deltas,
  });
  const prunedCount = plan.pruneArchived.reduce((sum, item) => sum + item.versions.length, 0);
  if (plan.deleteKeys.length || prunedCount) {
    const what = [prunedCount && `drop ${plural(prunedCount, 'archived release')}`, plan.deleteKeys.length && `delete ${plural(plan.deleteKeys.length, 'object')}`].filter(Boolean).join(' and ');
    await confirmOrDecline(context, `${what[0]!.toUpperCase()}${what.slice(1)}?`, 'cancelled; nothing was deleted');
  }
  for (const { channel, package: id, versions } of plan.pruneArchived) await pruneArchivedReleases(store, channel, id, versions);
  await store.delete(plan.deleteKeys);
  for (const upload of plan.abortUploads) await store.abortUpload(upload);
  return {
    dryRun: context.dryRun,
    deleted: plan.deleteKeys,
    abortedUploads: plan.abortUploads.map(({ key, uploadId }) => ({ key, uploadId })),
    keptRecent: plan.keptRecent,
    kept: plan.kept,
    prunedArchive: plan.pruneArchived,
  };
}
