/**
 * CloudFront standard logs (W3C extended format, tab-separated): the
 * `#Fields:` header decides which column holds what, so a distribution that
 * adds or reorders fields is still read right. Each file carries its header.
 */

export interface LoggedRequest {
  /** When CloudFront received it, ms since the epoch. */
  at: number;
  /** The request path (cs-uri-stem). */
  path: string;
  /** The query string without '?', '' when none (CloudFront logs '-'). */
  query: string;
}

interface Columns {
  date: number;
  time: number;
  path: number;
  query: number;
  /** The last column read: lines are scanned no further. */
  last: number;
}

export class CloudFrontLogParser {
  private columns: Columns | undefined;

  /** True when the line was a header line (read, not a request). */
  header(line: string): boolean {
    if (line.charCodeAt(0) !== 35 /* # */) return false;
    if (line.startsWith('#Fields:')) {
      const names = line.slice('#Fields:'.length).trim().split(/\s+/);
      const at = (name: string) => names.indexOf(name);
      const columns = { date: at('date'), time: at('time'), path: at('cs-uri-stem'), query: at('cs-uri-query') };
      this.columns = Object.values(columns).every((index) => index >= 0) ? { ...columns, last: Math.max(...Object.values(columns)) } : undefined;
    }
    return true;
  }

  get ready(): boolean {
    return this.columns !== undefined;
  }

  /** A request line, or undefined (no header yet, too few columns, a path other than `path`). */
  request(line: string, path: string): LoggedRequest | undefined {
    const columns = this.columns;
    if (!columns) return undefined;
    // Find only the columns needed, without splitting every field of every line.
    const values: string[] = [];
    let start = 0;
    for (let column = 0; column <= columns.last; column++) {
      const end = line.indexOf('\t', start);
      const value = end === -1 ? line.slice(start) : line.slice(start, end);
      values.push(value);
      if (column === columns.path && value !== path) return undefined;
      if (end === -1) {
        if (column < columns.last) return undefined;
        break;
      }
      start = end + 1;
    }
    const at = Date.parse(`${values[columns.date]}T${values[columns.time]}Z`);
    if (Number.isNaN(at)) return undefined;
    const query = values[columns.query];
    return { at, path, query: query === '-' ? '' : query };
  }
}

/** The hour a CloudFront log file's name says it covers (`<id>.YYYY-MM-DD-HH.<unique>.gz`), ms; undefined for other names. */
export function logFileHour(name: string): number | undefined {
  const match = /\.(\d{4})-(\d{2})-(\d{2})-(\d{2})\.[^./]+(?:\.gz)?$/.exec(name);
  if (!match) return undefined;
  const [, year, month, day, hour] = match;
  const at = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour));
  return Number.isNaN(at) ? undefined : at;
}
