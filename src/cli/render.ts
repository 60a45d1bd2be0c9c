import { hooksExitCode, type HookResult } from '../hooks/run-hooks.js';
import type { Session } from './session.js';

/** Renderings several commands share. */

/** `[dry-run] nothing written. ` before a dry run's result line. */
export const dryRunNote = (dryRun: boolean) => (dryRun ? '[dry-run] nothing written. ' : '');

/** A required hook that failed makes the run exit 4 once its result is printed; the release stays. */
export function noteHookFailures(session: Session, hooks: HookResult[]): void {
  const exitCode = hooksExitCode(hooks);
  if (exitCode !== 0) session.exitCode = exitCode;
}
