// Scenarios 10 and 11 (issue 27): the device side and the store-wide check,
// each against what people would otherwise run on the same objects.
//  10: `fetch` of a large full package from `serve` vs `curl -o` + `unzip -q`.
//  11: `verify` of an S3 store (moto) vs `aws s3 sync` + `sha256sum` of every object.
import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { alternate, run } from './measure.mjs';
import { CLI, makeProject, publishedAs } from './project.mjs';
import { cpuOf, ratioRow, rssPair, seconds, skippedRow } from './report.mjs';
import { AWS_ENV, hasCommand, startMoto } from './services.mjs';
import { changeFiles } from './trees.mjs';

/** Mostly incompressible data plus text and JSON, as the 974 MB package (600 MB random data, 400 JSON files). */
const deviceTreeSpec = (quick) =>
  quick ? { files: 400, totalBytes: 60e6, largeBytes: 20e6, seed: 10 } : { files: 1000, totalBytes: 1.0e9, largeBytes: 300e6, seed: 10 };

const describeSpec = (spec) => `${spec.files.toLocaleString('en')} files / ${Math.round(spec.totalBytes / 1e6)} MB`;

/** `update-publish serve` of a project's folder store on a free port; resolves once it listens. */
async function startServe(projectDir) {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { cwd: projectDir, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const found = /https?:\/\/[\d.:]+\//.exec(out);
      if (found) resolve(found[0]);
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  return { url, stop: () => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', resolve), child.kill('SIGTERM')))) };
}

/** 10: fetch of a full package through `serve`, against curl + unzip of the same object from the same server. */
export async function fetchVsCurl(context) {
  for (const tool of ['curl', 'unzip']) if (!hasCommand(tool)) return [skippedRow('10', 'fetch vs curl + unzip', `${tool} is not installed`)];
  const spec = deviceTreeSpec(context.quick);
  const tree = await context.tree('device', spec);
  const project = await makeProject(join(context.workDir, 'device'), tree.root);
  await project.clean();
  const document = publishedAs(await run(project.publish()), 'published');
  const { key, size } = document.packages[0].full;
  const serve = await startServe(project.dir);
  const into = join(context.workDir, 'device-into');
  const unzipped = join(context.workDir, 'device-unzipped');
  try {
    const results = await alternate(
      [
        {
          name: 'curl + unzip',
          before: async () => {
            await rm(unzipped, { recursive: true, force: true });
            await mkdir(unzipped, { recursive: true });
          },
          command: { cmd: 'sh', args: ['-c', `curl -sf -o package.zip '${serve.url}${key}' && unzip -q package.zip && rm package.zip`], cwd: unzipped },
        },
        {
          name: 'fetch',
          before: () => rm(into, { recursive: true, force: true }),
          command: { cmd: process.execPath, args: [CLI, 'fetch', 'assets', '--into', into, '--from', serve.url, '--json', '--quiet'], cwd: project.dir },
        },
      ],
      context.rounds,
      context.log,
    );
    return [
      ratioRow({
        id: '10',
        scenario: `fetch of a ${(size / 1e6).toFixed(0)} MB full package (${describeSpec(spec)}) from \`serve\` vs \`curl -o\` + \`unzip -q\``,
        ours: results.fetch.wallMs,
        baseline: results['curl + unzip'].wallMs,
        format: seconds,
        max: 1.0,
        rss: rssPair(results.fetch, results['curl + unzip']),
        note: `CPU ${cpuOf(results.fetch)} vs ${cpuOf(results['curl + unzip'])}`,
      }),
    ];
  } finally {
    await serve.stop();
    await rm(into, { recursive: true, force: true });
    await rm(unzipped, { recursive: true, force: true });
  }
}

/** 11: verify of an S3 store with two versions (the second a delta), against downloading every object and hashing it. */
export async function verifyVsSync(context) {
  for (const tool of ['moto_server', 'aws', 'sha256sum']) if (!hasCommand(tool)) return [skippedRow('11', 'verify vs aws s3 sync + sha256sum', `${tool} is not installed`)];
  const spec = context.quick ? { files: 400, totalBytes: 40e6, largeBytes: 10e6, seed: 11 } : { files: 1000, totalBytes: 700e6, largeBytes: 200e6, seed: 11 };
  const tree = await context.tree('verify', spec);
  const moto = await startMoto();
  const bucket = 'bench-verify';
  const synced = join(context.workDir, 'verify-synced');
  try {
    await fetch(`${moto.endpoint}/${bucket}`, { method: 'PUT' });
    const project = await makeProject(join(context.workDir, 'verify'), tree.root, {
      store: `s3://${bucket}/updates`,
      s3: { endpoint: moto.endpoint, forcePathStyle: true, region: 'us-east-1' },
    });
    const publish = () => ({ ...project.publish(), env: AWS_ENV });
    publishedAs(await run(publish()), 'published');
    await changeFiles(tree.root, tree.plan, 0.01, spec.seed, context.nextGeneration());
    publishedAs(await run(publish()), 'published');
    const results = await alternate(
      [
        {
          name: 'aws s3 sync + sha256sum',
          before: () => rm(synced, { recursive: true, force: true }),
          command: {
            cmd: 'sh',
            args: ['-c', `aws --endpoint-url '${moto.endpoint}' s3 sync --only-show-errors 's3://${bucket}/updates' '${synced}' && find '${synced}' -type f -exec sha256sum {} + > /dev/null`],
            env: AWS_ENV,
          },
        },
        { name: 'verify', command: { cmd: process.execPath, args: [CLI, 'verify', '--json', '--quiet'], cwd: project.dir, env: AWS_ENV } },
      ],
      context.rounds,
      context.log,
    );
    const report = JSON.parse(results.verify.runs.at(-1).stdout);
    if (report.problems.length > 0) throw new Error(`verify found problems in a sound store: ${JSON.stringify(report.problems).slice(0, 500)}`);
    return [
      ratioRow({
        id: '11',
        scenario: `verify of an S3 store (moto; ${describeSpec(spec)}, two versions and a delta) vs \`aws s3 sync\` + \`sha256sum\``,
        ours: results.verify.wallMs,
        baseline: results['aws s3 sync + sha256sum'].wallMs,
        format: seconds,
        max: 1.0,
        rss: rssPair(results.verify, results['aws s3 sync + sha256sum']),
        note: `CPU ${cpuOf(results.verify)} vs ${cpuOf(results['aws s3 sync + sha256sum'])}; verify also unpacks every full package and rebuilds every delta`,
      }),
    ];
  } finally {
    await moto.stop();
    await rm(synced, { recursive: true, force: true });
  }
}
