/**
 * Switches end to end on the folder store: set, target, roll out, roll back,
 * resolve (the CLI and the client module agree, over 10,000 devices),
 * concurrent writers, signatures, hooks, and bad input.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSwitchesDocument } from '../../src/client/fetch/channel-documents.js';
import { storeSource } from '../../src/client/fetch/source.js';
import { resolveSwitches } from '../../src/client/switches.js';
import { trustedKeyFromPem } from '../../src/protocol/document-signature.js';
import { createFolderStore } from '../../src/store/folder-store.js';
import { expectRefused, makeProject, removeProjects, snapshotTree, succeeded, type Project } from '../helpers/cli.js';
import { closeTerminals, openTerminal, tmuxInstalled } from '../helpers/terminal.js';

const SWITCHES = 'channels/production/switches.json';
const devices = Array.from({ length: 10_000 }, (_, i) => `device-${i}`);

afterAll(async () => {
  await closeTerminals();
  await removeProjects();
});

/** The stored document, read as a device reads it. */
const stored = async (project: Project, publicKeys?: Parameters<typeof readSwitchesDocument>[2]) =>
  (await readSwitchesDocument(storeSource(createFolderStore(project.store)), 'production', publicKeys)).document;


describe('switches (folder store)', () => {
  let project: Project;
  beforeAll(async () => {
    project = await makeProject();
  });
  const run = async (...args: string[]) => succeeded(await project.run([...args, '--yes', '--json']));
  const read = async (...args: string[]) => succeeded(await project.run([...args, '--json']));

  it('sets a default, targets a variant, rolls it out, rolls back, and resolves as the client module does', async () => {
    expect(await run('switch', 'set', 'newCheckout', 'false', '--type', 'boolean')).toMatchObject({
      channel: 'production',
      key: 'newCheckout',
      variant: null,
      value: false,
      previous: null,
      documentVersion: 1,
      dryRun: false,
      hooks: [],
    });
    expect(await run('switch', 'set', 'newCheckout', 'true', '--platform', 'ios', '--rollout', '10')).toMatchObject({
      variant: 1,
      rules: { rollout: 10, platforms: ['ios'] },
      documentVersion: 2,
    });
    await run('switch', 'set', 'limits', '{"max":3}');

    const ten = await stored(project);
    expect(ten).toMatchObject({ version: 3, switches: { newCheckout: { type: 'boolean', default: false, variants: [{ value: true, rules: { rollout: 10, platforms: ['ios'] } }] } } });
    const servedAt = (document: typeof ten) =>
      new Set(devices.filter((deviceId) => resolveSwitches(document, { deviceId, platform: 'ios' }).values.newCheckout === true));
    const tenPercent = servedAt(ten);
    expect(Math.abs(tenPercent.size / devices.length - 0.1)).toBeLessThanOrEqual(0.01);

    // The CLI answers for one device exactly what the client module answers.
    const inside = [...tenPercent][0];
    const answer = await read('switch', 'resolve', '--device-id', inside, '--platform', 'ios');
    expect(answer).toEqual({
      channel: 'production',
      documentVersion: 3,
      deviceId: inside,
      values: { newCheckout: true, limits: { max: 3 } },
      reasons: { newCheckout: { source: 'variant', variant: 1 }, limits: { source: 'default' } },
    });
    expect((await read('switch', 'resolve', '--device-id', inside, '--platform', 'android')).values.newCheckout).toBe(false);

    // Rolling out: the same conditions at 50 % keep every device the 10 % had.
    expect(await run('switch', 'set', 'newCheckout', 'true', '--platform', 'ios', '--rollout', '50')).toMatchObject({
      variant: 1,
      previousRules: { rollout: 10 },
      documentVersion: 4,
    });
    const fifty = await stored(project);
    expect(fifty.switches.newCheckout.variants).toHaveLength(1);
    const fiftyPercent = servedAt(fifty);
    expect(Math.abs(fiftyPercent.size / devices.length - 0.5)).toBeLessThanOrEqual(0.01);
    expect([...tenPercent].filter((id) => !fiftyPercent.has(id))).toEqual([]);

    // Back to the 10 %, as version 5.
    expect(await run('switch', 'rollback')).toMatchObject({ from: 4, to: 3, keys: ['newCheckout'], documentVersion: 5 });
    const rolledBack = await stored(project);
    expect(rolledBack.switches).toEqual(ten.switches);
    expect(await run('switch', 'rollback', '--to', '1')).toMatchObject({ from: 5, to: 1, keys: ['limits', 'newCheckout'], documentVersion: 6 });
    expect(Object.keys((await stored(project)).switches)).toEqual(['newCheckout']);

    const history = await read('switch', 'history', 'newCheckout');
    expect(history.entries.map((entry: { version: number; action: string }) => [entry.version, entry.action])).toEqual([
      [6, 'rollback'],
      [5, 'rollback'],
      [4, 'set'],
      [2, 'set'],
      [1, 'set'],
    ]);
    expect(history.entries[2]).toMatchObject({ actor: expect.any(String), at: expect.any(String), keys: ['newCheckout'], variant: 1, value: true });
    expect((await read('switch', 'history')).entries).toHaveLength(6);
    expect(await read('switch', 'get', 'newCheckout')).toMatchObject({
      documentVersion: 6,
      key: 'newCheckout',
      type: 'boolean',
      default: false,
      variants: [],
    });
    expect((await read('switch', 'ls')).switches.map((entry: { key: string }) => entry.key)).toEqual(['newCheckout']);
  });

  it('removes a key or one variant; a dry run writes nothing', async () => {
    await run('switch', 'set', 'banner', '"spring"');
    await run('switch', 'set', 'banner', '"summer"', '--attr', 'region=eu');
    const before = await snapshotTree(project.store);
    expect(await run('switch', 'rm', 'banner', '--variant', '1', '--dry-run')).toMatchObject({ key: 'banner', variant: 1, dryRun: true });
    expect(await snapshotTree(project.store)).toEqual(before);
    await run('switch', 'rm', 'banner', '--variant', '1');
    expect((await stored(project)).switches.banner).toEqual({ default: 'spring', variants: [] });
    await run('switch', 'rm', 'banner');
    expect((await stored(project)).switches.banner).toBeUndefined();
  });

  it('serves a variant to a whitelist whatever its rollout, and warns when the whitelist is removed', async () => {
    await writeFile(join(project.dir, 'qa.txt'), 'qa-phone-1\nqa-phone-2\n');
    succeeded(await project.run(['whitelist', 'upload', 'qa', 'qa.txt', '--yes', '--json']));
    await run('switch', 'set', 'debugMenu', 'false');
    await run('switch', 'set', 'debugMenu', 'true', '--rollout', '0', '--whitelist', 'qa');
    expect((await read('switch', 'resolve', '--device-id', 'qa-phone-2')).values.debugMenu).toBe(true);
    expect((await read('switch', 'resolve', '--device-id', 'someone-else')).values.debugMenu).toBe(false);
    const removed = await project.run(['whitelist', 'rm', 'qa', '--yes']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stderr).toContain("warning: whitelist 'qa' is named by switch debugMenu variant 1 on production");
    await run('switch', 'rm', 'debugMenu');
  });

  it('keeps both changes when two processes set switches at the same moment', async () => {
    const fresh = await makeProject();
    const results = await Promise.all(
      ['alpha', 'beta', 'gamma'].map((key) => fresh.run(['switch', 'set', key, 'true', '--yes', '--json'], { spawn: true })),
    );
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    expect(results.map((result) => result.json.documentVersion).sort()).toEqual([1, 2, 3]);
    const document = await stored(fresh);
    expect(Object.keys(document.switches).sort()).toEqual(['alpha', 'beta', 'gamma']);
    expect(document.version).toBe(3);
    expect((await fresh.run(['switch', 'history', '--json'])).json.entries).toHaveLength(3);
  });

  it('refuses bad input with one line, exit 2, and writes nothing', async () => {
    await run('switch', 'set', 'retries', '3', '--type', 'number');
    const before = await snapshotTree(project.store);
    const attempt = async (args: string[], message: RegExp) => {
      expectRefused(await project.run(args), 2, message);
      expect(await snapshotTree(project.store)).toEqual(before);
    };
    await attempt(['switch', 'get', 'nope'], /unknown switch 'nope' on channel 'production'; switches: /);
    await attempt(['switch', 'rm', 'nope', '--yes'], /unknown switch 'nope'/);
    await attempt(['switch', 'set', 'color', 'blue', '--yes'], /value 'blue' is not JSON/);
    await attempt(['switch', 'set', 'retries', '"three"', '--yes'], /is a string, but switch 'retries' is of type number/);
    await attempt(['switch', 'set', 'retries', '4', '--type', 'string', '--yes'], /its type cannot change/);
    await attempt(['switch', 'set', 'flag', 'true', '--type', 'bool', '--yes'], /--type 'bool' is not one of boolean, number, string, json/);
    await attempt(['switch', 'set', 'retries', '5', '--default', '--rollout', '10', '--yes'], /--default sets the key's default value/);
    await attempt(['switch', 'set', 'fresh', 'true', '--rollout', '10', '--yes'], /has no default value yet/);
    await attempt(['switch', 'set', 'retries', '5', '--whitelist', 'nobody', '--yes'], /whitelist/);
    await attempt(['switch', 'rm', 'retries', '--variant', '1', '--yes'], /has no variants/);
    await attempt(['switch', 'rollback', '--to', '999', '--yes'], /--to 999 is not a version/);
    await attempt(['switch', 'set', 'huge', JSON.stringify('x'.repeat(140 * 1024)), '--yes'], /switches\.json would be 140 KiB, over its cap of 128 KiB/);
  });

  it('refuses values no reader could read back, before writing (issue 28 item 9): 1e400, a lone surrogate, 20,000 levels, a 30-digit number, a name twice', async () => {
    await run('switch', 'set', 'limit', '3', '--type', 'number');
    const before = await snapshotTree(project.store);
    for (const [value, message] of [
      ['1e400', /value '1e400' cannot be stored: number 1e400 is beyond the range of a double/],
      ['"\\ud800"', /cannot be stored: a string holds a lone surrogate/],
      ['['.repeat(20000) + ']'.repeat(20000), /cannot be stored: nested deeper than 256 levels/],
      ['['.repeat(65) + '1' + ']'.repeat(65), /deeper than 64 levels/],
      ['123456789012345678901234567890', /is an integer beyond 2\^53, which devices read rounded; store it as a string/],
      ['{"a":1,"a":2}', /cannot be stored: member name "a" appears twice in one object/],
    ] as const) {
      const result = await project.run(['switch', 'set', value.startsWith('1') && value.length < 10 ? 'limit' : 'other', value, '--yes']);
      expectRefused(result, 2, message);
      expect(result.stderr).not.toMatch(/bug|unexpected error/);
      expect(await snapshotTree(project.store)).toEqual(before);
    }
    expect(succeeded(await project.run(['switch', 'get', 'limit', '--json']))).toBeTruthy();
  });

  it('runs the hooks subscribed to switch events with the event, and not the others', async () => {
    const hooked = await makeProject({
      config: {
        hooks: [
          { type: 'command', name: 'record', run: 'cat > switch-event.json; env | grep ^UP_ | sort > switch-env.txt', on: ['switch'] },
          { type: 'command', name: 'publish-only', run: 'touch publish-ran', on: ['publish'] },
        ],
      },
    });
    const result = succeeded(await hooked.run(['switch', 'set', 'newCheckout', 'true', '--yes', '--json']));
    expect(result.hooks).toEqual([
      expect.objectContaining({ name: 'record', event: 'switch', document: SWITCHES, documentVersion: 1, status: 'ok' }),
    ]);
    const event = JSON.parse(await readFile(join(hooked.dir, 'switch-event.json'), 'utf8'));
    expect(event).toMatchObject({ event: 'switch', action: 'set', keys: ['newCheckout'], channel: 'production', documentVersion: 1, changedKeys: [SWITCHES, 'channels/production/index.json'] });
    expect(event.document.switches.newCheckout.default).toBe(true);
    const env = await readFile(join(hooked.dir, 'switch-env.txt'), 'utf8');
    expect(env).toContain('UP_EVENT=switch\n');
    expect(env).toContain('UP_KEYS=newCheckout\n');
    expect(env).toContain(`UP_DOCUMENT_KEY=${SWITCHES}\n`);
  });
});

describe('signed switches', () => {
  let project: Project;
  beforeAll(async () => {
    project = await makeProject({ config: { signing: { privateKey: 'keys/signing-private.pem' } } });
    succeeded(await project.run(['keys', 'generate', '--out', 'keys', '--json']));
    succeeded(await project.run(['switch', 'set', 'newCheckout', 'false', '--yes']));
  });
  const trusted = () => ['--public-key', join(project.dir, 'keys', 'signing-public.pem')];
  const publicKey = async () => [trustedKeyFromPem(await readFile(join(project.dir, 'keys', 'signing-public.pem'), 'utf8'))];

  it('signs every document it writes, and a device trusting the key reads them', async () => {
    for (const key of [SWITCHES, 'channels/production/switches/1.json', 'channels/production/switches/history.json']) {
      expect((await project.readStoreJson(key)).signatures).toEqual([{ keyid: expect.stringMatching(/^[0-9a-f]{16}$/), alg: 'ed25519', sig: expect.any(String) }]);
    }
    expect(succeeded(await project.run(['switch', 'resolve', '--device-id', 'd1', ...trusted(), '--json'])).values).toEqual({ newCheckout: false });
    expect((await stored(project, await publicKey())).switches.newCheckout.default).toBe(false);
  });

  it('refuses a tampered document: devices, the next change and verify', async () => {
    const path = project.storePath(SWITCHES);
    const original = await readFile(path, 'utf8');
    await writeFile(path, original.replace('"default":false', '"default":true'));
    try {
      const before = await snapshotTree(project.store);
      // A device trusting the key refuses it; so does the publisher, before building on it.
      await expect(stored(project, await publicKey())).rejects.toThrow(/switches\.json: signature by key [0-9a-f]+ does not match the content/);
      expectRefused(await project.run(['switch', 'resolve', '--device-id', 'd1', ...trusted()]), 1, /switches\.json:? signature by key [0-9a-f]+ does not match the content/);
      expectRefused(await project.run(['switch', 'set', 'other', '1', '--yes']), 1, /switches\.json signature by key [0-9a-f]+ does not match the content.*keys resign/);
      expect(await snapshotTree(project.store)).toEqual(before);
      const report = await project.run(['verify', '--json']);
      expect(report.json.problems).toContainEqual({ key: SWITCHES, problem: expect.stringMatching(/does not match the content/) });
    } finally {
      await writeFile(path, original);
    }
  });
});

describe('fresh switches and app releases', () => {
  it('expire like the index: devices refuse a frozen copy, refresh writes a new version, rollback skips the refreshed copies', async () => {
    const project = await makeProject({ config: { signing: { privateKey: 'keys/signing-private.pem', indexLifetime: '2d' } } });
    succeeded(await project.run(['keys', 'generate', '--out', 'keys', '--json']));
    succeeded(await project.run(['switch', 'set', 'flag', 'false', '--yes']));
    succeeded(await project.run(['switch', 'set', 'flag', 'true', '--yes']));
    succeeded(await project.run(['app-release', 'add', '--platform', 'ios', '--version', '3.2.0', '--url', 'https://apps.apple.com/app/id1', '--yes']));
    const written = await stored(project);
    expect(Date.parse(written.expires!) - Date.parse(written.updatedAt)).toBe(2 * 24 * 3600 * 1000);

    // Past both documents' expiry: app-releases.json was written after switches.json (seconds later on a busy machine).
    const later = new Date(Date.parse(written.expires!) + 3_600_000).toISOString();
    // The index, read first (it names the documents' versions), was written with them and expires with them.
    expectRefused(await project.run(['switch', 'resolve', '--device-id', 'd1', '--now', later]), 1, /channel 'production' index expired at .*update-publish refresh/);
    expectRefused(
      await project.run(['app-release', 'resolve', '--platform', 'ios', '--app-version', '3.0.0', '--now', later]),
      1,
      /channel 'production' index expired at/,
    );

    const refreshed = succeeded(await project.run(['refresh', '--json']));
    expect(refreshed.channels).toEqual([
      { channel: 'production', version: 4, expires: expect.any(String), switches: { version: 3, expires: expect.any(String) }, appReleases: { version: 2, expires: expect.any(String) } },
    ]);
    expect(Date.parse(refreshed.channels[0].switches.expires)).toBeGreaterThan(Date.parse(written.expires!));
    expect((await stored(project)).switches).toEqual(written.switches);
    // The refreshed copy holds the same switches: rollback goes back to the last change.
    expect(succeeded(await project.run(['switch', 'rollback', '--yes', '--json']))).toMatchObject({ from: 3, to: 1, documentVersion: 4 });
    expect((await stored(project)).switches.flag.default).toBe(false);
  });
});

describe.skipIf(!tmuxInstalled)('switch changes at a terminal', () => {
  it('asks first: no writes nothing, yes writes', async () => {
    const project = await makeProject();
    succeeded(await project.run(['switch', 'set', 'newCheckout', 'false', '--yes']));
    const before = await snapshotTree(project.store);
    const declined = await openTerminal(['switch', 'set', 'newCheckout', 'true', '--rollout', '10'], { cwd: project.dir });
    await declined.waitFor("Set variant 1 (rollout 10%) of switch 'newCheckout' on 'production' to true?");
    await declined.keys('n', 'Enter');
    // Declined: exit 5, as every declined confirmation (README's exit codes).
    expect(await declined.exitCode()).toBe(5);
    expect(await declined.screen()).toMatch(/cancelled; nothing was written/);
    expect(await snapshotTree(project.store)).toEqual(before);

    const accepted = await openTerminal(['app-release', 'add', '--platform', 'ios', '--version', '3.2.0', '--url', 'https://apps.apple.com/app/id1'], { cwd: project.dir });
    await accepted.waitFor("Tell ios devices on 'production' about app 3.2.0");
    await accepted.keys('y', 'Enter');
    expect(await accepted.exitCode()).toBe(0);
    expect(await project.readStoreJson('channels/production/app-releases.json')).toMatchObject({ version: 1 });
  });
});
