// Scenario 5: one large package to the local S3 server (moto), ours vs
// `aws s3 cp`; then ours through a proxy, with and without 50 ms added to every request.
import { createHash } from 'node:crypto';
import { open, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alternate } from './measure.mjs';
import { cpuOf, decidedRow, limitRow, megabytes, ratioRow, rssOf, rssPair, seconds, skippedRow } from './report.mjs';
import { AWS_ENV, hasCommand, startLatencyProxy, startMoto } from './services.mjs';
import { randomBytesFor } from './trees.mjs';

const UPLOAD_FILE = fileURLToPath(new URL('./upload-file.mjs', import.meta.url));
const BUCKET = 'bench';
const KEY = 'packages/big/1.0.0/full.zip';
const LATENCY_MS = 50;
const SLICE = 16 * 1024 * 1024;

/** Writes `size` incompressible bytes and returns their SHA-256 (the upload sends it as metadata). */
async function writeLargeFile(path, size) {
  const hash = createHash('sha256');
  const handle = await open(path, 'w');
  try {
    for (let offset = 0; offset < size; offset += SLICE) {
      const bytes = randomBytesFor(`upload:${offset}`, Math.min(SLICE, size - offset));
      hash.update(bytes);
      await handle.write(bytes);
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

export async function upload(context) {
  const ids = ['5a', '5b', '5c', '5d'];
  for (const tool of ['moto_server', 'aws']) {
    if (!hasCommand(tool)) return ids.map((id) => skippedRow(id, 'upload to the local S3 server', `${tool} is not installed`));
  }
  let size = context.quick ? 128 * 2 ** 20 : 2 ** 30;
  let scaledNote = '';
  const { bavail, bsize } = await statfs(context.workDir);
  if (bavail * bsize < 3 * size) {
    size = 256 * 2 ** 20;
    scaledNote = `; scaled down to ${megabytes(size)}: ${megabytes(bavail * bsize)} free`;
  }
  const file = join(context.workDir, 'large-package.zip');
  context.log(`  writing ${megabytes(size)} of incompressible bytes`);
  const sha256 = await writeLargeFile(file, size);

  const moto = await startMoto();
  // Both proxied runs pay for the proxy's own copying; only the added latency differs.
  const near = await startLatencyProxy(moto.endpoint, 0);
  const far = await startLatencyProxy(moto.endpoint, LATENCY_MS);
  try {
    // A fresh server for every run: moto keeps objects in memory, and no run finds the object there already.
    const freshBucket = async () => {
      await moto.reset();
      const created = await fetch(`${moto.endpoint}/${BUCKET}`, { method: 'PUT' });
      if (!created.ok) throw new Error(`cannot create bucket: ${created.status}`);
    };
    const ours = (endpoint) => ({ cmd: process.execPath, args: [UPLOAD_FILE, endpoint, BUCKET, KEY, file, sha256], env: AWS_ENV });
    const results = await alternate(
      [
        { name: 'ours', before: freshBucket, command: ours(moto.endpoint) },
        {
          name: 'aws s3 cp',
          before: freshBucket,
          command: {
            cmd: 'aws',
            args: ['--endpoint-url', moto.endpoint, 's3', 'cp', '--only-show-errors', file, `s3://${BUCKET}/${KEY}`],
            env: AWS_ENV,
          },
        },
        { name: 'ours via proxy', before: freshBucket, command: ours(near.endpoint) },
        { name: `ours via proxy +${LATENCY_MS} ms`, before: freshBucket, command: ours(far.endpoint) },
      ],
      // A gigabyte through moto takes about a minute a run: three rounds are enough for a median.
      Math.min(context.rounds, 3),
      context.log,
    );
    const mine = results.ours;
    const aws = results['aws s3 cp'];
    const proxied = results['ours via proxy'];
    const delayed = results[`ours via proxy +${LATENCY_MS} ms`];
    const gigabytes = size / 1e9;
    const perGb = (summary) => (summary.cpuSeconds === null ? null : summary.cpuSeconds / gigabytes);
    const label = `upload of a ${megabytes(size)} package to moto`;
    return [
      ratioRow({
        id: '5a',
        scenario: `${label}: wall time vs \`aws s3 cp\``,
        ours: mine.wallMs,
        baseline: aws.wallMs,
        format: seconds,
        max: 1.0,
        rss: rssPair(mine, aws),
        note: `the server bounds both${scaledNote}`,
      }),
      // Decided (issue 18): uploads stay on @aws-sdk/lib-storage, even at more client CPU per GB than the AWS CLI.
      decidedRow(ratioRow({
        id: '5b',
        scenario: `${label}: client CPU per GB vs \`aws s3 cp\``,
        ours: perGb(mine),
        baseline: perGb(aws),
        format: (value) => (value === null ? 'n/a' : `${value.toFixed(2)} s/GB`),
        max: 1.0,
        note: `CPU ${cpuOf(mine)} vs ${cpuOf(aws)}`,
      })),
      limitRow({
        id: '5c',
        scenario: `${label}: client peak RSS`,
        ours: mine.maxRssKb === null ? null : mine.maxRssKb * 1024,
        format: megabytes,
        max: 200e6,
        rss: rssOf(mine.maxRssKb),
      }),
      ratioRow({
        id: '5d',
        scenario: `${label}: through a proxy adding ${LATENCY_MS} ms per request vs the same proxy adding none`,
        ours: delayed.wallMs,
        baseline: proxied.wallMs,
        format: seconds,
        max: 1.2,
        rss: rssPair(delayed, proxied),
        note: `direct: ${seconds(mine.wallMs)}`,
      }),
    ];
  } finally {
    await near.stop();
    await far.stop();
    await moto.stop();
    await rm(file, { force: true });
  }
}
