/**
 * `health [pkg[@version]]`: what devices reported about releases (receipts
 * read from CDN logs, serve's log or Athena).
 *
 * JSON: { releases: [ { package, channel, version, previousVersion, installs, checks, downloads,
 *   downloadFailed, verifyFailed, applyFailed, applied, launchOk, launchFailed, rolledBack,
 *   launches, failureRate, failureRateLower, failureRateUpper, newestAt, hourly: [ { hour, launches, failures } ] } ],
 *   skipped: { malformed, duplicates } }
 */
import type { Command } from 'commander';
import { parseDuration } from '../../duration.js';
import { UserError } from '../../errors.js';
import { parseDate } from '../../release/rules.js';
import { readHealth } from '../../workflows/health.js';
import { parsePackageTarget, withContext, type GlobalOptions } from '../context.js';
import { renderHealth } from '../health-render.js';
import type { Session } from '../session.js';

interface HealthFlags extends GlobalOptions {
  channel?: string;
  receipts?: string;
  since: string;
  now?: string;
}

export const DEFAULT_SINCE = '7d';

/** --now, else the clock: the one time a command reads, recorded times included. */
export const nowOf = (flag: string | undefined) => (flag === undefined ? new Date() : new Date(parseDate('--now', flag)));

export function sinceMs(flag: string): number {
  const ms = parseDuration(flag);
  if (!ms) throw new UserError(`--since '${flag}' is not a duration; use e.g. 24h, 7d or 90m`);
  return ms;
}

export function registerHealth(program: Command, session: Session): void {
  program
    .command('health [package[@version]]')
    .description('what devices reported about releases: installs, launches, failure rate with its 95 % interval (receipts from CDN logs, serve --receipts-log or Athena)')
    .option('--channel <name>', 'only this channel (default: every channel in the receipts)')
    .option('--receipts <source>', 'log folder or file, s3://bucket/prefix or athena://workgroup/database.table (default: config receipts.source)')
    .option('--since <duration>', 'receipts received this long before --now', DEFAULT_SINCE)
    .option('--now <iso>', 'read as at this ISO-8601 time (default: now)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ update-publish health\n  $ update-publish health maps@1.4.0 --channel production --since 24h --json\n  $ update-publish health --receipts ./cdn-logs\n  $ update-publish health --receipts athena://primary/cdn_logs.receipts',
    )
    .action(async (target: string | undefined, _flags, command: Command) => {
      const flags = command.optsWithGlobals<HealthFlags>();
      const { packageId, version } = target ? parsePackageTarget(target) : { packageId: undefined, version: undefined };
      const now = nowOf(flags.now);
      const window = { from: now.getTime() - sinceMs(flags.since), to: now.getTime() };
      await withContext(
        session,
        flags,
        async (context) => {
          const channel = flags.channel === undefined ? undefined : context.channelName(flags.channel);
          const report = await readHealth(context, { packageId, version, channel, source: flags.receipts, window });
          context.output.result({ releases: report.releases, skipped: report.skipped }, () => renderHealth(report, now.getTime(), context.output.color));
        },
        { configOptional: true, sourceGiven: flags.receipts !== undefined },
      );
    });
}
