import type { Environment } from '../environment.js';
import { isReleaseEvent, type HookEvent } from '../protocol/release-event.js';

/** What the runner hands each hook besides its config and the event. */
export interface HookContext {
  /** Describe the exact call that would be made, and make none. */
  dryRun: boolean;
  /** A line of the hook's own output (a command's stdout/stderr), shown under the hook's name. */
  output(line: string): void;
  /** Aborted on Ctrl-C: a running command is stopped with its whole process group. */
  signal?: AbortSignal;
  /** The run's environment: AWS settings, and what a command hook passes on. */
  env: Environment;
  /** The run's working folder: a command hook runs there (or in its `cwd`, relative to it). */
  cwd: string;
}

/**
 * One hook type: performs its call for one event and returns a short detail
 * ("invalidation I2ABC for 2 paths"), or in dry run the call it would make.
 * Throws on failure; the runner turns that into a failed result.
 */
export type HookHandler<H> = (hook: H, event: HookEvent, context: HookContext) => Promise<string>;

/** What an event is about, as hook results name it: a package release, or a version of a channel document. */
export type EventSubject = { package: string; version: string } | { document: string; documentVersion: number };

export const subjectOf = (event: HookEvent): EventSubject =>
  isReleaseEvent(event) ? { package: event.package, version: event.version } : { document: event.documentKey, documentVersion: event.documentVersion };

/** "maps@1.2.0", "channels/production/switches.json v7" */
export const subjectLabel = (subject: EventSubject) =>
  'package' in subject ? `${subject.package}@${subject.version}` : `${subject.document} v${subject.documentVersion}`;

/** "maps@1.2.0"; for a channel document, what changed in it: "newCheckout on production", "ios@3.2.0 on production". */
export function eventLabel(event: HookEvent): string {
  if (isReleaseEvent(event)) return `${event.package}@${event.version}`;
  const what = event.event === 'switch' ? event.keys.join(', ') || 'switches' : `${event.platform}@${event.version}`;
  return `${what} on ${event.channel}`;
}
