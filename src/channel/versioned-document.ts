import { currentActor } from '../actor.js';
import { UserError } from '../errors.js';
import { formatBytes } from '../format.js';
import type { VersionedChannelDocument } from '../protocol/channel-document.js';
import { canonicalBytes } from '../protocol/document-signature.js';
import { documentHistoryKey, documentSnapshotKey } from '../protocol/layout.js';
import { serializeDocument } from '../protocol/manifest.js';
import type { Store } from '../store/store.js';
import { appendToLog, readLog } from './history.js';
import { readJsonDocument, updateDocument, writeOnce, type DocumentSnapshot } from './update-document.js';

/**
 * Store-backed versioned channel documents (switches.json, app-releases.json):
 * read, and change through conditional writes that stamp the next version;
 * beside each, its history log and (where rollback needs them) every version
 * as written.
 */
export interface DocumentKind<T extends VersionedChannelDocument> {
  /** For messages: 'switches', 'app releases'. */
  what: string;
  key(channel: string): string;
  /** The document's one reader (protocol/), also checking the channel it names. */
  parse(body: Buffer, key: string, channel: string): T;
  empty(channel: string): T;
  /** Devices download the document: a change that would make it larger is refused. */
  maxBytes: number;
  /** What to do when the cap is reached. */
  capHint: string;
  /** Keep each version as written, for rollback --to. */
  snapshots: boolean;
}

/** A history entry: who, when, which version of the document the change made, and what it was. */
export type DocumentHistoryEntry<R> = R & { at: string; actor: string; version: number };

export function readVersionedDocument<T extends VersionedChannelDocument>(store: Store, kind: DocumentKind<T>, channel: string): Promise<DocumentSnapshot<T>> {
  return readJsonDocument(store, kind.key(channel), (body, key) => kind.parse(body, key, channel), () => kind.empty(channel));
}

/** How long a written document stays valid on devices (`signing.indexLifetime`, as the index). */
export interface WriteOptions {
  lifetimeMs: number;
}

/** The next version of a document: one more, stamped now with a fresh expiry, refused over the kind's size cap. */
export function nextVersion<T extends VersionedChannelDocument>(kind: DocumentKind<T>, current: T, changed: T, options: WriteOptions, now = new Date()): T {
  const document = { ...changed, version: current.version + 1, updatedAt: now.toISOString(), expires: new Date(now.getTime() + options.lifetimeMs).toISOString() };
  const size = serializeDocument(document).length;
  if (size > kind.maxBytes) {
    throw new UserError(
      `${kind.key(current.channel)} would be ${formatBytes(size)}, over its cap of ${formatBytes(kind.maxBytes)} (devices download it); nothing was written: ${kind.capHint}`,
    );
  }
  return document;
}

/**
 * Read → apply → conditional write, again on a lost race (updateDocument), so
 * concurrent writers never lose each other's change; the version written is
 * one more than the one the change was applied to. Each version is then kept
 * as written (create-only: the version is ours once the write won). Returns
 * the document as stored too (`signed`: with the signatures a signing store added).
 */
export async function updateVersionedDocument<T extends VersionedChannelDocument>(
  store: Store,
  kind: DocumentKind<T>,
  channel: string,
  apply: (current: T) => T,
  options: WriteOptions,
): Promise<{ document: T; signed: T; previous: T; key: string }> {
  let previous = kind.empty(channel);
  const { document, key, stored } = await updateDocument(
    store,
    kind.key(channel),
    (current: T) => nextVersion(kind, (previous = current), apply(current), options),
    (body, documentKey) => kind.parse(body, documentKey, channel),
    () => kind.empty(channel),
  );
  if (kind.snapshots) {
    const body = serializeDocument(document);
    const snapshot = documentSnapshotKey(key, document.version);
    await writeOnce(store, snapshot, body, (existing) => sameDocument(existing, body), `${snapshot} exists with other content; move it aside and run the command again`);
  }
  return { document, signed: stored ? (JSON.parse(stored.toString('utf8')) as T) : document, previous, key };
}

/** The same document, whatever signatures either carries. */
function sameDocument(a: Buffer, b: Buffer): boolean {
  try {
    return Buffer.from(canonicalBytes(JSON.parse(a.toString('utf8')))).equals(Buffer.from(canonicalBytes(JSON.parse(b.toString('utf8')))));
  } catch {
    return false;
  }
}

/** The document as it was at `version` (0: before the first write); null when that version was not kept. */
export async function readDocumentVersion<T extends VersionedChannelDocument>(
  store: Store,
  kind: DocumentKind<T>,
  channel: string,
  version: number,
): Promise<T | null> {
  if (version === 0) return kind.empty(channel);
  const stored = await store.readDocument(documentSnapshotKey(kind.key(channel), version));
  return stored && kind.parse(stored.body, documentSnapshotKey(kind.key(channel), version), channel);
}

/**
 * Appends once the document is written. The change is live by then: a log
 * that cannot be written is told through `warn`, never a reason to report the
 * change as failed or to skip its hooks.
 */
export async function recordDocumentChange<T extends VersionedChannelDocument, R>(
  store: Store,
  kind: DocumentKind<T>,
  channel: string,
  version: number,
  record: R,
  warn: (line: string) => void,
): Promise<void> {
  const entry = { at: new Date().toISOString(), actor: currentActor(), version, ...record };
  try {
    await appendToLog(store, documentHistoryKey(kind.key(channel)), [entry]);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    warn(`the change to the ${kind.what} of '${channel}' is live, but its history entry was not written: ${error.message}`);
  }
}

/** The history, newest first. */
export async function readDocumentHistory<T extends VersionedChannelDocument, R>(
  store: Store,
  kind: DocumentKind<T>,
  channel: string,
): Promise<DocumentHistoryEntry<R>[]> {
  return (await readLog<DocumentHistoryEntry<R>>(store, documentHistoryKey(kind.key(channel)))).reverse();
}
