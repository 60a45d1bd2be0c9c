/**
 * promote gives the target channel deltas: from the versions its devices
 * hold, as publish does for its channel, so a change promoted from staging
 * reaches production devices as a delta, not the whole package.
 */
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, removeProjects, succeeded, type Project } from '../helpers/cli.js';
import { checkStore } from '../helpers/store-check.js';
import { createFolderStore } from '../../src/store/folder-store.js';

afterAll(removeProjects);

const big = Array.from({ length: 50 }, (_, i) => `tile ${i} `.repeat(200));
const files = (changed: string) => ({ ...Object.fromEntries(big.map((content, i) => [`tiles/${i}.txt`, content])), 'changed.txt': changed });

async function stagingThenProduction(config: Record<string, unknown> = {}, env: Record<string, string> = {}): Promise<Project> {
  const project = await makeProject({ packages: { maps: files('first') }, config: { channels: ['staging'], ...config } });
  // Production devices hold 1.0.0; the change goes to staging first, where nothing was released.
  succeeded(await project.run(['publish', '--yes'], { env }));
  await project.write('maps', { 'changed.txt': 'second' });
  succeeded(await project.run(['publish', '--channel', 'staging', '--yes'], { env }));
  return project;
}

describe('promote', () => {
  it("builds a delta from the target channel's version: production devices on 1.0.0 download it, not the full package", async () => {
    const project = await stagingThenProduction();
    const staging = await project.readStoreJson('channels/staging/index.json');
    expect(staging.packages.maps.releases[0].deltas).toEqual([]);

    const dryRun = succeeded(await project.run(['promote', 'maps', '--from', 'staging', '--to', 'production', '--dry-run', '--json']));
    expect(dryRun.deltasFrom).toEqual(['1.0.0']);

    const promoted = succeeded(await project.run(['promote', 'maps', '--from', 'staging', '--to', 'production', '--yes', '--json']));
    expect(promoted).toMatchObject({ version: '1.0.1', deltasFrom: ['1.0.0'] });
    const [release] = (await project.readStoreJson('channels/production/index.json')).packages.maps.releases;
    expect(release.deltas).toEqual([
      { from: '1.0.0', key: 'packages/maps/1.0.1/delta-from-1.0.0.zip', size: expect.any(Number), sha256: expect.any(String), removed: [] },
    ]);
    // The manifest (written once, at publish) is unchanged; the delta is listed in the target index.
    expect((await project.readStoreJson('packages/maps/1.0.1/manifest.json')).deltas).toEqual([]);
    expect(release.deltas[0].size).toBeLessThan(release.full.size / 5);

    const resolved = succeeded(await project.run(['resolve', '--package', 'maps', '--installed', '1.0.0', '--json']));
    expect(resolved).toMatchObject({ update: true, version: '1.0.1', kind: 'delta', key: 'packages/maps/1.0.1/delta-from-1.0.0.zip' });

    // verify rebuilds the delta from 1.0.0; the store is consistent.
    const verify = succeeded(await project.run(['verify', '--json']));
    expect(verify.problems).toEqual([]);
    expect(verify.checked.deltasRebuilt).toBeGreaterThanOrEqual(1);
    expect((await checkStore(createFolderStore(project.store))).problems).toEqual([]);
  });

  it('a device on the previous version fetches the promoted release as a delta', async () => {
    const project = await stagingThenProduction();
    const device = join(project.dir, 'device', 'maps');
    // The device installed 1.0.0 from production before the promotion.
    const first = await project.run(['fetch', 'maps', '--into', device, '--json']);
    expect(succeeded(first)).toMatchObject({ version: '1.0.0', kind: 'full' });
    succeeded(await project.run(['promote', 'maps', '--from', 'staging', '--to', 'production', '--yes']));
    expect(succeeded(await project.run(['fetch', 'maps', '--into', device, '--json']))).toMatchObject({ version: '1.0.1', kind: 'delta', previousVersion: '1.0.0' });
    expect(await readFile(join(device, 'changed.txt'), 'utf8')).toBe('second');
  });

  it('with encrypted packages, the delta is encrypted with the same key and installs', async () => {
    const env = { CONTENT_KEY: Buffer.alloc(32, 7).toString('base64') };
    const project = await stagingThenProduction({ encryption: { key: 'env:CONTENT_KEY' } }, env);
    const device = join(project.dir, 'device', 'maps');
    succeeded(await project.run(['fetch', 'maps', '--into', device, '--decryption-key', 'env:CONTENT_KEY'], { env }));
    succeeded(await project.run(['promote', 'maps', '--from', 'staging', '--to', 'production', '--yes'], { env }));
    const fetched = succeeded(await project.run(['fetch', 'maps', '--into', device, '--decryption-key', 'env:CONTENT_KEY', '--json'], { env }));
    expect(fetched).toMatchObject({ version: '1.0.1', kind: 'delta' });
    expect(succeeded(await project.run(['verify', '--json'], { env })).problems).toEqual([]);
  });
});
