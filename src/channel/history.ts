import { parseDocumentJson } from '../protocol/document-json.js';
import { historyKey } from '../protocol/layout.js';
import type { Release } from '../protocol/types.js';
import { StoreError, UserError } from '../errors.js';
import type { ReleaseEventName } from '../protocol/release-event.js';
import type { Store } from '../store/store.js';
import { readJsonDocument, updateDocument } from './update-document.js';

/**
 * Who changed what, when: an append-only log per channel and package, kept
 * beside the index (not in it) so devices never download it.
 */
export type HistoryAction = ReleaseEventName | 'base-add';

export interface HistoryEntry {
  at: string;
  actor: string;
  action: HistoryAction;
  /** The release acted on (rollback: the release served afterwards). */
  version: string;
  /** rollout: percent before/after; halt, resume: state; rollback: version served before/after; promote: source/target channel. */
  from?: string | number | null;
  to?: string | number | null;
  details: Record<string, unknown>;
  /** Made by `rollout tick` from device receipts (the evidence is in details.evidence), not by a person. */
  automatic?: boolean;
  /** The channel index version the change was written as: a publisher never builds on an older index (a replay). Absent in older logs. */
  indexVersion?: number;
}

/** An entry before it is stamped; `at` given stands in for the clock (`--now`). */
export type HistoryRecord = Omit<HistoryEntry, 'at' | 'actor'> & { at?: string };

/** Where a channel's package histories are: `history/<package>.json` beside the index. */
const historyPrefix = (channel: string) => historyKey(channel, '').replace(/\.json$/, '');

/**
 * The highest index version the channel's history says was written (0 when
 * none says): what a publisher knows of the channel independently of the
 * index it reads, so an older signed index put back is never built on.
 */
export async function highestRecordedIndexVersion(store: Store, channel: string): Promise<number> {
  const prefix = historyPrefix(channel);
  const keys = (await store.list(prefix)).map((object) => object.key).filter((key) => key.endsWith('.json') && !key.slice(prefix.length).includes('/'));
  let highest = 0;
  for (const key of keys) {
    // A damaged log never blocks a change (its own write warns): the other logs still speak.
    const entries = await readLog<HistoryEntry>(store, key).catch((error: unknown) => {
      if (error instanceof UserError) return [];
      throw error;
    });
    for (const entry of entries) {
      if (Number.isInteger(entry.indexVersion) && entry.indexVersion! > highest) highest = entry.indexVersion!;
    }
  }
  return highest;
}

/** A stored log: an object (so it carries its own signatures), entries in write order. */
interface LogDocument<T> {
  entries: T[];
}

function parseLog<T>(body: Buffer, key: string): LogDocument<T> {
  let document: unknown;
  try {
    document = parseDocumentJson(body);
  } catch (error) {
    throw new StoreError(`history ${key} is not valid JSON (${(error as Error).message}); move it aside to start a new log`);
  }
  // Logs written before documents carried signatures are a bare array.
  if (Array.isArray(document)) return { entries: document as T[] };
  const entries = (document as Partial<LogDocument<T>> | null)?.entries;
  if (!Array.isArray(entries)) throw new StoreError(`history ${key} is not a log ({"entries": [...]}); move it aside to start a new log`);
  return { entries };
}

const emptyLog = <T>(): LogDocument<T> => ({ entries: [] });

/** Appends through the same conditional-write loop as the documents, so concurrent writers keep every entry. */
export async function appendToLog<T>(store: Store, key: string, entries: T[]): Promise<void> {
  await updateDocument(store, key, (log: LogDocument<T>) => ({ entries: [...log.entries, ...entries] }), parseLog<T>, emptyLog<T>);
}

/** A log's entries in write order; none when there is no log yet. */
export async function readLog<T>(store: Store, key: string): Promise<T[]> {
  return (await readJsonDocument(store, key, parseLog<T>, emptyLog<T>)).document.entries;
}

/** The entries a change of the channel index appends to a package's log (written by the change pipeline). */
export function packageHistory(channel: string, id: string, records: HistoryRecord[], actor: string): { key: string; entries: HistoryEntry[]; subject: string } {
  const stamp = { at: new Date().toISOString(), actor };
  return { key: historyKey(channel, id), entries: records.map((record) => ({ ...stamp, ...record })), subject: `'${id}' on '${channel}'` };
}

/**
 * Appends once the document is written. The change is live by then: a log
 * that cannot be written (damaged, or the store failing) is told through
 * `warn`, never a reason to report the change as failed or to skip its hooks.
 */
export async function appendHistoryLog(store: Store, log: { key: string; entries: object[]; subject: string }, warn: (line: string) => void): Promise<void> {
  try {
    await appendToLog(store, log.key, log.entries);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    warn(`the change to ${log.subject} is live, but its history entry was not written: ${error.message}`);
  }
}

/** The history entry of a release just published: its rules, notes and commit. */
export const publishRecord = (release: Release, workTree: { dirty?: boolean } = {}, rulesPreset?: string): HistoryRecord => ({
  action: 'publish',
  version: release.version,
  // The preset names the rolloutPolicy rollout tick applies to the release.
  details: { rules: release.rules, ...provenanceDetails({ ...release, ...workTree }), ...(rulesPreset !== undefined && { rulesPreset }) },
});

/** A history entry's record of a release's notes and commit, when it has them. */
export const provenanceDetails = ({ message, commit, dirty }: { message?: string; commit?: string; dirty?: boolean }) => ({
  ...(message !== undefined && { message }),
  ...(commit !== undefined && { commit }),
  ...(dirty && { dirty: true }),
});

/**
 * The log newest first, plus an entry for every release of the index the log
 * does not mention (released before logging began, or its entry was lost).
 */
export async function readHistory(store: Store, channel: string, id: string, releases: Release[]): Promise<HistoryEntry[]> {
  const log = await readLog<HistoryEntry>(store, historyKey(channel, id));
  const logged = new Set(log.filter((entry) => entry.action === 'publish' || entry.action === 'promote').map((entry) => entry.version));
  const unlogged = releases
    .filter((release) => !logged.has(release.version))
    .map(
      (release): HistoryEntry => ({
        at: release.releasedAt,
        actor: 'unknown',
        action: 'publish',
        version: release.version,
        details: { rules: release.rules, logged: false },
      }),
    );
  // Newest first; the log is in write order, so reversing keeps same-instant entries in order.
  return [...log.reverse(), ...unlogged].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
}
