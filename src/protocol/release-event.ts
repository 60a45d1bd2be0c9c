import type { AppReleasesDocument } from './app-releases.js';
import type { SwitchesDocument } from './switches.js';
import type { Release, ReleaseRules } from './types.js';

export type ReleaseEventName = 'publish' | 'rollout' | 'halt' | 'resume' | 'rollback' | 'promote' | 'edit';
export const RELEASE_EVENT_NAMES: ReleaseEventName[] = ['publish', 'rollout', 'halt', 'resume', 'rollback', 'promote', 'edit'];

/** Changes to a channel's switches.json and app-releases.json. */
export type DocumentEventName = 'switch' | 'app-release';
/** Every event a hook can subscribe to (`on` in the hook config). */
export type HookEventName = ReleaseEventName | DocumentEventName;
export const HOOK_EVENT_NAMES: HookEventName[] = [...RELEASE_EVENT_NAMES, 'switch', 'app-release'];

/** What hooks are told after a channel index write changed what devices get. */
export interface ReleaseEvent {
  event: ReleaseEventName;
  package: string;
  version: string;
  previousVersion: string | null;
  channel: string;
  rollout: number;
  mandatory: boolean;
  rules: ReleaseRules;
  /** Full package size in bytes. */
  size: number;
  /** Key of the full package, relative to the store root. */
  key: string;
  /** Mutable documents this change rewrote (what a CDN must invalidate). */
  changedKeys: string[];
  /** Where the store is (no secrets). */
  store: string;
  at: string;
  actor: string;
  /** The package's releases in the channel index as written: what devices resolve against. */
  releases: Release[];
  /** The `version` of that index (0 before indexes had one): orders states of the package on the channel. */
  indexVersion: number;
  /** The release's notes (`--message`), when it has some. */
  message?: string;
  /** The git commit the release was published from, when known. */
  commit?: string;
  /** Made by `rollout tick` from device receipts, not by a person: with the evidence it acted on. */
  automatic?: boolean;
  evidence?: RolloutEvidence;
}

/** What `rollout tick` decided on: the release's receipts and when its stage began. */
export interface RolloutEvidence {
  launches: number;
  failures: number;
  failureRate: number | null;
  failureRateLower: number;
  failureRateUpper: number;
  stageStartedAt: string;
}

export interface DocumentEventFields {
  channel: string;
  /** The document's key, relative to the store root. */
  documentKey: string;
  /** The document's version after the change (one more on every write). */
  documentVersion: number;
  changedKeys: string[];
  store: string;
  at: string;
  actor: string;
}

/** After a write of `channels/<channel>/switches.json`. */
export interface SwitchEvent extends DocumentEventFields {
  event: 'switch';
  action: 'set' | 'rm' | 'rollback';
  /** The switch keys the change touched. */
  keys: string[];
  /** The document as written: what devices now read. */
  document: SwitchesDocument;
}

/** After a write of `channels/<channel>/app-releases.json`. */
export interface AppReleaseEvent extends DocumentEventFields {
  event: 'app-release';
  action: 'add' | 'rm' | 'rollout' | 'halt';
  platform: string;
  /** The app binary's version. */
  version: string;
  /** Share of devices told now: 0 when halted or removed. */
  rollout: number;
  mandatory: boolean;
  /** The document as written: what devices now read. */
  document: AppReleasesDocument;
}

export type DocumentEvent = SwitchEvent | AppReleaseEvent;
export type HookEvent = ReleaseEvent | DocumentEvent;

export const isReleaseEvent = (event: HookEvent): event is ReleaseEvent => event.event !== 'switch' && event.event !== 'app-release';
