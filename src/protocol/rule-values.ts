import { z } from 'zod';

/** Rule values as the index stores them and every writer checks them (flags, config presets). */

// Plain decimals only: Number() would also take 0x10 and 1e1, and rounding 12.345 hides a typo.
const PLAIN_PERCENT = /^\d+(\.\d{1,2})?$/;
/** The number as written, without a trailing %. */
export const percentText = (value: string | number) => String(value).trim().replace(/%$/, '');

/** Whether a rollout is 0–100 with at most two decimals (flags and config presets alike). */
export const isRollout = (value: string | number) => PLAIN_PERCENT.test(percentText(value)) && Number(percentText(value)) <= 100;

/** What is wrong with an ISO-8601 time (flags and config presets alike), or undefined. */
export function timeProblem(value: string): string | undefined {
  // Date() rolls 2026-02-30 over to March 2; zod checks the calendar day.
  if (!z.iso.date().safeParse(value.slice(0, 10)).success || Number.isNaN(new Date(value).getTime())) {
    return 'is not an ISO-8601 date; use e.g. 2026-12-01T00:00:00Z';
  }
  // Date() reads a time without an offset as local time: the result would depend on the machine.
  if (value.length > 10 && !/(Z|[+-]\d{2}:?\d{2})$/i.test(value)) return `has no UTC offset; add Z or ±hh:mm, e.g. ${value}Z`;
  return undefined;
}

/**
 * Platform names compare case-insensitively: `iOS`, `ios` and `IOS` are one
 * platform. Publishers store them normalized and devices normalize what they
 * report, with this one function.
 */
export const normalizePlatform = (platform: string) => platform.trim().toLowerCase();
