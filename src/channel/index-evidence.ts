import pLimit from 'p-limit';
import { parseDocumentJson } from '../protocol/document-json.js';
import { channelIndexKey, historyKey, indexHighWaterKey, MUTABLE_CACHE, pendingPrefix } from '../protocol/layout.js';
import { sha256Hex } from '../hash.js';
import { StoreError } from '../errors.js';
import { UnsignedDocumentError } from '../store/signing-store.js';
import { READ_CONCURRENCY, type Store } from '../store/store.js';
import { updateDocument } from './update-document.js';

/**
 * What the channel's own records say about the newest index written, read
 * independently of the index: the high-water mark, every package's history
 * (entries carry the index version they were written as) and the pending
 * records of index writes. A publisher never builds on an index older than
 * any of them (an older signed index put back: a replay), and a record it
 * cannot read is not taken for "no record".
 */
export interface IndexEvidence {
  /** The highest version a record says was written, and the record that says it. */
  highest?: { version: number; source: string };
  /** Records that could not be read: any of them may name a higher version. */
  damaged: DamagedRecord[];
  /** Whether the high-water mark is there (a store written before it was kept has none). */
  marked: boolean;
  /** The highest version a pending index write produces (its mark is raised when its work is finished). */
  pendingVersion: number;
}

export interface DamagedRecord {
  key: string;
  /** "is not valid JSON (…)", "signature by key … does not match the content". */
  problem: string;
  /** The bytes stored, when there are any (`refresh --accept-index` moves them aside). */
  body?: Buffer;
}

/** The mark: `channels/<channel>/index/high-water.json`. */
interface HighWaterMark {
  channel: string;
  indexVersion: number;
  updatedAt: string;
}

type Read = { document: unknown; body: Buffer } | { damaged: DamagedRecord } | null;

/** A record as stored; damaged when unsigned by this publisher (signing store) or not JSON. A failing store still throws. */
async function readRecord(store: Store, key: string): Promise<Read> {
  let body: Buffer;
  try {
    const stored = await store.readDocument(key);
    if (!stored) return null;
    body = stored.body;
  } catch (error) {
    if (error instanceof UnsignedDocumentError) return { damaged: { key, problem: error.problem, body: error.stored.body } };
    throw error;
  }
  try {
    return { document: parseDocumentJson(body), body };
  } catch (error) {
    return { damaged: { key, problem: `is not valid JSON (${(error as Error).message})`, body } };
  }
}

const isVersion = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0;

function markOf(document: unknown, channel: string): HighWaterMark | undefined {
  const mark = document as Partial<HighWaterMark> | null;
  return typeof mark === 'object' && mark !== null && mark.channel === channel && isVersion(mark.indexVersion) ? (mark as HighWaterMark) : undefined;
}

/** A history log's entries (a bare array in logs written before documents carried signatures). */
function logEntries(document: unknown): { indexVersion?: unknown }[] | undefined {
  if (Array.isArray(document)) return document;
  const entries = (document as { entries?: unknown } | null)?.entries;
  return Array.isArray(entries) ? entries : undefined;
}

/** Every record of the channel that names an index version, read. */
export async function readIndexEvidence(store: Store, channel: string): Promise<IndexEvidence> {
  const evidence: IndexEvidence = { damaged: [], marked: false, pendingVersion: 0 };
  // Ties name the history first: the record people read.
  const saw = (version: number, source: string) => {
    if (version > (evidence.highest?.version ?? 0)) evidence.highest = { version, source };
  };

  const historyPrefix = historyKey(channel, '').replace(/\.json$/, '');
  const logs = (await store.list(historyPrefix)).map((object) => object.key).filter((key) => key.endsWith('.json') && !key.slice(historyPrefix.length).includes('/'));
  // One log per package: read at once (a store answers each GET in its own time), looked at in key order.
  const limit = pLimit(READ_CONCURRENCY);
  const sorted = logs.sort();
  const reads = await Promise.all(sorted.map((key) => limit(() => readRecord(store, key))));
  for (const [position, read] of reads.entries()) {
    const key = sorted[position];
    if (read === null) continue;
    if ('damaged' in read) {
      evidence.damaged.push(read.damaged);
      continue;
    }
    const entries = logEntries(read.document);
    if (!entries) {
      evidence.damaged.push({ key, problem: 'is not a history log ({"entries": [...]})', body: read.body });
      continue;
    }
    for (const entry of entries) if (isVersion(entry?.indexVersion)) saw(entry.indexVersion, "the channel's history");
  }

  const markKey = indexHighWaterKey(channel);
  const mark = await readRecord(store, markKey);
  if (mark !== null) {
    evidence.marked = true;
    if ('damaged' in mark) evidence.damaged.push(mark.damaged);
    else {
      const read = markOf(mark.document, channel);
      if (read) saw(read.indexVersion, `the channel's high-water mark (${markKey})`);
      else evidence.damaged.push({ key: markKey, problem: `is not the high-water mark of channel '${channel}' ({"channel", "indexVersion"})`, body: mark.body });
    }
  }

  const indexKey = channelIndexKey(channel);
  for (const { key } of await store.list(pendingPrefix(channel))) {
    if (!key.endsWith('.json')) continue;
    const read = await readRecord(store, key);
    if (read === null) continue;
    if ('damaged' in read) {
      evidence.damaged.push(read.damaged);
      continue;
    }
    const work = read.document as { documentKey?: unknown; documentVersion?: unknown; indexVersion?: unknown };
    // Records of earlier releases name only the index version.
    const version = work.documentKey === undefined ? work.indexVersion : work.documentKey === indexKey ? work.documentVersion : undefined;
    if (!isVersion(version) || version === 0) continue;
    evidence.pendingVersion = Math.max(evidence.pendingVersion, version);
    // The version the pending write was built on was written, whether or not the write landed.
    saw(version - 1, `a pending index write (${key})`);
  }
  return evidence;
}

/** The command that records a person's check of the stored index (docs/keys-and-rotation.md "A replayed index"). */
const acceptCommand = (channel: string, version: number) => `'update-publish refresh --channel ${channel} --accept-index ${version} --yes'`;

/**
 * Why the stored index (version `version`, 0: there is none) must not be
 * built on, or undefined: a record is damaged, a record names a newer
 * version (a replay), or the index has no mark beside it. Pure.
 */
export function indexReplayRefusal(channel: string, version: number, evidence: IndexEvidence): string | undefined {
  const indexKey = channelIndexKey(channel);
  const [damaged] = evidence.damaged;
  if (damaged) {
    return `${damaged.key} ${damaged.problem}: it records which versions of ${indexKey} were written, so an older index put back could not be told; nothing was written; restore it from your backup or the bucket's object versions, or once you have checked that ${indexKey} (version ${version}) is the newest, run ${acceptCommand(channel, version)} (it moves the damaged record aside)`;
  }
  const { highest } = evidence;
  if (highest && highest.version > version) {
    return `${indexKey} is version ${version}, but ${highest.source} records that version ${highest.version} was written: an older index was put back in the store (a replay); nothing was written; restore the newest index (version ${highest.version}) from your backup or the bucket's object versions (if it is lost for good, check this one, then run ${acceptCommand(channel, version)})`;
  }
  // The first write of a channel, or one whose pending work (raising the mark) is not finished yet.
  if (version === 0 || evidence.marked || evidence.pendingVersion >= version) return undefined;
  return `${indexKey} is version ${version}, but ${indexHighWaterKey(channel)}, the record of the versions written, is missing (deleted, or the store was written before update-publish kept it), so an older index put back could not be told; nothing was written; restore it from your backup or the bucket's object versions, or once you have checked that version ${version} is the newest, run ${acceptCommand(channel, version)}`;
}

/** Refuses (exit 1) to build on the stored index when the channel's records say it may be a replay. */
export async function assertIndexNotReplayed(store: Store, channel: string, version: number): Promise<void> {
  const evidence = await readIndexEvidence(store, channel);
  const refusal = indexReplayRefusal(channel, version, evidence);
  if (!refusal) return;
  // A writer that landed between our read of the index and of its records is a race, not a replay: the index moved on,
  // so the conditional write built on our read loses and is tried again on the fresh index (checked again then).
  if ((evidence.highest?.version ?? 0) > version && (await storedIndexVersion(store, channel)) > version) return;
  throw new StoreError(refusal);
}

/**
 * For `verify`: the stored index is older than a record says was written (a
 * replay), said in one line; undefined when it is not (or cannot be read:
 * the index's own check says why).
 */
export async function replayFinding(store: Store, channel: string): Promise<string | undefined> {
  const version = await storedIndexVersion(store, channel).catch((error: unknown) => {
    if (error instanceof UnsignedDocumentError) return undefined;
    throw error;
  });
  if (version === undefined) return undefined;
  const { highest } = await readIndexEvidence(store, channel);
  if (!highest || highest.version <= version) return undefined;
  return `is version ${version}, but ${highest.source} records that version ${highest.version} was written: an older index was put back in the store (a replay); restore the newest index (version ${highest.version}) from your backup or the bucket's object versions`;
}

async function storedIndexVersion(store: Store, channel: string): Promise<number> {
  const stored = await store.readDocument(channelIndexKey(channel));
  try {
    const version = stored && (parseDocumentJson(stored.body) as { version?: unknown }).version;
    return isVersion(version) ? version : 0;
  } catch {
    return 0;
  }
}

function parseMark(body: Buffer, key: string, channel: string): HighWaterMark {
  let document: unknown;
  try {
    document = parseDocumentJson(body);
  } catch (error) {
    throw new StoreError(`${key} is not valid JSON (${(error as Error).message}); see 'update-publish refresh --accept-index'`);
  }
  const mark = markOf(document, channel);
  if (!mark) throw new StoreError(`${key} is not the high-water mark of channel '${channel}'; see 'update-publish refresh --accept-index'`);
  return mark;
}

/**
 * Raises the channel's mark to `version` once an index of that version is
 * written (never lowers it; written only when it rises). A run killed before
 * leaves its pending record, whose finishing raises it.
 */
export async function raiseIndexHighWater(store: Store, channel: string, version: number): Promise<void> {
  const key = indexHighWaterKey(channel);
  const current = await store.readDocument(key);
  if (current && parseMark(current.body, key, channel).indexVersion >= version) return;
  await updateDocument(
    store,
    key,
    (mark: HighWaterMark) => (mark.indexVersion >= version ? mark : { channel, indexVersion: version, updatedAt: new Date().toISOString() }),
    (body) => parseMark(body, key, channel),
    () => ({ channel, indexVersion: 0, updatedAt: new Date(0).toISOString() }),
  );
}

/**
 * The highest index version the records name, damaged ones included (read
 * as text, so a cut log still counts): the floor `refresh --accept-index`
 * numbers the next index above, so devices that saw a newer one take it.
 */
export function versionFloor(evidence: IndexEvidence): number {
  let floor = evidence.highest?.version ?? 0;
  for (const { body } of evidence.damaged) {
    for (const match of body?.toString('utf8').matchAll(/"(?:indexVersion|documentVersion)"\s*:\s*(\d+)/g) ?? []) floor = Math.max(floor, Number(match[1]));
  }
  return floor;
}

/** A damaged record moved to `to` (not .json: kept as stored, unsigned and unread by publishers, for whoever looks into it). */
export async function moveRecordAside(store: Store, record: DamagedRecord, to: string): Promise<void> {
  if (record.body) await store.writeDocument(to, record.body, { contentType: 'application/octet-stream', cacheControl: MUTABLE_CACHE, sha256: sha256Hex(record.body) });
  await store.delete([record.key]);
}
