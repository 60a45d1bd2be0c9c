import type { HookResult } from '../hooks/run-hooks.js';
import { readArchivedReleases } from '../channel/archive.js';
import { provenanceDetails, type HistoryRecord } from '../channel/history.js';
import { readIndex, requireExistingChannel, updateIndex } from '../channel/index-store.js';
import type { ReleaseEvent, ReleaseEventName, RolloutEvidence } from '../protocol/release-event.js';
import type { ChannelIndex, Release, ReleaseRules } from '../protocol/types.js';
import { editRelease, requireCurrentRelease, rollback, type ReleaseChange } from '../release/operations.js';
import { describeRules } from '../release/rules.js';
import { assertWhitelistsExist } from '../channel/whitelists.js';
import type { Provenance } from './provenance.js';
import { withArchivedReleases } from '../release/reachability.js';
import { confirmOrDecline, type WorkflowContext } from './context.js';
import { releaseEvent } from './release-event.js';
import { channelIndexKey } from '../protocol/layout.js';
import { indexLifetimeMs, receiptsSettingsOf } from '../config/schema.js';
import { afterIndexWrite, finishInterruptedWork } from './after-index.js';

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
  event: (change: T) => { name: ReleaseEventName; release: Release; previousVersion: string | null } & Pick<ReleaseEvent, 'automatic' | 'evidence'>;
  /** Stands in for the clock in the index, its history entry and its event (`rollout tick --now`). */
  now?: Date;
  hooks: boolean;
  /** Promote may create the target channel; everything else needs it to exist. */
  mayCreateChannel?: boolean;
  /** Why the change is a no-op, if it is: then nothing is asked, written or run, and the command succeeds. */
  unchanged?: (change: T) => string | undefined;
  /** Work that writes (uploads) once the change is confirmed, before the index write that makes it live. */
  beforeWrite?: (preview: T) => Promise<void>;
}

/** Thrown inside the index write when the fresh index already is as asked: the write is dropped. */
class NothingToChange extends Error {}

/**
 * The one path of a release operation: validate on the current index → ask →
 * conditional index write (updateIndex) → history entry → hooks.
 */
export async function writeReleaseChange<T extends { index: ChannelIndex }>(
  context: WorkflowContext,
  spec: ChangeSpec<T>,
): Promise<{ change: T; hooks: HookResult[]; unchanged?: string }> {
  const { store } = context;
  const snapshot = spec.mayCreateChannel ? await readIndex(store, spec.channel) : await requireExistingChannel(store, spec.channel);
  await finishInterruptedWork(context, spec.channel);
  // Releases no device could reach were moved to the archive; a change may make one reachable again.
  const archived = await readArchivedReleases(store, spec.channel, spec.packageId);
  const apply = (index: ChannelIndex) => spec.apply(withArchivedReleases(index, spec.packageId, archived));
  let change = apply(snapshot.index);
  await spec.check?.(change);
  const unchanged = spec.unchanged?.(change);
  if (unchanged) return { change, hooks: [], unchanged };
  await confirmOrDecline(context, spec.question(change));
  await spec.beforeWrite?.(change);
  const after = afterIndexWrite(context, spec.channel, (index) => {
    const { name, release, previousVersion, ...extra } = spec.event(change);
    const event = releaseEvent(name, {
      at: spec.now,
      packageId: spec.packageId,
      release,
      previousVersion,
      channel: spec.channel,
      changedKeys: [channelIndexKey(spec.channel)],
      store: store.location,
      index,
    });
    Object.assign(event, extra);
    return {
      summary: `${name} of ${spec.packageId}@${release.version}`,
      releases: [{ package: spec.packageId, release }],
      history: [{ package: spec.packageId, records: [spec.history(change)] }],
      events: spec.hooks ? [event] : [],
    };
  });
  try {
    await updateIndex(
      store,
      spec.channel,
      (index) => {
        change = apply(index);
        // Someone made the same change meanwhile: writing it again would add history and fire hooks.
        if (spec.unchanged?.(change)) throw new NothingToChange();
        return change.index;
      },
      { lifetimeMs: indexLifetimeMs(context.config), beforeWrite: after.beforeWrite, now: spec.now, receipts: receiptsSettingsOf(context.config) },
    );
  } catch (error) {
    if (error instanceof NothingToChange) return { change, hooks: [], unchanged: spec.unchanged!(change) };
    throw error;
  }
  return { change, hooks: await after.complete() };
}

/** A release's serving state, as rollout, halt and resume report it. */
export const stateOf = (release: Release) => ({ state: release.state, rollout: release.rules.rollout });
export type ServingState = ReturnType<typeof stateOf>;
export const describeState = ({ state, rollout }: ServingState) => `${state}, rollout ${rollout}%`;

export interface CurrentReleaseChange {
  channel: string;
  package: string;
  version: string;
  previous: ServingState;
  current: ServingState;
  /** False when the release already was as asked: nothing was written, no hook ran. */
  changed: boolean;
  dryRun: boolean;
  hooks: HookResult[];
  /** Why nothing changed (changed: false). */
  unchanged?: string;
}

/** rollout, halt and resume: one change to the package's current release. */
export async function changeCurrentRelease(
  context: WorkflowContext,
  request: {
    channel: string;
    packageId: string;
    action: 'rollout' | 'halt' | 'resume';
    apply: (index: ChannelIndex) => ReleaseChange;
    hooks: boolean;
    /** `rollout tick`: the change is automatic, made on this evidence, at this time. */
    automatic?: { evidence: RolloutEvidence; now: Date };
  },
): Promise<CurrentReleaseChange> {
  const { channel, packageId, action, automatic } = request;
  const { change, hooks, unchanged } = await writeReleaseChange(context, {
    channel,
    packageId,
    apply: request.apply,
    hooks: request.hooks,
    now: automatic?.now,
    unchanged: (preview) => preview.unchanged,
    question: ({ version, before, after }) =>
      `${action} ${packageId} ${version} on '${channel}': ${describeState(stateOf(before))} → ${describeState(stateOf(after))}?`,
    history: ({ version, before, after }) => ({
      action,
      version,
      ...(action === 'rollout' ? { from: before.rules.rollout, to: after.rules.rollout } : { from: before.state, to: after.state }),
      details: { previous: stateOf(before), current: stateOf(after), ...(automatic && { evidence: automatic.evidence }) },
      ...(automatic && { automatic: true, at: automatic.now.toISOString() }),
    }),
    event: ({ after }) => ({ name: action, release: after, previousVersion: null, ...(automatic && { automatic: true, evidence: automatic.evidence }) }),
  });
  return {
    channel,
    package: packageId,
    version: change.version,
    previous: stateOf(change.before),
    current: stateOf(change.after),
    changed: unchanged === undefined,
    dryRun: context.dryRun,
    hooks,
    ...(unchanged && { unchanged }),
  };
}

export interface RollbackResult {
  channel: string;
  package: string;
  from: string | null;
  to: string;
  rolledBack: string[];
  dryRun: boolean;
  hooks: HookResult[];
}

/** Serves the previous active release (or `to`) again; every release above it is marked rolled-back. */
export async function rollbackRelease(
  context: WorkflowContext,
  request: { channel: string; packageId: string; to?: string; hooks: boolean },
): Promise<RollbackResult> {
  const { channel, packageId } = request;
  const { change, hooks } = await writeReleaseChange(context, {
    channel,
    packageId,
    apply: (index) => rollback(index, packageId, request.to),
    hooks: request.hooks,
    question: ({ to, rolledBack }) =>
      `Roll ${packageId} on '${channel}' back to ${to}${rolledBack.length ? ` (marks ${rolledBack.join(', ')} rolled-back)` : ''}?`,
    history: ({ from, to, rolledBack }) => ({ action: 'rollback', version: to, from, to, details: { rolledBack } }),
    event: ({ target, from }) => ({ name: 'rollback', release: target, previousVersion: from }),
  });
  const { from, to, rolledBack } = change;
  return { channel, package: packageId, from, to, rolledBack, dryRun: context.dryRun, hooks };
}

export interface EditResult {
  channel: string;
  package: string;
  version: string;
  previous: { rules: ReleaseRules; message: string | null };
  current: { rules: ReleaseRules; message: string | null };
  /** False when the release already was as asked: nothing was written, no hook ran. */
  changed: boolean;
  dryRun: boolean;
  hooks: HookResult[];
  unchanged?: string;
}

/**
 * Changes a release's targeting and notes (`edit`): the release shown in the
 * confirmation is the one changed, even if a publish lands meanwhile.
 */
export async function editReleaseRules(
  context: WorkflowContext,
  request: { channel: string; packageId: string; version?: string; patch: Partial<Omit<ReleaseRules, 'rollout'>>; provenance: Provenance; hooks: boolean },
): Promise<EditResult> {
  const { channel, packageId, patch, provenance } = request;
  await assertWhitelistsExist(context.store, patch.whitelist);
  let version = request.version;
  const notesOf = (release: Release) => ({ rules: release.rules, message: release.message ?? null });
  const { change, hooks, unchanged } = await writeReleaseChange(context, {
    channel,
    packageId,
    apply: (index) => editRelease(index, packageId, (version ??= requireCurrentRelease(index, packageId).version), patch, provenance.message),
    check: async ({ after }) => {
      // Ending a release now can be meant (stop serving it by time): said, not refused.
      if (patch.endsAt && new Date(patch.endsAt) <= new Date()) {
        context.output.warn(`--ends-at ${patch.endsAt} has passed: ${packageId} ${after.version} stops being served at once`);
      }
    },
    hooks: request.hooks,
    unchanged: (preview) => preview.unchanged,
    question: ({ version: edited, before, after }) =>
      `Edit ${packageId} ${edited} on '${channel}': ${describeRules(before.rules)} → ${describeRules(after.rules)}${
        after.message !== before.message ? `; notes "${after.message}"` : ''
      }?`,
    history: ({ version: edited, before, after }) => ({
      action: 'edit',
      version: edited,
      details: { previous: notesOf(before), current: notesOf(after), ...provenanceDetails({ commit: provenance.commit }) },
    }),
    event: ({ after }) => ({ name: 'edit', release: after, previousVersion: null }),
  });
  return {
    channel,
    package: packageId,
    version: change.version,
    previous: notesOf(change.before),
    current: notesOf(change.after),
    changed: unchanged === undefined,
    dryRun: context.dryRun,
    hooks,
    ...(unchanged && { unchanged }),
  };
}
