import type { ChannelIndex, Release } from '../protocol/types.js';
import type { ReleaseEvent, ReleaseEventName } from '../protocol/release-event.js';

export function releaseEvent(
  event: ReleaseEventName,
  fields: {
    packageId: string;
    release: Release;
    previousVersion: string | null;
    channel: string;
    changedKeys: string[];
    store: string;
    /** The channel index as written (or, for a re-run, as stored). */
    index: ChannelIndex;
    /** Stands in for the clock (`--now`). */
    at?: Date;
    /** Who acted (WorkflowContext.actor). */
    actor: string;
  },
): ReleaseEvent {
  const { release, index } = fields;
  return {
    event,
    package: fields.packageId,
    version: release.version,
    previousVersion: fields.previousVersion,
    channel: fields.channel,
    rollout: release.state === 'halted' ? 0 : release.rules.rollout,
    mandatory: release.rules.mandatory,
    rules: release.rules,
    size: release.full.size,
    key: release.full.key,
    changedKeys: fields.changedKeys,
    store: fields.store,
    at: (fields.at ?? new Date()).toISOString(),
    actor: fields.actor,
    releases: index.packages[fields.packageId]?.releases ?? [],
    indexVersion: index.version ?? 0,
    ...(release.message !== undefined && { message: release.message }),
    ...(release.commit !== undefined && { commit: release.commit }),
  };
}
