/**
 * App-upgrade notices end to end on the folder store: add, gray release,
 * halt, remove, resolve (the CLI and the client module agree), hooks, and bad
 * input.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveAppUpgrade } from '../../src/client/app-upgrade.js';
import { readAppReleasesDocument } from '../../src/client/fetch/channel-documents.js';
import { storeSource } from '../../src/client/fetch/source.js';
import { createFolderStore } from '../../src/store/folder-store.js';
import { expectRefused, makeProject, removeProjects, snapshotTree, succeeded, type Project } from '../helpers/cli.js';

const APP_RELEASES = 'channels/production/app-releases.json';
const STORE_URL = 'https://apps.apple.com/app/id123456789';
const devices = Array.from({ length: 10_000 }, (_, i) => `device-${i}`);

afterAll(removeProjects);

const stored = async (project: Project) => (await readAppReleasesDocument(storeSource(createFolderStore(project.store)), 'production', undefined)).document;


describe('app releases (folder store)', () => {
  let project: Project;
  beforeAll(async () => {
    project = await makeProject({
      config: { hooks: [{ type: 'command', name: 'record', run: 'cat >> app-events.jsonl; echo >> app-events.jsonl', on: ['app-release'] }] },
    });
  });
  const run = async (...args: string[]) => succeeded(await project.run([...args, '--yes', '--json']));
  const read = async (...args: string[]) => succeeded(await project.run([...args, '--json']));

  it('adds a release in gray, rolls it out, halts and removes it; devices are told as the client module says', async () => {
    expect(
      await run('app-release', 'add', '--platform', 'ios', '--version', '3.2.0', '--url', STORE_URL, '--min-supported', '3.0.0', '--message', 'Faster maps', '--rollout', '10'),
    ).toMatchObject({
      channel: 'production',
      platform: 'ios',
      version: '3.2.0',
      release: { version: '3.2.0', url: STORE_URL, minSupported: '3.0.0', message: 'Faster maps', state: 'active', rules: { rollout: 10, mandatory: false } },
      documentVersion: 1,
      dryRun: false,
      hooks: [expect.objectContaining({ name: 'record', event: 'app-release', document: APP_RELEASES, documentVersion: 1, status: 'ok' })],
    });

    const document = await stored(project);
    const told = (appVersion: string) => devices.filter((deviceId) => resolveAppUpgrade(document, { platform: 'ios', appVersion, deviceId }).update);
    expect(Math.abs(told('3.1.0').length / devices.length - 0.1)).toBeLessThanOrEqual(0.01);
    const inside = told('3.1.0')[0];
    const outside = devices.find((id) => !told('3.1.0').includes(id))!;
    expect(await read('app-release', 'resolve', '--platform', 'ios', '--app-version', '2.9.0', '--device-id', inside)).toEqual({
      channel: 'production',
      documentVersion: 1,
      update: true,
      latest: '3.2.0',
      url: STORE_URL,
      force: true,
      message: 'Faster maps',
      reason: 'below-min-supported',
    });
    expect(await read('app-release', 'resolve', '--platform', 'ios', '--app-version', '3.1.0', '--device-id', outside)).toMatchObject({
      update: false,
      reason: 'no-matching-release',
    });

    expect(await run('app-release', 'rollout', 'ios@3.2.0', '100')).toMatchObject({
      previous: { state: 'active', rollout: 10 },
      current: { state: 'active', rollout: 100 },
      documentVersion: 2,
    });
    expect(await read('app-release', 'resolve', '--platform', 'ios', '--app-version', '3.1.0', '--device-id', outside)).toMatchObject({ update: true, force: false });
    expect(await run('app-release', 'halt', 'ios@3.2.0')).toMatchObject({ current: { state: 'halted', rollout: 100 }, documentVersion: 3 });
    expect(await read('app-release', 'resolve', '--platform', 'ios', '--app-version', '3.1.0', '--device-id', outside)).toMatchObject({ update: false });
    await run('app-release', 'add', '--platform', 'ios', '--version', '3.3.0', '--url', STORE_URL, '--mandatory');
    expect(await read('app-release', 'resolve', '--platform', 'ios', '--app-version', '3.1.0')).toMatchObject({ latest: '3.3.0', force: true, reason: 'mandatory' });
    expect(await run('app-release', 'rm', 'ios@3.2.0')).toMatchObject({ previous: { state: 'halted' }, current: null, documentVersion: 5 });

    const listing = await read('app-release', 'ls');
    expect(listing).toMatchObject({ documentVersion: 5, releases: [{ platform: 'ios', version: '3.3.0', state: 'active', rules: { mandatory: true } }] });
    expect((await read('app-release', 'history')).entries.map((entry: { action: string }) => entry.action)).toEqual(['rm', 'add', 'halt', 'rollout', 'add']);

    const events = (await readFile(join(project.dir, 'app-events.jsonl'), 'utf8')).trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(events.map((event) => [event.action, event.version, event.rollout, event.documentVersion])).toEqual([
      ['add', '3.2.0', 10, 1],
      ['rollout', '3.2.0', 100, 2],
      ['halt', '3.2.0', 0, 3],
      ['add', '3.3.0', 100, 4],
      ['rm', '3.2.0', 0, 5],
    ]);
  });

  it('refuses an http:// url, a version not above the others, bad semver and unknown releases: one line, exit 2, nothing written', async () => {
    const before = await snapshotTree(project.store);
    const attempt = async (args: string[], message: RegExp) => {
      expectRefused(await project.run([...args, '--yes']), 2, message);
      expect(await snapshotTree(project.store)).toEqual(before);
    };
    const add = (version: string, url = STORE_URL, ...more: string[]) => ['app-release', 'add', '--platform', 'ios', '--version', version, '--url', url, ...more];
    await attempt(add('3.4.0', 'http://apps.apple.com/app/id1'), /--url 'http:\/\/apps\.apple\.com\/app\/id1' is not an https URL/);
    await attempt(add('3.3.0'), /ios@3\.3\.0 is not above ios@3\.3\.0 on channel 'production'/);
    await attempt(add('3.0.0'), /a new binary version must be above the platform's others/);
    await attempt(add('3.4'), /--version '3\.4' is not a semver version/);
    await attempt(add('3.4.0', STORE_URL, '--min-supported', '4.0.0'), /--min-supported 4\.0\.0 is above --version 3\.4\.0/);
    await attempt(['app-release', 'rollout', 'ios@9.9.9', '50'], /no app release ios@9\.9\.9 on channel 'production'; there: ios@3\.3\.0/);
    await attempt(['app-release', 'halt', 'ios'], /'ios' is not <platform>@<version>/);
    await attempt(['app-release', 'rollout', 'ios@3.3.0', '101'], /rollout '101' is outside 0–100/);
    expectRefused(await project.run(['app-release', 'resolve', '--platform', 'ios', '--app-version', 'three']), 2, /--app-version 'three' is not a SemVer 2\.0\.0 version/);
  });
});
