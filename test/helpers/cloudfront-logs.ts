/**
 * CloudFront standard log files as a distribution writes them (W3C extended,
 * tab-separated, two header lines, gzip), for tests of what reads them.
 */
import { gzipSync } from 'node:zlib';
import { encodeReceiptQuery, type Receipt } from '../../src/protocol/receipts.js';

export const CLOUDFRONT_FIELDS = [
  'date', 'time', 'x-edge-location', 'sc-bytes', 'c-ip', 'cs-method', 'cs(Host)', 'cs-uri-stem', 'sc-status', 'cs(Referer)', 'cs(User-Agent)', 'cs-uri-query',
  'cs(Cookie)', 'x-edge-result-type', 'x-edge-request-id', 'x-host-header', 'cs-protocol', 'cs-bytes', 'time-taken', 'x-forwarded-for', 'ssl-protocol',
  'ssl-cipher', 'x-edge-response-result-type', 'cs-protocol-version', 'fle-status', 'fle-encrypted-fields', 'c-port', 'time-to-first-byte',
  'x-edge-detailed-result-type', 'sc-content-type', 'sc-content-len', 'sc-range-start', 'sc-range-end',
];

export interface LoggedLine {
  at: number;
  path: string;
  /** '' for none (logged as '-'). */
  query: string;
  status?: number;
}

/** One request line, in `fields` order. */
export function logLine(line: LoggedLine, fields = CLOUDFRONT_FIELDS): string {
  const iso = new Date(line.at).toISOString();
  const values: Record<string, string> = {
    date: iso.slice(0, 10),
    time: iso.slice(11, 19),
    'x-edge-location': 'FRA56-P1',
    'sc-bytes': '312',
    'c-ip': '192.0.2.10',
    'cs-method': 'GET',
    'cs(Host)': 'd111111abcdef8.cloudfront.net',
    'cs-uri-stem': line.path,
    'sc-status': String(line.status ?? (line.path.startsWith('/r/') ? 204 : 200)),
    'cs(Referer)': '-',
    'cs(User-Agent)': 'okhttp/4.12.0',
    'cs-uri-query': line.query || '-',
    'x-edge-request-id': 'a1b2c3',
  };
  return fields.map((field) => values[field] ?? '-').join('\t');
}

export function logText(lines: LoggedLine[], fields = CLOUDFRONT_FIELDS): string {
  return `#Version: 1.0\n#Fields: ${fields.join(' ')}\n${lines.map((line) => logLine(line, fields)).join('\n')}\n`;
}

export const gzipLog = (lines: LoggedLine[], fields = CLOUDFRONT_FIELDS) => gzipSync(logText(lines, fields));

/** The name CloudFront gives a log file: `<distribution>.<YYYY-MM-DD-HH>.<unique>.gz`. */
export const logFileName = (hour: number, unique: string, distribution = 'E2EXAMPLE') => `${distribution}.${new Date(hour).toISOString().slice(0, 13).replace('T', '-')}.${unique}.gz`;

export const receiptLine = (receipt: Receipt, at: number, path = '/r/v1'): LoggedLine => ({ at, path, query: encodeReceiptQuery(receipt) });
