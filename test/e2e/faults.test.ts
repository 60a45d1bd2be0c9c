import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../helpers/spawn-cli.js';
import { makeProject, removeProjects, sha256, snapshotTree, type Project } from '../helpers/cli.js';
import { startFaultProxy, WIRE_FAULTS, type FaultProxy, type ProxiedRequest } from '../helpers/fault-proxy.js';
import type { Moto } from '../helpers/moto.js';
import {
  incompressible,
  listOpenUploads,
  MOTO_INSTALLED,
  objectListing,
  openS3Store,
  PART_SIZE,
  startMotoBucket,
  s3ProjectConfig,
} from '../helpers/s3-e2e.js';
import { checkStore } from '../helpers/store-check.js';

const BUCKET = 'e2e-faults';
const INDEX = 'channels/production/index.json';
// Fixed seeds: a failure names its seed and replays the same fault sequence.
const SEEDS = [11, 29];

describe.skipIf(!MOTO_INSTALLED)('faults on the wire (proxy in front of moto)', () => {
  let moto: Moto;
  let s3: S3Client;
  let runs = 0;
  const nextPrefix = () => `run-${++runs}/releases`;
  /** What each trial saw, printed at the end for the closing note. */
  const tally: string[] = [];

  beforeAll(async () => {
    ({ moto, s3 } = await startMotoBucket(BUCKET));
  });
  afterAll(async () => {
    console.log(`fault trials:\n${tally.join('\n')}`);
    await removeProjects();
    s3?.destroy();
    await moto?.stop();
  });

  const withProxy = async <T>(options: Parameters<typeof startFaultProxy>[0], work: (proxy: FaultProxy) => Promise<T>) => {
    const proxy = await startFaultProxy(options);
    try {
      return await work(proxy);
    } finally {
      await proxy.close();
    }
  };
  const publish = (project: Project) => project.run(['publish', '--yes', '--json'], { env: moto.env });
  const indexBody = async (prefix: string) => {
    const response = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${INDEX}` })).catch(() => null);
    return response ? Buffer.from(await response.Body!.transformToByteArray()).toString('utf8') : null;
  };
  /** Every object the index references, read straight from moto (not through the proxy), byte-exact. */
  const expectByteExact = async (prefix: string, endpoint = moto.endpoint) => {
    const store = openS3Store(endpoint, BUCKET, prefix);
    try {
      const check = await checkStore(store);
      expect(check.problems).toEqual([]);
      return check;
    } finally {
      await store.close();
    }
  };

  it('a body cut mid-way is resumed with a ranged GET: reads are byte-exact', async () => {
    const prefix = nextPrefix();
    const work = await mkdtemp(join(tmpdir(), 'update-publish-faults-'));
    const direct = openS3Store(moto.endpoint, BUCKET, prefix);
    try {
      const objects = { 'packages/maps/1.0.0/full.zip': incompressible(2 * PART_SIZE + 1000), 'packages/maps/1.0.0/small.zip': incompressible(300_000) };
      for (const [key, bytes] of Object.entries(objects)) {
        const path = join(work, key.replaceAll('/', '_'));
        await writeFile(path, bytes);
        await direct.putFile(key, path, { size: bytes.length, sha256: sha256(bytes), contentType: 'application/zip', cacheControl: 'no-cache' });
      }
      // Every whole-object GET is cut after its first bytes; only the resumed (ranged) GETs get through.
      const firstGets = (request: ProxiedRequest) => request.method === 'GET' && request.url.includes('x-id=GetObject') && !request.range;
      await withProxy({ target: moto.endpoint, faultRate: 1, faults: ['reset'], only: firstGets }, async (proxy) => {
        const store = openS3Store(proxy.endpoint, BUCKET, prefix);
        try {
          for (const [key, bytes] of Object.entries(objects)) {
            expect(sha256(Buffer.concat(await (await store.openRead(key)).toArray()))).toBe(sha256(bytes));
            expect(sha256((await store.readDocument(key))!.body)).toBe(sha256(bytes));
          }
        } finally {
          await store.close();
        }
        const resumed = proxy.log.filter((request) => request.range);
        expect(resumed).toHaveLength(4);
        for (const request of resumed) expect(request.range).toMatch(/^bytes=[1-9]\d*-$/);
        tally.push(`  every object GET cut mid-body: ${proxy.faultsInjected.reset} resets, ${resumed.length} resumed by range; 4 reads byte-exact`);
      });
    } finally {
      await direct.close();
      await rm(work, { recursive: true, force: true });
    }
  });

  for (const seed of SEEDS) {
    it(`10% faults (${WIRE_FAULTS.join(', ')}), seed ${seed}: publish, fetch and verify succeed, byte-exact`, async () => {
      const prefix = nextPrefix();
      await withProxy({ target: moto.endpoint, faultRate: 0.1, seed }, async (proxy) => {
        const project = await makeProject({
          packages: { maps: { 'tiles.png': incompressible(2 * PART_SIZE + 1000), 'a.txt': 'alpha', 'b.txt': 'bravo' } },
          config: s3ProjectConfig(proxy.endpoint, BUCKET, prefix),
        });
        // A device installs each version as it is published, through the same faults: full, then delta.
        const device = join(project.dir, 'device');
        const fetchAndCompare = async (expected: { version: string; kind: 'full' | 'delta' }) => {
          const fetched = await project.run(['fetch', 'maps', '--into', device, '--device-id', 'd1', '--json'], { env: moto.env });
          expect(fetched.code, fetched.stderr).toBe(0);
          expect(fetched.json).toMatchObject({ updated: true, ...expected });
          expect(await snapshotTree(device, { ignore: ['.update-publish*', '.update-publish*/**'] })).toEqual(
            await snapshotTree(project.packageDir('maps')),
          );
        };
        const first = await publish(project);
        expect(first.code, first.stderr).toBe(0);
        await fetchAndCompare({ version: '1.0.0', kind: 'full' });
        // A second version reads manifests back and uploads deltas, all through the faults.
        await project.write('maps', { 'b.txt': 'bravo, changed', 'c.txt': 'charlie' });
        const second = await publish(project);
        expect(second.code, second.stderr).toBe(0);
        await fetchAndCompare({ version: '1.0.1', kind: 'delta' });
        const verified = await project.run(['verify'], { env: moto.env });
        expect(verified.code, verified.stderr).toBe(0);

        const published = await expectByteExact(prefix);
        expect(published.released.production.maps).toEqual(['1.0.1', '1.0.0']);
        // Read back through the same faults: every object comes back whole.
        const readBack = await expectByteExact(prefix, proxy.endpoint);
        const faults = { ...proxy.faultsInjected };
        tally.push(
          `  seed ${seed}, 10%: ${proxy.log.length} requests, faults ${JSON.stringify(faults)}; ` +
            `published 2 versions, fetched both (full, delta) and verified through the faults, ${published.objectsChecked} objects checked direct + ${readBack.objectsChecked} through the proxy; lost: nothing`,
        );
        expect(Object.values(faults).reduce((sum, count) => sum + count, 0)).toBeGreaterThan(0);
      });
    });
  }

  it('Ctrl-C while the endpoint stalls: exits 130 within seconds with one line, not after the SDK timeouts', async () => {
    const prefix = nextPrefix();
    await withProxy({ target: moto.endpoint, latencyMs: 120_000 }, async (proxy) => {
      const project = await makeProject({ packages: { maps: { 'a.txt': 'alpha' } }, config: s3ProjectConfig(proxy.endpoint, BUCKET, prefix) });
      const running = spawnCli(['status'], { cwd: project.dir, env: moto.env });
      while (proxy.log.length === 0) await sleep(50);
      const signalled = Date.now();
      running.child.kill('SIGINT');
      const result = await running.done;
      expect(result.code).toBe(130);
      expect((Date.now() - signalled) / 1000).toBeLessThan(15);
      expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: interrupted by SIGINT/)]);
    });
  });

  it('100% faults: publish fails in bounded time with one clear line, and the index is untouched', async () => {
    const prefix = nextPrefix();
    await withProxy({ target: moto.endpoint, seed: 7 }, async (proxy) => {
      const project = await makeProject({
        packages: { maps: { 'tiles.png': incompressible(PART_SIZE + 1000), 'a.txt': 'alpha' } },
        config: s3ProjectConfig(proxy.endpoint, BUCKET, prefix),
      });
      expect((await publish(project)).code).toBe(0);
      const before = { index: await indexBody(prefix), objects: await objectListing(s3, BUCKET, prefix) };

      for (const faults of [['500'], ['503'], ['SlowDown'], ['reset']] as const) {
        await project.write('maps', { 'a.txt': `alpha after ${faults.join('+')}` });
        proxy.configure({ faultRate: 1, faults: [...faults] });
        proxy.clearCounts();
        const started = Date.now();
        const result = await publish(project);
        const seconds = (Date.now() - started) / 1000;

        expect(result.code, result.stderr).toBe(1);
        const errorLines = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
        expect(errorLines, result.stderr).toHaveLength(1);
        expect(errorLines[0]).toMatch(/^error: (S3 endpoint|cannot reach S3 endpoint) http:\/\/127\.0\.0\.1:\d+/);
        expect(result.stderr).not.toMatch(/^\s+at /m);
        expect(seconds).toBeLessThan(60);
        expect(await indexBody(prefix)).toBe(before.index);
        expect(await objectListing(s3, BUCKET, prefix)).toEqual(before.objects);
        expect(await listOpenUploads(s3, BUCKET, prefix)).toEqual([]);
        tally.push(`  100% ${faults.join('+')}: failed after ${seconds.toFixed(1)} s, ${proxy.log.length} requests; "${errorLines[0]}"; index and objects unchanged`);
      }
    });
  });
});
