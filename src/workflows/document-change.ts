import { currentActor } from '../actor.js';
import {
  nextVersion,
  readVersionedDocument,
  recordDocumentChange,
  updateVersionedDocument,
  type DocumentKind,
} from '../channel/versioned-document.js';
import { indexLifetimeMs } from '../config/schema.js';
import { UserError } from '../errors.js';
import type { HookResult } from '../hooks/run-hooks.js';
import type { VersionedChannelDocument } from '../protocol/channel-document.js';
import type { DocumentEvent, DocumentEventFields } from '../protocol/release-event.js';
import type { WorkflowContext } from './context.js';
import { runReleaseHooks } from './release-hooks.js';

export interface DocumentChangeSpec<T extends VersionedChannelDocument, C extends { document: T }, E extends DocumentEvent> {
  kind: DocumentKind<T>;
  channel: string;
  /** Pure; re-run on the fresh document at every write attempt; throws a UserError to refuse. */
  apply: (document: T) => C;
  /** Checks of the preview that need the store (throw to refuse), before anything is asked or written. */
  check?: (preview: C) => Promise<void>;
  /** Asked (unless --yes) about a preview of the change, before anything is written. */
  question: (preview: C) => string;
  /** What the history entry says besides who, when and the version. */
  history: (change: C) => Record<string, unknown>;
  /** The hooks' event: what changed, over the fields every document event has (channel, version, who, when, the document). */
  event: (change: C, written: DocumentEventFields & { document: T }) => E;
  hooks: boolean;
}

export interface DocumentChangeResult<T, C> {
  change: C;
  /** The document as written (in a dry run: as it would be). */
  document: T;
  hooks: HookResult[];
}

/**
 * The one path of a change to a versioned channel document: validate on the
 * current document (size cap included) → ask → conditional write of the next
 * version → history entry → hooks.
 */
export async function writeDocumentChange<T extends VersionedChannelDocument, C extends { document: T }, E extends DocumentEvent>(
  context: WorkflowContext,
  spec: DocumentChangeSpec<T, C, E>,
): Promise<DocumentChangeResult<T, C>> {
  const { store } = context;
  const { kind, channel } = spec;
  const { document: current } = await readVersionedDocument(store, kind, channel);
  let change = spec.apply(current);
  const options = { lifetimeMs: indexLifetimeMs(context.config) };
  nextVersion(kind, current, change.document, options);
  await spec.check?.(change);
  if (!(await context.confirm(spec.question(change)))) throw new UserError('cancelled; nothing was written');
  const { document, signed, key } = await updateVersionedDocument(store, kind, channel, (fresh) => (change = spec.apply(fresh)).document, options);
  await recordDocumentChange(store, kind, channel, document.version, spec.history(change), (line) => context.output.warn(line));
  const event = spec.event(change, {
    channel,
    documentKey: key,
    documentVersion: document.version,
    changedKeys: [key],
    store: store.location,
    at: new Date().toISOString(),
    actor: currentActor(),
    // As stored: hooks (DynamoDB) hand devices the document with its signatures.
    document: signed,
  });
  const hooks = spec.hooks ? await runReleaseHooks(context, [event]) : [];
  return { change, document, hooks };
}
