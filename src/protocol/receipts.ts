import { hash32 } from './rollout.js';

/**
 * Device receipts (PROTOCOL.md §18): what a device reports about an update,
 * as one `GET <receipts.url>?<query>` the CDN logs. This module is the one
 * definition of the query (both ways) and of one receipt's validity; the
 * counting rules are in receipt-counts.ts.
 */

export const RECEIPT_EVENTS = [
  'check',
  'download_ok',
  'download_failed',
  'verify_failed',
  'apply_failed',
  'applied',
  'launch_ok',
  'launch_failed',
  'rolled_back',
] as const;
export type ReceiptEvent = (typeof RECEIPT_EVENTS)[number];

export const RECEIPT_KINDS = ['full', 'delta', 'patched'] as const;
export type ReceiptKind = (typeof RECEIPT_KINDS)[number];

/** `from` on a first install (no version before). */
export const NO_PREVIOUS_VERSION = 'none';

/** One receipt, by its query field names (a contract: PROTOCOL.md §18.2). */
export interface Receipt {
  /** Event. */
  e: ReceiptEvent;
  /** Channel. */
  ch?: string;
  /** Package id. */
  pkg: string;
  /** The release version the event is about. */
  rel: string;
  /** The version installed before (`none` on a first install). */
  from?: string;
  /** Platform. */
  pf?: string;
  /** App version. */
  av?: string;
  /** Install id: random per install, never a device or user id. */
  iid: string;
  /** Event id: random per event, kept when the receipt is resent. */
  eid: string;
  /** Device time, ms since the epoch. */
  t?: number;
  /** What was downloaded: full, delta or patched. */
  k?: ReceiptKind;
  /** Bytes downloaded. */
  sz?: number;
  /** Reason code on failures. */
  rc?: string;
  /** The `version` of the channel index the device resolved against. */
  iv?: number;
}

/** Query field order: fixed, so the same receipt is the same URL on every client. */
export const RECEIPT_FIELDS = ['e', 'ch', 'pkg', 'rel', 'from', 'pf', 'av', 'iid', 'eid', 't', 'k', 'sz', 'rc', 'iv'] as const;

const REQUIRED_FIELDS = ['pkg', 'rel', 'iid', 'eid'] as const;
const NUMBER_FIELDS = new Set(['t', 'sz', 'iv']);

/** A reason code as sent: letters, digits, '.', '_' and '-', at most 64 (anything else becomes '_'). */
export const reasonCode = (text: string) => text.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);

/**
 * The query string of a receipt: fields in RECEIPT_FIELDS order, absent ones
 * left out, each value percent-encoded as encodeURIComponent does.
 */
export function encodeReceiptQuery(receipt: Receipt): string {
  const parts: string[] = [];
  for (const field of RECEIPT_FIELDS) {
    const value = receipt[field];
    if (value === undefined || value === null || value === '') continue;
    parts.push(`${field}=${encodeURIComponent(String(value))}`);
  }
  return parts.join('&');
}

export type DecodedReceipt = { ok: true; receipt: Receipt } | { ok: false; problem: string };

/**
 * A receipt from its query string. Malformed (and so skipped and counted as
 * such): an undecodable value, an unknown event or kind, a missing `pkg`,
 * `rel`, `iid` or `eid`, a number field that is not a whole number. Unknown
 * fields are ignored (a newer client may send more).
 */
export function decodeReceiptQuery(query: string): DecodedReceipt {
  // The hot path of `health` (millions of lines): no split, decoding only values that need it.
  const fields: Record<string, string> = Object.create(null);
  let start = query.charCodeAt(0) === 63 /* ? */ ? 1 : 0;
  while (start <= query.length) {
    let end = query.indexOf('&', start);
    if (end === -1) end = query.length;
    if (end > start) {
      const equals = query.indexOf('=', start);
      const hasValue = equals !== -1 && equals < end;
      const name = query.slice(start, hasValue ? equals : end);
      // The first occurrence wins: a repeated field cannot override what was counted.
      if (fields[name] === undefined) {
        const raw = hasValue ? query.slice(equals + 1, end) : '';
        let value = raw;
        if (raw.includes('%') || raw.includes('+')) {
          try {
            value = decodeURIComponent(raw.replace(/\+/g, ' '));
          } catch {
            return { ok: false, problem: `field ${name} is not percent-encoded` };
          }
        }
        fields[name] = value;
      }
    }
    start = end + 1;
  }
  if (!RECEIPT_EVENTS.includes(fields.e as ReceiptEvent)) return { ok: false, problem: fields.e ? `unknown event '${fields.e}'` : 'no event (e)' };
  for (const field of REQUIRED_FIELDS) if (!fields[field]) return { ok: false, problem: `no ${field}` };
  if (fields.k !== undefined && fields.k !== '' && !RECEIPT_KINDS.includes(fields.k as ReceiptKind)) return { ok: false, problem: `unknown kind '${fields.k}'` };
  const receipt: Record<string, unknown> = {};
  for (const field of RECEIPT_FIELDS) {
    const value = fields[field];
    if (value === undefined || value === '') continue;
    if (NUMBER_FIELDS.has(field)) {
      if (!/^\d{1,16}$/.test(value)) return { ok: false, problem: `${field} '${value}' is not a whole number` };
      receipt[field] = Number(value);
    } else {
      receipt[field] = value;
    }
  }
  return { ok: true, receipt: receipt as unknown as Receipt };
}

/** The receipts URL's default path when a config names none: relative to the store root. */
export const DEFAULT_RECEIPTS_PATH = 'r/v1';

/** `receipts` in the channel index: where devices send receipts, and the share of installs that do. */
export interface ReceiptsSettings {
  /** Absolute, or relative to the store root (the index's base URL). */
  url: string;
  /** 0–1; absent means 1. */
  sampleRate?: number;
}

/**
 * Whether an install sends receipts: decided once per install (stable), from
 * its install id, so a device's story is told whole or not at all.
 */
export function installSampled(iid: string, sampleRate: number | undefined): boolean {
  const rate = sampleRate ?? 1;
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  return hash32(`receipts:${iid}`) % 10_000 < Math.round(rate * 10_000);
}

/** The receipts URL for a store at `storeBase` (a URL ending in '/'): relative URLs resolve against it. */
export const receiptsEndpoint = (settings: ReceiptsSettings, storeBase: string) => new URL(settings.url, storeBase).toString();
