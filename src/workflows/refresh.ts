import { listChannels, requireExistingChannel, updateIndex } from '../channel/index-store.js';
import { indexLifetimeMs } from '../config/schema.js';
import type { WorkflowContext } from './context.js';
import { finishInterruptedWork } from './after-index.js';

export interface RefreshedChannel {
  channel: string;
  /** The index version written (in a dry run: that would be). */
  version: number;
  expires: string;
}

/**
 * Writes each channel's index again with one more version and a fresh expiry,
 * nothing else changed: what a scheduled job runs so devices never see an
 * expired index while nothing is published.
 */
export async function refreshIndexes(context: WorkflowContext, channel?: string): Promise<{ channels: RefreshedChannel[]; dryRun: boolean }> {
  const { store } = context;
  const names = channel ? [(await requireExistingChannel(store, channel)) && channel] : await listChannels(store);
  const channels: RefreshedChannel[] = [];
  for (const name of names) {
    await finishInterruptedWork(context, name);
    const { index } = await updateIndex(store, name, (current) => current, { lifetimeMs: indexLifetimeMs(context.config), dryRun: context.dryRun });
    channels.push({ channel: name, version: index.version ?? 0, expires: index.expires! });
  }
  return { channels, dryRun: context.dryRun };
}
