import { parseProtocolTime } from './time.js';
import type { TargetingRules } from './types.js';

/**
 * The one home of the serving window (PROTOCOL.md "Rules": startsAt,
 * endsAt): served from `startsAt` (inclusive) until `endsAt` (exclusive).
 * Resolve on devices, `status`, the archive and the publisher's checks all
 * ask here.
 */
export type WindowPlace = 'before' | 'within' | 'after';

const instants = new Map<string, number>();
/** Milliseconds, NaN when not a protocol time (PROTOCOL.md §1.2: documents holding one are refused before this); cached (resolve runs per device). */
export function instantOf(text: string): number {
  let instant = instants.get(text);
  if (instant === undefined) {
    instant = parseProtocolTime(text);
    if (instants.size > 1_000) instants.clear();
    instants.set(text, instant);
  }
  return instant;
}

export function windowPlace(rules: Pick<TargetingRules, 'startsAt' | 'endsAt'>, now: Date): WindowPlace {
  if (rules.startsAt && now.getTime() < instantOf(rules.startsAt)) return 'before';
  if (rules.endsAt && now.getTime() >= instantOf(rules.endsAt)) return 'after';
  return 'within';
}

/** The window has closed: nobody is served any more. */
export const windowClosed = (rules: Pick<TargetingRules, 'endsAt'>, now: Date) => rules.endsAt !== undefined && now.getTime() >= instantOf(rules.endsAt);

/** The window has opened (or there is none): from now on it only closes. */
export const windowOpened = (rules: Pick<TargetingRules, 'startsAt'>, now: Date) => !rules.startsAt || now.getTime() >= instantOf(rules.startsAt);

/**
 * The one home of expiry (PROTOCOL.md "Freshness"): a channel document is
 * refused at or after its `expires` instant; without one it never expires.
 */
export const isExpired = (document: { expires?: string }, now: Date) => document.expires !== undefined && now.getTime() >= parseProtocolTime(document.expires);
