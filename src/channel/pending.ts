import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { StoreError } from '../errors.js';
import { sha256Hex } from '../hash.js';
import { channelIndexKey, historyKey, MUTABLE_CACHE, pendingKey, pendingPrefix } from '../protocol/layout.js';
import { serializeDocument } from '../protocol/manifest.js';
import type { HookEvent } from '../protocol/release-event.js';
import type { Release } from '../protocol/types.js';
import type { Store } from '../store/store.js';

/** Entries to append to one history log (a package's on the channel, or a document's). */
export interface LogAppend {
  key: string;
  entries: object[];
  /** What changed, for the warning when the log cannot be written: "'maps' on 'production'". */
  subject: string;
}

/**
 * What must follow a channel document write: the history entries, the
 * snapshot of the version (kinds that keep them) and the hooks. Written
 * (before each write attempt) to `channels/<channel>/pending/<id>.json` and
 * removed once they ran, so a run killed after its write is finished by the
 * next change of the channel (workflows/change-pipeline.ts).
 */
export interface PendingWork {
  id: string;
  channel: string;
  /** What the interrupted command was, for the line that says what was finished: "publish of maps@1.0.3". */
  summary: string;
  /** The document the write changes. */
  documentKey: string;
  /** The version the write produces. */
  documentVersion: number;
  /** SHA-256 of the canonical JSON written: tells our write from another one of the same version. */
  documentDigest: string;
  /** Index writes: the releases as the write put them (tells a landed write once later writes moved on). */
  releases?: { package: string; release: Release }[];
  /** Kinds that keep every version: the document as written, kept by whoever finishes the work. */
  snapshot?: object;
  history: LogAppend[];
  /** The hook events; empty when the command ran with --no-hooks. */
  events: HookEvent[];
  /** The run that wrote the record: while it runs, the work is its own, not interrupted. */
  owner?: PendingOwner;
}

export interface PendingOwner {
  host: string;
  pid: number;
  startedAt: string;
}

/** A run on another machine that has not finished its history and hooks in this long is taken for killed. */
const OTHER_HOST_STALE_MS = 10 * 60_000;

export const currentOwner = (): PendingOwner => ({ host: hostname(), pid: process.pid, startedAt: new Date().toISOString() });

/**
 * Whether the run that wrote the record may still be finishing it (then the
 * record is left to it). On this machine: its process is alive (an earlier run
 * of this very process is over). Elsewhere: it started within the last ten minutes.
 */
export function ownerMayBeRunning(work: PendingWork, now = new Date()): boolean {
  const { owner } = work;
  if (!owner) return false;
  if (owner.host !== hostname()) return now.getTime() - Date.parse(owner.startedAt) < OTHER_HOST_STALE_MS;
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export const newPendingId = () => `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;

export async function writePending(store: Store, work: PendingWork): Promise<void> {
  const body = serializeDocument(work);
  await store.writeDocument(pendingKey(work.channel, work.id), body, { contentType: 'application/json', cacheControl: MUTABLE_CACHE, sha256: sha256Hex(body) });
}

export async function removePending(store: Store, work: Pick<PendingWork, 'channel' | 'id'>): Promise<void> {
  await store.delete([pendingKey(work.channel, work.id)]);
}

/** Records written by earlier releases (index writes only) in today's shape. */
function upgradeRecord(record: Record<string, unknown>, channel: string, actor: string): PendingWork {
  if (typeof record.documentKey === 'string') return record as unknown as PendingWork;
  const old = record as { indexVersion: number; indexDigest: string; history: { package: string; records: object[] }[] };
  const stamp = { at: new Date().toISOString(), actor };
  return {
    ...(record as unknown as PendingWork),
    documentKey: channelIndexKey(channel),
    documentVersion: old.indexVersion,
    documentDigest: old.indexDigest,
    history: old.history.map(({ package: id, records }) => ({ key: historyKey(channel, id), subject: `'${id}' on '${channel}'`, entries: records.map((entry) => ({ ...stamp, ...entry })) })),
  };
}

/** Every pending record of the channel, oldest first; records from earlier releases are stamped as finished by `actor`. */
export async function readPending(store: Store, channel: string, actor: string): Promise<PendingWork[]> {
  const keys = (await store.list(pendingPrefix(channel))).map((object) => object.key).filter((key) => key.endsWith('.json')).sort();
  const works: PendingWork[] = [];
  for (const key of keys) {
    const stored = await store.readDocument(key);
    if (!stored) continue;
    try {
      const { signatures: _signatures, ...work } = JSON.parse(stored.body.toString('utf8'));
      works.push(upgradeRecord(work, channel, actor));
    } catch {
      throw new StoreError(`${key} is not valid JSON; move it aside (the history entry and hooks it held will not run)`);
    }
  }
  return works;
}
