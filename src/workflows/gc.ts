import { withArchive } from '../channel/archive.js';
import { listChannels, readIndex } from '../channel/index-store.js';
import { packagesPrefix } from '../protocol/layout.js';
import { planGc } from '../release/gc-plan.js';
import { plural } from '../format.js';
import { confirmOrDecline, type WorkflowContext } from './context.js';

export interface GcResult {
  dryRun: boolean;
  /** Deleted, or in a dry run what would be. */
  deleted: string[];
  abortedUploads: { key: string; uploadId: string }[];
  /** Unreferenced version folders kept because something in them is newer than the age. */
  keptRecent: string[];
}

/** Removes package versions no channel references (archived releases count: rollback --to can reach them) and stale uploads. */
export async function collectGarbage(context: WorkflowContext, maxAgeMs: number): Promise<GcResult> {
  const { store } = context;
  const indexes = [];
  for (const channel of await listChannels(store)) indexes.push(await withArchive(store, (await readIndex(store, channel)).index));
  const plan = planGc(indexes, await store.list(packagesPrefix), await store.listOpenUploads(), new Date(), maxAgeMs);
  const result = {
    dryRun: context.dryRun,
    deleted: plan.deleteKeys,
    abortedUploads: plan.abortUploads.map(({ key, uploadId }) => ({ key, uploadId })),
    keptRecent: plan.keptRecent,
  };
  if (plan.deleteKeys.length) await confirmOrDecline(context, `Delete ${plural(plan.deleteKeys.length, 'object')}?`, 'cancelled; nothing was deleted');
  await store.delete(plan.deleteKeys);
  for (const upload of plan.abortUploads) await store.abortUpload(upload);
  return result;
}
