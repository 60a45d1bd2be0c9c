import { documentHistory, sameContent, type DocumentKind } from '../channel/versioned-document.js';
import type { HookResult } from '../hooks/run-hooks.js';
import type { VersionedChannelDocument } from '../protocol/channel-document.js';
import type { DocumentEvent, DocumentEventFields } from '../protocol/release-event.js';
import { channelIndexKey } from '../protocol/layout.js';
import { runChange, type Change } from './change-pipeline.js';
import type { WorkflowContext } from './context.js';

export interface DocumentChangeSpec<T extends VersionedChannelDocument, C extends Change<T>, E extends DocumentEvent> {
  kind: DocumentKind<T>;
  channel: string;
  /** Pure; re-run on the fresh document at every write attempt; throws a UserError to refuse. */
  apply: (document: T) => C;
  /** Asked (unless --yes) about a preview of the change, before anything is written. */
  question: (preview: C) => string;
  /** "switch set newCheckout": what the line that finishes an interrupted run names. */
  summary: string;
  /** What the history entry says besides who, when and the version. */
  history: (change: C) => Record<string, unknown>;
  /** The hooks' event: what changed, over the fields every document event has (channel, version, who, when, the document). */
  event: (change: C, written: DocumentEventFields & { document: T }) => E;
  hooks: boolean;
}

export interface DocumentChangeResult<T, C> {
  change: C;
  /** The document as written (in a dry run: as it would be; unchanged: as it is). */
  document: T;
  changed: boolean;
  unchanged?: string;
  hooks: HookResult[];
}

/**
 * A change to a versioned channel document (switches, app releases) on the
 * change pipeline: one history entry in the document's log, one event. A
 * change that leaves the document saying what it says is a no-op (exit 0,
 * `changed: false`).
 */
export async function writeDocumentChange<T extends VersionedChannelDocument, C extends Change<T>, E extends DocumentEvent>(
  context: WorkflowContext,
  spec: DocumentChangeSpec<T, C, E>,
): Promise<DocumentChangeResult<T, C>> {
  const { kind, channel } = spec;
  const { change, document, changed, unchanged, hooks } = await runChange(context, {
    kind,
    channel,
    hooks: spec.hooks,
    apply: (current: T) => {
      const applied = spec.apply(current);
      if (applied.unchanged !== undefined || !sameContent(current, applied.document)) return applied;
      return { ...applied, unchanged: `the ${kind.what} of channel '${channel}' already are as asked; nothing to change` };
    },
    question: (preview) => spec.question(preview),
    after: (applied, written) => ({
      summary: spec.summary,
      history: [documentHistory(kind, channel, written.version, spec.history(applied), context.actor)],
      events: [
        spec.event(applied, {
          channel,
          documentKey: written.key,
          documentVersion: written.version,
          // Switches and app releases: the index naming the new version is written too (CDN invalidations).
          changedKeys: kind.bound ? [written.key, channelIndexKey(channel)] : [written.key],
          store: context.store.location,
          at: new Date().toISOString(),
          actor: context.actor,
          // Replaced by the document as stored (with its signatures) once written: hooks (DynamoDB) hand it to devices.
          document: written.document,
        }),
      ],
    }),
  });
  return { change, document, changed, ...(unchanged !== undefined && { unchanged }), hooks };
}
