import type { ReleaseEvent } from '../../hooks/event.js';
import { hooksExitCode, runHooks, type HookResult } from '../../hooks/run-hooks.js';
import type { CommandContext } from '../context.js';

/**
 * Runs the configured hooks after an index write. A required hook that failed
 * sets exit code 4 once the result is printed; the release stays in place.
 */
export async function runReleaseHooks(
  context: Pick<CommandContext, 'config' | 'dryRun' | 'output'>,
  events: ReleaseEvent[],
  only?: string,
): Promise<HookResult[]> {
  if (events.length === 0 || (context.config.hooks.length === 0 && only === undefined)) return [];
  const results = await runHooks(context.config.hooks, events, {
    dryRun: context.dryRun,
    only,
    log: (line) => context.output.info(line),
  });
  const exitCode = hooksExitCode(results);
  if (exitCode !== 0) {
    context.output.warn('a required hook failed; the release is in place: fix the hook and run `update-publish hooks run`');
    process.exitCode = exitCode;
  }
  return results;
}
