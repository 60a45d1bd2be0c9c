import { channelKeys, removeChannelObjects } from '../channel/channels.js';
import { INDEX, readIndex, unknownChannel, listChannels } from '../channel/index-store.js';
import { configuredChannels } from '../config/schema.js';
import { UserError } from '../errors.js';
import { plural } from '../format.js';
import { runChange } from './change-pipeline.js';
import { confirmOrDecline, type WorkflowContext } from './context.js';

export interface ChannelCreated {
  channel: string;
  created: true;
  dryRun: boolean;
}

/**
 * A new channel: its first index, written like every index (version 1, an
 * expiry from `signing.indexLifetime`, signed), so it exists before anything
 * is released to it.
 */
export async function createChannelNamed(context: WorkflowContext, channel: string): Promise<ChannelCreated> {
  const exists = () => new UserError(`channel '${channel}' already exists in ${context.store.location}; see 'update-publish channel ls'`);
  if ((await readIndex(context.store, channel)).etag !== null) throw exists();
  await runChange(context, {
    kind: INDEX,
    channel,
    mayCreateChannel: true,
    apply: (index) => {
      // Someone created it between our read and our write.
      if ((index.version ?? 0) > 0 || Object.keys(index.packages).length > 0) throw exists();
      return { document: index };
    },
    question: () => `Create channel '${channel}' in ${context.store.location}?`,
    after: () => ({ summary: `channel create ${channel}`, history: [], events: [] }),
    hooks: false,
  });
  return { channel, created: true, dryRun: context.dryRun };
}

export interface ChannelRemoved {
  channel: string;
  /** Objects deleted (in a dry run: that would be). */
  removed: string[];
  dryRun: boolean;
}

/**
 * Removes a channel and everything under it, once confirmed; refused while it
 * serves releases (its devices would be left with nothing) unless forced.
 */
export async function removeChannelNamed(context: WorkflowContext, request: { channel: string; force: boolean }): Promise<ChannelRemoved> {
  const { store, config, output } = context;
  const { channel } = request;
  const keys = await channelKeys(store, channel);
  const configured = configuredChannels(config).includes(channel);
  if (keys.length === 0) {
    if (configured) throw new UserError(`channel '${channel}' has nothing in ${store.location}; it exists because the config names it: remove it there`);
    throw unknownChannel(channel, store.location, await listChannels(store));
  }
  const { index } = await readIndex(store, channel);
  const served = Object.entries(index.packages).flatMap(([id, { releases }]) =>
    releases.filter((release) => release.state === 'active').map((release) => `${id}@${release.version}`),
  );
  if (served.length > 0 && !request.force) {
    throw new UserError(
      `channel '${channel}' serves ${plural(served.length, 'release')} (${served.join(', ')}); its devices would get nothing: halt them first, or pass --force to remove it anyway`,
    );
  }
  await confirmOrDecline(context, `Remove channel '${channel}' (${plural(served.length, 'served release')}, ${plural(keys.length, 'object')})?`, 'cancelled; nothing was removed');
  await removeChannelObjects(store, channel, keys);
  if (configured) output.warn(`the config still names channel '${channel}', so it stays known (empty); remove it from the config to retire it`);
  return { channel, removed: keys, dryRun: context.dryRun };
}
