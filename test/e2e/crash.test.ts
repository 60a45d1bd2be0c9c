/**
 * Crash safety (issue 9): `publish` killed with SIGKILL at random moments —
 * during packing, mid-multipart, between objects, around the index write —
 * against the folder store and moto's S3. After every kill: the channel index
 * is the old one or the complete new one, every object an index references is
 * there with its SHA-256, a rerun completes the publish, and no multipart
 * upload is left open after it.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import fg from 'fast-glob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelIndex } from '../../src/protocol/types.js';
import { createFolderStore } from '../../src/store/folder-store.js';
import { channelIndexKey, fullPackageKey, manifestKey } from '../../src/protocol/layout.js';
import type { Store } from '../../src/store/store.js';
import { makeProject, removeProjects, type Project } from '../helpers/cli.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { createBucket, incompressible, listOpenUploads, MOTO_INSTALLED, openS3Store, PART_SIZE, rawS3, s3ProjectConfig } from '../helpers/s3-e2e.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { spawnCli } from '../helpers/spawn-cli.js';
import { checkStore } from '../helpers/store-check.js';

const TRIALS_PER_STORE = 10;
const BUCKET = 'e2e-crash';
const PREFIX = 'crash/releases';
const INDEX_KEY = channelIndexKey('production');
/** Added to every file write (folder) or request (S3) of a run that is to be killed. */
const SLOW_MS = 100;
const SLOW_DISK = fileURLToPath(new URL('../helpers/slow-disk.cjs', import.meta.url));

/** Where the killed run had got to, read from what it left in the store. */
type Phase =
  | 'hashing, reading the store'
  | 'packing'
  | 'uploading, nothing stored yet'
  | 'mid-upload'
  | 'objects uploaded'
  | 'manifest written'
  | 'index written'
  | 'finished before the kill';

/** Before anything is stored, the last step the killed run announced tells the phase. */
const stepReached = (stderr: string): Phase =>
  stderr.includes('… uploading') ? 'uploading, nothing stored yet' : stderr.includes('packing') ? 'packing' : 'hashing, reading the store';

interface StoreUnderTest {
  name: 'folder' | 's3';
  project: Project;
  store: Store;
  /** Uploads left open: S3 multipart uploads, folder-store temp files. */
  openUploads(): Promise<string[]>;
  /** Stretches (or restores) the store's write phases for the next run; returns env for the CLI. */
  slowDown(on: boolean): Record<string, string>;
}

const tally: string[] = [];

async function runTrials(target: StoreUnderTest, seed: number) {
  const { project, store } = target;
  const indexBody = async () => (await store.readDocument(INDEX_KEY))?.body.toString('utf8') ?? null;
  const verified = new Map<string, string>();
  const expectConsistent = async () => {
    const check = await checkStore(store, verified);
    expect(check.problems).toEqual([]);
    return check;
  };
  const publish = async (slow: boolean) => {
    const running = spawnCli(['publish', '--yes', '--json'], { cwd: project.dir, env: target.slowDown(slow) });
    await running.firstOutput;
    return { running, startedAt: Date.now() };
  };

  expect((await (await publish(false)).running.done).code).toBe(0);
  // T: how long an uninterrupted (stretched) publish takes once the program is loaded.
  await project.write('maps', { 'trial.txt': 'measuring' });
  const measured = await publish(true);
  const measuredRun = await measured.running.done;
  expect(measuredRun.code, measuredRun.stderr).toBe(0);
  let duration = Date.now() - measured.startedAt;

  const random = seededRandom(seed);
  const phases: Record<string, number> = {};
  const trialsStarted = Date.now();
  for (let trial = 1; trial <= TRIALS_PER_STORE; trial++) {
    const version = `1.0.${trial + 1}`;
    await project.write('maps', { 'trial.txt': `content of trial ${trial}` });
    const before = await indexBody();
    // Stratified: trial n is killed at a random moment of the n-th tenth of T, so every phase gets its share.
    const delay = Math.round(((trial - 1 + random()) / TRIALS_PER_STORE) * duration);

    const { running, startedAt } = await publish(true);
    const finished = running.done.then(() => Date.now() - startedAt);
    await sleep(delay);
    running.child.kill('SIGKILL');
    const killed = await running.done;
    // Finished before the kill: T was measured on a slower moment of a busy machine; take the faster run's.
    if (killed.code === 0) duration = Math.min(duration, await finished);

    // The index is the old one byte for byte, or the complete new one.
    const after = await indexBody();
    const phase: Phase =
      killed.code === 0
        ? 'finished before the kill'
        : after !== before
          ? 'index written'
          : (await store.head(manifestKey('maps', version)))
            ? 'manifest written'
            : (await store.head(fullPackageKey('maps', version)))
              ? 'objects uploaded'
              : (await target.openUploads()).length > 0
                ? 'mid-upload'
                : stepReached(killed.stderr);
    phases[phase] = (phases[phase] ?? 0) + 1;
    if (after !== before) {
      expect((JSON.parse(after!) as ChannelIndex).packages.maps.releases[0].version).toBe(version);
    }
    await expectConsistent();

    // A rerun completes the publish, under the same version, and leaves no upload open.
    const rerun = await (await publish(false)).running.done;
    expect(rerun.code, `trial ${trial} (killed after ${delay} ms, ${phase}): ${rerun.stderr}`).toBe(0);
    const { indexes, released } = await expectConsistent();
    expect(indexes.production.packages.maps.releases[0].version).toBe(version);
    // No release lost, none skipped: every version so far, in the index or its archive.
    expect(released.production.maps).toEqual(Array.from({ length: trial + 2 }, (_, n) => `1.0.${trial + 1 - n}`));
    if (target.name === 's3') expect(await target.openUploads()).toEqual([]);
  }
  // A second opinion on the whole store: the CLI's own verify (objects, sizes, SHA-256, deltas rebuild their target).
  const verify = await project.run(['verify']);
  expect(verify.code, verify.stderr).toBe(0);
  const seconds = ((Date.now() - trialsStarted) / 1000).toFixed(0);
  tally.push(`  ${target.name}: ${TRIALS_PER_STORE} kills in [0, T = ${duration}] ms (seed ${seed}, ${seconds} s): ${JSON.stringify(phases)}; lost: nothing`);
}

// Both stores at once: each trial is two CLI runs, and the machine has two cores.
describe.concurrent('SIGKILL at random moments during publish', () => {
  let moto: Moto | undefined;
  beforeAll(async () => {
    if (!MOTO_INSTALLED) return;
    moto = await startMoto();
    Object.assign(process.env, moto.env);
  });
  afterAll(async () => {
    console.log(`crash trials:\n${tally.join('\n')}`);
    await removeProjects();
    await moto?.stop();
  });

  const packages = (bigFileBytes: number) => ({
    maps: { 'tiles.png': incompressible(bigFileBytes), 'a.txt': 'alpha', 'trial.txt': 'initial' },
  });

  it('folder store', { timeout: 360_000 }, async () => {
    const project = await makeProject({ packages: packages(1_000_000) });
    const store = createFolderStore(project.store);
    const partials = () => fg('**/*.partial', { cwd: project.store, dot: true });
    const slowDown = (on: boolean): Record<string, string> =>
      on ? { NODE_OPTIONS: `--require ${SLOW_DISK}`, SLOW_DISK_MS: String(SLOW_MS) } : {};
    await runTrials({ name: 'folder', project, store, openUploads: partials, slowDown }, 20260101);

    // A killed copy leaves a temp file readers never see; gc removes it and nothing else.
    const leftovers = await partials();
    const gc = await project.run(['gc', '--older-than', '0s', '--yes', '--json']);
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.json.deleted).toEqual([]);
    // Listed under the key each was writing; its own path is the upload id.
    expect(gc.json.abortedUploads.map((upload: { uploadId: string }) => upload.uploadId).sort()).toEqual(leftovers.sort());
    for (const upload of gc.json.abortedUploads) expect(upload.uploadId).toMatch(new RegExp(`^${upload.key.replace(/[.]/g, '\\.')}\\.[0-9a-f]{12}\\.partial$`));
    expect(await partials()).toEqual([]);
    expect((await checkStore(store)).problems).toEqual([]);
    tally.push(`  folder: ${leftovers.length} temp files left by kills, removed by gc`);
  });

  it('folder store: Ctrl-C mid-upload exits 130 and writes nothing more; the index stays untouched; a rerun completes', async () => {
    const project = await makeProject({ packages: packages(1_000_000) });
    // Every copy waits a second: the signal surely lands while objects are being written.
    const running = spawnCli(['publish', '--yes'], { cwd: project.dir, env: { NODE_OPTIONS: `--require ${SLOW_DISK}`, SLOW_DISK_MS: '1000' } });
    let stderr = '';
    running.child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    while (!stderr.includes('… uploading')) await sleep(20);
    running.child.kill('SIGINT');
    const interrupted = await running.done;

    expect(interrupted.code, interrupted.stderr).toBe(130);
    expect(interrupted.stderr.trim().split('\n').at(-1)).toMatch(/^error: interrupted by SIGINT: .*the channel index is untouched/);
    const store = createFolderStore(project.store);
    expect(await store.readDocument(INDEX_KEY)).toBeNull();
    expect(await store.head(manifestKey('maps', '1.0.0'))).toBeNull();

    const rerun = await project.run(['publish', '--yes', '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect((await project.readStoreJson(INDEX_KEY)).packages.maps.releases[0].version).toBe('1.0.0');
    expect((await checkStore(store)).problems).toEqual([]);
  });

  it('folder store: Ctrl-C after the index is written stops the running hook and says the release is live', async () => {
    const project = await makeProject({
      packages: { maps: { 'a.txt': 'alpha' } },
      config: { hooks: [{ type: 'command', name: 'slow', run: 'touch hook-started; sleep 30', timeoutMs: 60_000 }] },
    });
    const running = spawnCli(['publish', '--yes'], { cwd: project.dir });
    // The hook runs after the index write: once it has started, the release is live.
    while (!existsSync(join(project.dir, 'hook-started'))) await sleep(20);
    const signalled = Date.now();
    running.child.kill('SIGINT');
    const interrupted = await running.done;

    expect(interrupted.code).toBe(130);
    // The hook's process group is killed at once: no wait for its 30 s, nor for the 5 s grace.
    expect((Date.now() - signalled) / 1000).toBeLessThan(4);
    expect(interrupted.stderr).toContain('slow · publish maps@1.0.0 — failed: interrupted; its process group was killed');
    expect(interrupted.stderr.trim().split('\n').at(-1)).toMatch(/^error: interrupted by SIGINT after the channel index was written: the release is live/);
    expect((await project.readStoreJson(INDEX_KEY)).packages.maps.releases[0].version).toBe('1.0.0');
  });

  it('folder store: a document lock left by a writer killed while holding it does not fail the rerun', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'alpha' } } });
    expect((await project.run(['publish', '--yes'])).code).toBe(0);
    await project.write('maps', { 'a.txt': 'alpha, changed' });
    // What SIGKILL inside the index write leaves: the lock folder, fresh.
    await mkdir(project.storePath(`${INDEX_KEY}.lock`));

    const rerun = await project.run(['publish', '--yes', '--json']);

    expect(rerun.code, rerun.stderr).toBe(0);
    expect((await project.readStoreJson(INDEX_KEY)).packages.maps.releases[0].version).toBe('1.0.1');
  });

  it.skipIf(!MOTO_INSTALLED)('S3 store (moto)', { timeout: 360_000 }, async () => {
    const s3 = rawS3(moto!.endpoint);
    await createBucket(s3, BUCKET);
    // Latency on every request stretches the network phases as the slow disk does the folder's.
    const proxy = await startFaultProxy({ target: moto!.endpoint });
    // Past the part size: the full package is uploaded multipart.
    const project = await makeProject({ packages: packages(PART_SIZE + 100_000), config: s3ProjectConfig(proxy.endpoint, BUCKET, PREFIX) });
    const store = openS3Store(moto!.endpoint, BUCKET, PREFIX);
    const openUploads = async () => (await listOpenUploads(s3, BUCKET, PREFIX)).map((upload) => upload.Key!);
    const slowDown = (on: boolean) => {
      proxy.configure({ latencyMs: on ? SLOW_MS : 0 });
      return {};
    };
    try {
      await runTrials({ name: 's3', project, store, openUploads, slowDown }, 20260102);
    } finally {
      await store.close();
      await proxy.close();
      s3.destroy();
    }
  });
});
