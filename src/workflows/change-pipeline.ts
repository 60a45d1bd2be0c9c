import { channelIndexKey } from '../protocol/layout.js';
import { APP_RELEASES } from '../channel/app-releases-store.js';
import { INDEX } from '../channel/index-store.js';
import { SWITCHES } from '../channel/switches-store.js';
import { BOUND_DOCUMENTS, boundDocumentVersion } from '../protocol/document-binding.js';
import { packageReleases } from '../channel/archive.js';
import { requireKnownChannel } from '../channel/channels.js';
import { appendHistoryLog } from '../channel/history.js';
import { currentOwner, newPendingId, ownerMayBeRunning, readPending, removePending, writePending, type LogAppend, type PendingWork } from '../channel/pending.js';
import {
  documentDigest,
  keepSnapshot,
  readChannelDocument,
  writeChannelDocument,
  type DocumentKind,
} from '../channel/versioned-document.js';
import { configuredChannels, indexLifetimeMs } from '../config/schema.js';
import type { HookResult } from '../hooks/run-hooks.js';
import type { StampedFields } from '../protocol/channel-document.js';
import { findRelease } from '../protocol/channel-index.js';
import { documentSnapshotKey } from '../protocol/layout.js';
import type { HookEvent } from '../protocol/release-event.js';
import type { ChannelIndex, Release } from '../protocol/types.js';
import { confirmOrDecline, type WorkflowContext } from './context.js';
import { runReleaseHooks } from './release-hooks.js';

/** What `apply` returns: the document as changed, and why the change is a no-op when it is one. */
export interface Change<D> {
  document: D;
  /** Set when the document already is as asked: nothing is asked, written or run, and the command succeeds (exit 0, `changed: false`). */
  unchanged?: string;
}

/** The document as written, for the history entries and the hook events. */
export interface Written<D> {
  /** Stamped (version, expiry), without signatures. */
  document: D;
  key: string;
  version: number;
}

/** What follows the write: kept in a pending record until done, so a killed run is finished by the next one. */
export interface AfterWrite {
  /** "publish of maps@1.0.3": what the line that finishes an interrupted run names. */
  summary: string;
  history: LogAppend[];
  /** Built whether or not hooks run: the pipeline drops them under --no-hooks. */
  events: HookEvent[];
  /** Index writes: the releases as written (they tell a landed write once later writes moved on). */
  releases?: { package: string; release: Release }[];
}

/**
 * One kind of change to one channel document. Steps run in this order:
 * known channel → finish interrupted work → `apply` (preview) → `check` →
 * no-op? → confirmation (`question`, "no" is exit 5) → `prepare` → the
 * conditional write, `apply` re-run on the fresh document with what `prepare`
 * returned → history, snapshot, hooks (kept in a pending record until done).
 * Each step returns its result; none writes a variable of its caller.
 */
export interface ChangeSpec<D extends StampedFields, C extends Change<D>, K = void, P = void> {
  kind: DocumentKind<D>;
  channel: string;
  /** promote and `channel create` may make the channel; every other change needs it known (the store or the config). */
  mayCreateChannel?: boolean;
  /** Pure; re-run on the fresh document at every write attempt; throws a UserError to refuse. `prepared` is absent in the preview. */
  apply(current: D, prepared: P | undefined): C;
  /** Preconditions of the preview that need the store (throw to refuse), and the facts the question and `prepare` need. */
  check?(preview: C): Promise<K>;
  /** Asked (unless --yes) about the preview, before anything is written. */
  question(preview: C, checked: K): string;
  /** What a "no" says was not done (default: "cancelled; nothing was written"). */
  declined?: string;
  /** Work that writes (uploads), once confirmed, before the document write that makes it live; its result reaches `apply`. */
  prepare?(preview: C, checked: K): Promise<P>;
  /** History entries and hook events of the change as written. */
  after(change: C, written: Written<D>): AfterWrite;
  hooks: boolean;
  /** Stands in for the clock in the document's stamps (`rollout tick --now`). */
  now?: Date;
}

export interface ChangeResult<D, C, K = void> {
  change: C;
  /** What `check` found (promote: the versions deltas are built from). */
  checked: K;
  /** The document as written (dry run: as it would be; no-op: as it is). */
  document: D;
  /** False when the document already was as asked: nothing was written, no hook ran. */
  changed: boolean;
  unchanged?: string;
  hooks: HookResult[];
}

/** Thrown inside the write when the fresh document already is as asked (someone made the same change meanwhile). */
class NothingToChange extends Error {}

/** THE way a channel document changes (see ChangeSpec). */
export async function runChange<D extends StampedFields, C extends Change<D>, K = void, P = void>(
  context: WorkflowContext,
  spec: ChangeSpec<D, C, K, P>,
): Promise<ChangeResult<D, C, K>> {
  const { store } = context;
  const { kind, channel } = spec;
  if (!spec.mayCreateChannel) await requireKnownChannel(store, channel, configuredChannels(context.config));
  await finishInterruptedWork(context, channel);
  const { document: current } = await readChannelDocument(store, kind, channel);
  const preview = spec.apply(current, undefined);
  const checked = (await spec.check?.(preview)) as K;
  if (preview.unchanged !== undefined) return { change: preview, checked, document: current, changed: false, unchanged: preview.unchanged, hooks: [] };
  await confirmOrDecline(context, spec.question(preview, checked), spec.declined);
  const prepared = await spec.prepare?.(preview, checked);

  const id = newPendingId();
  let change = preview;
  let pending: PendingWork | undefined;
  try {
    const written = await writeChannelDocument(
      store,
      kind,
      channel,
      (fresh) => {
        change = spec.apply(fresh, prepared);
        if (change.unchanged !== undefined) throw new NothingToChange();
        return change.document;
      },
      {
        lifetimeMs: indexLifetimeMs(context.config),
        now: spec.now,
        beforeWrite: async (document) => {
          pending = pendingRecord(id, spec, change, document as D);
          if (!context.dryRun) await writePending(store, pending);
        },
      },
    );
    // The document first, then the index naming it: a device never reads an index naming a version not there yet.
    if (kind.bound) await bindDocumentsIntoIndex(context, channel);
    const hooks = await finishWork(context, pending!, written.signed);
    return { change, checked, document: written.document, changed: true, hooks };
  } catch (error) {
    if (!(error instanceof NothingToChange)) throw error;
    return { change, checked, document: current, changed: false, unchanged: change.unchanged, hooks: [] };
  }
}

function pendingRecord<D extends StampedFields, C extends Change<D>>(id: string, spec: Pick<ChangeSpec<D, C>, 'kind' | 'channel' | 'after' | 'hooks'>, change: C, document: D): PendingWork {
  const key = spec.kind.key(spec.channel);
  const version = document.version ?? 0;
  const after = spec.after(change, { document, key, version });
  return {
    id,
    channel: spec.channel,
    summary: after.summary,
    documentKey: key,
    documentVersion: version,
    documentDigest: documentDigest(document),
    ...(after.releases && { releases: after.releases }),
    ...(spec.kind.snapshots && { snapshot: document }),
    // Package history entries record the index version they were written as: publishers refuse an older index (a replay).
    history: key === channelIndexKey(spec.channel) ? after.history.map((log) => ({ ...log, entries: log.entries.map((entry) => ({ ...entry, indexVersion: version })) })) : after.history,
    events: spec.hooks ? after.events : [],
    owner: currentOwner(),
  };
}

/** Snapshot, history entries, then hooks (told the document as stored, signatures included); the record goes once all are done. */
async function finishWork(context: WorkflowContext, work: PendingWork, stored?: object): Promise<HookResult[]> {
  if (work.snapshot && !context.dryRun) await keepSnapshot(context.store, work.documentKey, work.snapshot as StampedFields);
  for (const log of work.history) await appendHistoryLog(context.store, log, (line) => context.output.warn(line));
  const events = stored ? work.events.map((event) => ('document' in event && event.documentKey === work.documentKey ? { ...event, document: stored } : event)) : work.events;
  const hooks = events.length > 0 ? await runReleaseHooks(context, events as HookEvent[]) : [];
  if (!context.dryRun) await removePending(context.store, work);
  return hooks;
}

/**
 * Finishes what runs killed after their write left undone on this channel
 * (snapshot, history entries, hooks), before a new change; says what it
 * finished. A record whose write never landed (killed before it, or lost a
 * race) is dropped.
 */
export async function finishInterruptedWork(context: WorkflowContext, channel: string): Promise<string[]> {
  if (context.dryRun) return [];
  const finished: string[] = [];
  for (const work of await readPending(context.store, channel, context.actor)) {
    // Another run writing now (its record precedes its write): its history and hooks are its own.
    if (ownerMayBeRunning(work)) continue;
    const stored = await context.store.readDocument(work.documentKey);
    if (stored && (await landed(context, JSON.parse(stored.body.toString('utf8')), work))) {
      context.output.info(`finishing an interrupted ${work.summary} on '${channel}' (its write landed): writing its history entry and running its hooks`);
      const current = JSON.parse(stored.body.toString('utf8')) as StampedFields;
      // Killed between a switches or app-releases write and the index write that names it.
      if (boundDocumentKeys(channel).includes(work.documentKey)) await bindDocumentsIntoIndex(context, channel);
      await finishWork(context, work, (current.version ?? 0) === work.documentVersion ? current : undefined);
      finished.push(work.summary);
    } else {
      await removePending(context.store, work);
    }
  }
  return finished;
}

const boundDocumentKeys = (channel: string) => [SWITCHES, APP_RELEASES].map((kind) => kind.key(channel));

/**
 * The channel index written again (created when the channel has none) when it
 * does not name the stored switches and app-releases versions (PROTOCOL.md
 * §3.1 `documents`; INDEX.settle binds them): devices refuse any other copy.
 */
async function bindDocumentsIntoIndex(context: WorkflowContext, channel: string): Promise<void> {
  const { store } = context;
  const { document: index, etag } = await readChannelDocument(store, INDEX, channel);
  const stored = {
    switches: (await readChannelDocument(store, SWITCHES, channel)).document.version,
    appReleases: (await readChannelDocument(store, APP_RELEASES, channel)).document.version,
  };
  // Named already (or a newer one is: a replayed copy, which the index must keep refusing). A dry run wrote
  // no document, so the stored versions are the old ones: it says the index write it would make.
  if (!context.dryRun && etag !== null && BOUND_DOCUMENTS.every((name) => (boundDocumentVersion(index, name) ?? -1) >= stored[name])) return;
  await writeChannelDocument(store, INDEX, channel, (current) => current, { lifetimeMs: indexLifetimeMs(context.config) });
}

/** Whether the record's write is the one in place (or was, and later writes built on it). */
async function landed(context: WorkflowContext, current: StampedFields & object, work: PendingWork): Promise<boolean> {
  const version = current.version ?? 0;
  if (version < work.documentVersion) return false;
  if (version === work.documentVersion) return documentDigest(current) === work.documentDigest;
  if (work.releases) {
    // Written over since: ours landed if the releases it wrote are there as it wrote them.
    const index = current as ChannelIndex;
    for (const { package: packageId, release } of work.releases) {
      const present = findRelease(index, packageId, release.version) ?? (await packageReleases(context.store, index, packageId)).find((r) => r.version === release.version);
      if (JSON.stringify(present) !== JSON.stringify(release)) return false;
    }
    return true;
  }
  // Written over since: ours landed if the version kept under its number is ours (kinds that keep none cannot tell: dropped).
  const kept = await context.store.readDocument(documentSnapshotKey(work.documentKey, work.documentVersion));
  return kept !== null && documentDigest(JSON.parse(kept.body.toString('utf8'))) === work.documentDigest;
}
