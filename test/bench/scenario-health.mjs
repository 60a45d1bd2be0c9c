// Scenario health: `health` over receipts in 50 gzip CloudFront log files
// (5 million receipts; --quick 200,000) vs `zcat | awk` computing the same
// per-release counts (once per eid, distinct installs), and its peak RSS.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { alternate } from './measure.mjs';
import { CLI } from './project.mjs';
import { limitRow, ratioRow, rssOf, rssPair, seconds } from './report.mjs';

const FILES = 50;
const HOUR = 3_600_000;
const START = Date.parse('2027-01-01T00:00:00Z');
const FIELDS = 'date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken';
const EVENTS = ['check', 'download_ok', 'applied', 'launch_ok', 'launch_ok', 'launch_ok', 'launch_failed'];

/** The same counts as health's (malformed aside: the generator writes none): per pkg/ch/rel/event once per eid, installs per release. */
const AWK = `
BEGIN { FS = "\\t" }
/^#/ { next }
$8 != "/r/v1" { next }
{
  n = split($12, parts, "&"); delete f
  for (i = 1; i <= n; i++) { eq = index(parts[i], "="); f[substr(parts[i], 1, eq - 1)] = substr(parts[i], eq + 1) }
  if (f["eid"] == "" || f["pkg"] == "" || f["rel"] == "" || f["iid"] == "") { malformed++; next }
  if (f["eid"] in seen) { duplicates++; next }
  seen[f["eid"]] = 1
  release = f["pkg"] SUBSEP f["ch"] SUBSEP f["rel"]
  count[release SUBSEP f["e"]]++
  if (!((release SUBSEP f["iid"]) in installed)) { installed[release SUBSEP f["iid"]] = 1; installs[release]++ }
}
END { for (key in count) print key, count[key]; for (r in installs) print r, "installs", installs[r]; print "duplicates", duplicates + 0 }
`;

export async function writeLogs(dir, receipts, log) {
  await mkdir(dir, { recursive: true });
  const perFile = Math.ceil(receipts / FILES);
  let written = 0;
  let eid = 0;
  const started = Date.now();
  for (let file = 0; file < FILES; file++) {
    const hour = START + file * HOUR;
    const date = new Date(hour).toISOString();
    const lines = [`#Version: 1.0`, `#Fields: ${FIELDS}`];
    for (let i = 0; i < perFile && written < receipts; i++, written++) {
      const device = (written * 7919) % 400_000;
      const rel = device % 10 < 7 ? '1.1.0' : '1.2.0';
      const e = EVENTS[written % EVENTS.length];
      // One in fifty is a resend of the receipt before (a duplicate).
      const id = i > 0 && written % 50 === 0 ? eid - 1 : eid++;
      const query = `e=${e}&ch=production&pkg=maps&rel=${rel}&from=1.0.0&pf=ios&av=2.1.0&iid=i${device.toString(36)}&eid=e${id.toString(36)}&t=${hour}`;
      const time = date.slice(11, 19);
      lines.push(`${date.slice(0, 10)}\t${time}\tFRA56-P1\t312\t192.0.2.1\tGET\td1.cloudfront.net\t/r/v1\t204\t-\tokhttp/4.12\t${query}\t-\tHit\tid\td1\thttps\t100\t0.001`);
      if (i % 10 === 0) lines.push(`${date.slice(0, 10)}\t${time}\tFRA56-P1\t9000\t192.0.2.1\tGET\td1.cloudfront.net\t/channels/production/index.json\t200\t-\tokhttp/4.12\t-\t-\tHit\tid\td1\thttps\t100\t0.001`);
    }
    const name = `E2EXAMPLE.${date.slice(0, 13).replace('T', '-')}.f${file}.gz`;
    await writeFile(join(dir, name), await promisify(gzip)(`${lines.join('\n')}\n`));
  }
  log(`logs: ${written} receipts in ${FILES} gzip files in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return written;
}

export async function healthLogs(context) {
  const receipts = context.quick ? 200_000 : 5_000_000;
  const dir = join(context.workDir, 'health-logs');
  await writeLogs(dir, receipts, context.log);
  const now = new Date(START + (FILES + 1) * HOUR).toISOString();
  const results = await alternate(
    [
      { name: 'ours', command: { cmd: process.execPath, args: [CLI, 'health', '--receipts', dir, '--since', '30d', '--now', now, '--json'], cwd: context.workDir } },
      { name: 'awk', command: { cmd: 'sh', args: ['-c', `zcat ${dir}/*.gz | awk '${AWK.replace(/'/g, `'\\''`)}'`] } },
    ],
    context.rounds,
    context.log,
  );
  // Both must agree, or the comparison means nothing.
  const report = JSON.parse(results.ours.runs[0].stdout);
  const awkDuplicates = Number(/^duplicates (\d+)$/m.exec(results.awk.runs[0].stdout)?.[1]);
  if (report.skipped.duplicates !== awkDuplicates) throw new Error(`health counted ${report.skipped.duplicates} duplicates, awk ${awkDuplicates}`);
  return [
    ratioRow({
      id: 'health',
      scenario: `health over ${receipts.toLocaleString('en')} receipts in ${FILES} gzip CloudFront logs vs \`zcat | awk\` (same counts)`,
      ours: results.ours.wallMs,
      baseline: results.awk.wallMs,
      format: seconds,
      max: 1.0,
      rss: rssPair(results.ours, results.awk),
    }),
    limitRow({
      id: 'health-rss',
      scenario: 'health peak RSS',
      ours: results.ours.maxRssKb === null ? null : results.ours.maxRssKb * 1024,
      format: (bytes) => (bytes === null ? 'n/a' : rssOf(bytes / 1024)),
      max: 300e6,
    }),
  ];
}
