/**
 * Issue 25: keys that survive compromise. First the attacker's trials on the
 * old trust model (each reproduced on the code before the fix), then rotation.
 */
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectRefused, makeProject, removeProjects, snapshotTree, succeeded, type Project } from '../helpers/cli.js';
import { startServe } from '../helpers/serve.js';
import { JAVA_INSTALLED, removeJavaClasses, runJavaClient } from '../helpers/java-client.js';

afterAll(removeProjects);

afterAll(removeJavaClasses);

const INDEX = 'channels/production/index.json';

async function signedProject(files: Record<string, string> = { 'a.txt': 'alpha' }, more: Record<string, Record<string, string>> = {}): Promise<Project> {
  const project = await makeProject({ packages: { maps: files, ...more }, config: { signing: { privateKey: 'keys/signing-private.pem' } } });
  succeeded(await project.run(['keys', 'generate', '--out', 'keys', '--json']));
  return project;
}
const publish = async (project: Project, args: string[] = []) => succeeded(await project.run(['publish', '--yes', '--json', ...args]));
const fetchInto = (project: Project, dir: string, args: string[] = []) => project.run(['fetch', 'maps', '--into', dir, '--json', ...args]);

/** Points signing.privateKey at a new key pair in keys-new/; the old public key stays in keys/. */
async function rotateConfigKey(project: Project): Promise<void> {
  succeeded(await project.run(['keys', 'generate', '--out', 'keys-new', '--json']));
  const config = JSON.parse(await readFile(project.configPath, 'utf8'));
  await writeFile(project.configPath, JSON.stringify({ ...config, signing: { privateKey: 'keys-new/signing-private.pem' } }));
}

describe('keys resign checks every document against the old trust before signing', () => {
  it('after a rotation, signs what the old key signed; refuses tampered documents by name and signs nothing', async () => {
    const project = await signedProject();
    await publish(project);
    await project.write('maps', { 'a.txt': 'beta' });
    await publish(project, ['--rollout', '10']);
    const oldKey = join(project.dir, 'keys', 'signing-public.pem');
    const newKey = join(project.dir, 'keys-new', 'signing-public.pem');

    // The attacker edits the rules in the store: the 10 % release becomes mandatory for everyone.
    const tampered = await makeProject({ packages: { maps: { 'a.txt': 'beta' } } });
    await cp(project.dir, tampered.dir, { recursive: true });
    const index = await tampered.readStoreJson(INDEX);
    index.packages.maps.releases[0].rules = { ...index.packages.maps.releases[0].rules, rollout: 100, rolloutBasisPoints: 10_000, mandatory: true };
    await writeFile(tampered.storePath(INDEX), JSON.stringify(index));
    await rotateConfigKey(tampered);
    const before = await snapshotTree(tampered.store);
    const refusal = await tampered.run(['keys', 'resign', '--public-key', join(tampered.dir, 'keys', 'signing-public.pem'), '--yes']);
    expectRefused(refusal, 1, /nothing was signed: .*channels\/production\/index\.json signature by key [0-9a-f]{16} does not match the content: the document was altered.*--accept KEY/);
    expect(await snapshotTree(tampered.store)).toEqual(before);
    // Without the old key nothing vouches for anything: each document is named.
    expectRefused(await tampered.run(['keys', 'resign', '--yes']), 1, /the configured key does not vouch for .*give the old public key with --public-key/);
    expect(await snapshotTree(tampered.store)).toEqual(before);
    const newKeyTampered = join(tampered.dir, 'keys-new', 'signing-public.pem');
    expect((await fetchInto(tampered, join(tampered.dir, 'device', 'maps'), ['--public-key', newKeyTampered])).code).toBe(1);

    // The untouched store rotates: everything the old key signed is signed again with the new key.
    await rotateConfigKey(project);
    const listed = succeeded(await project.run(['keys', 'resign', '--public-key', oldKey, '--dry-run', '--json']));
    expect(listed.signed).toEqual(expect.arrayContaining([INDEX, 'channels/production/history/maps.json']));
    expect(succeeded(await project.run(['keys', 'resign', '--public-key', oldKey, '--yes', '--json'])).signed).toEqual(listed.signed);
    expect(succeeded(await project.run(['verify', '--json', '--public-key', newKey])).problems).toEqual([]);
    expect(succeeded(await fetchInto(project, join(project.dir, 'device', 'maps'), ['--public-key', newKey]))).toMatchObject({ updated: true });
  });

  it('a document a person checked is signed when named with --accept; an unsigned store only with --accept-unsigned', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'alpha' } } });
    await publish(project);
    succeeded(await project.run(['keys', 'generate', '--out', 'keys', '--json']));
    const config = JSON.parse(await readFile(project.configPath, 'utf8'));
    await writeFile(project.configPath, JSON.stringify({ ...config, signing: { privateKey: 'keys/signing-private.pem' } }));
    expectRefused(await project.run(['keys', 'resign', '--yes']), 1, /channels\/production\/index\.json carries no signature .*--accept-unsigned/);
    expect(succeeded(await project.run(['keys', 'resign', '--accept-unsigned', '--yes', '--json'])).signed).toContain(INDEX);

    // Now signed: a stripped signature is tampering, --accept-unsigned does not cover it.
    const index = await project.readStoreJson(INDEX);
    delete index.signatures;
    index.packages.maps.releases[0].rules.mandatory = true;
    await writeFile(project.storePath(INDEX), JSON.stringify(index));
    expectRefused(await project.run(['keys', 'resign', '--accept-unsigned', '--yes']), 1, /channels\/production\/index\.json carries no signature .*in a signed store it was changed outside update-publish/);
    expectRefused(await project.run(['keys', 'resign', '--accept', 'channels/production/nope.json', '--yes']), 2, /--accept channels\/production\/nope\.json: no such document/);
    expect(succeeded(await project.run(['keys', 'resign', '--accept', INDEX, '--yes', '--json'])).signed).toEqual([INDEX]);
  });
});

describe('a publisher without signing never silently unsigns a signed store', () => {
  it('refuses (exit 2) before writing anything, in a dry run too; --allow-unsigned writes anyway', async () => {
    const project = await signedProject();
    await publish(project);
    const config = JSON.parse(await readFile(project.configPath, 'utf8'));
    delete config.signing;
    await writeFile(project.configPath, JSON.stringify(config));
    await project.write('maps', { 'a.txt': 'unsigned' });
    const before = await snapshotTree(project.store);
    const message = /is a signed store \(channels\/production\/index\.json carries signatures\) but the config has no "signing".*--allow-unsigned/;
    const refusedPublish = await project.run(['publish', '--yes']);
    expectRefused(refusedPublish, 2, message);
    // Before any work: nothing hashed or packed.
    expect(refusedPublish.stderr).not.toMatch(/hashing|packing/);
    expectRefused(await project.run(['rollout', 'maps', '50', '--yes']), 2, message);
    expect((await project.run(['publish', '--dry-run'])).code).toBe(2);
    expect(await snapshotTree(project.store)).toEqual(before);
    // Reading commands are not writes.
    succeeded(await project.run(['status', '--json']));
    expect((await publish(project, ['--allow-unsigned'])).packages[0]).toMatchObject({ status: 'published', version: '1.0.1' });
    expect((await project.readStoreJson(INDEX)).signatures).toBeUndefined();
  });
});

describe('a publisher never builds on a replayed index', () => {
  it('an older signed index put back is refused by the next publish and rollout (its halted release stays halted); devices never see it signed again', async () => {
    const project = await signedProject({ 'a.txt': 'alpha' }, { levels: { 'l.txt': 'one' } });
    await publish(project, ['maps']);
    await project.write('maps', { 'a.txt': 'beta' });
    await publish(project, ['maps']);
    const withActive = await readFile(project.storePath(INDEX));
    succeeded(await project.run(['halt', 'maps', '--yes', '--json']));
    expect((await project.readStoreJson('channels/production/history/maps.json')).entries.map((entry: { indexVersion?: number }) => entry.indexVersion)).toEqual([1, 2, 3]);

    // The attacker puts back the signed index of version 2, where 1.0.1 is still active.
    await writeFile(project.storePath(INDEX), withActive);
    const before = await snapshotTree(project.store);
    const replay = /index\.json is version 2, but the channel's history records that version 3 was written: an older index was put back in the store \(a replay\); nothing was written/;
    expectRefused(await project.run(['publish', 'levels', '--yes']), 1, replay);
    expectRefused(await project.run(['rollout', 'maps', '50', '--yes']), 1, replay);
    expectRefused(await project.run(['refresh']), 1, replay);
    expect(await snapshotTree(project.store)).toEqual(before);
    expect((await project.readStoreJson(INDEX)).version).toBe(2);
    // verify, the read-only check, names it too.
    const verified = await project.run(['verify', '--json', '--public-key', join(project.dir, 'keys', 'signing-public.pem')]);
    expect(verified.code).toBe(1);
    expect(verified.json.problems).toContainEqual({ key: INDEX, problem: expect.stringMatching(/^is version 2, but the channel's history records that version 3 was written: an older index was put back in the store \(a replay\)/) });
  });
});

describe("a damaged or missing record of the index versions never lets a replayed index pass", () => {
  const HISTORY = 'channels/production/history/maps.json';
  const MARK = 'channels/production/index/high-water.json';

  /** maps 1.0.0, then 1.0.1 (index 2, saved), halted (index 3); the history of index 2 saved too. */
  async function haltedProject() {
    const project = await signedProject({ 'a.txt': 'alpha' }, { levels: { 'l.txt': 'one' } });
    await publish(project, ['maps']);
    await project.write('maps', { 'a.txt': 'beta' });
    await publish(project, ['maps']);
    const oldIndex = await readFile(project.storePath(INDEX));
    const oldHistory = await readFile(project.storePath(HISTORY));
    const oldMark = await readFile(project.storePath(MARK));
    succeeded(await project.run(['halt', 'maps', '--yes', '--json']));
    expect(await project.readStoreJson(MARK)).toMatchObject({ channel: 'production', indexVersion: 3 });
    return { project, oldIndex, oldHistory, oldMark };
  }

  /** The attacker's damage, then index 2 put back: the next publish is refused, nothing written, the halted release never signed again. */
  async function expectReplayRefused(damage: (project: Project, saved: { oldHistory: Buffer; oldMark: Buffer }) => Promise<void>, message: RegExp) {
    const { project, oldIndex, ...saved } = await haltedProject();
    await damage(project, saved);
    await writeFile(project.storePath(INDEX), oldIndex);
    const before = await snapshotTree(project.store);
    expectRefused(await project.run(['publish', 'levels', '--yes']), 1, message);
    expectRefused(await project.run(['rollout', 'maps', '50', '--yes']), 1, message);
    expectRefused(await project.run(['refresh']), 1, message);
    expect(await snapshotTree(project.store)).toEqual(before);
    return project;
  }

  /** verify names the replay wherever a readable record tells it. */
  async function expectVerifyNamesReplay(project: Project, source: RegExp) {
    const verified = await project.run(['verify', '--json', '--public-key', join(project.dir, 'keys', 'signing-public.pem')]);
    expect(verified.code).toBe(1);
    expect(verified.json.problems).toContainEqual({ key: INDEX, problem: expect.stringMatching(new RegExp(`^is version 2, but ${source.source} records that version 3 was written: an older index was put back in the store \\(a replay\\)`)) });
  }

  const byMark = /index\.json is version 2, but the channel's high-water mark \(channels\/production\/index\/high-water\.json\) records that version 3 was written: .*a replay.*nothing was written/;
  const damagedLog = (problem: string) =>
    new RegExp(`channels/production/history/maps\\.json ${problem}.*: it records which versions of channels/production/index\\.json were written.*nothing was written.*'update-publish refresh --channel production --accept-index 2 --yes'`);

  it('the history log deleted: the high-water mark still names version 3 (verify names it too)', async () => {
    const project = await expectReplayRefused((project) => rm(project.storePath(HISTORY)), byMark);
    await expectVerifyNamesReplay(project, /the channel's high-water mark \(channels\/production\/index\/high-water\.json\)/);
  });

  it('the history log replaced by an older signed copy: the mark names version 3', async () => {
    await expectReplayRefused((project, { oldHistory }) => writeFile(project.storePath(HISTORY), oldHistory), byMark);
  });

  it('the history log cut short (its last lines gone): damaged, refused by name', async () => {
    await expectReplayRefused(async (project) => {
      const log = await readFile(project.storePath(HISTORY), 'utf8');
      await writeFile(project.storePath(HISTORY), log.slice(0, Math.floor(log.length * 0.7)));
    }, damagedLog('is not valid JSON'));
  });

  it('the last entry cut from the history log (still JSON): its signature no longer matches, refused by name', async () => {
    await expectReplayRefused(async (project) => {
      const log = await project.readStoreJson(HISTORY);
      log.entries.pop();
      await writeFile(project.storePath(HISTORY), JSON.stringify(log));
    }, damagedLog('signature by key [0-9a-f]{16} does not match the content'));
  });

  it('one line of the history log corrupted: refused by name', async () => {
    await expectReplayRefused(async (project) => {
      const log = await readFile(project.storePath(HISTORY), 'utf8');
      await writeFile(project.storePath(HISTORY), log.replace('"halt"', '"h@lt"'));
    }, damagedLog('signature by key [0-9a-f]{16} does not match the content'));
  });

  it('the mark and the history both deleted: the index has no record beside it, refused', async () => {
    await expectReplayRefused(
      (project) => Promise.all([rm(project.storePath(HISTORY)), rm(project.storePath(MARK))]).then(() => undefined),
      /index\.json is version 2, but channels\/production\/index\/high-water\.json, the record of the versions written, is missing.*nothing was written.*--accept-index 2/,
    );
  });

  it("a person who checked the index accepts it: 'refresh --accept-index' moves the damaged log aside and numbers the next index above every recorded version", async () => {
    const { project, oldIndex } = await haltedProject();
    const log = await readFile(project.storePath(HISTORY), 'utf8');
    await writeFile(project.storePath(HISTORY), log.slice(0, Math.floor(log.length * 0.7)));
    await writeFile(project.storePath(INDEX), oldIndex);
    const before = await snapshotTree(project.store);
    expectRefused(await project.run(['refresh', '--accept-index', '2', '--yes']), 2, /--accept-index names one channel's index: give --channel too/);
    expectRefused(await project.run(['refresh', '--channel', 'production', '--accept-index', '3', '--yes']), 2, /--accept-index 3: channels\/production\/index\.json is version 2, not 3; check that index, then name its version/);
    const dryRun = succeeded(await project.run(['refresh', '--channel', 'production', '--accept-index', '2', '--dry-run', '--json']));
    expect(dryRun.channels[0]).toMatchObject({ version: 4, accepted: { version: 2, floor: 3, nextVersion: 4, movedAside: [{ key: HISTORY }] } });
    expect(await snapshotTree(project.store)).toEqual(before);

    const accepted = succeeded(await project.run(['refresh', '--channel', 'production', '--accept-index', '2', '--yes', '--json']));
    expect(accepted.channels[0]).toMatchObject({ channel: 'production', version: 4, accepted: { version: 2, floor: 3, nextVersion: 4 } });
    const [moved] = accepted.channels[0].accepted.movedAside;
    expect(moved).toMatchObject({ key: HISTORY, to: expect.stringMatching(/^channels\/production\/history\/maps\.json\.damaged-/) });
    // Kept as it was for whoever looks into it.
    expect(await readFile(project.storePath(moved.to), 'utf8')).toBe(log.slice(0, Math.floor(log.length * 0.7)));
    expect(await project.readStoreJson(MARK)).toMatchObject({ indexVersion: 4 });
    expect((await publish(project, ['levels'])).packages[0]).toMatchObject({ status: 'published' });
    expect((await project.readStoreJson(INDEX)).version).toBe(5);
    expect(succeeded(await project.run(['verify', '--json', '--public-key', join(project.dir, 'keys', 'signing-public.pem')])).problems).toEqual([]);
  });
});

describe('whitelists cannot be rolled back', () => {
  it('the index names the upload of each list its rules use; a device removed from the list never gets the gated release from an older list put back (both clients)', async () => {
    const project = await signedProject();
    await publish(project);
    await writeFile(join(project.dir, 'qa.txt'), 'qa-phone\n');
    succeeded(await project.run(['whitelist', 'upload', 'qa', 'qa.txt', '--yes', '--json']));
    await project.write('maps', { 'a.txt': 'gated' });
    await publish(project, ['--rollout', '0', '--whitelist', 'qa']);
    expect((await project.readStoreJson(INDEX)).whitelists).toEqual({ qa: { version: 1, shards: 1 } });
    const publicKey = ['--public-key', join(project.dir, 'keys', 'signing-public.pem')];
    const member = await fetchInto(project, join(project.dir, 'member', 'maps'), ['--device-id', 'qa-phone', ...publicKey]);
    expect(succeeded(member)).toMatchObject({ version: '1.0.1' });
    const oldList = join(project.dir, 'old-qa');
    await cp(project.storePath('whitelists/qa'), oldList, { recursive: true });

    // qa-phone leaves the list: the upload rewrites the index, naming upload 2.
    await writeFile(join(project.dir, 'qa.txt'), 'other-phone\n');
    expect(succeeded(await project.run(['whitelist', 'upload', 'qa', 'qa.txt', '--yes', '--json']))).toMatchObject({ name: 'qa', channels: ['production'] });
    expect((await project.readStoreJson(INDEX)).whitelists).toEqual({ qa: { version: 2, shards: 1 } });

    // The attacker puts the signed list of upload 1 back (meta and shards).
    const currentShard = await readFile(project.storePath('whitelists/qa/v2/shard-000.json'));
    await rm(project.storePath('whitelists/qa'), { recursive: true });
    await cp(oldList, project.storePath('whitelists/qa'), { recursive: true });
    const removed = await fetchInto(project, join(project.dir, 'removed', 'maps'), ['--device-id', 'qa-phone', ...publicKey]);
    expect(succeeded(removed)).toMatchObject({ version: '1.0.0' });
    // Upload 1's shard served at upload 2's key is refused: it names its upload.
    await cp(project.storePath('whitelists/qa/v1/shard-000.json'), project.storePath('whitelists/qa/v2/shard-000.json'));
    const swapped = await fetchInto(project, join(project.dir, 'swapped', 'maps'), ['--device-id', 'qa-phone', ...publicKey]);
    expect(swapped.code).toBe(1);
    expect(swapped.stderr).toMatch(/shard-000\.json: is shard 0 of list 'qa' upload 1, not shard 0 of 'qa' upload 2/);

    if (!JAVA_INSTALLED) return;
    await writeFile(project.storePath('whitelists/qa/v2/shard-000.json'), currentShard);
    const server = await startServe(project.dir);
    try {
      const java = await runJavaClient(['maps', '--from', server.url, '--into', join(project.dir, 'java', 'maps'), '--device-id', 'qa-phone', ...publicKey]);
      expect(java.code, java.stderr).toBe(0);
      expect(java.json).toMatchObject({ version: '1.0.0' });
    } finally {
      await server.stop();
    }
  });
});
