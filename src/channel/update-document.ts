import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError } from '../errors.js';
import { serializeDocument } from '../protocol/manifest.js';
import { sha256Hex } from '../hash.js';
import { IMMUTABLE_CACHE, MUTABLE_CACHE } from '../protocol/layout.js';
import type { Store } from '../store/store.js';

const MAX_ATTEMPTS = 10;
const BASE_DELAY_MS = 50;
const MAX_DELAY_MS = 2_000;

export interface DocumentSnapshot<T> {
  document: T;
  /** null when the document does not exist yet. */
  etag: string | null;
  key: string;
  /** After a write: the bytes stored (with the signatures a signing store added). */
  stored?: Buffer;
}

export async function readJsonDocument<T>(
  store: Store,
  key: string,
  parse: (body: Buffer, key: string) => T,
  empty: () => T,
): Promise<DocumentSnapshot<T>> {
  const stored = await store.readDocument(key);
  return stored ? { document: parse(stored.body, key), etag: stored.etag, key } : { document: empty(), etag: null, key };
}

/**
 * Read → apply → conditional write of one mutable JSON document, again on a
 * lost race with jittered backoff. `apply` is re-run on the fresh document
 * each time, so concurrent writers never drop each other's changes; it may
 * throw to refuse the change.
 */
export async function updateDocument<T>(
  store: Store,
  key: string,
  apply: (current: T) => T | Promise<T>,
  parse: (body: Buffer, key: string) => T,
  empty: () => T,
  options: { dryRun?: boolean; beforeWrite?: (document: T) => Promise<void> } = {},
): Promise<DocumentSnapshot<T>> {
  for (let attempt = 1; ; attempt++) {
    const current = await readJsonDocument(store, key, parse, empty);
    const document = await apply(current.document);
    if (options.dryRun) return { ...current, document };
    await options.beforeWrite?.(document);
    const body = serializeDocument(document);
    const written = await store.writeDocument(key, body, {
      contentType: 'application/json',
      cacheControl: MUTABLE_CACHE,
      sha256: sha256Hex(body),
      ...(current.etag === null ? { ifNoneMatch: true } : { ifMatch: current.etag }),
    });
    if (written) return { document, etag: written.etag, key, stored: written.stored ?? body };
    if (attempt === MAX_ATTEMPTS) {
      throw new ConflictError(`${key} kept changing under us (${MAX_ATTEMPTS} attempts); someone else is writing it, run the command again`);
    }
    const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
    await sleep(Math.random() * ceiling);
  }
}

/**
 * Create-only write of a document that never changes once written (a
 * version's claim, its manifest). One already there is accepted when `isOurs`
 * says it is (a rerun, or an identical concurrent run); anything else is a
 * conflict. Returns the SHA-256 and size of the bytes stored.
 */
export async function writeOnce(
  store: Store,
  key: string,
  body: Buffer,
  isOurs: (existing: Buffer) => boolean,
  conflictMessage: string,
): Promise<{ sha256: string; size: number }> {
  const written = await store.writeDocument(key, body, { contentType: 'application/json', cacheControl: IMMUTABLE_CACHE, sha256: sha256Hex(body), ifNoneMatch: true });
  const stored = written ? (written.stored ?? body) : (await store.readDocument(key))?.body;
  if (!written && (!stored || !isOurs(stored))) throw new ConflictError(conflictMessage);
  return { sha256: sha256Hex(stored!), size: stored!.length };
}
