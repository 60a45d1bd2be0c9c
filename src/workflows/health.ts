import type { S3Client } from '@aws-sdk/client-s3';
import { awsClientSettings } from '../aws-settings.js';
import type { Config } from '../config/schema.js';
import { ExitCode, UserError } from '../errors.js';
import type { HealthReport } from '../protocol/receipt-counts.js';
import { DEFAULT_RECEIPTS_PATH } from '../protocol/receipts.js';
import type { ReceiptWindow } from '../receipts/read-receipts.js';
import { describeSource, parseReceiptSource } from '../receipts/receipt-source.js';
import type { WorkflowContext } from './context.js';

export interface HealthRequest {
  /** Only this package (and version). */
  packageId?: string;
  version?: string;
  channel?: string;
  /** --receipts; else config receipts.source. */
  source?: string;
  window: ReceiptWindow;
}

/** The path receipts are sent to, as the CDN logs it: that of `receipts.url` (relative ones sit under the store root). */
export function receiptsPathOf(config: Pick<Config, 'receipts'>): string {
  const url = config.receipts?.url ?? DEFAULT_RECEIPTS_PATH;
  return /^https?:\/\//.test(url) ? new URL(url).pathname : `/${url.replace(/^\/+/, '')}`;
}

/** The receipts source a command reads: the flag, else config `receipts.source`. */
export function receiptsSourceOf(config: Pick<Config, 'receipts'>, flag: string | undefined) {
  const text = flag ?? config.receipts?.source;
  if (!text) {
    throw new UserError(
      'no receipts source: pass --receipts (a log folder, s3://bucket/prefix or athena://workgroup/database.table) or set receipts.source in the config',
      ExitCode.usage,
    );
  }
  return parseReceiptSource(text);
}

/** Counts the receipts of the window and keeps the releases asked for. */
export async function readHealth(context: Pick<WorkflowContext, 'config' | 'signal' | 'env' | 'cwd'>, request: HealthRequest): Promise<HealthReport & { source: string; files?: number }> {
  const source = receiptsSourceOf(context.config, request.source);
  const receiptsPath = receiptsPathOf(context.config);
  let report: HealthReport;
  let files: number | undefined;
  // The AWS clients load only when receipts are read: rollout tick, serve and the console import this module too.
  if (source.kind === 'athena') {
    const [{ AthenaClient }, { queryReceiptsInAthena }] = await Promise.all([import('@aws-sdk/client-athena'), import('../receipts/athena.js')]);
    const client = new AthenaClient(awsClientSettings(context.env, 'Athena', { region: context.config.s3?.region, profile: context.config.s3?.profile }));
    try {
      report = await queryReceiptsInAthena({ source, window: request.window, receiptsPath, client, signal: context.signal });
    } finally {
      client.destroy();
    }
  } else {
    const [{ readReceipts }, { createS3Client }] = await Promise.all([import('../receipts/read-receipts.js'), import('../store/s3-client.js')]);
    let client: S3Client | undefined;
    try {
      ({ report, files } = await readReceipts({
        source,
        window: request.window,
        receiptsPath,
        s3Client: () => (client ??= createS3Client(context.config.s3 ?? {}, context.env)),
        cwd: context.cwd,
        signal: context.signal,
      }));
    } finally {
      client?.destroy();
    }
  }
  const releases = report.releases.filter(
    (release) =>
      (request.packageId === undefined || release.package === request.packageId) &&
      (request.version === undefined || release.version === request.version) &&
      (request.channel === undefined || release.channel === request.channel),
  );
  return { releases, skipped: report.skipped, source: describeSource(source), ...(files !== undefined && { files }) };
}
