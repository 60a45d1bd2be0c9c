import { isReleaseEvent, type HookEvent, type ReleaseEventName } from '../protocol/release-event.js';
import { hookName } from '../config/hook-schema.js';
import { failedRequired, runHooks, type HookResult } from '../hooks/run-hooks.js';
import { readIndex } from '../channel/index-store.js';
import { UserError } from '../errors.js';
import { findRelease, latestRelease } from '../protocol/channel-index.js';
import type { WorkflowContext } from './context.js';
import { releaseEvent } from './release-event.js';

/**
 * Runs the configured hooks after a write of a channel document (index,
 * switches, app releases). A required hook that failed is warned about with
 * the way to run it again; the change stays in place (the CLI exits 4 once
 * the result is printed: hooksExitCode).
 */
export async function runReleaseHooks(
  context: Pick<WorkflowContext, 'config' | 'dryRun' | 'output' | 'signal'>,
  events: HookEvent[],
  only?: string,
): Promise<HookResult[]> {
  if (events.length === 0 || (context.config.hooks.length === 0 && only === undefined)) return [];
  const results = await runHooks(context.config.hooks, events, {
    dryRun: context.dryRun,
    only,
    log: (line) => context.output.info(line),
    signal: context.signal,
  });
  const failed = failedRequired(results);
  if (failed.length > 0) context.output.warn(`a required hook failed; the change is in place: ${rerunAdvice(failed, events)}`);
  return results;
}

/** The exact commands to re-run what failed, once the hook is fixed. */
function rerunAdvice(failed: HookResult[], events: HookEvent[]): string {
  const channelOf = new Map(events.filter(isReleaseEvent).map((event) => [`${event.package}@${event.version}`, event.channel]));
  const reruns = new Set<string>();
  const documents = new Set<string>();
  for (const result of failed) {
    if ('document' in result) {
      documents.add(result.document);
      continue;
    }
    const target = `${result.package}@${result.version}`;
    reruns.add(`\`update-publish hooks run ${target} --channel ${channelOf.get(target)} --event ${result.event} --only ${result.name}\``);
  }
  return [
    reruns.size > 0 && `fix the hook, then run ${[...reruns].join(', ')}`,
    documents.size > 0 && `fix the hook: it runs again with the next change to ${[...documents].join(', ')}`,
  ]
    .filter(Boolean)
    .join('; ');
}

/**
 * Runs the hooks again for a release in a channel's index (by default its
 * newest), after a hook that failed was fixed: for the event that failed
 * (default `publish`), so hooks subscribed to it run.
 */
export async function rerunReleaseHooks(
  context: WorkflowContext,
  request: { channel: string; packageId: string; version?: string; event?: ReleaseEventName; only?: string },
): Promise<{ version: string; event: ReleaseEventName; hooks: HookResult[] }> {
  const { channel, packageId, version, event: name = 'publish' } = request;
  const snapshot = await readIndex(context.store, channel);
  const release = version ? findRelease(snapshot.index, packageId, version) : latestRelease(snapshot.index, packageId);
  if (!release) {
    const target = version ? `${packageId}@${version}` : packageId;
    throw new UserError(`no release ${target} on channel '${channel}'; run 'update-publish status --channel ${channel}' to see what is there`);
  }
  const event = releaseEvent(name, {
    packageId,
    release,
    previousVersion: null,
    channel,
    changedKeys: [snapshot.key],
    store: context.store.location,
    index: snapshot.index,
  });
  const hooks = await runReleaseHooks(context, [event], request.only);
  if (request.only !== undefined && hooks.length === 0) {
    // Running nothing must not pass for success: the hook asked for does not hear this event.
    const listening = context.config.hooks.filter((hook) => hook.type === request.only || hookName(hook) === request.only).flatMap((hook) => hook.on);
    throw new UserError(
      `no hook matching --only ${request.only} runs on '${name}' events (it runs on: ${[...new Set(listening)].join(', ')}); pass --event with one of those`,
    );
  }
  return { version: release.version, event: name, hooks };
}
