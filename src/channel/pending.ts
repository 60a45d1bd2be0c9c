import { randomBytes } from 'node:crypto';
import { StoreError } from '../errors.js';
import { sha256Hex } from '../hash.js';
import { canonicalBytes } from '../protocol/document-signature.js';
import { MUTABLE_CACHE, pendingKey, pendingPrefix } from '../protocol/layout.js';
import { serializeDocument } from '../protocol/manifest.js';
import type { ReleaseEvent } from '../protocol/release-event.js';
import type { ChannelIndex, Release } from '../protocol/types.js';
import type { Store } from '../store/store.js';
import type { HistoryRecord } from './history.js';

/**
 * What must follow a channel index write: the history entries and the hooks.
 * Written (before each write attempt) to `channels/<channel>/pending/<id>.json`
 * and removed once they ran, so a run killed after its index write is
 * finished by the next writing command on the channel.
 */
export interface PendingWork {
  id: string;
  channel: string;
  /** What the interrupted command was, for the line that says what was finished: "publish maps@1.0.3". */
  summary: string;
  /** The index version the write produces. */
  indexVersion: number;
  /** SHA-256 of the canonical JSON of the index written: tells our write from another one of the same version. */
  indexDigest: string;
  /** The releases as the write put them (a later change may have moved them on since). */
  releases: { package: string; release: Release }[];
  history: { package: string; records: HistoryRecord[] }[];
  /** The hook events; empty when the command ran with --no-hooks. */
  events: ReleaseEvent[];
}

export const newPendingId = () => `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;

/** Identifies an index write by its content, whatever signatures it carries. */
export const indexDigest = (index: ChannelIndex) => sha256Hex(Buffer.from(canonicalBytes(index)));

export async function writePending(store: Store, work: PendingWork): Promise<void> {
  const body = serializeDocument(work);
  await store.writeDocument(pendingKey(work.channel, work.id), body, { contentType: 'application/json', cacheControl: MUTABLE_CACHE, sha256: sha256Hex(body) });
}

export async function removePending(store: Store, work: Pick<PendingWork, 'channel' | 'id'>): Promise<void> {
  await store.delete([pendingKey(work.channel, work.id)]);
}

/** Every pending record of the channel, oldest first. */
export async function readPending(store: Store, channel: string): Promise<PendingWork[]> {
  const keys = (await store.list(pendingPrefix(channel))).map((object) => object.key).filter((key) => key.endsWith('.json')).sort();
  const works: PendingWork[] = [];
  for (const key of keys) {
    const stored = await store.readDocument(key);
    if (!stored) continue;
    try {
      const { signatures: _signatures, ...work } = JSON.parse(stored.body.toString('utf8'));
      works.push(work as PendingWork);
    } catch {
      throw new StoreError(`${key} is not valid JSON; move it aside (the history entry and hooks it held will not run)`);
    }
  }
  return works;
}
