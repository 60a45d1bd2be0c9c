import type { ChalkInstance } from 'chalk';
import { formatTable } from '../format.js';
import type { HealthReport, ReleaseHealth } from '../protocol/receipt-counts.js';

const BARS = '▁▂▃▄▅▆▇█';
const HOUR_MS = 3_600_000;
/** CloudFront delivers standard logs within about an hour, sometimes later: older data than this is called stale. */
export const STALE_AFTER_MS = 2 * HOUR_MS;
/** Hours the sparkline shows, ending at the newest. */
const SPARK_HOURS = 24;

export const percent = (rate: number | null) => (rate === null ? '–' : `${(rate * 100).toFixed(rate < 0.1 ? 2 : 1)} %`);

/** Launches per hour as bars, the last SPARK_HOURS hours up to `now`; failures marked below when any. */
export function sparkline(hourly: ReleaseHealth['hourly'], now: number): { launches: string; failures: string } {
  const end = Math.floor(now / HOUR_MS) * HOUR_MS;
  const byHour = new Map(hourly.map((entry) => [Date.parse(entry.hour), entry]));
  const hours = Array.from({ length: SPARK_HOURS }, (_, i) => byHour.get(end - (SPARK_HOURS - 1 - i) * HOUR_MS));
  const most = Math.max(1, ...hours.map((entry) => entry?.launches ?? 0));
  const launches = hours.map((entry) => (entry?.launches ? BARS[Math.min(BARS.length - 1, Math.floor((entry.launches / most) * (BARS.length - 1)))] : ' ')).join('');
  const failures = hours.map((entry) => (entry?.failures ? '!' : ' ')).join('');
  return { launches, failures };
}

export function ageOf(newestAt: string | null, now: number): string {
  if (newestAt === null) return 'no receipt time';
  const minutes = Math.max(0, Math.round((now - Date.parse(newestAt)) / 60_000));
  return minutes < 90 ? `${minutes} min ago` : minutes < 48 * 60 ? `${Math.round(minutes / 60)} h ago` : `${Math.round(minutes / 1440)} d ago`;
}

/** A table per release: adoption, failure rate with its interval, hourly launches, the newest receipt's age. */
export function renderHealth(report: HealthReport & { source: string }, now: number, color: ChalkInstance): string {
  if (report.releases.length === 0) return `no receipts in ${report.source} for the window and releases asked${skippedNote(report)}`;
  const blocks = report.releases.map((release) => {
    const failing = release.failureRateLower > 0.01;
    const title = `${color.bold(`${release.package} ${release.version}`)}${release.channel ? ` on ${release.channel}` : ''}${release.previousVersion ? ` (from ${release.previousVersion})` : ''}`;
    const table = formatTable(
      ['installs', 'applied', 'launches', 'failed', 'rolled back', 'failure rate', '95 % interval'],
      [
        [
          String(release.installs),
          String(release.applied),
          String(release.launches),
          String(release.launchFailed),
          String(release.rolledBack),
          percent(release.failureRate),
          release.launches ? `${percent(release.failureRateLower)} – ${percent(release.failureRateUpper)}` : '–',
        ],
      ],
    );
    const problems = [
      release.downloadFailed && `${release.downloadFailed} downloads failed`,
      release.verifyFailed && `${release.verifyFailed} failed verification`,
      release.applyFailed && `${release.applyFailed} failed to apply`,
    ].filter(Boolean);
    const spark = sparkline(release.hourly, now);
    const age = release.newestAt === null ? Infinity : now - Date.parse(release.newestAt);
    const lines = [
      title,
      failing ? color.red(table) : table,
      `checks ${release.checks}, downloads ${release.downloads}${problems.length ? `; ${problems.join(', ')}` : ''}`,
      `launches by hour (last ${SPARK_HOURS} h) |${spark.launches}|`,
      ...(spark.failures.trim() ? [`failures                      |${spark.failures}|`] : []),
      `newest receipt ${ageOf(release.newestAt, now)}${age > STALE_AFTER_MS ? color.yellow(' — stale: logs arrive late (CloudFront delivers within about an hour), or devices stopped reporting') : ''}`,
    ];
    return lines.join('\n');
  });
  return `${blocks.join('\n\n')}${skippedNote(report)}`;
}

const skippedNote = ({ skipped }: HealthReport) =>
  skipped.malformed || skipped.duplicates ? `\n\nskipped ${skipped.malformed} malformed and ${skipped.duplicates} duplicate receipts` : '';
