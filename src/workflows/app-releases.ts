import type { AppDevice } from '../client/app-upgrade.js';
import { asTrusted, type TrustedKeys } from '../client/fetch/documents.js';
import { createUpdater } from '../client/updater.js';
import type { UpdateSource } from '../client/fetch/source.js';
import { APP_RELEASES } from '../channel/app-releases-store.js';
import { readDocumentHistory, readChannelDocument, type DocumentHistoryEntry } from '../channel/versioned-document.js';
import { assertWhitelistsExist } from '../channel/whitelists.js';
import type { HookResult } from '../hooks/run-hooks.js';
import type { AppRelease, AppReleasesDocument } from '../protocol/app-releases.js';
import type { AppReleaseEvent, DocumentEventFields } from '../protocol/release-event.js';
import {
  addAppRelease,
  checkNewAppRelease,
  haltAppRelease,
  removeAppRelease,
  setAppReleaseRollout,
  type AppReleaseChange,
  type NewAppRelease,
} from '../release/app-release-operations.js';
import { describeRollout } from '../release/rules.js';
import type { WorkflowContext } from './context.js';
import { writeDocumentChange } from './document-change.js';

export interface AppReleaseResult {
  channel: string;
  platform: string;
  version: string;
  /** The document's version after the change (in a dry run: as it would be). */
  documentVersion: number;
  /** False when the app releases already were as asked: nothing was written, no hook ran (exit 0). */
  changed: boolean;
  unchanged?: string;
  dryRun: boolean;
  hooks: HookResult[];
}

/** An app release's serving state, as rollout and halt report it. */
const stateOf = (release: AppRelease) => ({ state: release.state, rollout: release.rules.rollout });
export type AppReleaseState = ReturnType<typeof stateOf>;
export const describeAppReleaseState = ({ state, rollout }: AppReleaseState) => `${state}, rollout ${rollout}%`;

type Written = DocumentEventFields & { document: AppReleasesDocument };
/** `rollout` is the share told now: 0 once halted or removed. */
function appReleaseEvent(action: AppReleaseEvent['action'], platform: string, release: AppRelease, served: AppRelease | null, written: Written): AppReleaseEvent {
  const rollout = served && served.state === 'active' ? served.rules.rollout : 0;
  return { ...written, event: 'app-release', action, platform, version: release.version, rollout, mandatory: release.rules.mandatory };
}

export async function addAppReleaseTo(
  context: WorkflowContext,
  request: { channel: string; release: NewAppRelease; hooks: boolean },
): Promise<AppReleaseResult & { release: AppRelease }> {
  const { channel } = request;
  const { platform, version } = checkNewAppRelease(request.release);
  await assertWhitelistsExist(context.store, request.release.rules.whitelist);
  const { change, document, hooks, changed, unchanged } = await writeDocumentChange(context, {
    kind: APP_RELEASES,
    channel,
    hooks: request.hooks,
    summary: `app-release add ${platform}@${version}`,
    apply: (current) => addAppRelease(current, request.release),
    question: ({ release }) =>
      `Tell ${platform} devices on '${channel}' about app ${version} (${release.url}; ${describeRollout(release.rules)}${release.minSupported ? `; min supported ${release.minSupported}` : ''})?`,
    history: ({ release }) => ({ action: 'add', platform, appVersion: version, release }),
    event: ({ release }, written) => appReleaseEvent('add', platform, release, release, written),
  });
  return { channel, platform, version, release: change.release, documentVersion: document.version, changed, ...(unchanged !== undefined && { unchanged }), dryRun: context.dryRun, hooks };
}

/** rm, rollout and halt: one change to one app release. */
export async function changeAppRelease(
  context: WorkflowContext,
  request: {
    channel: string;
    platform: string;
    version: string;
    action: 'rm' | 'rollout' | 'halt';
    hooks: boolean;
    rollout?: number;
  },
): Promise<AppReleaseResult & { previous: AppReleaseState; current: AppReleaseState | null }> {
  const { channel, platform, version, action } = request;
  const apply = (current: AppReleasesDocument): AppReleaseChange =>
    action === 'rm'
      ? removeAppRelease(current, platform, version)
      : action === 'halt'
        ? haltAppRelease(current, platform, version)
        : setAppReleaseRollout(current, platform, version, request.rollout!);
  const { change, document, hooks, changed, unchanged } = await writeDocumentChange(context, {
    kind: APP_RELEASES,
    channel,
    hooks: request.hooks,
    summary: `app-release ${action} ${platform}@${version}`,
    apply,
    question: ({ before, after }) =>
      after
        ? `${action} app release ${platform}@${version} on '${channel}': ${describeAppReleaseState(stateOf(before))} → ${describeAppReleaseState(stateOf(after))}?`
        : `Remove app release ${platform}@${version} from '${channel}' (${describeAppReleaseState(stateOf(before))})?`,
    history: ({ before, after }) => ({ action, platform, appVersion: version, from: stateOf(before), to: after && stateOf(after) }),
    event: ({ before, after }, written) => appReleaseEvent(action, platform, after ?? before, after, written),
  });
  return {
    channel,
    platform,
    version,
    previous: stateOf(change.before),
    current: change.after && stateOf(change.after),
    documentVersion: document.version,
    changed,
    ...(unchanged !== undefined && { unchanged }),
    dryRun: context.dryRun,
    hooks,
  };
}

/** Every app release of the channel: by platform, newest version first. */
export async function listAppReleases(context: Pick<WorkflowContext, 'store'>, channel: string) {
  const { document } = await readChannelDocument(context.store, APP_RELEASES, channel);
  const releases = Object.keys(document.platforms)
    .sort()
    .flatMap((platform) => document.platforms[platform].releases.map((release) => ({ platform, ...release })));
  return { channel, documentVersion: document.version, updatedAt: document.version ? document.updatedAt : null, releases };
}

export type AppReleaseHistoryEntry = DocumentHistoryEntry<{ action: AppReleaseEvent['action']; platform: string; appVersion: string } & Record<string, unknown>>;

export async function appReleaseHistory(context: Pick<WorkflowContext, 'store'>, channel: string) {
  return { channel, entries: await readDocumentHistory<AppReleasesDocument, AppReleaseHistoryEntry>(context.store, APP_RELEASES, channel) };
}

/**
 * What one device gets, read as a device reads it: createUpdater of
 * update-publish/client (size limit, signatures with trusted keys, validation,
 * expiry), whitelist shards for its id. The CLI remembers nothing between runs.
 */
export function resolveDeviceAppUpgrade(source: UpdateSource, channel: string, device: AppDevice, publicKeys: TrustedKeys) {
  return createUpdater({ from: source, channel, trust: asTrusted(publicKeys), now: () => device.now ?? new Date() }).appUpgrade(device);
}
