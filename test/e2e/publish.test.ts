import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram } from '../../src/cli/program.js';
import { createSession } from '../../src/cli/session.js';
import type { ChannelIndex, Manifest } from '../../src/protocol/types.js';
import {
  makeProject,
  removeProjects,
  runCli,
  sha256,
  snapshotTree,
  succeeded,
  unzipTo,
  zipEntries,
  type Project,
} from '../helpers/cli.js';
import { checkStore } from '../helpers/store-check.js';
import { createFolderStore } from '../../src/store/folder-store.js';

afterAll(removeProjects);

const INDEX = 'channels/production/index.json';
const sortedPaths = (paths: string[]) => [...paths].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
const publish = async (project: Project, args: string[] = []) => succeeded(await project.run(['publish', '--json', ...args]));
const resolveFor = async (project: Project, args: string[]) =>
  succeeded(await project.run(['resolve', '--package', 'maps', '--device-id', 'device-1', '--json', ...args]));

/**
 * What a device does: extract the full package of `base`, delete what the new
 * manifest's delta says was removed, extract the delta over it.
 */
async function rebuildFromDelta(project: Project, id: string, base: string, target: Manifest): Promise<string> {
  const deviceDir = await mkdtemp(join(tmpdir(), 'update-publish-device-'));
  await unzipTo(project.storePath(`packages/${id}/${base}/full.zip`), deviceDir);
  const delta = target.deltas.find((candidate) => candidate.from === base);
  if (!delta) throw new Error(`${id}@${target.version} has no delta from ${base}`);
  for (const path of delta.removed) await rm(join(deviceDir, path));
  await unzipTo(project.storePath(delta.key), deviceDir);
  return deviceDir;
}

describe('publish → unchanged → change → resolve', () => {
  let project: Project;
  beforeAll(async () => {
    project = await makeProject({
      packages: {
        maps: { 'a.txt': 'alpha\n', 'b.txt': 'bravo\n', 'c.txt': 'charlie\n', 'sub/d.txt': 'delta\n', 'img.png': randomBytes(2048) },
        levels: { 'level-1.json': '{"enemies":3}' },
      },
    });
  });

  it('publishes every package as 1.0.0 and prints the --json contract', async () => {
    const result = await project.run(['publish', '--json']);
    const json = succeeded(result);
    expect(result.stdout.trim().startsWith('{')).toBe(true);
    expect(json.channel).toBe('production');
    expect(json.dryRun).toBe(false);
    expect(json.packages.map((item: { id: string }) => item.id)).toEqual(['maps', 'levels']);

    const maps = json.packages[0];
    const fullZip = await readFile(project.storePath('packages/maps/1.0.0/full.zip'));
    expect(maps).toEqual({
      id: 'maps',
      status: 'published',
      version: '1.0.0',
      previousVersion: null,
      changes: { added: 5, changed: 0, removed: 0 },
      full: { key: 'packages/maps/1.0.0/full.zip', size: fullZip.length, sha256: sha256(fullZip) },
      deltas: [],
      manifest: { key: 'packages/maps/1.0.0/manifest.json' },
      rules: { rollout: 100, rolloutBasisPoints: 10_000, mandatory: false },
      message: null,
      commit: null,
      dirty: false,
    });
    // Logs go to stderr, never into the JSON document.
    expect(result.stderr).toMatch(/maps/);

    const manifest: Manifest = await project.readStoreJson(maps.manifest.key);
    expect(manifest).toMatchObject({ schemaVersion: 1, id: 'maps', version: '1.0.0', full: maps.full, deltas: [] });
    expect(new Date(manifest.createdAt).toISOString()).toBe(manifest.createdAt);
    expect(manifest.files.map((file) => file.path)).toEqual(['a.txt', 'b.txt', 'c.txt', 'img.png', 'sub/d.txt']);
    for (const file of manifest.files) {
      const bytes = await readFile(join(project.packageDir('maps'), file.path));
      expect(file).toEqual({ path: file.path, size: bytes.length, sha256: sha256(bytes) });
    }

    const index: ChannelIndex = await project.readStoreJson(INDEX);
    expect(index.packages.maps.releases).toEqual([
      expect.objectContaining({ version: '1.0.0', state: 'active', full: maps.full, manifest: expect.objectContaining({ key: maps.manifest.key }) }),
    ]);
    expect(Object.keys(index.packages).sort()).toEqual(['levels', 'maps']);
  });

  it('reports unchanged packages on a republish and writes nothing', async () => {
    const before = await snapshotTree(project.store);
    const json = await publish(project);
    expect(json.packages.map((item: { status: string; version: string }) => [item.status, item.version])).toEqual([
      ['unchanged', '1.0.0'],
      ['unchanged', '1.0.0'],
    ]);
    expect(await snapshotTree(project.store)).toEqual(before);
  });

  it('says so when rule flags cannot apply because the content is unchanged', async () => {
    const before = await snapshotTree(project.store);
    const result = await project.run(['publish', 'maps', '--rollout', '50', '--mandatory', '--yes']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(
      "warning: maps: content unchanged, so --rollout, --mandatory changed nothing; use 'update-publish rollout', 'halt' or 'promote' to change a release's rules",
    );
    expect(await snapshotTree(project.store)).toEqual(before);
  });

  it('diff lists added, changed and removed files with sizes and writes nothing', async () => {
    await project.write('maps', { 'b.txt': 'bravo, changed\n', 'e.txt': 'echo\n' });
    await project.remove('maps', ['c.txt']);
    const before = await snapshotTree(project.store);
    const json = succeeded(await project.run(['diff', 'maps', '--json']));
    expect(json.packages).toEqual([
      expect.objectContaining({
        id: 'maps',
        previousVersion: '1.0.0',
        status: 'changed',
        added: [{ path: 'e.txt', size: 5 }],
        changed: [{ path: 'b.txt', size: 15 }],
        removed: [{ path: 'c.txt', size: 8 }],
      }),
    ]);
    expect(await snapshotTree(project.store)).toEqual(before);
  });

  it('publishes a change with a delta holding only added and changed files', async () => {
    const json = await publish(project, ['maps']);
    const [maps] = json.packages;
    expect(maps).toMatchObject({ status: 'published', version: '1.0.1', previousVersion: '1.0.0', changes: { added: 1, changed: 1, removed: 1 } });
    const deltaZip = await readFile(project.storePath('packages/maps/1.0.1/delta-from-1.0.0.zip'));
    expect(maps.deltas).toEqual([{ from: '1.0.0', key: 'packages/maps/1.0.1/delta-from-1.0.0.zip', size: deltaZip.length, sha256: sha256(deltaZip) }]);
    expect((await zipEntries(project.storePath(maps.deltas[0].key))).map((entry) => entry.name)).toEqual(['b.txt', 'e.txt']);

    const manifest: Manifest = await project.readStoreJson(maps.manifest.key);
    expect(manifest.deltas).toEqual([{ ...maps.deltas[0], removed: ['c.txt'] }]);
  });

  it('rebuilds the new tree byte for byte from every older version plus its delta', async () => {
    await project.write('maps', { 'a.txt': 'alpha, changed\n', 'sub/f.txt': 'foxtrot\n' });
    const [maps] = (await publish(project, ['maps'])).packages;
    expect(maps.version).toBe('1.0.2');
    expect(maps.deltas.map((delta: { from: string }) => delta.from)).toEqual(['1.0.1', '1.0.0']);

    const manifest: Manifest = await project.readStoreJson(maps.manifest.key);
    const expected = await snapshotTree(project.packageDir('maps'));
    for (const base of ['1.0.1', '1.0.0']) {
      expect(await snapshotTree(await rebuildFromDelta(project, 'maps', base, manifest))).toEqual(expected);
    }
    // The full package alone gives the same tree.
    const fresh = await mkdtemp(join(tmpdir(), 'update-publish-device-'));
    await unzipTo(project.storePath(maps.full.key), fresh);
    expect(await snapshotTree(fresh)).toEqual(expected);
  });

  it('resolve gives the full package, a delta, or nothing', async () => {
    const full = await resolveFor(project, ['--platform', 'ios', '--app-version', '2.0.0']);
    expect(full).toMatchObject({ update: true, version: '1.0.2', kind: 'full', key: 'packages/maps/1.0.2/full.zip', mandatory: false, reason: 'not-installed' });
    expect(Object.keys(full)).toEqual(expect.arrayContaining(['update', 'version', 'kind', 'key', 'mandatory', 'reason']));

    const delta = await resolveFor(project, ['--installed', '1.0.0']);
    expect(delta).toMatchObject({ update: true, version: '1.0.2', kind: 'delta', key: 'packages/maps/1.0.2/delta-from-1.0.0.zip', reason: 'newer-release' });

    const none = await resolveFor(project, ['--installed', '1.0.2']);
    expect(none).toMatchObject({ update: false, version: '1.0.2', kind: null, key: null, reason: 'up-to-date' });
  });

  it('resolve honours a release time window through --now', async () => {
    await project.write('maps', { 'a.txt': 'alpha, for the event\n' });
    const [maps] = (
      await publish(project, ['maps', '--starts-at', '2030-01-01T00:00:00Z', '--ends-at', '2030-02-01T00:00:00Z', '--mandatory'])
    ).packages;
    expect(maps).toMatchObject({
      version: '1.0.3',
      rules: { rollout: 100, mandatory: true, startsAt: '2030-01-01T00:00:00.000Z', endsAt: '2030-02-01T00:00:00.000Z' },
    });

    const at = (now: string) => resolveFor(project, ['--installed', '1.0.2', '--now', now]);
    expect(await at('2029-12-31T23:59:59Z')).toMatchObject({ update: false, version: '1.0.2', reason: 'up-to-date' });
    expect(await at('2030-01-15T00:00:00Z')).toMatchObject({
      update: true,
      version: '1.0.3',
      kind: 'delta',
      key: 'packages/maps/1.0.3/delta-from-1.0.2.zip',
      mandatory: true,
    });
    expect(await at('2030-02-01T00:00:00Z')).toMatchObject({ update: false, version: '1.0.2' });
  });
});

describe('a folder store inside the package folder', () => {
  it('is never packed: the republish is unchanged', async () => {
    const project = await makeProject({
      packages: { site: { 'index.html': '<h1>hi</h1>' } },
      config: { store: './assets/site/releases', packages: { site: { dir: 'assets/site' } } },
    });
    const first = await publish(project);
    expect(first.packages[0]).toMatchObject({ status: 'published', version: '1.0.0', changes: { added: 1 } });
    expect((await publish(project)).packages[0]).toMatchObject({ status: 'unchanged', version: '1.0.0' });
  });
});

describe('dry run', () => {
  it('shows what a first publish and a change would write, and writes nothing', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'a', 'b.txt': 'b' } } });
    const projectBefore = await snapshotTree(project.dir);
    const dryFirst = await publish(project, ['--dry-run']);
    expect(dryFirst).toMatchObject({ dryRun: true, packages: [{ id: 'maps', status: 'published', version: '1.0.0' }] });
    expect(await snapshotTree(project.store)).toEqual({});
    expect(await snapshotTree(project.dir)).toEqual(projectBefore); // not even the local hash cache

    await publish(project);
    await project.write('maps', { 'b.txt': 'b2' });
    const before = await snapshotTree(project.store);
    const dryChange = await publish(project, ['--dry-run']);
    expect(dryChange.packages[0]).toMatchObject({ status: 'published', version: '1.0.1', deltas: [{ from: '1.0.0' }] });
    expect(await snapshotTree(project.store)).toEqual(before);
  });
});

describe('the hash cache', () => {
  const statusOf = async (project: Project, args: string[] = []) => succeeded(await project.run(['diff', '--json', ...args])).packages[0].status;

  it('sees content replaced with the same path, size, inode and mtime (cp -p, a tree unzipped with fixed timestamps)', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'version one' } } });
    const file = join(project.packageDir('maps'), 'a.txt');
    const past = new Date(Date.now() - 60_000);
    await utimes(file, past, past);
    succeeded(await project.run(['publish', '--yes']));
    // Same size, written in place (same inode), its mtime set back: only the ctime moved.
    await writeFile(file, 'version two');
    await utimes(file, past, past);
    expect(await statusOf(project)).toBe('changed');
    expect(succeeded(await project.run(['publish', '--yes', '--json'])).packages[0]).toMatchObject({ status: 'published', version: '1.0.1' });
  });

  it('--no-cache on diff, pack and publish hashes every file again, and rebuilds a cache that lies', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'alpha' } } });
    const file = join(project.packageDir('maps'), 'a.txt');
    const past = new Date(Date.now() - 60_000);
    await utimes(file, past, past);
    succeeded(await project.run(['publish', '--yes']));
    const cachePath = join(project.dir, '.update-publish', 'hash-cache', 'maps.json');
    const cache = JSON.parse(await readFile(cachePath, 'utf8'));
    cache.entries[file].sha256 = 'f'.repeat(64);
    await writeFile(cachePath, JSON.stringify(cache));
    expect(await statusOf(project)).toBe('changed');
    expect(await statusOf(project, ['--no-cache'])).toBe('unchanged');
    expect(await statusOf(project)).toBe('unchanged');
    succeeded(await project.run(['pack', '--no-cache', '--json']));
    expect(succeeded(await project.run(['publish', '--no-cache', '--yes', '--json'])).packages[0].status).toBe('unchanged');
  });
});

describe('versions', () => {
  it('takes --version, bumps patch by default or --bump, refuses a non-increasing version, keeps N deltas', async () => {
    const project = await makeProject({
      packages: { maps: { 'keep.txt': 'kept in every version', 'v.txt': '0' } },
      config: { deltas: 2 },
    });
    const versionAfter = async (content: string, args: string[]) => {
      await project.write('maps', { 'v.txt': content });
      return (await publish(project, args)).packages[0];
    };
    expect((await versionAfter('1', ['--version', '2.0.0'])).version).toBe('2.0.0');
    expect((await versionAfter('2', [])).version).toBe('2.0.1');
    expect((await versionAfter('3', ['--bump', 'minor'])).version).toBe('2.1.0');
    const major = await versionAfter('4', ['--bump', 'major']);
    expect(major.version).toBe('3.0.0');
    // deltas: 2 in the config: from the two previous versions only.
    expect(major.deltas.map((delta: { from: string }) => delta.from)).toEqual(['2.1.0', '2.0.1']);

    await project.write('maps', { 'v.txt': '5' });
    const before = await snapshotTree(project.store);
    const refused = await project.run(['publish', '--version', '3.0.0']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error: .*--version 3\.0\.0 must be greater than 3\.0\.0/m);
    expect(await snapshotTree(project.store)).toEqual(before);
  });

  it('two publishers of the same content at once: one releases, the other never reports rules the index lacks', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'same content' } } });
    // Slow writes: both runs plan (and see no release) before either writes the index.
    const env = { NODE_OPTIONS: `--require ${fileURLToPath(new URL('../helpers/slow-disk.cjs', import.meta.url))}`, SLOW_DISK_MS: '300' };
    const runs = await Promise.all(
      [['--rollout', '5'], ['--rollout', '100', '--mandatory']].map((rules) => project.run(['publish', '--yes', '--json', ...rules], { env })),
    );
    const index: ChannelIndex = await project.readStoreJson(INDEX);
    const published = runs.filter((run) => run.code === 0 && run.json.packages[0].status === 'published');
    expect(published).toHaveLength(1);
    expect(index.packages.maps.releases).toHaveLength(1);
    expect(index.packages.maps.releases[0].rules).toEqual(published[0].json.packages[0].rules);
    for (const run of runs.filter((other) => other !== published[0])) {
      if (run.code === 3) expect(run.stderr).toMatch(/^error: package 'maps': 1\.0\.0 was just released on 'production' by another publisher with the same content/m);
      else expect(run.json?.packages[0].status, run.stderr).toBe('unchanged');
    }
  });

  it('eight publishers of one package with different content at once: each releases its own version, none is lost', { timeout: 240_000 }, async () => {
    const first = await makeProject({ packages: { maps: { 'a.txt': 'publisher 0' } } });
    const projects = [first];
    for (let i = 1; i < 8; i++) projects.push(await makeProject({ packages: { maps: { 'a.txt': `publisher ${i}` } }, config: { store: first.store } }));
    // Slow writes: every run plans (and picks the same next version) before any claim lands.
    const env = { NODE_OPTIONS: `--require ${fileURLToPath(new URL('../helpers/slow-disk.cjs', import.meta.url))}`, SLOW_DISK_MS: '200' };
    const runs = await Promise.all(projects.map((project) => project.run(['publish', '--yes', '--json'], { env })));
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const versions = runs.map((run) => run.json.packages[0].version as string);
    expect(new Set(versions).size).toBe(8);
    // Those that lost a claim said so and took the next free version.
    expect(runs.some((run) => /version 1\.0\.\d was just taken by another publisher with other content; publishing as 1\.0\.\d/.test(run.stderr))).toBe(true);
    const check = await checkStore(createFolderStore(first.store));
    expect(check.problems).toEqual([]);
    expect([...check.released.production.maps].sort()).toEqual([...versions].sort());
  });

  it('a publish removes the temp file a killed copy left on a key it writes, and only that one', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'alpha' } } });
    const ours = 'packages/maps/1.0.0/full.zip.0a1b2c3d4e5f.partial';
    const someoneElses = 'packages/levels/2.0.0/full.zip.0a1b2c3d4e5f.partial';
    for (const key of [ours, someoneElses]) {
      await mkdir(join(project.store, key, '..'), { recursive: true });
      await writeFile(project.storePath(key), 'half a zip');
    }
    await publish(project);
    expect(existsSync(project.storePath(ours))).toBe(false);
    expect(existsSync(project.storePath(someoneElses))).toBe(true);
  });

  it('the promote it suggests works, also for a version that has moved to the archive', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'first' } }, config: { channels: ['staging'] } });
    await publish(project);
    await project.write('maps', { 'a.txt': 'second' });
    await publish(project);
    await project.write('maps', { 'a.txt': 'first' });
    const refused = await project.run(['publish', '--channel', 'staging']);
    const suggested = /run 'update-publish (promote [^']+)' instead/.exec(refused.stderr)?.[1];
    expect(suggested).toBe('promote maps@1.0.0 --from production --to staging');
    const promoted = succeeded(await project.run([...suggested!.split(' '), '--yes', '--json']));
    expect(promoted).toMatchObject({ from: 'production', to: 'staging', version: '1.0.0' });
    expect((await project.readStoreJson('channels/staging/index.json')).packages.maps.releases[0].version).toBe('1.0.0');
  });

  it('refuses content already released on another channel and suggests promote', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'same content' } }, config: { channels: ['staging'] } });
    await publish(project);
    const before = await snapshotTree(project.store);
    const result = await project.run(['publish', '--channel', 'staging']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: .*already version 1\.0\.0 on channel 'production'.*update-publish promote maps@1\.0\.0 --from production --to staging/m);
    expect(await snapshotTree(project.store)).toEqual(before);
  });
});

describe('packages', () => {
  it('packs deterministically: same tree, same zip bytes, whatever the file times', async () => {
    const project = await makeProject({
      packages: {
        maps: {
          'a.txt': 'hello '.repeat(500),
          'img.png': randomBytes(4096),
          'photo.JPG': randomBytes(1024),
          'data.json': JSON.stringify(Array.from({ length: 50 }, (_, i) => ({ id: i, name: 'enemy' }))),
          // NFD, as macOS file systems hand names over.
          'cafe\u0301.txt': 'coffee '.repeat(50),
          'Zeta.txt': 'zeta '.repeat(50),
          'alpha/z.txt': 'alpha '.repeat(50),
          'empty.txt': '',
          // Over the size packed in memory: streamed, deflated and stored.
          'large.csv': Array.from({ length: 250_000 }, (_, i) => `${i},row`).join('\n'),
          'large.bin': randomBytes(4.5 * 1024 * 1024),
        },
      },
    });
    const first = succeeded(await project.run(['pack', '--out', 'out-1', '--json'])).packages[0];
    const later = new Date(Date.now() + 3_600_000);
    for (const name of ['a.txt', 'img.png']) await utimes(join(project.packageDir('maps'), name), later, later);
    const second = succeeded(await project.run(['pack', '--out', 'out-2', '--json'])).packages[0];
    expect(second.full.sha256).toBe(first.full.sha256);
    // (Hashes, not toEqual on Buffers: vitest compares those element by element, for minutes.)
    expect(sha256(await readFile(second.full.path))).toBe(sha256(await readFile(first.full.path)));

    // publish packs the same bytes pack did.
    const [published] = (await publish(project)).packages;
    expect(published.full.sha256).toBe(first.full.sha256);

    // Already compressed formats are stored, compressible files deflated, all with a fixed time.
    const entries = await zipEntries(first.full.path);
    expect(entries.map((entry) => [entry.name, entry.compressionMethod])).toEqual([
      ['Zeta.txt', 8],
      ['a.txt', 8],
      ['alpha/z.txt', 8],
      ['caf\u00e9.txt', 8],
      ['data.json', 8],
      ['empty.txt', 0],
      ['img.png', 0],
      ['large.bin', 0],
      ['large.csv', 8],
      ['photo.JPG', 0],
    ]);
    expect(new Set(entries.map((entry) => entry.lastModified.getTime())).size).toBe(1);
    // Extracted, the zip is the package folder byte for byte (names in NFC).
    const extracted = await mkdtemp(join(tmpdir(), 'update-publish-device-'));
    await unzipTo(first.full.path, extracted);
    const source = Object.entries(await snapshotTree(project.packageDir('maps'))).map(([path, hash]) => [path.normalize('NFC'), hash]);
    expect(await snapshotTree(extracted)).toEqual(Object.fromEntries(source));

    // The manifest names files in Unicode NFC, sorted, as the zip does.
    const manifest: Manifest = JSON.parse(await readFile(first.manifest.path, 'utf8'));
    const paths = manifest.files.map((file) => file.path);
    expect(paths).toEqual(entries.map((entry) => entry.name));
    expect(paths.every((path) => path === path.normalize('NFC'))).toBe(true);
    expect(paths).toEqual(sortedPaths(paths));
  });

  it("never packs the tool's own local state, even from a package folder holding the config", async () => {
    const project = await makeProject({ configFile: false, packages: { maps: { 'a.txt': 'a' } } });
    const configPath = join(project.packageDir('maps'), 'update-publish.config.json');
    await writeFile(configPath, JSON.stringify({ store: '../../releases', packages: { maps: { dir: '.', exclude: ['*.config.json'] } } }));
    const [first] = (await publish(project, ['--config', configPath])).packages;
    const manifest: Manifest = await project.readStoreJson(first.manifest.key);
    expect(manifest.files.map((file) => file.path)).toEqual(['a.txt']);
    const [second] = (await publish(project, ['--config', configPath])).packages;
    expect(second).toMatchObject({ status: 'unchanged', version: '1.0.0' });
  });
});

describe('config discovery', () => {
  const config = { store: './releases', packages: { maps: { dir: 'assets/maps' } } };
  const publishesFrom = async (project: Project, args: string[] = [], store = project.store) => {
    const [maps] = (await publish(project, args)).packages;
    expect(maps).toMatchObject({ id: 'maps', status: 'published', version: '1.0.0' });
    await stat(join(store, 'channels', 'production', 'index.json'));
  };

  it('finds the "update-publish" key of package.json', async () => {
    const project = await makeProject({ configFile: false });
    await writeFile(join(project.dir, 'package.json'), JSON.stringify({ name: 'app', 'update-publish': config }));
    await publishesFrom(project);
  });

  it('finds .update-publishrc.json', async () => {
    const project = await makeProject({ configFile: false });
    await writeFile(join(project.dir, '.update-publishrc.json'), JSON.stringify(config));
    await publishesFrom(project);
  });

  it('finds update-publish.config.mjs', async () => {
    const project = await makeProject({ configFile: false });
    await writeFile(join(project.dir, 'update-publish.config.mjs'), `export default ${JSON.stringify(config)};\n`);
    await publishesFrom(project);
  });

  it('loads --config PATH, resolving paths in it from its folder', async () => {
    const project = await makeProject();
    await mkdir(join(project.dir, 'conf'));
    await writeFile(join(project.dir, 'conf', 'custom.json'), JSON.stringify({ store: './store', packages: { maps: { dir: '../assets/maps' } } }));
    await publishesFrom(project, ['--config', 'conf/custom.json'], join(project.dir, 'conf', 'store'));
    expect(await snapshotTree(project.store)).toEqual({});
  });
});

describe('init', () => {
  it('writes a config with a package per assets/ folder, which publish then uses', async () => {
    const project = await makeProject({ configFile: false, packages: { maps: { 'a.txt': 'a' }, levels: { 'l.txt': 'l' } } });
    const json = succeeded(await project.run(['init', '--yes', '--json']));
    expect(json.config).toBe(project.configPath);
    const written = JSON.parse(await readFile(project.configPath, 'utf8'));
    expect(written.packages.maps.dir).toBe('assets/maps');
    const published = await publish(project);
    expect(published.packages.map((item: { id: string; status: string }) => `${item.id}:${item.status}`).sort()).toEqual([
      'levels:published',
      'maps:published',
    ]);

    const again = await project.run(['init', '--yes']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^error: .*already exists.*--force/);
  });
});

describe('--help', () => {
  it('works through the built CLI', async () => {
    const project = await makeProject();
    for (const args of [['--help'], ['publish', '--help']]) {
      const result = await runCli(args, { cwd: project.dir });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Usage: update-publish/);
      expect(result.stderr).toBe('');
    }
  });

  it('works for every command and subcommand', async () => {
    // In-process over the same command tree the CLI runs: one child process per command would cost ~1 s each.
    const paths = (command: Command, parent: string[] = []): string[][] =>
      command.commands.flatMap((sub) => [[...parent, sub.name()], ...paths(sub, [...parent, sub.name()])]);
    const session = await createSession({ stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }, { cwd: process.cwd(), env: process.env });
    const all = paths((await createProgram(session)).program);
    expect(all).toEqual(expect.arrayContaining([['init'], ['pack'], ['diff'], ['publish'], ['status'], ['resolve']]));
    for (const path of all) {
      const { program } = await createProgram(session);
      let out = '';
      const capture = (command: Command): void => {
        command.configureOutput({ writeOut: (text) => void (out += text), writeErr: (text) => void (out += text) });
        command.commands.forEach(capture);
      };
      capture(program);
      const thrown = await program.parseAsync(['node', 'update-publish', ...path, '--help']).catch((error: unknown) => error);
      expect(thrown).toBeInstanceOf(CommanderError);
      expect({ path, exitCode: (thrown as CommanderError).exitCode }).toEqual({ path, exitCode: 0 });
      expect(out).toContain(`Usage: update-publish ${path.join(' ')}`);
      expect(out).toMatch(/--json/);
    }
  });
});
