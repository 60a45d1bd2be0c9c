import { userInfo } from 'node:os';
import type { Release } from '../protocol/types.js';
import type { ReleaseEvent, ReleaseEventName } from '../protocol/release-event.js';

/** Who acted: CI's actor when there is one, else the local user. */
export function currentActor(): string {
  const env = process.env;
  const ci = env.GITHUB_ACTOR ?? env.GITLAB_USER_LOGIN ?? env.BUILD_USER_ID;
  if (ci) return ci;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

export function releaseEvent(
  event: ReleaseEventName,
  fields: {
    packageId: string;
    release: Release;
    previousVersion: string | null;
    channel: string;
    changedKeys: string[];
    store: string;
  },
): ReleaseEvent {
  const { release } = fields;
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
    at: new Date().toISOString(),
    actor: currentActor(),
  };
}
