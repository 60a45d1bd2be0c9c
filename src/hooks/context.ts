import type { ReleaseEvent } from '../protocol/release-event.js';

/** What the runner hands each hook besides its config and the event. */
export interface HookContext {
  /** Describe the exact call that would be made, and make none. */
  dryRun: boolean;
  /** A line of the hook's own output (a command's stdout/stderr), shown under the hook's name. */
  output(line: string): void;
  /** Aborted on Ctrl-C: a running command is stopped with its whole process group. */
  signal?: AbortSignal;
}

/**
 * One hook type: performs its call for one event and returns a short detail
 * ("invalidation I2ABC for 2 paths"), or in dry run the call it would make.
 * Throws on failure; the runner turns that into a failed result.
 */
export type HookHandler<H> = (hook: H, event: ReleaseEvent, context: HookContext) => Promise<string>;

/** "maps@1.2.0" */
export const releaseLabel = (event: Pick<ReleaseEvent, 'package' | 'version'>) => `${event.package}@${event.version}`;
