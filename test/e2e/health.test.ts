/**
 * `health`: receipts read from CloudFront standard logs (a folder, gzip and
 * plain, any column order, s3:// through moto), serve's NDJSON and Athena
 * (moto runs no SQL: the query is issued and its result read), and the
 * refusals of issue 22's "Bad input".
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { AthenaClient, CreateWorkGroupCommand, GetQueryExecutionCommand, ListQueryExecutionsCommand } from '@aws-sdk/client-athena';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefused, makeProject, removeProjects, succeeded, type Project } from '../helpers/cli.js';
import { gzipLog, logFileName, logText, receiptLine, CLOUDFRONT_FIELDS, type LoggedLine } from '../helpers/cloudfront-logs.js';
import { MOTO_INSTALLED, startMotoBucket } from '../helpers/s3-e2e.js';
import { startServe } from '../helpers/serve.js';
import { firstJsonDocument, spawnCli } from '../helpers/spawn-cli.js';
import { readFile } from 'node:fs/promises';
import { encodeReceiptQuery } from '../../src/protocol/receipts.js';
import type { Moto } from '../helpers/moto.js';
import type { Receipt } from '../../src/protocol/receipts.js';

const HOUR = 3_600_000;
const NOW = Date.parse('2027-03-01T12:30:00Z');
const NOW_FLAG = ['--now', new Date(NOW).toISOString()];
const base = { ch: 'production', pkg: 'maps', rel: '1.1.0', from: '1.0.0', pf: 'ios', av: '2.1.0' } as const;
const r = (e: Receipt['e'], iid: string, eid: string, extra: Partial<Receipt> = {}): Receipt => ({ ...base, e, iid, eid, ...extra });

/** Two hours of receipts: 10 installs, 8 launch fine, 1 fails, 1 rolls back; a resent one, a malformed one, index GETs. */
function fleetLines(): LoggedLine[] {
  const lines: LoggedLine[] = [];
  for (let i = 0; i < 10; i++) {
    const at = NOW - 2 * HOUR + i * 60_000;
    lines.push({ at, path: '/channels/production/index.json', query: '' });
    lines.push(receiptLine(r('check', `i${i}`, `c${i}`), at));
    lines.push(receiptLine(r('applied', `i${i}`, `a${i}`, { k: 'delta', sz: 100 }), at + 1000));
    const launch = i === 8 ? 'launch_failed' : i === 9 ? 'rolled_back' : 'launch_ok';
    lines.push(receiptLine(r(launch, `i${i}`, `l${i}`), at + HOUR));
  }
  lines.push(receiptLine(r('launch_ok', 'i0', 'l0'), NOW - 10 * 60_000)); // resent
  lines.push({ at: NOW - 10 * 60_000, path: '/r/v1', query: 'e=launch_ok&pkg=maps' }); // malformed
  return lines;
}

const expectedMaps = {
  package: 'maps',
  channel: 'production',
  version: '1.1.0',
  previousVersion: '1.0.0',
  installs: 10,
  checks: 10,
  downloads: 0,
  downloadFailed: 0,
  verifyFailed: 0,
  applyFailed: 0,
  applied: 10,
  launchOk: 8,
  launchFailed: 1,
  rolledBack: 1,
  launches: 10,
  failureRate: 0.2,
  failureRateLower: 0.056682,
  failureRateUpper: 0.509838,
};

let project: Project;

beforeAll(async () => {
  project = await makeProject({ config: { receipts: { url: 'r/v1', source: 'logs' } } });
  const lines = fleetLines();
  await mkdir(join(project.dir, 'logs', 'nested'), { recursive: true });
  const firstHour = lines.filter((line) => line.at < NOW - HOUR);
  const later = lines.filter((line) => line.at >= NOW - HOUR);
  await writeFile(join(project.dir, 'logs', logFileName(NOW - 2 * HOUR, 'aaaa')), gzipLog(firstHour));
  // Columns in another order, plain text: the #Fields header decides.
  await writeFile(join(project.dir, 'logs', 'nested', logFileName(NOW - HOUR, 'bbbb').replace(/\.gz$/, '')), logText(later, [...CLOUDFRONT_FIELDS].reverse()));
  // Named for an hour long before the window: never read (its receipts would count).
  await writeFile(join(project.dir, 'logs', logFileName(NOW - 30 * 24 * HOUR, 'old')), gzipLog([receiptLine(r('launch_failed', 'x', 'x1'), NOW - HOUR)]));
});

afterAll(removeProjects);

describe('health from CloudFront standard logs in a folder', () => {
  it('counts per release as the rules say: once per eid, malformed skipped, index GETs ignored', async () => {
    const report = succeeded(await project.run(['health', '--json', ...NOW_FLAG]));
    expect(Object.keys(report)).toEqual(['releases', 'skipped']);
    expect(report.skipped).toEqual({ malformed: 1, duplicates: 1 });
    expect(report.releases).toHaveLength(1);
    expect(report.releases[0]).toMatchObject(expectedMaps);
    expect(report.releases[0].newestAt).toBe(new Date(NOW - HOUR + 9 * 60_000).toISOString());
    expect(report.releases[0].hourly).toEqual([{ hour: '2027-03-01T11:00:00.000Z', launches: 10, failures: 2 }]);
  });

  it('--since narrows the window; a package filter keeps only its releases', async () => {
    const recent = succeeded(await project.run(['health', '--json', '--since', '30m', ...NOW_FLAG]));
    // Only the resent launch_ok falls in the last 30 min: its first copy is outside, so here it counts.
    expect(recent.releases.map((release: any) => [release.version, release.launches, release.installs])).toEqual([['1.1.0', 1, 1]]);
    expect(recent.skipped).toEqual({ malformed: 1, duplicates: 0 });
    expect(succeeded(await project.run(['health', 'levels', '--json', ...NOW_FLAG])).releases).toEqual([]);
    expect(succeeded(await project.run(['health', 'maps@1.1.0', '--channel', 'production', '--json', ...NOW_FLAG])).releases).toHaveLength(1);
  });

  it('at a terminal: a table with the interval, a sparkline and how old the newest receipt is', async () => {
    const result = await project.run(['health', '--now', new Date(NOW + 5 * HOUR).toISOString(), '--since', '1d']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('maps 1.1.0 on production (from 1.0.0)');
    expect(result.stdout).toContain('20.0 %');
    expect(result.stdout).toContain('5.67 % – 51.0 %');
    expect(result.stdout).toMatch(/launches by hour \(last 24 h\) \|[ ▁-█]{24}\|/);
    expect(result.stdout).toMatch(/newest receipt \d+ h ago — stale/);
  });
});

describe('health from serve NDJSON', () => {
  it('reads a file of {at, query} lines, skipping lines that are not receipts', async () => {
    const lines = fleetLines()
      .filter((line) => line.path === '/r/v1')
      .map((line) => JSON.stringify({ at: new Date(line.at).toISOString(), path: line.path, query: line.query }));
    await writeFile(join(project.dir, 'receipts.ndjson'), `${lines.join('\n')}\nnot json\n{"unrelated":true}\n`);
    const report = succeeded(await project.run(['health', '--receipts', 'receipts.ndjson', '--json', ...NOW_FLAG]));
    expect(report.releases[0]).toMatchObject(expectedMaps);
    expect(report.skipped).toEqual({ malformed: 1, duplicates: 1 });
  });
});

describe('serve --receipts-log', () => {
  it('answers 204 on the receipts path, logs one NDJSON line per receipt without the address, and health reads it', async () => {
    const served = await makeProject({ config: { receipts: { url: 'r/v1' } } });
    succeeded(await served.run(['publish', '--yes', '--json']));
    const server = await startServe(served.dir, ['--receipts-log', 'receipts.ndjson']);
    try {
      const send = (receipt: Receipt) => fetch(`${server.url}r/v1?${encodeReceiptQuery(receipt)}`);
      const first = await send(r('launch_ok', 'i1', 'e1'));
      expect(first.status).toBe(204);
      expect(await first.text()).toBe('');
      expect((await send(r('launch_failed', 'i2', 'e2'))).status).toBe(204);
      expect((await send(r('launch_ok', 'i1', 'e1'))).status).toBe(204);
      // The store is served as before.
      expect((await fetch(`${server.url}channels/production/index.json`)).status).toBe(200);
      expect((await fetch(`${server.url}r/v2?e=check`)).status).toBe(404);
    } finally {
      await server.stop();
    }
    const text = await readFile(join(served.dir, 'receipts.ndjson'), 'utf8');
    const lines = text.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(Object.keys(line)).toEqual(['at', 'path', 'query']);
    expect(text).not.toContain('127.0.0.1');
    const report = succeeded(await served.run(['health', '--receipts', 'receipts.ndjson', '--json']));
    expect(report.releases[0]).toMatchObject({ package: 'maps', version: '1.1.0', launches: 2, launchFailed: 1, installs: 2 });
    expect(report.skipped).toEqual({ malformed: 0, duplicates: 1 });
  });
});

describe('console health', () => {
  it('the console shows what health reads from config receipts.source (its /api/health)', async () => {
    const watched = await makeProject({ config: { receipts: { url: 'r/v1', source: 'receipts.ndjson' } } });
    succeeded(await watched.run(['publish', '--yes', '--json']));
    const now = Date.now();
    const lines = [r('launch_ok', 'i1', 'e1'), r('launch_failed', 'i2', 'e2')].map((receipt) => JSON.stringify({ at: new Date(now - 60_000).toISOString(), query: encodeReceiptQuery(receipt) }));
    await writeFile(join(watched.dir, 'receipts.ndjson'), `${lines.join('\n')}\n`);
    const running = spawnCli(['console', '--json', '--no-open', '--port', '0', '--read-only'], { cwd: watched.dir });
    try {
      const { url } = await firstJsonDocument<{ url: string }>(running, 'console');
      const parsed = new URL(url);
      const response = await fetch(`${parsed.origin}/api/health`, { headers: { 'X-Update-Publish-Token': parsed.searchParams.get('token')! } });
      expect(response.status).toBe(200);
      const { releases } = (await response.json()) as { releases: any[] };
      expect(releases.map((release) => [release.package, release.channel, release.version, release.launches, release.failureRate])).toEqual([['maps', 'production', '1.1.0', 2, 0.5]]);
    } finally {
      running.child.kill('SIGINT');
      await running.done;
    }
  });
});

describe('health: bad input', () => {
  it('a missing source, a folder without logs: one line, exit 1', async () => {
    expectRefused(await project.run(['health', '--receipts', 'nowhere', ...NOW_FLAG]), 1, /receipts source nowhere does not exist/);
    await mkdir(join(project.dir, 'empty'), { recursive: true });
    expectRefused(await project.run(['health', '--receipts', 'empty', ...NOW_FLAG]), 1, /receipts folder empty holds no log files/);
  });

  it('no source configured, a bad flag: exit 2', async () => {
    const bare = await makeProject();
    expectRefused(await bare.run(['health']), 2, /no receipts source: pass --receipts/);
    expectRefused(await project.run(['health', '--since', 'a week']), 2, /--since 'a week' is not a duration/);
    expectRefused(await project.run(['health', '--receipts', 'athena://primary/nodot']), 2, /is not athena:\/\/<workgroup>\/<database>\.<table>/);
    expectRefused(await project.run(['health', '--now', 'yesterday']), 2, /--now/);
  });

  it('refuses a config whose receipts url is not usable, naming the field', async () => {
    const bad = await makeProject({ config: { receipts: { url: '/r/v1' } } });
    expectRefused(await bad.run(['health', '--receipts', 'x']), 2, /receipts\.url: url must be https:\/\/… or a path relative/);
  });
});

describe.skipIf(!MOTO_INSTALLED)('health from S3 and Athena (moto)', () => {
  let moto: Moto;
  let s3: S3Client;
  let cloud: Project;

  beforeAll(async () => {
    ({ moto, s3 } = await startMotoBucket('cdn-logs'));
    const lines = fleetLines();
    for (const [hour, unique] of [[NOW - 2 * HOUR, 'a1'], [NOW - HOUR, 'b2']] as const) {
      const body = gzipLog(lines.filter((line) => line.at >= hour && line.at < hour + HOUR));
      await s3.send(new PutObjectCommand({ Bucket: 'cdn-logs', Key: `cf/${logFileName(hour, unique)}`, Body: body }));
    }
    // Outside the window, under the prefix: listed, never read.
    await s3.send(new PutObjectCommand({ Bucket: 'cdn-logs', Key: `cf/${logFileName(NOW - 40 * 24 * HOUR, 'zz')}`, Body: gzipLog([receiptLine(r('launch_failed', 'x', 'x1'), NOW - HOUR)]) }));
    cloud = await makeProject({ config: { receipts: { url: 'https://cdn.example.com/r/v1', source: 's3://cdn-logs/cf' }, s3: { endpoint: moto.endpoint, forcePathStyle: true, region: 'us-east-1' } } });
  }, 60_000);

  afterAll(async () => moto?.stop());

  it('lists the prefix and reads only the log files of the window', async () => {
    const report = succeeded(await cloud.run(['health', '--json', ...NOW_FLAG], { env: moto.env }));
    expect(report.releases[0]).toMatchObject(expectedMaps);
    expect(report.skipped).toEqual({ malformed: 1, duplicates: 1 });
  });

  it('a prefix with no objects, a bucket that does not exist: one line, exit 1', async () => {
    expectRefused(await cloud.run(['health', '--receipts', 's3://cdn-logs/nothing-here', ...NOW_FLAG], { env: moto.env }), 1, /holds no log files/);
    expectRefused(await cloud.run(['health', '--receipts', 's3://no-such-bucket/cf', ...NOW_FLAG], { env: moto.env }), 1, /bucket 'no-such-bucket' does not exist/);
  });

  it('athena://: issues the counting query in the workgroup and builds the report from its rows', async () => {
    const athena = new AthenaClient({ endpoint: moto.endpoint, region: 'us-east-1' });
    await athena.send(new CreateWorkGroupCommand({ Name: 'health', Configuration: { ResultConfiguration: { OutputLocation: 's3://cdn-logs/athena/' } } }));
    const row = (...cells: (string | null)[]) => ({ Data: cells.map((cell) => (cell === null ? {} : { VarCharValue: cell })) });
    const hour = String(Date.parse('2027-03-01T11:00:00Z'));
    const newest = String(NOW - HOUR + 9 * 60_000);
    const rows = [
      row('kind', 'pkg', 'ch', 'rel', 'name', 'hour', 'total', 'newest'),
      row('event', 'maps', 'production', '1.1.0', 'check', String(Date.parse('2027-03-01T10:00:00Z')), '10', newest),
      row('event', 'maps', 'production', '1.1.0', 'applied', String(Date.parse('2027-03-01T10:00:00Z')), '10', newest),
      row('event', 'maps', 'production', '1.1.0', 'launch_ok', hour, '8', newest),
      row('event', 'maps', 'production', '1.1.0', 'launch_failed', hour, '1', newest),
      row('event', 'maps', 'production', '1.1.0', 'rolled_back', hour, '1', newest),
      row('installs', 'maps', 'production', '1.1.0', null, null, '10', null),
      row('from', 'maps', 'production', '1.1.0', '1.0.0', null, '30', null),
      row('malformed', null, null, null, null, null, '1', null),
      row('duplicates', null, null, null, null, null, '1', null),
    ];
    const seeded = await fetch(`${moto.endpoint}/moto-api/static/athena/query-results`, {
      method: 'POST',
      body: JSON.stringify({ region: 'us-east-1', results: [{ rows, column_info: [] }] }),
    });
    expect(seeded.status).toBe(201);
    const env = { ...moto.env, AWS_ENDPOINT_URL_ATHENA: moto.endpoint, AWS_REGION: 'us-east-1' };
    const report = succeeded(await cloud.run(['health', '--receipts', 'athena://health/cdn_logs.receipts', '--json', ...NOW_FLAG], { env }));
    expect(report.releases).toEqual([{ ...expectedMaps, newestAt: new Date(Number(newest)).toISOString(), hourly: [{ hour: '2027-03-01T11:00:00.000Z', launches: 10, failures: 2 }] }]);
    expect(report.skipped).toEqual({ malformed: 1, duplicates: 1 });
    const [id] = (await athena.send(new ListQueryExecutionsCommand({ WorkGroup: 'health' }))).QueryExecutionIds ?? [];
    const query = (await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution!;
    expect(query.QueryExecutionContext?.Database).toBe('cdn_logs');
    expect(query.Query).toContain('FROM "cdn_logs"."receipts"');
    expect(query.Query).toContain("uri = '/r/v1'");
    expect(query.Query).toContain('PARTITION BY eid');
    // A workgroup that does not exist: one line, exit 1.
    expectRefused(await cloud.run(['health', '--receipts', 'athena://missing/cdn_logs.receipts', ...NOW_FLAG], { env }), 1, /athena:\/\/missing\/cdn_logs\.receipts: .*WorkGroup/i);
    athena.destroy();
  }, 60_000);
});
