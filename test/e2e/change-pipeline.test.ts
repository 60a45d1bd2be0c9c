/**
 * Every change to a channel document goes through one pipeline
 * (src/workflows/change-pipeline.ts): known channel, no-op, confirmation,
 * conditional write, pending record, history, hooks. These are the promises
 * it makes everywhere, checked on the document kinds that used to skip them.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { expectRefused, makeProject, removeProjects, snapshotTree, succeeded } from '../helpers/cli.js';
import { closeTerminals, openTerminal, tmuxInstalled } from '../helpers/terminal.js';

afterAll(removeProjects);
afterAll(closeTerminals);

const SWITCHES = 'channels/production/switches.json';
const KILL_AFTER_WRITE = fileURLToPath(new URL('../helpers/kill-after-write.cjs', import.meta.url));
const DAY_MS = 86_400_000;

describe('a typo never creates a channel', () => {
  it('switch set and app-release add refuse an unknown channel (exit 2) and write nothing', async () => {
    const project = await makeProject();
    const before = await snapshotTree(project.store);
    expectRefused(await project.run(['switch', 'set', 'newCheckout', 'false', '--channel', 'prodution', '--yes']), 2, /unknown channel 'prodution'.*did you mean 'production'/);
    expectRefused(
      await project.run(['app-release', 'add', '--platform', 'ios', '--version', '3.2.0', '--url', 'https://apps.apple.com/app/id1', '--channel', 'prodution', '--yes']),
      2,
      /unknown channel 'prodution'/,
    );
    expect(await snapshotTree(project.store)).toEqual(before);
  });
});

describe('no-op changes succeed without writing', () => {
  it('switch set to the value it has: exit 0, changed false, no new version, no hook', async () => {
    const project = await makeProject({ config: { hooks: [{ type: 'command', run: 'echo "$UP_EVENT" >> hooks.log', on: ['switch'] }] } });
    succeeded(await project.run(['switch', 'set', 'flag', 'true', '--yes']));
    const again = await project.run(['switch', 'set', 'flag', 'true', '--yes', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json).toMatchObject({ changed: false, documentVersion: 1, unchanged: expect.stringMatching(/switch 'flag' on channel 'production' is already true there; nothing to change/) });
    expect((await project.readStoreJson(SWITCHES)).version).toBe(1);
    expect(await readFile(join(project.dir, 'hooks.log'), 'utf8')).toBe('switch\n');
  });
});

describe('stamping honours signing.indexLifetime everywhere', () => {
  it('channel create writes version 1 with an expiry; base add stamps the configured lifetime', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'alpha' } }, config: { signing: { privateKey: 'keys/signing-private.pem', indexLifetime: '3d' } } });
    succeeded(await project.run(['keys', 'generate', '--out', 'keys', '--json']));
    const started = Date.now();
    succeeded(await project.run(['channel', 'create', 'beta', '--json']));
    const created = await project.readStoreJson('channels/beta/index.json');
    expect(created.version).toBe(1);
    expect(Date.parse(created.expires) - started).toBeGreaterThan(3 * DAY_MS - 60_000);
    expect(Date.parse(created.expires) - started).toBeLessThan(3 * DAY_MS + 60_000);

    succeeded(await project.run(['base', 'add', 'maps', '--dir', 'assets/maps', '--version', '0.9.0', '--channel', 'beta', '--yes', '--json']));
    const based = await project.readStoreJson('channels/beta/index.json');
    expect(based.version).toBe(2);
    expect(Date.parse(based.expires) - Date.now()).toBeLessThan(3 * DAY_MS + 60_000);
  });
});

describe('resolve reads as a device does', () => {
  it('refuses an expired index, as fetch does', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'alpha' } }, config: { signing: { privateKey: 'keys/signing-private.pem', indexLifetime: '1s' } } });
    succeeded(await project.run(['keys', 'generate', '--out', 'keys', '--json']));
    succeeded(await project.run(['publish', '--yes']));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const result = await project.run(['resolve', '--package', 'maps', '--device-id', 'a']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/index expired at .*refused; the publisher runs 'update-publish refresh'/);
    const fetched = await project.run(['fetch', 'maps', '--into', join(project.dir, 'device'), '--json']);
    expect(fetched.code).toBe(1);
  });
});

describe('a kill after a switches write is finished by the next change', () => {
  it('the next switch change writes the snapshot, the history entry and runs the hooks; rollback --to the version works', async () => {
    const project = await makeProject({ config: { hooks: [{ type: 'command', run: 'echo "$UP_EVENT" >> hooks.log', on: ['switch'] }] } });
    succeeded(await project.run(['switch', 'set', 'flag', 'false', '--yes']));
    const killed = await project.run(['switch', 'set', 'flag', 'true', '--yes'], { env: { NODE_OPTIONS: `--require ${KILL_AFTER_WRITE}`, KILL_AFTER_WRITE: SWITCHES } });
    expect(killed.code).not.toBe(0);
    expect((await project.readStoreJson(SWITCHES)).version).toBe(2);
    expect(await readdir(project.storePath('channels/production/pending'))).toHaveLength(1);

    const next = await project.run(['switch', 'set', 'other', '1', '--yes', '--json']);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/finishing an interrupted switch set flag on 'production'/);
    expect(await readFile(join(project.dir, 'hooks.log'), 'utf8')).toBe('switch\nswitch\nswitch\n');
    const history = succeeded(await project.run(['switch', 'history', '--json']));
    expect(history.entries.map((entry: { version: number }) => entry.version)).toEqual([3, 2, 1]);
    expect(await project.readStoreJson('channels/production/switches/2.json')).toMatchObject({ version: 2 });
    expect(succeeded(await project.run(['switch', 'rollback', '--to', '2', '--yes', '--json']))).toMatchObject({ to: 2, documentVersion: 4 });
    expect(await readdir(project.storePath('channels/production/pending')).catch(() => [])).toEqual([]);
  });
});

describe('hooks run replays document events', () => {
  it('--event switch runs the hooks for the latest switch change', async () => {
    const project = await makeProject({ config: { hooks: [{ type: 'command', run: 'echo "$UP_EVENT" >> hooks.log', on: ['switch', 'app-release'] }] } });
    succeeded(await project.run(['switch', 'set', 'flag', 'false', '--yes']));
    const rerun = succeeded(await project.run(['hooks', 'run', '--event', 'switch', '--json']));
    expect(rerun).toMatchObject({ channel: 'production', document: SWITCHES, documentVersion: 1, event: 'switch' });
    expect(rerun.hooks).toHaveLength(1);
    expect(await readFile(join(project.dir, 'hooks.log'), 'utf8')).toBe('switch\nswitch\n');
    expectRefused(await project.run(['hooks', 'run', '--event', 'app-release']), 2, /no app releases changes on channel 'production'/);
    expectRefused(await project.run(['hooks', 'run', 'maps', '--event', 'switch']), 2, /not a package: drop 'maps'/);
  });
});

describe.skipIf(!tmuxInstalled)('declined confirmations exit 5', () => {
  it('base add, declined at a terminal, writes nothing and exits 5', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'alpha' } } });
    const before = await snapshotTree(project.store);
    const declined = await openTerminal(['base', 'add', 'maps', '--dir', 'assets/maps', '--version', '0.9.0'], { cwd: project.dir });
    await declined.waitFor('as a base devices may hold');
    await declined.keys('n', 'Enter');
    expect(await declined.exitCode()).toBe(5);
    expect(await snapshotTree(project.store)).toEqual(before);
  });
});
