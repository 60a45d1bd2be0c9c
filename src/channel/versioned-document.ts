import { UserError } from '../errors.js';
import { formatBytes } from '../format.js';
import { sha256Hex } from '../hash.js';
import { stampNextVersion, type StampedFields } from '../protocol/channel-document.js';
import { canonicalBytes } from '../protocol/document-signature.js';
import type { BoundDocument } from '../protocol/document-binding.js';
import { documentHistoryKey, documentSnapshotKey } from '../protocol/layout.js';
import { serializeDocument } from '../protocol/manifest.js';
import type { Store } from '../store/store.js';
import { appendToLog, readLog } from './history.js';
import { readJsonDocument, updateDocument, writeOnce, type DocumentSnapshot } from './update-document.js';

/**
 * A kind of channel document devices read (the index, switches.json,
 * app-releases.json, and what later issues add). Every kind is read by this
 * module's one reader and written by its one writer; every change to one goes
 * through workflows/change-pipeline.ts.
 */
export interface DocumentKind<T extends StampedFields> {
  /** For messages: 'channel index', 'switches', 'app releases'. */
  what: string;
  key(channel: string): string;
  /** The document's one reader (protocol/), also checking the channel it names. */
  parse(body: Buffer, key: string, channel: string): T;
  empty(channel: string): T;
  /** Devices download the document: a change that would make it larger is refused. */
  maxBytes: number;
  /** What to do when the cap is reached. */
  capHint: string;
  /** Keep each version as written, for rollback --to (and to tell a landed write once later ones followed). */
  snapshots: boolean;
  /** Its name in the channel index's `documents` binding: every write of it is followed by an index write naming the new version. */
  bound?: BoundDocument;
  /**
   * Kind-specific work on every write of a stamped document: the index moves
   * the releases no device can reach to the archive (done in `beforeWrite`,
   * before the index that drops them is written).
   */
  settle?(store: Store, channel: string, document: T, now: Date): Settled<T> | Promise<Settled<T>>;
}

/** A stamped document as its kind settles it for writing, and what must be done before it is written. */
export interface Settled<T> {
  document: T;
  beforeWrite(): Promise<void>;
}

/** A history entry of a versioned document: who, when, which version the change made, and what it was. */
export type DocumentHistoryEntry<R> = R & { at: string; actor: string; version: number };

/** The one reader of a stored channel document, as publishers read it (the kind's protocol reader, channel binding included). */
export function readChannelDocument<T extends StampedFields>(store: Store, kind: DocumentKind<T>, channel: string): Promise<DocumentSnapshot<T>> {
  return readJsonDocument(store, kind.key(channel), (body, key) => kind.parse(body, key, channel), () => kind.empty(channel));
}

export interface WriteOptions {
  /** How long the written document stays valid on devices (`signing.indexLifetime`). */
  lifetimeMs: number;
  /** Runs before every write attempt with the document about to be written (the pending record goes there). */
  beforeWrite?: (document: StampedFields) => Promise<void>;
  /** Stands in for the clock (`rollout tick --now`): the stamps and the serving window are of this time. */
  now?: Date;
}

/** A document as stamped for writing: refused over its kind's size cap. */
function stamped<T extends StampedFields>(kind: DocumentKind<T>, current: T, changed: T, options: WriteOptions, now: Date): T {
  const document = stampNextVersion(current, changed, options.lifetimeMs, now);
  const size = serializeDocument(document).length;
  if (size > kind.maxBytes) {
    throw new UserError(
      `${kind.key(current.channel)} would be ${formatBytes(size)}, over its cap of ${formatBytes(kind.maxBytes)} (devices download it); nothing was written: ${kind.capHint}`,
    );
  }
  return document;
}

export interface WrittenDocument<T> {
  /** As written (in a dry run: as it would be). */
  document: T;
  /** As stored: with the signatures a signing store added. */
  signed: T;
  /** The document the change was applied to. */
  previous: T;
  key: string;
}

/**
 * THE writer of channel documents: read → apply → stamp (next version, fresh
 * expiry, size cap) → conditional write, again on a lost race (updateDocument),
 * so concurrent writers never lose each other's change. `apply` is re-run on
 * the fresh document each time and may throw to refuse. Kinds that keep
 * snapshots keep the version as written (create-only).
 */
export async function writeChannelDocument<T extends StampedFields>(
  store: Store,
  kind: DocumentKind<T>,
  channel: string,
  apply: (current: T) => T,
  options: WriteOptions,
): Promise<WrittenDocument<T>> {
  let previous = kind.empty(channel);
  let settle = async () => {};
  const { document, key, stored } = await updateDocument(
    store,
    kind.key(channel),
    async (current: T) => {
      const now = options.now ?? new Date();
      const next = stamped(kind, (previous = current), apply(current), options, now);
      if (!kind.settle) return next;
      const settled = await kind.settle(store, channel, next, now);
      settle = settled.beforeWrite;
      return settled.document;
    },
    (body, documentKey) => kind.parse(body, documentKey, channel),
    () => kind.empty(channel),
    {
      beforeWrite: async (next) => {
        await settle();
        await options.beforeWrite?.(next);
      },
    },
  );
  if (kind.snapshots) await keepSnapshot(store, key, document);
  return { document, signed: stored ? (JSON.parse(stored.toString('utf8')) as T) : document, previous, key };
}

/** Keeps a version as written (create-only: the version is ours once the write won; a rerun finds its own). */
export async function keepSnapshot(store: Store, key: string, document: StampedFields): Promise<void> {
  const body = serializeDocument(document);
  const snapshot = documentSnapshotKey(key, document.version ?? 0);
  await writeOnce(store, snapshot, body, (existing) => sameDocument(existing, body), `${snapshot} exists with other content; move it aside and run the command again`);
}

/** Identifies a write by its content, whatever signatures it carries. */
export const documentDigest = (document: object) => sha256Hex(Buffer.from(canonicalBytes(document)));

/** The same document, whatever signatures either carries. */
function sameDocument(a: Buffer, b: Buffer): boolean {
  try {
    return documentDigest(JSON.parse(a.toString('utf8'))) === documentDigest(JSON.parse(b.toString('utf8')));
  } catch {
    return false;
  }
}

/** The document as it was at `version` (0: before the first write); null when that version was not kept. */
export async function readDocumentVersion<T extends StampedFields>(store: Store, kind: DocumentKind<T>, channel: string, version: number): Promise<T | null> {
  if (version === 0) return kind.empty(channel);
  const key = documentSnapshotKey(kind.key(channel), version);
  const stored = await store.readDocument(key);
  return stored && kind.parse(stored.body, key, channel);
}

/** The history entry a change of a versioned document appends to its log (written by the change pipeline). */
export function documentHistory<T extends StampedFields>(kind: DocumentKind<T>, channel: string, version: number, record: object, actor: string) {
  const entries = [{ at: new Date().toISOString(), actor, version, ...record }];
  return { key: documentHistoryKey(kind.key(channel)), entries, subject: `the ${kind.what} of '${channel}'` };
}

/** The history, newest first. */
export async function readDocumentHistory<T extends StampedFields, R>(store: Store, kind: DocumentKind<T>, channel: string): Promise<DocumentHistoryEntry<R>[]> {
  return (await readLog<DocumentHistoryEntry<R>>(store, documentHistoryKey(kind.key(channel)))).reverse();
}


/** Whether two versions of a document say the same, whatever their stamps (version, times, expiry) and signatures. */
export function sameContent(a: StampedFields, b: StampedFields): boolean {
  const unstamped = ({ version: _version, updatedAt: _updatedAt, expires: _expires, ...rest }: StampedFields) => rest;
  return documentDigest(unstamped(a)) === documentDigest(unstamped(b));
}
