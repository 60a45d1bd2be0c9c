import type { Command } from 'commander';
import type { ChannelIndex, Release } from '../protocol/types.js';
import { UserError } from '../errors.js';
import type { ReleaseEventName } from '../protocol/release-event.js';
import type { HookResult } from '../hooks/run-hooks.js';
import { releaseEvent } from './release-event.js';
import { listChannels } from '../channel/catalog.js';
import { recordChange, type HistoryRecord } from '../channel/history.js';
import type { ReleaseChange } from '../release/operations.js';
import { readArchivedReleases, withArchivedReleases } from '../channel/archive.js';
import { readIndex, updateIndex, type IndexSnapshot } from '../channel/index-store.js';
import type { Store } from '../store/store.js';
import { confirmOrSkip } from '../cli/confirm.js';
import { requireChannel, withContext, type CommandContext, type GlobalOptions } from '../cli/context.js';
import { runReleaseHooks } from './release-hooks.js';

/** Flags of every command that changes a channel index. */
export interface WriteFlags extends GlobalOptions {
  channel?: string;
  hooks: boolean;
}

export function addWriteOptions(command: Command): Command {
  return command
    .option('--dry-run', 'show what would change, write nothing')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--no-hooks', 'do not run post-release hooks');
}

export const addChannelOption = (command: Command) => command.option('--channel <name>', 'channel to change (default: config channel)');

export async function requireExistingChannel(store: Store, channel: string): Promise<IndexSnapshot> {
  const snapshot = await readIndex(store, channel);
  if (snapshot.etag === null) {
    const channels = await listChannels(store);
    throw new UserError(
      `unknown channel '${channel}' in ${store.location}; ${channels.length ? `channels: ${channels.join(', ')}` : 'publish something first'}`,
    );
  }
  return snapshot;
}

export interface ChangeSpec<T extends { index: ChannelIndex }> {
  channel: string;
  packageId: string;
  /** Pure; re-run on the fresh index at every write attempt; throws a UserError to refuse. */
  apply: (index: ChannelIndex) => T;
  /** Checks of the preview that need the store (throw to refuse), before anything is asked or written. */
  check?: (preview: T) => Promise<void>;
  /** Asked (unless --yes) about a preview of the change, before anything is written. */
  question: (preview: T) => string;
  history: (change: T) => HistoryRecord;
  event: (change: T) => { name: ReleaseEventName; release: Release; previousVersion: string | null };
  hooks: boolean;
  /** Promote may create the target channel; everything else needs it to exist. */
  mayCreateChannel?: boolean;
}

/**
 * The one path of a release operation: validate on the current index → ask →
 * conditional index write (updateIndex) → history entry → hooks.
 */
export async function writeReleaseChange<T extends { index: ChannelIndex }>(
  context: CommandContext,
  spec: ChangeSpec<T>,
): Promise<{ change: T; hooks: HookResult[] }> {
  const { store } = context;
  const snapshot = spec.mayCreateChannel ? await readIndex(store, spec.channel) : await requireExistingChannel(store, spec.channel);
  // Releases no device could reach were moved to the archive; a change may make one reachable again.
  const archived = await readArchivedReleases(store, spec.channel, spec.packageId);
  const apply = (index: ChannelIndex) => spec.apply(withArchivedReleases(index, spec.packageId, archived));
  let change = apply(snapshot.index);
  await spec.check?.(change);
  if (!(await confirmOrSkip(context, spec.question(change)))) throw new UserError('cancelled; nothing was written');
  const written = await updateIndex(store, spec.channel, (index) => (change = apply(index)).index);
  await recordChange(store, spec.channel, spec.packageId, [spec.history(change)], (line) => context.output.warn(line));
  const { name, release, previousVersion } = spec.event(change);
  const event = releaseEvent(name, {
    packageId: spec.packageId,
    release,
    previousVersion,
    channel: spec.channel,
    changedKeys: [written.key],
    store: store.location,
  });
  const hooks = spec.hooks ? await runReleaseHooks(context, [event]) : [];
  return { change, hooks };
}

const stateOf = (release: Release) => ({ state: release.state, rollout: release.rules.rollout });
const describeState = ({ state, rollout }: ReturnType<typeof stateOf>) => `${state}, rollout ${rollout}%`;

/**
 * rollout, halt and resume: one change to the package's current release.
 * JSON: { channel, package, version, previous: { state, rollout }, current: { state, rollout }, dryRun, hooks }
 */
export async function changeCurrentRelease(
  flags: WriteFlags,
  packageId: string,
  action: 'rollout' | 'halt' | 'resume',
  apply: (index: ChannelIndex) => ReleaseChange,
): Promise<void> {
  await withContext(flags, async (context) => {
    const channel = requireChannel(flags.channel, context.config.channel);
    const { change, hooks } = await writeReleaseChange(context, {
      channel,
      packageId,
      apply,
      hooks: flags.hooks,
      question: ({ version, before, after }) =>
        `${action} ${packageId} ${version} on '${channel}': ${describeState(stateOf(before))} → ${describeState(stateOf(after))}?`,
      history: ({ version, before, after }) => ({
        action,
        version,
        ...(action === 'rollout' ? { from: before.rules.rollout, to: after.rules.rollout } : { from: before.state, to: after.state }),
        details: { previous: stateOf(before), current: stateOf(after) },
      }),
      event: ({ after }) => ({ name: action, release: after, previousVersion: null }),
    });
    const document = {
      channel,
      package: packageId,
      version: change.version,
      previous: stateOf(change.before),
      current: stateOf(change.after),
      dryRun: context.dryRun,
      hooks,
    };
    context.output.result(
      document,
      () =>
        `${context.dryRun ? '[dry-run] nothing written. ' : ''}${packageId} ${change.version} on ${channel}: ${describeState(document.previous)} → ${describeState(document.current)}`,
    );
  });
}
