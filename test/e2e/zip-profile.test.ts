import { spawnSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/protocol/types.js';
import { makeProject, removeProjects, sha256, succeeded, type Project } from '../helpers/cli.js';
import { JAVA, UNZIP } from '../helpers/prerequisites.js';

afterAll(removeProjects);

const noise = (size: number, label: string) => createCipheriv('aes-256-ctr', Buffer.alloc(32, label), Buffer.alloc(16)).update(Buffer.alloc(size));
const prose = (size: number, word = 'tile') => Buffer.from(`${word} north south east west `.repeat(Math.ceil(size / 30)).slice(0, size));
const hasJava = JAVA.installed && UNZIP.installed;

/** The zip profile devices rely on (PROTOCOL.md): what third-party readers must accept in every package, full and delta. */
describe('package zips as devices read them', () => {
  let project: Project;
  beforeAll(async () => {
    project = await makeProject({
      packages: {
        maps: {
          'big/model.bin': noise(3 * 1024 * 1024, 'model'), // stored, over 1 MiB
          'big/tiles.json': prose(2 * 1024 * 1024), // deflated, over 1 MiB
          'small/a.json': prose(5_000),
          'small/b.bin': noise(10_000, 'b'),
        },
      },
      // The delta below changes both large files, nearly the whole package: kept so its zip is read too.
      config: { deltaMaxRatio: 1 },
    });
  });

  it.skipIf(!hasJava)('full and delta packages are read by Java’s ZipInputStream (Android) and ZipFile, unzip -t and Python zipfile', async () => {
    succeeded(await project.run(['publish', '--json', '--yes']));
    await project.write('maps', { 'big/model.bin': noise(3 * 1024 * 1024, 'model-2'), 'big/tiles.json': prose(2 * 1024 * 1024, 'road') });
    succeeded(await project.run(['publish', '--json', '--yes']));
    const manifest: Manifest = await project.readStoreJson('packages/maps/1.0.1/manifest.json');
    const zips = [manifest.full.key, ...manifest.deltas.map((delta) => delta.key)].map(project.storePath);
    expect(zips).toHaveLength(2);
    for (const zip of zips) {
      const java = spawnSync('java', [join(import.meta.dirname, '../helpers/ReadZip.java'), zip], { encoding: 'utf8' });
      expect(java.status, `${zip}: ${java.stdout}${java.stderr}`).toBe(0);
      const streamed = java.stdout.split('\n').filter((line) => line.startsWith('ZipInputStream '));
      for (const line of streamed) {
        const [, hash, path] = line.split(' ');
        expect(manifest.files.find((file) => file.path === path)?.sha256, line).toBe(hash);
      }
      expect(streamed.length).toBeGreaterThan(0);
      expect(spawnSync('unzip', ['-tqq', zip]).status, `unzip -t ${zip}`).toBe(0);
      const python = spawnSync('python3', ['-c', 'import sys, zipfile; sys.exit(zipfile.ZipFile(sys.argv[1]).testzip() or 0)', zip], { encoding: 'utf8' });
      expect(python.status, python.stderr).toBe(0);
    }
  });

  it('packing gives the same SHA-256 in every time zone', async () => {
    const zones = ['UTC', 'America/Los_Angeles', 'America/New_York', 'Pacific/Honolulu', 'Etc/GMT+12'];
    const hashes: Record<string, string> = {};
    for (const zone of zones) {
      const out = `packed-${zone.replace(/\W/g, '-')}`;
      const result = succeeded(await project.run(['pack', '--version', '9.9.9', '--out', out, '--json'], { spawn: true, env: { TZ: zone } }));
      hashes[zone] = sha256(await readFile(result.packages[0].full.path));
      expect(hashes[zone]).toBe(result.packages[0].full.sha256);
    }
    expect(new Set(Object.values(hashes)).size, JSON.stringify(hashes)).toBe(1);
  });
});
