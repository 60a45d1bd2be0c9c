import { packageReleases } from '../channel/archive.js';
import { recordChange } from '../channel/history.js';
import { readIndex } from '../channel/index-store.js';
import { indexDigest, newPendingId, readPending, removePending, writePending, type PendingWork } from '../channel/pending.js';
import type { HookResult } from '../hooks/run-hooks.js';
import { findRelease } from '../protocol/channel-index.js';
import type { ChannelIndex } from '../protocol/types.js';
import type { WorkflowContext } from './context.js';
import { runReleaseHooks } from './release-hooks.js';

/** What an index write leaves to do, as the writer knows it once the new index is built. */
export type AfterIndex = Omit<PendingWork, 'id' | 'channel' | 'indexVersion' | 'indexDigest'>;

/**
 * The steps that follow a channel index write, kept safe across a kill: the
 * record of them is written before every write attempt (`beforeWrite` of
 * updateIndex), and removed once the history entries are written and the
 * hooks ran (`complete`). Dry runs write no record.
 */
export function afterIndexWrite(context: WorkflowContext, channel: string, describe: (index: ChannelIndex) => AfterIndex) {
  const id = newPendingId();
  let work: PendingWork | undefined;
  return {
    async beforeWrite(index: ChannelIndex): Promise<void> {
      work = { id, channel, indexVersion: index.version ?? 0, indexDigest: indexDigest(index), ...describe(index) };
      if (!context.dryRun) await writePending(context.store, work);
    },
    /** History entries, then hooks; the record goes once both are done. */
    async complete(): Promise<HookResult[]> {
      if (!work) return [];
      return runPendingWork(context, work);
    },
  };
}

async function runPendingWork(context: WorkflowContext, work: PendingWork): Promise<HookResult[]> {
  for (const { package: packageId, records } of work.history) {
    const stamped = records.map((record) => ({ ...record, indexVersion: work.indexVersion }));
    await recordChange(context.store, work.channel, packageId, stamped, (line) => context.output.warn(line));
  }
  const hooks = work.events.length > 0 ? await runReleaseHooks(context, work.events) : [];
  if (!context.dryRun) await removePending(context.store, work);
  return hooks;
}

/**
 * Finishes what runs killed after their index write left undone on this
 * channel (history entries, hooks), before a new change; says what it finished.
 * A record whose write never landed (killed before it, or lost a race) is dropped.
 */
export async function finishInterruptedWork(context: WorkflowContext, channel: string): Promise<string[]> {
  if (context.dryRun) return [];
  const finished: string[] = [];
  for (const work of await readPending(context.store, channel)) {
    const { index } = await readIndex(context.store, channel);
    if (await landed(context, index, work)) {
      context.output.info(`finishing an interrupted ${work.summary} on '${channel}' (its index write landed): writing its history entry and running its hooks`);
      await runPendingWork(context, work);
      finished.push(work.summary);
    } else {
      await removePending(context.store, work);
    }
  }
  return finished;
}

/** Whether the record's index write is the one in place (or was, and later writes built on it). */
async function landed(context: WorkflowContext, index: ChannelIndex, work: PendingWork): Promise<boolean> {
  const version = index.version ?? 0;
  if (version < work.indexVersion) return false;
  if (version === work.indexVersion) return indexDigest(index) === work.indexDigest;
  // Written over since: ours landed if the releases it wrote are there as it wrote them.
  for (const { package: packageId, release } of work.releases) {
    const present = findRelease(index, packageId, release.version) ?? (await packageReleases(context.store, index, packageId)).find((r) => r.version === release.version);
    if (JSON.stringify(present) !== JSON.stringify(release)) return false;
  }
  return true;
}
