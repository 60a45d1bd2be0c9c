import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { currentRelease } from '../protocol/channel-index.js';
import { isReleaseEvent, type DocumentEvent, type HookEvent, type ReleaseEvent } from '../protocol/release-event.js';

/**
 * The items the `dynamodb` hook keeps (pure: dynamodb.ts writes them).
 *
 * Event items, one per event, never overwritten:
 *   package event  → partition = package id,        sort = `<version>#<channel>#<event>#<at>`
 *   switch         → partition = `#switches`,       sort = `<channel>#<document version, 10 digits>#switch#<at>`
 *   app-release    → partition = `#app-releases`,   sort = `<channel>#<document version, 10 digits>#app-release#<at>`
 * Current items, one per package and channel, and one per channel for
 * switches and for app releases (sort = `current#<channel>`): what devices
 * need, replaced only by a state at least as new (currentRevision).
 * Package ids cannot hold '#', so the documents' partitions are apart from every package's.
 */
export interface TableKeys {
  partitionKey: string;
  sortKey: string;
}

export const SWITCHES_PARTITION = '#switches';
export const APP_RELEASES_PARTITION = '#app-releases';
export const currentSortKey = (channel: string) => `current#${channel}`;

type Item = Record<string, AttributeValue>;
const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });
const json = (value: unknown): AttributeValue => ({ S: JSON.stringify(value) });
const nullable = (value: string | null | undefined): AttributeValue => (value == null ? { NULL: true } : s(value));

export const partitionOf = (event: HookEvent) =>
  isReleaseEvent(event) ? event.package : event.event === 'switch' ? SWITCHES_PARTITION : APP_RELEASES_PARTITION;

export const eventSortKey = (event: HookEvent) =>
  isReleaseEvent(event)
    ? `${event.version}#${event.channel}#${event.event}#${event.at}`
    : `${event.channel}#${String(event.documentVersion).padStart(10, '0')}#${event.event}#${event.at}`;

/**
 * What orders the states of one current item, so an older event never
 * overwrites a newer state: the integer version of the document the event
 * wrote (the channel index for a package; switches.json, app-releases.json).
 */
export function currentRevision(event: HookEvent): { attribute: string; value: AttributeValue } {
  if (isReleaseEvent(event)) return { attribute: 'indexVersion', value: n(event.indexVersion) };
  return { attribute: 'documentVersion', value: n(event.documentVersion) };
}

function releaseEventFields(event: ReleaseEvent): Item {
  return {
    version: s(event.version),
    previousVersion: nullable(event.previousVersion),
    rollout: n(event.rollout),
    mandatory: { BOOL: event.mandatory },
    rules: json(event.rules),
    size: n(event.size),
    key: s(event.key),
  };
}

function documentEventFields(event: DocumentEvent): Item {
  const fields: Item = { action: s(event.action), documentKey: s(event.documentKey), documentVersion: n(event.documentVersion) };
  if (event.event === 'switch') return { ...fields, keys: json(event.keys) };
  return { ...fields, platform: s(event.platform), version: s(event.version), rollout: n(event.rollout), mandatory: { BOOL: event.mandatory } };
}

/** The event as one item; `rules`, `keys` and `changedKeys` are JSON strings. */
export function eventItem(event: HookEvent, keys: TableKeys): Item {
  return {
    [keys.partitionKey]: s(partitionOf(event)),
    [keys.sortKey]: s(eventSortKey(event)),
    event: s(event.event),
    ...(isReleaseEvent(event) ? releaseEventFields(event) : documentEventFields(event)),
    channel: s(event.channel),
    changedKeys: json(event.changedKeys),
    store: s(event.store),
    at: s(event.at),
    actor: s(event.actor),
  };
}

/**
 * A package's current release on the channel (its newest not rolled back) as
 * flat attributes, plus every release the index holds for it (`releases`, the
 * list resolveUpdate evaluates) for devices that decide rollouts themselves.
 */
function packageState(event: ReleaseEvent): Item {
  const release = currentRelease(event.releases);
  if (!release) return { version: { NULL: true }, releases: json(event.releases) };
  return {
    version: s(release.version),
    state: s(release.state),
    rollout: n(release.state === 'halted' ? 0 : release.rules.rollout),
    mandatory: { BOOL: release.rules.mandatory },
    rules: json(release.rules),
    manifestKey: s(release.manifest.key),
    fullKey: s(release.full.key),
    fullSize: n(release.full.size),
    fullSha256: s(release.full.sha256),
    deltas: json(release.deltas),
    releases: json(event.releases),
  };
}

/** The channel document as devices read it (`document`, JSON), with its version and key. */
const documentState = (event: DocumentEvent): Item => ({
  documentKey: s(event.documentKey),
  updatedAt: s(event.document.updatedAt),
  document: json(event.document),
});

export function currentItem(event: HookEvent, keys: TableKeys): Item {
  const revision = currentRevision(event);
  return {
    [keys.partitionKey]: s(partitionOf(event)),
    [keys.sortKey]: s(currentSortKey(event.channel)),
    channel: s(event.channel),
    ...(isReleaseEvent(event) ? packageState(event) : documentState(event)),
    [revision.attribute]: revision.value,
    event: s(event.event),
    at: s(event.at),
  };
}
