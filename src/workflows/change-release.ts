import { windowClosed } from '../protocol/serving-window.js';
import type { HookResult } from '../hooks/run-hooks.js';
import { readArchivedReleases } from '../channel/archive.js';
import { packageHistory, provenanceDetails, type HistoryRecord } from '../channel/history.js';
import { INDEX } from '../channel/index-store.js';
import type { ReleaseEvent, ReleaseEventName, RolloutEvidence } from '../protocol/release-event.js';
import { withReceiptsSettings } from '../channel/receipts-settings.js';
import type { ChannelIndex, Release, ReleaseRules } from '../protocol/types.js';
import { editRelease, requireCurrentRelease, rollback, type ReleaseChange } from '../release/operations.js';
import { describeRulesChange } from '../release/rules.js';
import { assertWhitelistsExist } from '../channel/whitelists.js';
import type { Provenance } from './provenance.js';
import { withArchivedReleases } from '../release/reachability.js';
import type { WorkflowContext } from './context.js';
import { releaseEvent } from './release-event.js';
import { runChange } from './change-pipeline.js';

/** A change to releases in a channel's index, as release/operations.ts computes it. */
export interface IndexChange {
  index: ChannelIndex;
  unchanged?: string;
}

export interface ReleaseChangeSpec<T extends IndexChange, K = void, P = void> {
  channel: string;
  packageId: string;
  /** Pure; re-run on the fresh index at every write attempt; throws a UserError to refuse. */
  apply: (index: ChannelIndex, prepared: P | undefined) => T;
  check?: (preview: T) => Promise<K>;
  question: (preview: T, checked: K) => string;
  prepare?: (preview: T, checked: K) => Promise<P>;
  history: (change: T) => HistoryRecord;
  event: (change: T) => { name: ReleaseEventName; release: Release; previousVersion: string | null } & Pick<ReleaseEvent, 'automatic' | 'evidence'>;
  /** Stands in for the clock in the index, its history entry and its event (`rollout tick --now`). */
  now?: Date;
  hooks: boolean;
  /** Promote may create the target channel; everything else needs it known. */
  mayCreateChannel?: boolean;
}

/**
 * A release operation on the change pipeline (workflows/change-pipeline.ts):
 * the index kind, its releases read together with those archived (a change
 * may make one reachable again), one history entry and one event.
 */
export async function writeReleaseChange<T extends IndexChange, K = void, P = void>(
  context: WorkflowContext,
  spec: ReleaseChangeSpec<T, K, P>,
): Promise<{ change: T; checked: K; hooks: HookResult[]; changed: boolean; unchanged?: string }> {
  const { channel, packageId } = spec;
  const archived = await readArchivedReleases(context.store, channel, packageId);
  const { change, checked, hooks, changed, unchanged } = await runChange<ChannelIndex, T & { document: ChannelIndex }, K, P>(context, {
    kind: INDEX,
    channel,
    mayCreateChannel: spec.mayCreateChannel,
    now: spec.now,
    apply: (index: ChannelIndex, prepared: P | undefined) => {
      const applied = spec.apply(withArchivedReleases(index, packageId, archived), prepared);
      return { ...applied, document: withReceiptsSettings(applied.index, context.config) };
    },
    check: spec.check,
    question: spec.question,
    prepare: spec.prepare,
    hooks: spec.hooks,
    after: (applied, written) => {
      const { name, release, previousVersion, ...automatic } = spec.event(applied);
      const event = releaseEvent(name, { packageId, release, previousVersion, channel, changedKeys: [written.key], store: context.store.location, index: written.document, at: spec.now, actor: context.actor });
      return {
        summary: `${name} of ${packageId}@${release.version}`,
        releases: [{ package: packageId, release }],
        history: [packageHistory(channel, packageId, [spec.history(applied)], context.actor)],
        // rollout tick: the event says it was automatic, with the evidence.
        events: [{ ...event, ...automatic }],
      };
    },
  });
  return { change, checked, hooks, changed, ...(unchanged !== undefined && { unchanged }) };
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
      if (windowClosed(patch, new Date())) {
        context.output.warn(`--ends-at ${patch.endsAt} has passed: ${packageId} ${after.version} stops being served at once`);
      }
    },
    hooks: request.hooks,
    question: ({ version: edited, before, after }) =>
      `Edit ${packageId} ${edited} on '${channel}': ${describeRulesChange(before, after)}?`,
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
