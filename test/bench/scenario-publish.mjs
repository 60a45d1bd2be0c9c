// Scenarios 1, 2, 3 and 6: publish to the folder store, end to end through the CLI.
import { cp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { alternate, run } from './measure.mjs';
import { CLI, makeProject, publishedAs, snapshot, written } from './project.mjs';
import { availableParallelism } from 'node:os';
import { cores, coresOf, cpuOf, decidedRow, limitRow, megabytes, ratioRow, rssOf, rssPair, seconds } from './report.mjs';
import { changeFiles } from './trees.mjs';

export const mainTreeSpec = (quick) =>
  quick
    ? { files: 600, totalBytes: 40e6, largeBytes: 20e6, seed: 1 }
    : { files: 3000, totalBytes: 200e6, largeBytes: 100e6, seed: 1 };

const describeTree = (spec) =>
  `${spec.files.toLocaleString('en')} files / ${Math.round(spec.totalBytes / 1e6)} MB${spec.largeBytes ? ` (one ${Math.round(spec.largeBytes / 1e6)} MB)` : ''}`;

/** 1: first publish vs `zip -r -q`; 2: unchanged republish vs first publish. Run in one alternating loop. */
export async function firstAndUnchanged(context) {
  const spec = mainTreeSpec(context.quick);
  const tree = await context.tree('main', spec);
  const project = await makeProject(join(context.workDir, 'publish'), tree.root);
  const zipOut = join(context.workDir, 'baseline.zip');
  const results = await alternate(
    [
      {
        name: 'zip -r -q',
        before: () => rm(zipOut, { force: true }),
        command: { cmd: 'zip', args: ['-r', '-q', zipOut, '.'], cwd: tree.root },
      },
      {
        name: 'first publish',
        before: () => project.clean(),
        command: project.publish(),
        after: (result) => publishedAs(result, 'published'),
      },
      { name: 'unchanged republish', command: project.publish(), after: (result) => publishedAs(result, 'unchanged') },
    ],
    context.rounds,
    context.log,
  );
  const zip = results['zip -r -q'];
  const first = results['first publish'];
  const unchanged = results['unchanged republish'];
  await rm(zipOut, { force: true });
  return [
    ratioRow({
      id: '1',
      scenario: `first publish to the folder store, ${describeTree(spec)}, vs \`zip -r -q\``,
      ours: first.wallMs,
      baseline: zip.wallMs,
      format: seconds,
      max: 0.45,
      rss: rssPair(first, zip),
      note: `CPU ${cpuOf(first)} (${cores(coresOf(first))}) vs ${cpuOf(zip)}`,
    }),
    ratioRow({
      id: '2',
      scenario: 'unchanged republish vs first publish',
      ours: unchanged.wallMs,
      baseline: first.wallMs,
      format: seconds,
      max: 0.2,
      rss: rssPair(unchanged, first),
      note: `CPU ${cpuOf(unchanged)} vs ${cpuOf(first)}`,
    }),
  ];
}

/**
 * 3: after 1% of the files change, what the store receives (every object and
 * document written) against the changed files zipped alone plus the documents.
 */
export async function changedOnePercent(context) {
  const spec = mainTreeSpec(context.quick);
  const tree = await context.tree('main', spec);
  const project = await makeProject(join(context.workDir, 'change'), tree.root);
  await project.clean();
  publishedAs(await run(project.publish()), 'published');
  const before = await snapshot(project.storeDir);
  const changed = await changeFiles(tree.root, tree.plan, 0.01, spec.seed, context.nextGeneration());
  const document = publishedAs(await run(project.publish()), 'published');
  const objects = written(before, await snapshot(project.storeDir));
  const total = (filter) => objects.filter(filter).reduce((sum, object) => sum + object.size, 0);
  const documents = total((object) => object.path.endsWith('.json'));
  const full = total((object) => object.path.endsWith('/full.zip'));
  const deltas = total((object) => /\/delta-from-[^/]+\.zip$/.test(object.path) && !object.path.endsWith('.patched.zip'));
  const patched = total((object) => object.path.endsWith('.patched.zip'));

  // The changed files packed by the tool a user would reach for: the least a delta can be.
  const changedZip = join(context.workDir, 'changed.zip');
  await rm(changedZip, { force: true });
  await run({ cmd: 'zip', args: ['-q', '-X', '-D', changedZip, ...changed], cwd: tree.root });
  const changedPacked = (await stat(changedZip)).size;
  await rm(changedZip, { force: true });
  const version = document.packages[0].version;
  return [
    // Decided (issue 18): a full package per version is the protocol; gc bounds what is kept.
    decidedRow(ratioRow({
      id: '3a',
      scenario: `republish after ${changed.length} files (1%) change: bytes written to the store vs changed files zipped + manifest and index`,
      ours: full + deltas + patched + documents,
      baseline: changedPacked + documents,
      format: megabytes,
      max: 1.1,
      note: `${version}: full.zip ${megabytes(full)}, deltas ${megabytes(deltas)}, manifest + index ${megabytes(documents)}`,
    })),
    ratioRow({
      id: '3b',
      scenario: 'delta package vs changed files zipped (`zip -X -D`)',
      ours: deltas,
      baseline: changedPacked,
      format: megabytes,
      max: 1.1,
    }),
  ];
}

/** 6: many small files: peak RSS, and time against a tree half the size (linear: 2×, quadratic: 4×). */
export async function manyFiles(context) {
  const [small, large] = context.quick
    ? [
        { files: 2000, totalBytes: 20e6, seed: 6 },
        { files: 4000, totalBytes: 40e6, seed: 6 },
      ]
    : [
        { files: 10000, totalBytes: 100e6, seed: 6 },
        { files: 20000, totalBytes: 200e6, seed: 6 },
      ];
  const variants = [];
  for (const [name, spec] of [
    ['half', small],
    ['full', large],
  ]) {
    const tree = await context.tree(`many-${name}`, spec);
    const project = await makeProject(join(context.workDir, `many-${name}`), tree.root);
    variants.push({
      name,
      before: () => project.clean(),
      command: project.publish(),
      after: (result) => publishedAs(result, 'published'),
    });
  }
  const results = await alternate(variants, context.rounds, context.log);
  const MAX_RSS = 300e6;
  return [
    limitRow({
      id: '6a',
      scenario: `first publish, ${describeTree(large)}: peak RSS`,
      ours: results.full.maxRssKb === null ? null : results.full.maxRssKb * 1024,
      format: megabytes,
      max: MAX_RSS,
      rss: rssOf(results.full.maxRssKb),
      note: `${seconds(results.full.wallMs)}, CPU ${cpuOf(results.full)}`,
    }),
    ratioRow({
      id: '6b',
      scenario: `time, ${describeTree(large)} vs ${describeTree(small)} (linear: 2×, quadratic: 4×)`,
      ours: results.full.wallMs,
      baseline: results.half.wallMs,
      format: seconds,
      max: 2.4,
      rss: rssPair(results.full, results.half),
    }),
  ];
}

/** 8: publishing after a 1% change, patches on (the default) against patches off, each from the same first version. */
export async function patchedRepublish(context) {
  const spec = mainTreeSpec(context.quick);
  const tree = await context.tree('main', spec);
  const variants = [];
  const projects = [];
  for (const [name, extra] of [
    ['with patches', {}],
    ['without patches', { deltaPatches: { enabled: false } }],
  ]) {
    const project = await makeProject(join(context.workDir, `patched-${name.replace(' ', '-')}`), tree.root, extra);
    await project.clean();
    publishedAs(await run(project.publish()), 'published');
    // The first version's store and local state, put back before every measured run.
    await cp(project.dir, `${project.dir}.v1`, { recursive: true });
    projects.push(project);
    variants.push({
      name,
      before: async () => {
        await rm(project.dir, { recursive: true, force: true });
        await cp(`${project.dir}.v1`, project.dir, { recursive: true });
      },
      command: project.publish(),
      after: (result) => publishedAs(result, 'published'),
    });
  }
  const changed = await changeFiles(tree.root, tree.plan, 0.01, spec.seed, context.nextGeneration());
  const results = await alternate(variants, context.rounds, context.log);
  const last = JSON.parse(results['with patches'].runs.at(-1).stdout).packages[0].deltas[0];
  for (const project of projects) await rm(`${project.dir}.v1`, { recursive: true, force: true });
  return [
    ratioRow({
      id: '8',
      scenario: `publish after ${changed.length} files (1%) change, with patches vs without (delta ${megabytes(last.size)}${last.patched ? `, patched ${megabytes(last.patched.size)}` : ', no patch paid'})`,
      ours: results['with patches'].wallMs,
      baseline: results['without patches'].wallMs,
      format: seconds,
      max: 2,
      rss: rssPair(results['with patches'], results['without patches']),
      note: `CPU ${cpuOf(results['with patches'])} vs ${cpuOf(results['without patches'])}`,
    }),
  ];
}

/** 9: first publish of a second tree — ten-word text, incompressible .png, one 100 MB incompressible file — vs `zip -r -q`. */
export async function repetitiveTree(context) {
  const spec = context.quick
    ? { files: 600, totalBytes: 40e6, largeBytes: 20e6, seed: 9, flavor: 'repetitive' }
    : { files: 3000, totalBytes: 195e6, largeBytes: 100e6, seed: 9, flavor: 'repetitive' };
  const tree = await context.tree('repetitive', spec);
  const project = await makeProject(join(context.workDir, 'repetitive'), tree.root);
  const zipOut = join(context.workDir, 'repetitive.zip');
  const packOut = join(context.workDir, 'repetitive-packed');
  // `--only 9b` measures `pack --out` alone.
  const withPublish = context.selected?.has('9') ?? true;
  const results = await alternate(
    [
      ...(withPublish
        ? [
            { name: 'zip -r -q', before: () => rm(zipOut, { force: true }), command: { cmd: 'zip', args: ['-r', '-q', zipOut, '.'], cwd: tree.root } },
            { name: 'first publish', before: () => project.clean(), command: project.publish(), after: (result) => publishedAs(result, 'published') },
          ]
        : []),
      // Hashing and packing alone (no store, no upload): how many cores they keep busy.
      {
        name: 'pack --out',
        before: async () => {
          await project.clean();
          await rm(packOut, { recursive: true, force: true });
        },
        command: { cmd: process.execPath, args: [CLI, 'pack', '--out', packOut, '--json', '--quiet'], cwd: project.dir },
      },
    ],
    context.rounds,
    context.log,
  );
  await rm(zipOut, { force: true });
  await rm(packOut, { recursive: true, force: true });
  const pack = results['pack --out'];
  const publishRows = withPublish
    ? [
        ratioRow({
          id: '9',
          scenario: `first publish, second tree: ${describeTree(spec)} of ten-word text and incompressible .png, vs \`zip -r -q\``,
          ours: results['first publish'].wallMs,
          baseline: results['zip -r -q'].wallMs,
          format: seconds,
          max: 0.45,
          rss: rssPair(results['first publish'], results['zip -r -q']),
          note: `CPU ${cpuOf(results['first publish'])} (${cores(coresOf(results['first publish']))}) vs ${cpuOf(results['zip -r -q'])}`,
        }),
      ]
    : [];
  return [
    ...publishRows,
    limitRow({
      id: '9b',
      scenario: `packing CPU utilisation: \`pack --out\` of the second tree (scan, then packing that hashes each file as it reads it, with the process start), cores busy on average of ${availableParallelism()}`,
      ours: coresOf(pack),
      format: cores,
      min: availableParallelism() >= 2 ? 1.7 : 0.9,
      rss: rssPair(pack),
      note: `${seconds(pack.wallMs)} wall, CPU ${cpuOf(pack)}`,
    }),
  ];
}
