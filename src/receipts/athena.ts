import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  type Row,
} from '@aws-sdk/client-athena';
import { ExitCode, UserError } from '../errors.js';
import { releaseHealth, sortedReport, type HealthReport, type ReleaseCounts } from '../protocol/receipt-counts.js';
import { RECEIPT_EVENTS, NO_PREVIOUS_VERSION, type ReceiptEvent } from '../protocol/receipts.js';
import { isFailure, isLaunch } from '../protocol/receipt-counts.js';
import type { ReceiptSource } from './receipt-source.js';
import type { ReceiptWindow } from './read-receipts.js';

/** How often the query's state is asked, and for how long at most. */
const POLL_MS = 1_000;
const MAX_WAIT_MS = 10 * 60_000;

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;
const iso = (ms: number) => new Date(ms).toISOString();
const day = (ms: number) => iso(ms).slice(0, 10);

/**
 * The counting rules of receipts (PROTOCOL.md §18.4) as one Athena query over
 * the CloudFront log table (README DDL): receipts on the path, in the window,
 * each eid once; one result row per fact the report is built from.
 * Malformed here means an unknown event or a missing pkg/rel/iid/eid.
 */
export function healthQuery(table: { database: string; table: string }, window: ReceiptWindow, receiptsPath: string): string {
  const field = (name: string) => `nullif(url_extract_parameter(concat('http://r/?', query_string), ${quote(name)}), '')`;
  const events = RECEIPT_EVENTS.map(quote).join(', ');
  return `WITH requests AS (
  SELECT from_iso8601_timestamp(concat(cast("date" AS varchar), 'T', "time", 'Z')) AS at,
    ${field('e')} AS e, ${field('ch')} AS ch, ${field('pkg')} AS pkg, ${field('rel')} AS rel,
    ${field('from')} AS prev, ${field('iid')} AS iid, ${field('eid')} AS eid
  FROM "${table.database}"."${table.table}"
  WHERE uri = ${quote(receiptsPath)} AND "date" BETWEEN date ${quote(day(window.from))} AND date ${quote(day(window.to))}
),
windowed AS (
  SELECT * FROM requests WHERE at BETWEEN from_iso8601_timestamp(${quote(iso(window.from))}) AND from_iso8601_timestamp(${quote(iso(window.to))})
),
valid AS (
  SELECT * FROM windowed WHERE e IN (${events}) AND pkg IS NOT NULL AND rel IS NOT NULL AND iid IS NOT NULL AND eid IS NOT NULL
),
numbered AS (
  SELECT *, row_number() OVER (PARTITION BY eid ORDER BY at) AS n FROM valid
),
firsts AS (
  SELECT * FROM numbered WHERE n = 1
)
SELECT 'event' AS kind, pkg, ch, rel, e AS name, cast(to_unixtime(date_trunc('hour', at)) * 1000 AS bigint) AS hour, count(*) AS total, cast(max(to_unixtime(at)) * 1000 AS bigint) AS newest
  FROM firsts GROUP BY pkg, ch, rel, e, date_trunc('hour', at)
UNION ALL
SELECT 'installs', pkg, ch, rel, NULL, NULL, count(DISTINCT iid), NULL FROM firsts GROUP BY pkg, ch, rel
UNION ALL
SELECT 'from', pkg, ch, rel, prev, NULL, count(*), NULL FROM firsts WHERE prev IS NOT NULL AND prev <> ${quote(NO_PREVIOUS_VERSION)} GROUP BY pkg, ch, rel, prev
UNION ALL
SELECT 'malformed', NULL, NULL, NULL, NULL, NULL, (SELECT count(*) FROM windowed) - (SELECT count(*) FROM valid), NULL
UNION ALL
SELECT 'duplicates', NULL, NULL, NULL, NULL, NULL, count(*), NULL FROM numbered WHERE n > 1`;
}

/** The report from the query's rows (kind, pkg, ch, rel, name, hour, total, newest). */
export function reportFromRows(rows: (string | undefined)[][]): HealthReport {
  const releases = new Map<string, ReleaseCounts>();
  let malformed = 0;
  let duplicates = 0;
  for (const [kind, pkg, ch, rel, name, hour, total, newest] of rows) {
    const count = Number(total ?? 0);
    if (kind === 'malformed') malformed += count;
    else if (kind === 'duplicates') duplicates += count;
    if (!pkg || !rel) continue;
    const key = `${pkg}\n${ch ?? ''}\n${rel}`;
    let release = releases.get(key);
    if (!release) {
      release = { package: pkg, channel: ch ?? null, version: rel, events: {}, installs: 0, from: new Map(), newestAt: undefined, hourly: new Map() };
      releases.set(key, release);
    }
    if (kind === 'installs') release.installs = count;
    else if (kind === 'from' && name) release.from.set(name, count);
    else if (kind === 'event' && name && RECEIPT_EVENTS.includes(name as ReceiptEvent)) {
      const event = name as ReceiptEvent;
      release.events[event] = (release.events[event] ?? 0) + count;
      if (newest !== undefined && (release.newestAt === undefined || Number(newest) > release.newestAt)) release.newestAt = Number(newest);
      if (hour !== undefined && isLaunch(event)) {
        const bucket = release.hourly.get(Number(hour)) ?? { launches: 0, failures: 0 };
        bucket.launches += count;
        if (isFailure(event)) bucket.failures += count;
        release.hourly.set(Number(hour), bucket);
      }
    }
  }
  return sortedReport([...releases.values()].map(releaseHealth), malformed, duplicates);
}

export interface AthenaRequest {
  source: Extract<ReceiptSource, { kind: 'athena' }>;
  window: ReceiptWindow;
  receiptsPath: string;
  client: AthenaClient;
  signal?: AbortSignal;
  /** Waits between polls (tests pass a short one). */
  pollMs?: number;
}

/** Runs the counting query in Athena and reads its result. */
export async function queryReceiptsInAthena(request: AthenaRequest): Promise<HealthReport> {
  const { source, client, signal } = request;
  const where = `athena://${source.workgroup}/${source.database}.${source.table}`;
  const send = async <T>(command: unknown): Promise<T> => {
    try {
      return (await (client.send as (command: unknown, options: unknown) => Promise<unknown>).call(client, command, { abortSignal: signal })) as T;
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'InvalidRequestException' || name === 'ResourceNotFoundException') {
        throw new UserError(`receipts source ${where}: ${(error as Error).message}`, ExitCode.failure);
      }
      throw error;
    }
  };
  const started = await send<{ QueryExecutionId?: string }>(
    new StartQueryExecutionCommand({
      QueryString: healthQuery(source, request.window, request.receiptsPath),
      WorkGroup: source.workgroup,
      QueryExecutionContext: { Database: source.database },
    }),
  );
  const id = started.QueryExecutionId!;
  const deadline = Date.now() + MAX_WAIT_MS;
  for (;;) {
    const { QueryExecution } = await send<{ QueryExecution?: { Status?: { State?: string; StateChangeReason?: string } } }>(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    const state = QueryExecution?.Status?.State;
    if (state === 'SUCCEEDED') break;
    if (state === 'FAILED' || state === 'CANCELLED') {
      const reason = QueryExecution?.Status?.StateChangeReason ?? state;
      const missing = /TABLE_NOT_FOUND|does not exist|SCHEMA_NOT_FOUND/i.test(reason);
      throw new UserError(
        `receipts source ${where}: the query ${state.toLowerCase()}: ${reason}${missing ? '; create the table with the DDL in docs/health.md' : ''}`,
        ExitCode.failure,
      );
    }
    if (Date.now() > deadline) throw new UserError(`receipts source ${where}: the query ${id} ran over ${MAX_WAIT_MS / 60_000} minutes; look at it in the Athena console`, ExitCode.failure);
    await new Promise((resolve) => setTimeout(resolve, request.pollMs ?? POLL_MS));
    signal?.throwIfAborted();
  }
  const rows: (string | undefined)[][] = [];
  let token: string | undefined;
  let first = true;
  do {
    const page = await send<{ ResultSet?: { Rows?: Row[] }; NextToken?: string }>(new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token }));
    const pageRows = (page.ResultSet?.Rows ?? []).map((row) => (row.Data ?? []).map((cell) => cell.VarCharValue));
    // The first row of the first page is the column names.
    rows.push(...(first ? pageRows.slice(1) : pageRows));
    first = false;
    token = page.NextToken;
  } while (token);
  return reportFromRows(rows);
}
