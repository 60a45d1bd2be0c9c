// Runs commands and measures them: wall time here, CPU seconds and peak RSS
// from GNU time (or, without it, from a hook inside node children).
import { spawn, spawnSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const GNU_TIME = '/usr/bin/time';
const FORMAT = '%e %U %S %M';

/** GNU time with -f and -o, which busybox's and BSD's lack. */
export const hasGnuTime = (() => {
  const probe = spawnSync(GNU_TIME, ['-f', FORMAT, '-o', '/dev/null', 'true']);
  return probe.status === 0;
})();

const RUSAGE_HOOK = pathToFileURL(fileURLToPath(new URL('./rusage-hook.mjs', import.meta.url))).href;
let runCount = 0;

/**
 * Runs one command to completion. Resolves with wall milliseconds, CPU
 * seconds (user + system, children included) and peak RSS in KiB (null when
 * unknown), exit code and output; rejects on a non-zero exit unless `allowFailure`.
 */
export async function run({ cmd, args = [], cwd, env, allowFailure = false }) {
  const statsFile = join(tmpdir(), `bench-rusage-${process.pid}-${++runCount}`);
  let argv = [cmd, ...args];
  const childEnv = { ...process.env, ...env };
  if (hasGnuTime) {
    argv = [GNU_TIME, '-f', FORMAT, '-o', statsFile, ...argv];
  } else if (cmd === process.execPath || cmd === 'node') {
    argv = [cmd, '--import', RUSAGE_HOOK, ...args];
    childEnv.BENCH_RUSAGE_FILE = statsFile;
  }
  const started = process.hrtime.bigint();
  const child = spawn(argv[0], argv.slice(1), { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout = [];
  const stderr = [];
  child.stdout.on('data', (chunk) => stdout.push(chunk));
  child.stderr.on('data', (chunk) => stderr.push(chunk));
  const code = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const result = {
    wallMs,
    cpuSeconds: null,
    maxRssKb: null,
    code,
    stdout: Buffer.concat(stdout).toString('utf8'),
    stderr: Buffer.concat(stderr).toString('utf8'),
  };
  const stats = await readFile(statsFile, 'utf8').catch(() => null);
  await rm(statsFile, { force: true });
  if (stats && hasGnuTime) {
    // GNU time prefixes a "Command exited with non-zero status" line on failure: the numbers are last.
    const [, user, system, rss] = stats.trim().split('\n').pop().split(' ').map(Number);
    Object.assign(result, { cpuSeconds: user + system, maxRssKb: rss });
  } else if (stats) {
    const usage = JSON.parse(stats);
    Object.assign(result, { cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6, maxRssKb: usage.maxRSS });
  }
  if (code !== 0 && !allowFailure) {
    throw new Error(`${[cmd, ...args].join(' ')} exited with ${code}\n${result.stderr.slice(-2000)}`);
  }
  return result;
}

/**
 * Runs each variant once per round, in turn, for `rounds` rounds, so load
 * changes on the machine hit every variant alike. A variant is
 * { name, command, before?(), after?(result) }; `before` is not measured.
 */
export async function alternate(variants, rounds, log = () => {}) {
  const results = Object.fromEntries(variants.map((variant) => [variant.name, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const variant of variants) {
      await variant.before?.();
      const result = await run(typeof variant.command === 'function' ? variant.command() : variant.command);
      await variant.after?.(result);
      results[variant.name].push(result);
      log(`  ${variant.name} #${round}: ${(result.wallMs / 1000).toFixed(2)} s`);
    }
  }
  return Object.fromEntries(Object.entries(results).map(([name, list]) => [name, summarize(list)]));
}

export function median(values) {
  const sorted = values.filter((value) => value !== null).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Medians of wall and CPU, the highest peak RSS, and the runs themselves. */
export function summarize(results) {
  const rss = results.map((result) => result.maxRssKb).filter((value) => value !== null);
  return {
    wallMs: median(results.map((result) => result.wallMs)),
    cpuSeconds: median(results.map((result) => result.cpuSeconds)),
    maxRssKb: rss.length ? Math.max(...rss) : null,
    runs: results,
  };
}
