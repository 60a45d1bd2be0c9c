// `npm run bench`: the performance scenarios of issue 8 and the resolve load
// of issue 9, each against the tool a user would otherwise reach for. Prints a
// markdown table (stdout) and progress (stderr); writes nothing in the repo.
//
//   node test/bench/run.mjs [--quick] [--only 1,2,3,4,5,6,7,8,9,9b,10,11,load,console,health] [--rounds N] [--profile] [--out FILE] [--keep]
import { execSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { profile } from './profile.mjs';
import { failedRow, markdownTable } from './report.mjs';
import { consoleOverview } from './scenario-console.mjs';
import { hashing } from './scenario-hash.mjs';
import { healthLogs } from './scenario-health.mjs';
import { resolveLoad } from './scenario-load.mjs';
import { patches } from './scenario-patches.mjs';
import { changedOnePercent, firstAndUnchanged, manyFiles, patchedRepublish, repetitiveTree } from './scenario-publish.mjs';
import { upload } from './scenario-upload.mjs';
import { fetchVsCurl, verifyVsSync } from './scenario-device.mjs';
import { planTree, writeTree } from './trees.mjs';

/** In run order; scenario 3 changes the shared tree, so it runs after 1, 2 and 4. */
const SCENARIOS = [
  { ids: ['1', '2'], run: firstAndUnchanged },
  { ids: ['4'], run: hashing },
  { ids: ['3'], run: changedOnePercent },
  { ids: ['8'], run: patchedRepublish },
  { ids: ['9', '9b'], run: repetitiveTree },
  { ids: ['6'], run: manyFiles },
  { ids: ['7'], run: patches },
  { ids: ['5'], run: upload },
  { ids: ['10', '10b'], run: fetchVsCurl },
  { ids: ['11'], run: verifyVsSync },
  { ids: ['load'], run: resolveLoad },
  { ids: ['console'], run: consoleOverview },
  { ids: ['health'], run: healthLogs },
  { ids: ['profile'], run: profile },
];

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    rounds: { type: 'string' },
    profile: { type: 'boolean', default: false },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const known = SCENARIOS.flatMap((scenario) => scenario.ids);
const selected = new Set(flags.only ? flags.only.split(',').map((id) => id.trim()) : known.filter((id) => id !== 'profile'));
if (flags.profile) selected.add('profile');
for (const id of selected) {
  if (!known.includes(id)) {
    console.error(`unknown scenario '${id}'; choose from ${known.join(', ')}`);
    process.exit(2);
  }
}

const log = (line) => console.error(line);
const workDir = await mkdtemp(join(tmpdir(), 'update-publish-bench-'));
const trees = new Map();
let generation = 0;
const context = {
  quick: flags.quick,
  /** The scenario ids asked for: a scenario measuring several may skip what only unasked ones need. */
  selected,
  rounds: Number(flags.rounds ?? (flags.quick ? 2 : 5)),
  workDir,
  log,
  /** A generated tree, made once per run and name. */
  async tree(name, spec) {
    if (!trees.has(name)) {
      const root = join(workDir, 'trees', name);
      const plan = planTree(spec);
      const started = Date.now();
      const { files, bytes } = await writeTree(root, plan, spec.seed);
      log(`tree '${name}': ${files} files, ${(bytes / 1e6).toFixed(0)} MB in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      trees.set(name, { root, plan });
    }
    return trees.get(name);
  },
  /** Each change to a tree gets content no earlier change had. */
  nextGeneration: () => ++generation,
};

const cpuModel = cpus()[0]?.model ?? 'unknown CPU';
const machine = `${cpus().length} × ${cpuModel}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${tool('zip -v | sed -n 2p')}, ${tool('aws --version')}`;

function tool(command) {
  try {
    return execSync(command, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().replace(/\s+/g, ' ').slice(0, 60);
  } catch {
    return `(${command.split(' ')[0]} missing)`;
  }
}

const rows = [];
try {
  for (const scenario of SCENARIOS) {
    if (!scenario.ids.some((id) => selected.has(id))) continue;
    log(`\nscenario ${scenario.ids.join(', ')}`);
    try {
      rows.push(...(await scenario.run(context)));
    } catch (error) {
      // One broken scenario (a tool missing, a build in flux) still leaves the others' numbers.
      log(String(error?.stack ?? error));
      rows.push(...scenario.ids.filter((id) => id !== 'profile').map((id) => failedRow(id, String(error?.message ?? error).split('\n')[0])));
    }
  }
} finally {
  if (flags.keep) log(`kept ${workDir}`);
  else await rm(workDir, { recursive: true, force: true });
}

const date = new Date().toISOString().slice(0, 10);
const report = [
  `${date}, ${machine}; ${flags.quick ? 'quick run' : 'full run'}, medians of ${context.rounds} alternating rounds.`,
  '',
  markdownTable(rows),
  '',
].join('\n');
process.stdout.write(report);
if (flags.out) await writeFile(flags.out, report);
if (rows.some((row) => row.pass === false)) process.exitCode = 1;
