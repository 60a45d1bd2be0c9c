// `--profile`: where the time goes in scenarios 1 and 2. Runs each once under
// `node --cpu-prof` and prints the functions with the most self time.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './measure.mjs';
import { makeProject, publishedAs } from './project.mjs';
import { mainTreeSpec } from './scenario-publish.mjs';

/** Self time per function (ms), highest first, from a .cpuprofile document. */
export function selfTimes(profile) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const times = new Map();
  profile.samples.forEach((id, i) => {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    const where = url.replace(/^.*\/node_modules\//, '').replace(/^.*\/dist\//, 'dist/');
    const name = `${functionName || '(anonymous)'}${where ? ` ${where}:${lineNumber + 1}` : ''}`;
    times.set(name, (times.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...times].sort((a, b) => b[1] - a[1]);
}

async function profiled(project, dir, status) {
  const command = project.publish();
  const result = await run({ ...command, args: ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...command.args] });
  publishedAs(result, status);
  const [file] = await readdir(dir);
  return selfTimes(JSON.parse(await readFile(join(dir, file), 'utf8')));
}

export async function profile(context, top = 15) {
  const tree = await context.tree('main', mainTreeSpec(context.quick));
  const project = await makeProject(join(context.workDir, 'profile'), tree.root);
  await project.clean();
  for (const [label, status] of [
    ['first publish', 'published'],
    ['unchanged republish', 'unchanged'],
  ]) {
    const times = await profiled(project, join(context.workDir, `cpu-${status}`), status);
    const total = times.reduce((sum, [, ms]) => sum + ms, 0);
    context.log(`\n${label}: ${Math.round(total)} ms sampled; most self time:`);
    for (const [name, ms] of times.slice(0, top)) context.log(`  ${ms.toFixed(0).padStart(6)} ms  ${name}`);
  }
  return [];
}
