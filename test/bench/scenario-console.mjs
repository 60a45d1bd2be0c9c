// Scenario console: a store of 5 channels × 200 packages × 30 releases; the
// console's overview API on a second load (cached by index etag) and the
// overview page in chromium until its script has run (loadEventEnd).
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { limitRow, skippedRow } from './report.mjs';

const CLI = fileURLToPath(new URL('../../bin/update-publish.js', import.meta.url));
const CHANNELS = 5;
const PACKAGES = 200;
const RELEASES = 30;
const sha = (n) => n.toString(16).padStart(64, '0');

function release(id, minor, newest) {
  const version = `1.${minor}.0`;
  return {
    version,
    releasedAt: new Date(Date.UTC(2026, 0, 1 + minor)).toISOString(),
    manifest: { key: `packages/${id}/${version}/manifest.json`, sha256: sha(minor + 1), size: 900 },
    full: { key: `packages/${id}/${version}/full.zip`, size: 1_000_000 + minor, sha256: sha(minor + 2) },
    deltas: newest ? [{ from: `1.${minor - 1}.0`, key: `packages/${id}/${version}/delta-from-1.${minor - 1}.0.zip`, size: 20_000, sha256: sha(minor + 3) }] : [],
    rules: { rollout: newest ? 25 : 100, rolloutBasisPoints: newest ? 2500 : 10000, mandatory: false, platforms: ['ios', 'android'], appVersion: '>=2.0.0' },
    state: 'active',
  };
}

async function writeStore(root) {
  for (let c = 0; c < CHANNELS; c++) {
    const channel = `channel-${c}`;
    const packages = {};
    for (let p = 0; p < PACKAGES; p++) {
      const id = `pkg-${String(p).padStart(3, '0')}`;
      packages[id] = { releases: Array.from({ length: RELEASES }, (_, r) => release(id, RELEASES - r, r === 0)) };
    }
    const index = { schemaVersion: 1, channel, updatedAt: new Date().toISOString(), version: 1, expires: '2099-01-01T00:00:00.000Z', packages };
    await mkdir(join(root, 'channels', channel), { recursive: true });
    await writeFile(join(root, 'channels', channel, 'index.json'), JSON.stringify(index));
  }
}

function startConsole(store) {
  const child = spawn(process.execPath, [CLI, 'console', '--json', '--no-open', '--port', '0', '--store', store], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CI: 'true' } });
  return new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      try {
        resolve({ child, url: JSON.parse(stdout).url });
      } catch {
        // not complete yet
      }
    });
    child.on('exit', (code) => reject(new Error(`console exited ${code}`)));
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (value) => (value === null ? 'n/a' : `${Math.round(value)} ms`);

export async function consoleOverview(context) {
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    return [skippedRow('console', 'console overview', 'playwright-core is not installed (npm install)')];
  }
  const store = join(context.workDir, 'console-store');
  await writeStore(store);
  context.log(`console store: ${CHANNELS} channels × ${PACKAGES} packages × ${RELEASES} releases`);
  const { child, url } = await startConsole(store);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const token = new URL(url).searchParams.get('token');
    const api = `${new URL(url).origin}/api/overview`;
    const apiTimes = [];
    for (let round = 0; round <= context.rounds; round++) {
      const started = performance.now();
      const response = await fetch(api, { headers: { 'X-Update-Publish-Token': token } });
      await response.arrayBuffer();
      // The first load fills the cache; the target is for the loads after it.
      if (round > 0) apiTimes.push(performance.now() - started);
    }
    const page = await browser.newPage();
    await page.goto(url);
    const pageTimes = [];
    for (let round = 0; round < context.rounds; round++) {
      await page.reload({ waitUntil: 'load' });
      pageTimes.push(await page.evaluate(() => performance.getEntriesByType('navigation')[0].loadEventEnd));
    }
    const rows = await page.locator('table.overview tbody tr').count();
    return [
      limitRow({ id: 'console', scenario: `console overview API, second load, ${CHANNELS}×${PACKAGES}×${RELEASES} store`, ours: median(apiTimes), format: ms, max: 200 }),
      limitRow({ id: 'console', scenario: `console overview page interactive in chromium (${rows} rows)`, ours: median(pageTimes), format: ms, max: 1500 }),
    ];
  } finally {
    await browser.close();
    child.kill('SIGINT');
  }
}
