import type { ReleaseRules } from './types.js';

export type ReleaseEventName = 'publish' | 'rollout' | 'halt' | 'resume' | 'rollback' | 'promote' | 'edit';
export const RELEASE_EVENT_NAMES: ReleaseEventName[] = ['publish', 'rollout', 'halt', 'resume', 'rollback', 'promote', 'edit'];

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
  /** The release's notes (`--message`), when it has some. */
  message?: string;
  /** The git commit the release was published from, when known. */
  commit?: string;
}
