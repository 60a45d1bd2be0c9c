// Scenario 7: binary patches on realistic pairs (patch-corpus.mjs) against the
// tools a user would reach for: zstd --patch-from, bsdiff, xdelta3.
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './measure.mjs';
import { writePatchCorpus } from './patch-corpus.mjs';
import { CLI, makeProject, publishedAs } from './project.mjs';
import { megabytes, ratioRow, rssOf, seconds, skippedRow } from './report.mjs';

const has = (tool, probe = ['-h']) => {
  try {
    execFileSync(tool, probe, { stdio: 'ignore' });
    return true;
  } catch (error) {
    // bsdiff and xdelta3 print usage and exit non-zero; only a missing binary throws ENOENT.
    return error.code !== 'ENOENT';
  }
};

/** One tool's patch of every pair: bytes, build and apply time (summed), peak RSS of applying (the largest). */
async function toolPatches(corpus, files, tool) {
  const totals = { bytes: 0, buildMs: 0, applyMs: 0, applyRssKb: 0 };
  for (const file of files) {
    const [oldPath, newPath, patch, out] = [join(corpus, 'old', file), join(corpus, 'new', file), join(corpus, `${file}.${tool.name}`), join(corpus, `${file}.${tool.name}.out`)];
    const built = await run(tool.build(oldPath, newPath, patch));
    const applied = await run(tool.apply(oldPath, patch, out));
    if (!(await readFile(out)).equals(await readFile(newPath))) throw new Error(`${tool.name} did not rebuild ${file}`);
    totals.bytes += (await stat(patch)).size;
    totals.buildMs += built.wallMs;
    totals.applyMs += applied.wallMs;
    totals.applyRssKb = Math.max(totals.applyRssKb, applied.maxRssKb ?? 0);
    await rm(patch, { force: true });
    await rm(out, { force: true });
  }
  return totals;
}

const TOOLS = [
  {
    name: 'zstd',
    label: '`zstd --patch-from -19 --long=31`',
    probe: ['zstd', ['--version']],
    build: (oldPath, newPath, patch) => ({ cmd: 'zstd', args: ['-q', '-f', '-19', '--long=31', `--patch-from=${oldPath}`, newPath, '-o', patch] }),
    apply: (oldPath, patch, out) => ({ cmd: 'zstd', args: ['-q', '-d', '-f', '--long=31', `--patch-from=${oldPath}`, patch, '-o', out] }),
  },
  {
    name: 'bsdiff',
    label: '`bsdiff`',
    probe: ['bsdiff', []],
    build: (oldPath, newPath, patch) => ({ cmd: 'bsdiff', args: [oldPath, newPath, patch] }),
    apply: (oldPath, patch, out) => ({ cmd: 'bspatch', args: [oldPath, out, patch] }),
  },
  {
    name: 'xdelta3',
    label: '`xdelta3 -9`',
    probe: ['xdelta3', ['-V']],
    build: (oldPath, newPath, patch) => ({ cmd: 'xdelta3', args: ['-9', '-f', '-e', '-s', oldPath, newPath, patch] }),
    apply: (oldPath, patch, out) => ({ cmd: 'xdelta3', args: ['-d', '-f', '-s', oldPath, patch, out] }),
  },
];

export async function patches(context) {
  const corpus = join(context.workDir, 'patch-corpus');
  const files = await writePatchCorpus(corpus, { quick: context.quick });
  const sizes = await Promise.all(files.map(async (file) => (await stat(join(corpus, 'new', file))).size));
  context.log(`patch corpus: ${files.map((file, i) => `${file} ${megabytes(sizes[i])}`).join(', ')}`);

  // Ours: publish the old files, then the new ones; the delta carries the patches.
  const pkg = join(corpus, 'package');
  await mkdir(pkg, { recursive: true });
  await writeFile(join(pkg, 'readme.txt'), 'unchanged between versions\n');
  const project = await makeProject(join(context.workDir, 'patch-project'), pkg);
  await project.clean();
  for (const file of files) await cp(join(corpus, 'old', file), join(pkg, file));
  publishedAs(await run(project.publish()), 'published');
  for (const file of files) await cp(join(corpus, 'new', file), join(pkg, file));
  const published = await run(project.publish());
  const [delta] = publishedAs(published, 'published').packages[0].deltas;
  if (!delta?.patched) throw new Error('the publish made no patched delta');
  context.log(`  publish with patches: ${seconds(published.wallMs)}, file-level delta ${megabytes(delta.size)}, patched ${megabytes(delta.patched.size)}`);

  // Applying: a device holding the old version fetches with patches.
  const device = join(context.workDir, 'patch-device');
  await rm(device, { recursive: true, force: true });
  await mkdir(device, { recursive: true });
  for (const file of [...files, 'readme.txt']) await cp(file === 'readme.txt' ? join(pkg, file) : join(corpus, 'old', file), join(device, file));
  await writeFile(join(device, '.update-publish.json'), JSON.stringify({ package: 'assets', version: '1.0.0', channel: 'production', installedAt: new Date(0).toISOString() }));
  const fetched = await run({ cmd: process.execPath, args: [CLI, 'fetch', 'assets', '--into', device, '--json', '--quiet'], cwd: project.dir });
  const fetchResult = JSON.parse(fetched.stdout);
  if (!fetchResult.patched) throw new Error(`fetch did not apply the patches: ${fetched.stderr.slice(-500)}`);

  const rows = [];
  const baselines = {};
  for (const tool of TOOLS) {
    if (!has(...tool.probe)) {
      rows.push(skippedRow('7', `patched delta vs ${tool.label}`, `${tool.name} is not installed (apt-get install ${tool.name === 'zstd' ? 'zstd' : tool.name})`));
      continue;
    }
    context.log(`  ${tool.name}…`);
    baselines[tool.name] = await toolPatches(corpus, files, tool);
  }
  const corpusNote = `${files.length} pairs, ${megabytes(sizes.reduce((a, b) => a + b, 0))}`;
  if (baselines.zstd) {
    rows.push(
      ratioRow({
        id: '7a',
        scenario: `patched delta vs ${TOOLS[0].label} of the same pairs (${corpusNote}; build ${seconds(baselines.zstd.buildMs)}, apply ${seconds(baselines.zstd.applyMs)})`,
        ours: delta.patched.size,
        baseline: baselines.zstd.bytes,
        format: megabytes,
        max: 1.1,
        rss: `${rssOf(fetched.maxRssKb)} / ${rssOf(baselines.zstd.applyRssKb)}`,
        note: `ours: publish ${seconds(published.wallMs)}, fetch applying it ${seconds(fetched.wallMs)}`,
      }),
    );
  }
  rows.push(
    ratioRow({
      id: '7b',
      scenario: 'patched delta vs the file-level delta',
      ours: delta.patched.size,
      baseline: delta.size,
      format: megabytes,
      max: 0.25,
    }),
  );
  for (const name of ['bsdiff', 'xdelta3']) {
    const tool = TOOLS.find((candidate) => candidate.name === name);
    const baseline = baselines[name];
    if (!baseline) continue;
    rows.push({
      ...ratioRow({ id: name === 'bsdiff' ? '7c' : '7d', scenario: `patched delta vs ${tool.label} (build ${seconds(baseline.buildMs)}, apply ${seconds(baseline.applyMs)})`, ours: delta.patched.size, baseline: baseline.bytes, format: megabytes, max: Infinity, rss: `${rssOf(fetched.maxRssKb)} / ${rssOf(baseline.applyRssKb)}` }),
      target: '-',
      pass: null,
    });
  }
  return rows;
}
