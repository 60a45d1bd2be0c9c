import { APP_RELEASES } from '../channel/app-releases-store.js';
import { SWITCHES } from '../channel/switches-store.js';
import { readChannelDocument, readDocumentHistory, type DocumentKind } from '../channel/versioned-document.js';
import type { VersionedChannelDocument } from '../protocol/channel-document.js';
import type { AppReleasesDocument } from '../protocol/app-releases.js';
import {
  isReleaseEvent,
  type AppReleaseEvent,
  type DocumentEventFields,
  type DocumentEventName,
  type HookEvent,
  type ReleaseEventName,
  type SwitchEvent,
} from '../protocol/release-event.js';
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
  context: Pick<WorkflowContext, 'config' | 'dryRun' | 'output' | 'signal' | 'env' | 'cwd'>,
  events: HookEvent[],
  only?: string,
): Promise<HookResult[]> {
  if (events.length === 0 || (context.config.hooks.length === 0 && only === undefined)) return [];
  const results = await runHooks(context.config.hooks, events, {
    dryRun: context.dryRun,
    only,
    log: (line) => context.output.info(line),
    signal: context.signal,
    env: context.env,
    cwd: context.cwd,
  });
  const failed = failedRequired(results);
  if (failed.length > 0) context.output.warn(`a required hook failed; the change is in place: ${rerunAdvice(failed, events)}`);
  return results;
}

/** The exact commands to re-run what failed, once the hook is fixed. */
function rerunAdvice(failed: HookResult[], events: HookEvent[]): string {
  const channelOf = new Map(events.filter(isReleaseEvent).map((event) => [`${event.package}@${event.version}`, event.channel]));
  const reruns = new Set<string>();
  const documentChannel = new Map(events.filter((event) => !isReleaseEvent(event)).map((event) => [event.documentKey, event.channel]));
  for (const result of failed) {
    if ('document' in result) {
      reruns.add(`\`update-publish hooks run --channel ${documentChannel.get(result.document)} --event ${result.event} --only ${result.name}\``);
      continue;
    }
    const target = `${result.package}@${result.version}`;
    reruns.add(`\`update-publish hooks run ${target} --channel ${channelOf.get(target)} --event ${result.event} --only ${result.name}\``);
  }
  return `fix the hook, then run ${[...reruns].join(', ')}`;
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
    actor: context.actor,
  });
  const hooks = await runReleaseHooks(context, [event], request.only);
  if (request.only !== undefined && hooks.length === 0) throw nothingListening(context, request.only, name);
  return { version: release.version, event: name, hooks };
}

/**
 * Runs the hooks again for the latest change of a channel's switches or app
 * releases (`hooks run --event switch|app-release`): the event as that change
 * told it, with the document as stored now.
 */
export async function rerunDocumentHooks(
  context: WorkflowContext,
  request: { channel: string; event: DocumentEventName; only?: string },
): Promise<{ document: string; documentVersion: number; event: DocumentEventName; hooks: HookResult[] }> {
  const { channel, event: name } = request;
  const kind: DocumentKind<VersionedChannelDocument> = name === 'switch' ? SWITCHES : APP_RELEASES;
  const { document, key } = await readChannelDocument(context.store, kind, channel);
  const [latest] = await readDocumentHistory<VersionedChannelDocument, Record<string, unknown>>(context.store, kind, channel);
  if (!latest || document.version === 0) {
    throw new UserError(`no ${kind.what} changes on channel '${channel}' to run hooks for; run 'update-publish ${name} history --channel ${channel}' to see what is there`);
  }
  // As stored: with the signatures devices check (hooks such as DynamoDB hand the document on).
  const stored = JSON.parse((await context.store.readDocument(key))!.body.toString('utf8'));
  const fields = {
    channel,
    documentKey: key,
    documentVersion: document.version,
    changedKeys: [key],
    store: context.store.location,
    at: new Date().toISOString(),
    actor: context.actor,
  };
  const event: HookEvent =
    name === 'switch'
      ? { ...fields, event: 'switch', action: latest.action as SwitchEvent['action'], keys: (latest.keys as string[]) ?? [], document: stored }
      : appReleaseEventOf(fields, latest, stored);
  const hooks = await runReleaseHooks(context, [event], request.only);
  if (request.only !== undefined && hooks.length === 0) throw nothingListening(context, request.only, name);
  return { document: key, documentVersion: document.version, event: name, hooks };
}

function appReleaseEventOf(fields: DocumentEventFields, latest: Record<string, unknown>, stored: AppReleasesDocument): AppReleaseEvent {
  const platform = latest.platform as string;
  const version = latest.appVersion as string;
  const release = stored.platforms?.[platform]?.releases.find((candidate) => candidate.version === version);
  const rollout = release && release.state === 'active' ? release.rules.rollout : 0;
  return { ...fields, event: 'app-release', action: latest.action as AppReleaseEvent['action'], platform, version, rollout, mandatory: release?.rules.mandatory ?? false, document: stored };
}

/** Running nothing must not pass for success: the hook asked for does not hear this event. */
function nothingListening(context: WorkflowContext, only: string, name: string): UserError {
  const listening = context.config.hooks.filter((hook) => hook.type === only || hookName(hook) === only).flatMap((hook) => hook.on);
  return new UserError(`no hook matching --only ${only} runs on '${name}' events (it runs on: ${[...new Set(listening)].join(', ')}); pass --event with one of those`);
}
