/**
 * Times in documents (PROTOCOL.md §1.2). Writers write `toISOString()`
 * (`2026-11-24T10:00:00.000Z`); readers accept exactly RFC 3339 date-times
 * (seconds required, any fraction, `Z` or an offset `±hh:mm`, also `±hhmm`),
 * and a bare date (`2026-11-24`, midnight UTC) that older rules hold. Nothing
 * `Date.parse` would also take (`May 1 2026`, no offset: local time) counts,
 * so every client reads the same instant or refuses the same document.
 */
const PROTOCOL_TIME = /^([1-9]\d{3})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:?\d{2}))?$/;

/** Milliseconds since the epoch (digits below the millisecond dropped), or NaN when the text is not a protocol time. */
export function parseProtocolTime(text: unknown): number {
  if (typeof text !== 'string') return Number.NaN;
  const match = PROTOCOL_TIME.exec(text);
  if (!match) return Number.NaN;
  const [, year, month, day, hour, minute, second, fraction, zone] = match;
  if (Number(month) < 1 || Number(month) > 12 || Number(day) < 1 || Number(day) > daysIn(Number(year), Number(month))) return Number.NaN;
  if (hour === undefined) return Date.UTC(Number(year), Number(month) - 1, Number(day));
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return Number.NaN;
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const digits = zone.slice(1).replace(':', '');
    const hours = Number(digits.slice(0, 2));
    const minutes = Number(digits.slice(2));
    // ±18:00 at most, as java.time and every real zone.
    if (minutes > 59 || hours * 60 + minutes > 18 * 60) return Number.NaN;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  const millis = fraction === undefined ? 0 : Number(fraction.padEnd(3, '0').slice(0, 3));
  return Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second), millis) - offsetMinutes * 60_000;
}

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

export const isProtocolTime = (text: unknown): text is string => !Number.isNaN(parseProtocolTime(text));
