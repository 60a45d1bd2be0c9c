import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { ExitCode, UserError } from '../errors.js';
import { ReceiptTally, type HealthReport } from '../protocol/receipt-counts.js';
import { decodeReceiptQuery } from '../protocol/receipts.js';
import { CloudFrontLogParser, logFileHour } from './cloudfront-log.js';
import { readLogLines } from './log-lines.js';
import { describeSource, type ReceiptSource } from './receipt-source.js';

/** Receipts received in [from, to] (ms) count. */
export interface ReceiptWindow {
  from: number;
  to: number;
}

export interface ReadReceiptsRequest {
  source: Extract<ReceiptSource, { kind: 'files' | 's3' }>;
  window: ReceiptWindow;
  /** The path receipts are sent to, as CloudFront logs it (`/r/v1`): other requests are not receipts. */
  receiptsPath: string;
  /** Made on first use, for an s3:// source. */
  s3Client?: () => S3Client;
  /** Where a relative log folder or file starts (the run's folder). */
  cwd: string;
  signal?: AbortSignal;
}

export interface ReadReceiptsResult {
  report: HealthReport;
  /** Log files read (those named for hours outside the window are not). */
  files: number;
}

const HOUR_MS = 3_600_000;
/** Logs read at once: decompression runs on other threads while this one counts. */
const FILES_AT_ONCE = 4;

/**
 * Whether a log file named for `hour` may hold requests of the window: a
 * file holds the requests of its hour, give or take one, however late it was delivered.
 */
const fileInWindow = (name: string, window: ReceiptWindow) => {
  const hour = logFileHour(name);
  return hour === undefined || (hour >= window.from - 2 * HOUR_MS && hour <= window.to + HOUR_MS);
};

/** One log's lines into the tally: CloudFront W3C lines after their `#Fields:` header, or serve's NDJSON. */
function lineCounter(tally: ReceiptTally, window: ReceiptWindow, receiptsPath: string): (line: string) => void {
  const parser = new CloudFrontLogParser();
  const count = (query: string, at: number) => {
    const decoded = decodeReceiptQuery(query);
    if (decoded.ok) tally.add(decoded.receipt, at);
    else tally.addMalformed();
  };
  return (line) => {
    if (line.length === 0) return;
    const first = line.charCodeAt(0);
    if (first === 35 /* # */) {
      parser.header(line);
    } else if (first === 123 /* { */) {
      let entry: { at?: unknown; query?: unknown };
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (typeof entry?.query !== 'string' || typeof entry.at !== 'string') return;
      const at = Date.parse(entry.at);
      if (!(at >= window.from && at <= window.to)) return;
      count(entry.query, at);
    } else {
      const request = parser.request(line, receiptsPath);
      if (!request || request.at < window.from || request.at > window.to) return;
      count(request.query, request.at);
    }
  };
}

/** Counts the receipts of a log folder, a log file or an S3 log prefix, in the window. */
export async function readReceipts(request: ReadReceiptsRequest): Promise<ReadReceiptsResult> {
  const tally = new ReceiptTally();
  const logs = request.source.kind === 'files' ? await localLogs(request.source.path, request.cwd, request.window) : await s3Logs(request);
  const limit = pLimit(FILES_AT_ONCE);
  await Promise.all(
    logs.map((log) =>
      limit(async () => {
        request.signal?.throwIfAborted();
        await readLogLines(await log.open(), lineCounter(tally, request.window, request.receiptsPath), request.signal);
      }),
    ),
  );
  return { report: tally.report(), files: logs.length };
}

interface LogObject {
  name: string;
  open: () => Promise<Readable>;
}

/** The log files of a folder or the one file `path` names (relative to `cwd`), named as given. */
async function localLogs(path: string, cwd: string, window: ReceiptWindow): Promise<LogObject[]> {
  const root = resolve(cwd, path);
  const stats = await stat(root).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new UserError(`receipts source ${path} does not exist; pass --receipts with a log folder or file, s3://bucket/prefix or athena://workgroup/database.table`, ExitCode.failure);
    throw new UserError(`cannot read the receipts source ${path}: ${error.code ?? error.message}`, ExitCode.failure);
  });
  const open = (file: string) => async () => createReadStream(resolve(cwd, file));
  if (stats.isFile()) return [{ name: path, open: open(path) }];
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw new UserError(`cannot read the receipts folder ${path}: ${error.code ?? error.message}`, ExitCode.failure);
  });
  const files = entries
    .filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
  if (files.length === 0) throw new UserError(`receipts folder ${path} holds no log files; point --receipts at the folder CloudFront or 'serve --receipts-log' writes`, ExitCode.failure);
  return files.filter((file) => fileInWindow(file, window)).map((file) => ({ name: join(path, file), open: open(join(path, file)) }));
}

async function s3Logs(request: ReadReceiptsRequest): Promise<LogObject[]> {
  const source = request.source as Extract<ReceiptSource, { kind: 's3' }>;
  const client = request.s3Client!();
  const prefix = source.prefix ? `${source.prefix}/` : '';
  const names: string[] = [];
  let listed = 0;
  try {
    for await (const page of paginateListObjectsV2({ client }, { Bucket: source.bucket, Prefix: prefix })) {
      for (const object of page.Contents ?? []) {
        listed++;
        if (object.Key && !object.Key.endsWith('/') && fileInWindow(object.Key.slice(prefix.length), request.window)) names.push(object.Key);
      }
    }
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'NoSuchBucket') throw new UserError(`receipts source ${describeSource(source)}: bucket '${source.bucket}' does not exist; check receipts.source or --receipts`, ExitCode.failure);
    if (name === 'AccessDenied') throw new UserError(`receipts source ${describeSource(source)}: access denied listing the log bucket; grant s3:ListBucket and s3:GetObject on it`, ExitCode.failure);
    throw error;
  }
  if (listed === 0) throw new UserError(`receipts source ${describeSource(source)} holds no log files; check the prefix the distribution logs to`, ExitCode.failure);
  return names.map((key) => ({
    name: key,
    open: async () => (await client.send(new GetObjectCommand({ Bucket: source.bucket, Key: key }), { abortSignal: request.signal })).Body as Readable,
  }));
}
