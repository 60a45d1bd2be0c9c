import { readHistory, type HistoryEntry } from '../channel/history.js';
import { listChannels, readIndex, requireExistingChannel } from '../channel/index-store.js';
import { listWhitelists } from '../channel/whitelists.js';
import { configuredChannels } from '../config/schema.js';
import { namedWhitelists } from '../client/read-documents.js';
import { UserError } from '../errors.js';
import { isExpired, windowPlace } from '../protocol/serving-window.js';
import type { ChannelIndex, Release } from '../protocol/types.js';
import type { WorkflowContext } from './context.js';

/** Devices refuse an expired index: said a week ahead. */
const EXPIRY_WARNING_MS = 7 * 86_400_000;

export interface ChannelsStatus {
  /** The channel named, or every channel with an index. */
  indexes: ChannelIndex[];
  /** Indexes expired or expiring within a week, and releases naming whitelists the store lacks. */
  warnings: string[];
  /** Whitelists a release names that the store lacks. */
  missing: (release: Release) => string[];
  now: Date;
}

/**
 * What each channel serves (`status`): the named channel must exist (an
 * empty one would show a made-up updatedAt), else every channel with an index.
 */
export async function readChannelsStatus(context: Pick<WorkflowContext, 'store' | 'config'>, channel?: string): Promise<ChannelsStatus> {
  const { store } = context;
  const now = new Date();
  const indexes: ChannelIndex[] = [];
  if (channel) indexes.push((await requireExistingChannel(store, channel, configuredChannels(context.config))).index);
  else for (const name of await listChannels(store)) indexes.push((await readIndex(store, name)).index);
  // A list a release names but the store lacks: its devices get the release only through the rollout.
  const named = namedWhitelists(indexes.flatMap((index) => Object.values(index.packages).flatMap(({ releases }) => releases.map((release) => release.rules))));
  const stored = named.size ? new Set((await listWhitelists(store)).map((meta) => meta.name)) : new Set<string>();
  const missing = (release: Release) => (release.rules.whitelist ?? []).filter((name) => !stored.has(name));
  const warnings = [...indexes.flatMap((index) => expiryWarning(index, now)), ...indexes.flatMap((index) => missingWhitelistWarnings(index, missing))];
  return { indexes, warnings, missing, now };
}

function expiryWarning(index: ChannelIndex, now: Date): string[] {
  if (index.expires === undefined) return [];
  const left = Date.parse(index.expires) - now.getTime();
  if (left > EXPIRY_WARNING_MS) return [];
  const when = isExpired(index, now) ? `expired at ${index.expires}: devices refuse it` : `expires at ${index.expires} (in ${Math.ceil(left / 3_600_000)} h)`;
  return [`channel '${index.channel}' index ${when}; run 'update-publish refresh --channel ${index.channel}' (and schedule it)`];
}

function missingWhitelistWarnings(index: ChannelIndex, missing: (release: Release) => string[]): string[] {
  return Object.entries(index.packages).flatMap(([id, { releases }]) =>
    releases
      .filter((release) => missing(release).length)
      .map(
        (release) =>
          `${id}@${release.version} on ${index.channel} names whitelist ${missing(release).map((name) => `'${name}'`).join(', ')}, which is not in the store: nobody is in it; upload it again or 'update-publish edit' the release`,
      ),
  );
}

/** What devices get from a release now: its state, except that an active release outside its window is 'scheduled' (not yet) or 'ended'. */
export function servingOf(release: Release, now: Date): string {
  if (release.state !== 'active') return release.state;
  return { before: 'scheduled', within: 'active', after: 'ended' }[windowPlace(release.rules, now)];
}

/**
 * Every release of a package on a channel and every change to it, newest
 * first (`history`): the log, plus releases it does not mention.
 */
export async function readPackageHistory(
  context: Pick<WorkflowContext, 'store' | 'config'>,
  request: { channel: string; packageId: string; limit?: number },
): Promise<HistoryEntry[]> {
  const { channel, packageId } = request;
  const { index } = await requireExistingChannel(context.store, channel, configuredChannels(context.config));
  const entries = (await readHistory(context.store, channel, packageId, index.packages[packageId]?.releases ?? [])).slice(0, request.limit);
  if (entries.length === 0) {
    const known = Object.keys(index.packages);
    throw new UserError(`package '${packageId}' has no history on channel '${channel}'; released there: ${known.join(', ') || 'nothing'}`);
  }
  return entries;
}
