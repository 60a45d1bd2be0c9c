import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelIndex } from '../../src/protocol/types.js';
import { resolveUpdate, type Resolution } from '../../src/client/resolve.js';
import { makeProject, removeProjects, snapshotTree, succeeded, type CliResult, type Project } from '../helpers/cli.js';

afterAll(removeProjects);

const PRODUCTION = 'channels/production/index.json';
const STAGING = 'channels/staging/index.json';
const PACKAGES = { maps: { 'a.txt': 'alpha\n', 'b.txt': 'bravo\n' }, levels: { 'l1.json': '{"level":1}\n' } };
/** Spawning the CLI takes seconds on a busy 2-core machine; a test runs up to fourteen. */
const SLOW = 240_000;

/**
 * production: maps 1.0.0 (100%) and 1.0.1 (10%, delta from 1.0.0), levels 1.0.0.
 * Built once; each test works on its own copy.
 */
let base: Project;
beforeAll(async () => {
  base = await makeProject({ packages: PACKAGES });
  succeeded(await base.run(['publish', '--yes', '--json']));
  await base.write('maps', { 'a.txt': 'alpha, second edition\n' });
  succeeded(await base.run(['publish', 'maps', '--rollout', '10', '--yes', '--json']));
}, SLOW);

async function copyOfBase(config?: Record<string, unknown>): Promise<Project> {
  // staging exists because the config names it (item: a channel must exist before it is named).
  const project = await makeProject({ packages: PACKAGES, config: { channels: ['staging'], ...config } });
  await cp(base.store, project.store, { recursive: true });
  return project;
}

const json = async (project: Project, args: string[]) => succeeded(await project.run([...args, '--json']));
const storeState = (project: Project) => snapshotTree(project.store);
const readIndex = (project: Project, key = PRODUCTION): Promise<ChannelIndex> => project.readStoreJson(key);

/** Bad input as users see it: exit 2, one `error:` line matching `message`, and the store untouched. */
async function refused(project: Project, args: string[], message: RegExp): Promise<void> {
  const before = await storeState(project);
  const result: CliResult = await project.run(args);
  expect(result.code, result.stderr).toBe(2);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(message);
  expect(await storeState(project)).toEqual(before);
}

/** A change to what already is: exit 0, the reason on stdout, and the store untouched (CI steps stay idempotent). */
async function nothingToChange(project: Project, args: string[], message: RegExp): Promise<void> {
  const before = await storeState(project);
  const result: CliResult = await project.run(args);
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toMatch(message);
  expect(result.stdout).toMatch(/nothing to change/);
  expect(await storeState(project)).toEqual(before);
}

const devices = Array.from({ length: 10_000 }, (_, i) => `device-${i}`);

/** `resolve --devices` for every device: JSON Lines, one Resolution with deviceId each. */
async function resolveAll(project: Project, extra: string[] = []): Promise<(Resolution & { deviceId: string })[]> {
  const file = join(project.dir, 'devices.txt');
  await writeFile(file, `${devices.join('\n')}\n`);
  const result = await project.run(['resolve', '--package', 'maps', '--devices', file, '--installed', '1.0.0', ...extra]);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim().split('\n').map((line) => JSON.parse(line));
}
const servedSet = (answers: { deviceId: string; version: string | null }[], version: string) =>
  new Set(answers.filter((answer) => answer.version === version).map((answer) => answer.deviceId));
const share = (served: Set<string>) => served.size / devices.length;

describe('release operations (CLI)', () => {
  it(
    'rollout, halt and resume move the same devices; resolve --devices agrees with the client module',
    async () => {
      const project = await copyOfBase();
      const atTen = await resolveAll(project);
      expect(atTen).toHaveLength(devices.length);
      expect(atTen[0].deviceId).toBe('device-0');
      const index = await readIndex(project);
      for (const answer of atTen) {
        const { deviceId, ...resolution } = answer;
        expect(resolution).toEqual(resolveUpdate(index, { package: 'maps', deviceId, installed: '1.0.0' }));
      }
      const ten = servedSet(atTen, '1.0.1');
      expect(Math.abs(share(ten) - 0.1)).toBeLessThanOrEqual(0.015);
      expect(atTen.find((answer) => ten.has(answer.deviceId))).toMatchObject({ kind: 'delta', key: 'packages/maps/1.0.1/delta-from-1.0.0.zip' });

      expect(await json(project, ['rollout', 'maps', '50', '--yes'])).toEqual({
        channel: 'production',
        package: 'maps',
        version: '1.0.1',
        previous: { state: 'active', rollout: 10 },
        current: { state: 'active', rollout: 50 },
        changed: true,
        dryRun: false,
        hooks: [],
      });
      const fifty = servedSet(await resolveAll(project), '1.0.1');
      expect(Math.abs(share(fifty) - 0.5)).toBeLessThanOrEqual(0.015);
      for (const deviceId of ten) expect(fifty.has(deviceId)).toBe(true);

      expect(await json(project, ['halt', 'maps', '--yes'])).toMatchObject({ previous: { state: 'active' }, current: { state: 'halted', rollout: 50 } });
      expect(servedSet(await resolveAll(project), '1.0.1').size).toBe(0);
      expect(await json(project, ['resume', 'maps', '--yes'])).toMatchObject({ current: { state: 'active', rollout: 50 } });
      expect(servedSet(await resolveAll(project), '1.0.1')).toEqual(fifty);

      const history = await json(project, ['history', 'maps']);
      expect(history.entries.map((entry: { action: string }) => entry.action)).toEqual(['resume', 'halt', 'rollout', 'publish', 'publish']);
      expect(history.entries[2]).toMatchObject({ version: '1.0.1', from: 10, to: 50, actor: expect.any(String), at: expect.any(String) });
      // Every entry has the documented keys; a publish has no from/to.
      for (const entry of history.entries) expect(Object.keys(entry)).toEqual(['at', 'actor', 'action', 'version', 'from', 'to', 'details']);
      expect(history.entries[3]).toMatchObject({ action: 'publish', from: null, to: null });
    },
    SLOW,
  );

  it(
    'refuses bad rollout, halt and resume input with one line, leaving the store as it was',
    async () => {
      const project = await copyOfBase();
      await refused(project, ['rollout', 'maps', '150', '--yes'], /rollout '150' is outside 0–100/);
      await refused(project, ['rollout', 'nope', '5', '--yes'], /package 'nope' has no releases on channel 'production'; released there: maps, levels/);
      await refused(project, ['halt', 'maps', '--channel', 'nope', '--yes'], /unknown channel 'nope' .*; channels: production/);
      await nothingToChange(project, ['resume', 'maps', '--yes'], /1\.0\.1 on channel 'production' is not halted/);
      // A rollout to the share already served would rewrite the index, add history and fire hooks: it changes nothing, exit 0.
      succeeded(await project.run(['rollout', 'maps', '100', '--yes']));
      await nothingToChange(project, ['rollout', 'maps', '100', '--yes'], /package 'maps' 1\.0\.1 on channel 'production' is already at 100%; nothing to change/);
      expect(await json(project, ['rollout', 'maps', '100', '--yes'])).toMatchObject({ version: '1.0.1', changed: false, hooks: [] });
      succeeded(await project.run(['halt', 'maps', '--yes']));
      await nothingToChange(project, ['halt', 'maps', '--yes'], /already halted; run 'update-publish resume maps'/);

      const before = await storeState(project);
      const dryRun = await json(project, ['rollout', 'maps', '30', '--dry-run']);
      expect(dryRun).toMatchObject({ dryRun: true, current: { state: 'halted', rollout: 30 } });
      expect(await storeState(project)).toEqual(before);

      // maps@<version>: only the release served is changed; one a publish replaced meanwhile is refused.
      await refused(project, ['rollout', 'maps@1.0.0', '30', '--yes'], /package 'maps' on channel 'production' serves 1\.0\.1, not 1\.0\.0/);
      await refused(project, ['resume', 'maps@1.0.0', '--yes'], /serves 1\.0\.1, not 1\.0\.0/);
      expect(await json(project, ['resume', 'maps@1.0.1', '--yes'])).toMatchObject({ version: '1.0.1', changed: true, current: { state: 'active' } });
    },
    SLOW,
  );

  it(
    'rollback sends devices on the bad version back, then refuses when nothing is left; --to serves a version again',
    async () => {
      const project = await copyOfBase();
      expect(await json(project, ['rollback', 'maps', '--yes'])).toEqual({
        channel: 'production',
        package: 'maps',
        from: '1.0.1',
        to: '1.0.0',
        rolledBack: ['1.0.1'],
        dryRun: false,
        hooks: [],
      });
      expect(await json(project, ['resolve', '--package', 'maps', '--device-id', 'd1', '--installed', '1.0.1'])).toMatchObject({
        update: true,
        version: '1.0.0',
        kind: 'full',
        key: 'packages/maps/1.0.0/full.zip',
        reason: 'rollback',
      });
      await refused(project, ['rollback', 'maps', '--yes'], /no active release before 1\.0\.0 to roll back to/);
      await refused(project, ['rollback', 'levels', '--yes'], /package 'levels' on channel 'production' has no active release before 1\.0\.0/);
      await refused(project, ['rollback', 'maps', '--to', '0.9.0', '--yes'], /no version 0\.9\.0 on channel 'production'; released there: 1\.0\.1, 1\.0\.0/);

      expect(await json(project, ['rollback', 'maps', '--to', '1.0.1', '--yes'])).toMatchObject({ from: '1.0.0', to: '1.0.1', rolledBack: [] });
      expect((await readIndex(project)).packages.maps.releases.map((release) => release.state)).toEqual(['active', 'active']);
      const history = await json(project, ['history', 'maps']);
      expect(history.entries.slice(0, 2)).toMatchObject([
        { action: 'rollback', version: '1.0.1', from: '1.0.0', to: '1.0.1' },
        { action: 'rollback', version: '1.0.0', from: '1.0.1', to: '1.0.0', details: { rolledBack: ['1.0.1'] } },
      ]);
      await refused(project, ['history', 'nope'], /package 'nope' has no history on channel 'production'/);
    },
    SLOW,
  );

  it(
    'promote adds the same bytes to another channel with fresh rules; the two channels never affect each other',
    async () => {
      const project = await copyOfBase();
      const packagesBefore = await snapshotTree(join(project.store, 'packages'));
      const dryRun = await json(project, ['promote', 'maps', '--from', 'production', '--to', 'staging', '--dry-run']);
      expect(dryRun).toMatchObject({ version: '1.0.1', dryRun: true });
      expect(await snapshotTree(join(project.store, 'channels'))).not.toHaveProperty(['staging/index.json']);

      expect(await json(project, ['promote', 'maps', '--from', 'production', '--to', 'staging', '--rollout', '20', '--mandatory', '--yes'])).toEqual({
        from: 'production',
        to: 'staging',
        package: 'maps',
        version: '1.0.1',
        rules: { rollout: 20, rolloutBasisPoints: 2000, mandatory: true },
        message: null,
        commit: null,
        deltasFrom: ['1.0.0'],
        dryRun: false,
        hooks: [],
      });
      const [production, staging] = [await readIndex(project), await readIndex(project, STAGING)];
      const { releasedAt: _a, rules: sourceRules, ...source } = production.packages.maps.releases[0];
      const { releasedAt: _b, rules, ...promoted } = staging.packages.maps.releases[0];
      expect(promoted).toEqual(source);
      expect([sourceRules.rollout, rules.rollout]).toEqual([10, 20]);
      expect(await snapshotTree(join(project.store, 'packages'))).toEqual(packagesBefore);
      expect((await json(project, ['history', 'maps', '--channel', 'staging'])).entries).toMatchObject([
        { action: 'promote', version: '1.0.1', from: 'production', to: 'staging' },
      ]);

      await refused(project, ['promote', 'maps@1.0.1', '--from', 'production', '--to', 'staging', '--yes'], /1\.0\.1 is already on channel 'staging'/);
      await refused(project, ['promote', 'maps', '--from', 'production', '--to', 'production', '--yes'], /--from and --to are both 'production'/);
      await refused(project, ['promote', 'maps@3.0.0', '--from', 'production', '--to', 'staging', '--yes'], /no version 3\.0\.0 on channel 'production'/);
      await refused(project, ['promote', 'maps', '--from', 'nope', '--to', 'staging', '--yes'], /unknown channel 'nope'/);
      await refused(project, ['promote', 'levels', '--from', 'production', '--to', 'staging', '--whitelist', 'ghosts', '--yes'], /unknown whitelist 'ghosts'/);

      // A manifest altered in the store is not promoted: devices on the target would refuse it.
      const levelsManifest = project.storePath('packages/levels/1.0.0/manifest.json');
      const original = await readFile(levelsManifest);
      // Same size, one byte changed: the SHA-256 the index lists catches it.
      const flipped = Buffer.from(original);
      flipped[original.indexOf('"id"') + 1] = 'I'.charCodeAt(0);
      await writeFile(levelsManifest, flipped);
      const beforeAltered = await storeState(project);
      const altered = await project.run(['promote', 'levels', '--from', 'production', '--to', 'staging', '--yes']);
      expect(altered.code).toBe(1);
      expect(altered.stderr).toMatch(
        /^error: packages\/levels\/1\.0\.0\/manifest\.json: SHA-256 is [0-9a-f]{64} but the channel index lists [0-9a-f]{64}: the manifest was altered or replaced\n$/,
      );
      expect(await storeState(project)).toEqual(beforeAltered);
      // Grown: refused at the size the index lists, before it is read whole.
      await writeFile(levelsManifest, Buffer.concat([original, Buffer.from(' ')]));
      const beforeGrown = await storeState(project);
      const grown = await project.run(['promote', 'levels', '--from', 'production', '--to', 'staging', '--yes']);
      expect(grown.code).toBe(1);
      expect(grown.stderr).toMatch(/^error: packages\/levels\/1\.0\.0\/manifest\.json is larger than the \d+ bytes a device reads for it/);
      expect(await storeState(project)).toEqual(beforeGrown);
      await writeFile(levelsManifest, original);

      // Changes on staging leave production byte for byte as it was, and the other way round.
      const productionBytes = await readFile(project.storePath(PRODUCTION));
      succeeded(await project.run(['rollout', 'maps', '100', '--channel', 'staging', '--yes']));
      succeeded(await project.run(['halt', 'maps', '--channel', 'staging', '--yes']));
      expect(await readFile(project.storePath(PRODUCTION))).toEqual(productionBytes);
      const stagingBytes = await readFile(project.storePath(STAGING));
      succeeded(await project.run(['rollback', 'maps', '--yes']));
      expect(await readFile(project.storePath(STAGING))).toEqual(stagingBytes);
      expect((await json(project, ['history', 'maps', '--channel', 'staging'])).entries.map((entry: { action: string }) => entry.action)).toEqual([
        'halt',
        'rollout',
        'promote',
      ]);
    },
    SLOW,
  );

  it(
    'whitelists: uploaded from CSV, sharded, listed, removed; a whitelisted device gets a 0% release',
    async () => {
      const project = await copyOfBase();
      const csv = join(project.dir, 'qa.csv');
      await writeFile(csv, 'device_id,owner\nqa-1,anna\n"qa-2",bo\nqa-1,anna\n');
      expect(await json(project, ['whitelist', 'upload', 'qa', csv, '--yes'])).toEqual({ name: 'qa', count: 2, shards: 1, channels: [], dryRun: false });
      expect(await project.readStoreJson('whitelists/qa/meta.json')).toMatchObject({ name: 'qa', count: 2, shards: 1 });
      expect(await project.readStoreJson('whitelists/qa/v1/shard-000.json')).toEqual({ list: 'qa', version: 1, shard: 0, ids: ['qa-1', 'qa-2'] });
      expect((await json(project, ['whitelist', 'ls'])).whitelists).toMatchObject([{ name: 'qa', count: 2, shards: 1, uploadedAt: expect.any(String) }]);

      succeeded(await project.run(['promote', 'maps', '--from', 'production', '--to', 'staging', '--rollout', '0', '--whitelist', 'qa', '--yes']));
      const ask = (deviceId: string) => json(project, ['resolve', '--package', 'maps', '--channel', 'staging', '--device-id', deviceId]);
      expect(await ask('qa-2')).toMatchObject({ update: true, version: '1.0.1' });
      expect(await ask('someone-else')).toMatchObject({ update: false, reason: 'no-matching-release' });
      const batchFile = join(project.dir, 'batch.txt');
      await writeFile(batchFile, 'someone-else\nqa-1\n');
      const batch = await project.run(['resolve', '--package', 'maps', '--channel', 'staging', '--devices', batchFile]);
      expect(batch.stdout.trim().split('\n').map((line) => JSON.parse(line))).toMatchObject([
        { deviceId: 'someone-else', update: false },
        { deviceId: 'qa-1', update: true, version: '1.0.1' },
      ]);

      const empty = join(project.dir, 'empty.txt');
      await writeFile(empty, '\n\n');
      await refused(project, ['whitelist', 'upload', 'qa', empty, '--yes'], /empty\.txt holds no ids/);
      const malformed = join(project.dir, 'bad.txt');
      await writeFile(malformed, 'ok-1\nnot ok\n');
      await refused(project, ['whitelist', 'upload', 'qa', malformed, '--yes'], /bad\.txt line 2: "not ok" is not an id/);
      await refused(project, ['whitelist', 'rm', 'nope', '--yes'], /unknown whitelist 'nope'; stored: qa/);

      const removed = await project.run(['whitelist', 'rm', 'qa', '--yes', '--json']);
      expect(succeeded(removed)).toEqual({ name: 'qa', removed: true, dryRun: false });
      expect(removed.stderr).toContain("warning: whitelist 'qa' is named by maps@1.0.1 on staging: its devices will get those releases only through the rollout");
      expect((await json(project, ['whitelist', 'ls'])).whitelists).toEqual([]);
      const result = await project.run(['resolve', '--package', 'maps', '--channel', 'staging', '--device-id', 'qa-2', '--json']);
      expect(result.json).toMatchObject({ update: false });
      expect(result.stderr).toMatch(/whitelist 'qa' named by a rule is not in the store/);
    },
    SLOW,
  );

  it(
    'runs hooks with the event after a change, and not with --no-hooks',
    async () => {
      const project = await copyOfBase({ hooks: [{ type: 'command', run: 'cat >> events.jsonl && echo >> events.jsonl' }] });
      const outcome = await json(project, ['rollout', 'maps', '25', '--yes']);
      expect(outcome.hooks).toMatchObject([{ name: 'command', event: 'rollout', status: 'ok' }]);
      succeeded(await project.run(['halt', 'maps', '--yes', '--no-hooks']));
      const events = (await readFile(join(project.dir, 'events.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
      expect(events).toMatchObject([
        { event: 'rollout', package: 'maps', version: '1.0.1', channel: 'production', rollout: 25, changedKeys: [PRODUCTION] },
      ]);
    },
    SLOW,
  );

  it(
    'a damaged history log stops a halt before anything is written (it records the index versions a replay is told by); once a person accepts the index, the halt goes through with its hooks',
    async () => {
      const project = await copyOfBase({ hooks: [{ type: 'command', run: 'cat > event.json' }] });
      await writeFile(project.storePath('channels/production/history/maps.json'), '{ not json');
      const version = (await readIndex(project)).version;
      const before = await storeState(project);
      const refused = await project.run(['halt', 'maps', '--yes', '--json']);
      expect(refused.code, refused.stderr).toBe(1);
      expect(refused.stderr.trim()).toMatch(
        new RegExp(`^error: channels/production/history/maps\\.json is not valid JSON .*: it records which versions of channels/production/index\\.json were written.*'update-publish refresh --channel production --accept-index ${version} --yes'`),
      );
      expect(await storeState(project)).toEqual(before);

      succeeded(await project.run(['refresh', '--channel', 'production', '--accept-index', String(version), '--yes', '--json']));
      const result = await project.run(['halt', 'maps', '--yes', '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json).toMatchObject({ package: 'maps', current: { state: 'halted' }, hooks: [{ status: 'ok' }] });
      expect((await readIndex(project)).packages.maps.releases[0].state).toBe('halted');
      expect(JSON.parse(await readFile(join(project.dir, 'event.json'), 'utf8'))).toMatchObject({ event: 'halt', package: 'maps' });
    },
    SLOW,
  );

  it(
    'an index copied from another channel is refused by every reader and writer, as devices refuse it',
    async () => {
      const project = await copyOfBase();
      await cp(project.storePath(PRODUCTION), project.storePath(STAGING));
      const before = await storeState(project);
      for (const args of [['rollout', 'maps', '50', '--yes'], ['resolve', '--package', 'maps'], ['status']]) {
        const result = await project.run([...args, '--channel', 'staging']);
        expect(result.code, result.stderr).toBe(1);
        expect(result.stderr.trim()).toMatch(/^error: channels\/staging\/index\.json: names channel 'production', not 'staging': it was copied from another channel; restore it/);
      }
      expect(await storeState(project)).toEqual(before);
    },
    SLOW,
  );

  it(
    'two writers at once on one channel: both changes land (conditional writes, retried)',
    async () => {
      const project = await copyOfBase();
      const [rollout, halt] = await Promise.all([
        project.run(['rollout', 'maps', '30', '--yes']),
        project.run(['halt', 'levels', '--yes']),
      ]);
      expect(rollout.code, rollout.stderr).toBe(0);
      expect(halt.code, halt.stderr).toBe(0);
      const index = await readIndex(project);
      expect(index.packages.maps.releases[0].rules.rollout).toBe(30);
      expect(index.packages.levels.releases[0].state).toBe('halted');
    },
    SLOW,
  );
});
