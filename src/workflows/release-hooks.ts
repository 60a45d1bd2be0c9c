import type { ReleaseEvent } from '../protocol/release-event.js';
import { failedRequired, hooksExitCode, runHooks, type HookResult } from '../hooks/run-hooks.js';
import type { CommandContext } from '../cli/context.js';

/**
 * Runs the configured hooks after an index write. A required hook that failed
 * sets exit code 4 once the result is printed; the release stays in place.
 */
export async function runReleaseHooks(
  context: Pick<CommandContext, 'config' | 'dryRun' | 'output' | 'signal'>,
  events: ReleaseEvent[],
  only?: string,
): Promise<HookResult[]> {
  if (events.length === 0 || (context.config.hooks.length === 0 && only === undefined)) return [];
  const results = await runHooks(context.config.hooks, events, {
    dryRun: context.dryRun,
    only,
    log: (line) => context.output.info(line),
    signal: context.signal,
  });
  const exitCode = hooksExitCode(results);
  if (exitCode !== 0) {
    // The exact commands to re-run what failed, once the hook is fixed.
    const channelOf = new Map(events.map((event) => [`${event.package}@${event.version}`, event.channel]));
    const reruns = [...new Set(failedRequired(results).map((result) => {
      const target = `${result.package}@${result.version}`;
      return `update-publish hooks run ${target} --channel ${channelOf.get(target)} --only ${result.name}`;
    }))];
    context.output.warn(`a required hook failed; the release is in place: fix the hook, then run ${reruns.map((rerun) => `\`${rerun}\``).join(', ')}`);
    process.exitCode = exitCode;
  }
  return results;
}
