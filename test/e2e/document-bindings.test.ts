/**
 * The channel index binds the switches and app-releases documents it was
 * written with (PROTOCOL.md §3.1 `documents`), as TUF's snapshot does: an
 * older signed switches.json or app-releases.json put back in the store (a
 * hostile mirror's replay) is refused by both clients, even by a device that
 * remembers nothing, and the publisher never builds on one.
 */
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUpdater, IntegrityError, trustedKeyFromPem, type DocumentTrust } from '../../src/client/index.js';
import { storeSource } from '../../src/client/fetch/source.js';
import { createFolderStore } from '../../src/store/folder-store.js';
import { makeProject, removeProjects, snapshotTree, succeeded, type Project } from '../helpers/cli.js';
import { JAVA_INSTALLED, removeJavaClasses, runJavaClient } from '../helpers/java-client.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';

afterAll(removeProjects);
afterAll(removeJavaClasses);

const INDEX = 'channels/production/index.json';
const SWITCHES = 'channels/production/switches.json';
const APP_RELEASES = 'channels/production/app-releases.json';
const KILL_AFTER_WRITE = fileURLToPath(new URL('../helpers/kill-after-write.cjs', import.meta.url));
const V1 = { 'a.txt': 'alpha' };
const ADD_APP_RELEASE = ['app-release', 'add', '--platform', 'ios', '--url', 'https://apps.example.com/app', '--rollout', '100'];

async function signedProject(): Promise<Project> {
  const project = await makeProject({ packages: { maps: V1 }, config: { signing: { privateKey: 'keys/signing-private.pem' } } });
  succeeded(await project.run(['keys', 'generate', '--out', 'keys', '--json']));
  succeeded(await project.run(['publish', '--yes', '--json']));
  return project;
}

/** A device's memory (app storage), as createUpdater keeps it. */
function memory() {
  const kept = new Map<string, DocumentTrust>();
  return { kept, state: { get: (key: string) => kept.get(key), set: (key: string, trust: DocumentTrust) => void kept.set(key, trust) } };
}

describe('a replayed older signed switches.json or app-releases.json is refused', () => {
  let project: Project;
  let server: ServeProcess | undefined;
  const publicKeyFile = () => join(project.dir, 'keys', 'signing-public.pem');
  const updater = async (state?: ReturnType<typeof memory>['state']) =>
    createUpdater({ from: storeSource(createFolderStore(project.store)), channel: 'production', trust: [trustedKeyFromPem(await readFile(publicKeyFile(), 'utf8'))], state });

  beforeAll(async () => {
    project = await signedProject();
    succeeded(await project.run(['switch', 'set', 'newCheckout', 'true', '--yes', '--json']));
    succeeded(await project.run([...ADD_APP_RELEASE, '--version', '3.0.0', '--mandatory', '--yes', '--json']));
    // The attacker keeps these validly signed copies: the checkout on, 3.0.0 a mandatory upgrade.
    await copyFile(project.storePath(SWITCHES), join(project.dir, 'old-switches.json'));
    await copyFile(project.storePath(APP_RELEASES), join(project.dir, 'old-app-releases.json'));
    succeeded(await project.run(['switch', 'set', 'newCheckout', 'false', '--yes', '--json']));
    succeeded(await project.run(['app-release', 'halt', 'ios@3.0.0', '--yes', '--json']));
    if (JAVA_INSTALLED) server = await startServe(project.dir);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('the index names the versions written; both clients accept them', async () => {
    const index = await project.readStoreJson(INDEX);
    expect(index.documents).toEqual({ switches: { version: 2 }, appReleases: { version: 2 } });
    expect(succeeded(await project.run(['switch', 'resolve', '--device-id', 'd1', '--public-key', publicKeyFile(), '--json'])).values).toEqual({ newCheckout: false });
    expect((await (await updater()).appUpgrade({ platform: 'ios', appVersion: '2.0.0' })).update).toBe(false);
    if (server) {
      const java = await runJavaClient(['switch', 'resolve', '--from', server.url, '--device-id', 'd1', '--public-key', publicKeyFile()]);
      expect(java.code, java.stderr).toBe(0);
      expect(java.json.values).toEqual({ newCheckout: false });
    }
  });

  it('put back: the CLI, createUpdater and the Java client refuse both (exit 1), the device memory untouched; verify reports them; the publisher never builds on them nor binds them', async () => {
    await copyFile(join(project.dir, 'old-switches.json'), project.storePath(SWITCHES));
    await copyFile(join(project.dir, 'old-app-releases.json'), project.storePath(APP_RELEASES));
      const replayed = /is version 1, but the channel index \(version \d+\) names version 2: an older copy was put back in the store \(a replay\)/;
      const cli = await project.run(['switch', 'resolve', '--device-id', 'd1', '--public-key', publicKeyFile(), '--json']);
      expect(cli.code).toBe(1);
      expect(cli.json.error.message).toMatch(replayed);
      const upgrade = await project.run(['app-release', 'resolve', '--platform', 'ios', '--app-version', '2.0.0', '--public-key', publicKeyFile(), '--json']);
      expect(upgrade.code).toBe(1);
      expect(upgrade.json.error.message).toMatch(replayed);

      // A device that never read the newer documents (a fresh install, or it kept nothing): only the binding protects it.
      const device = memory();
      const client = await updater(device.state);
      await expect(client.switches({ deviceId: 'd1' })).rejects.toThrow(IntegrityError);
      await expect(client.appUpgrade({ platform: 'ios', appVersion: '2.0.0' })).rejects.toThrow(replayed);
      expect(device.kept.has(SWITCHES)).toBe(false);
      expect(device.kept.has(APP_RELEASES)).toBe(false);

      if (server) {
        const java = await runJavaClient(['switch', 'resolve', '--from', server.url, '--device-id', 'd1', '--public-key', publicKeyFile()]);
        expect(java.code).toBe(1);
        expect(java.json.error.message).toMatch(replayed);
        const javaUpgrade = await runJavaClient(['app-release', 'resolve', '--from', server.url, '--platform', 'ios', '--app-version', '2.0.0', '--public-key', publicKeyFile()]);
        expect(javaUpgrade.code).toBe(1);
        expect(javaUpgrade.json.error.message).toMatch(replayed);
      }

      const verify = await project.run(['verify', '--public-key', publicKeyFile(), '--json']);
      expect(verify.code).toBe(1);
      const keys = (verify.json.problems as { key: string; problem: string }[]).filter((problem) => /names version 2/.test(problem.problem)).map((problem) => problem.key);
      expect(keys.sort()).toEqual([APP_RELEASES, SWITCHES]);

      // Signing a change on top of the replayed copy would serve it again as a newer version.
      const before = await snapshotTree(project.store);
      const change = await project.run(['switch', 'set', 'other', '1', '--yes', '--json']);
      expect(change.code).toBe(1);
      expect(change.json.error.message).toMatch(/switches.json is version 1, but the channel index names version 2: an older copy was put back in the store \(a replay\); nothing was written/);
      expect(await snapshotTree(project.store)).toEqual(before);
      // A release change still goes through (a halt is never held up), and its index keeps naming version 2.
      const rollout = await project.run(['rollout', 'maps', '50', '--yes', '--json']);
      expect(rollout.code, rollout.stderr).toBe(0);
      expect((await project.readStoreJson(INDEX)).documents).toEqual({ switches: { version: 2 }, appReleases: { version: 2 } });
      expect((await project.run(['switch', 'resolve', '--device-id', 'd1', '--public-key', publicKeyFile(), '--json'])).code).toBe(1);
  });
});

describe('a switches or app-releases change rewrites the index', () => {
  it('after the document: one more index version, naming the new document versions; refresh binds what it wrote', async () => {
    const project = await signedProject();
    const first = await project.readStoreJson(INDEX);
    expect(first.documents).toEqual({ switches: { version: 0 }, appReleases: { version: 0 } });

    const set = succeeded(await project.run(['switch', 'set', 'flag', 'true', '--yes', '--json']));
    expect(set.documentVersion).toBe(1);
    const afterSwitch = await project.readStoreJson(INDEX);
    expect(afterSwitch.version).toBe(first.version + 1);
    expect(afterSwitch.documents).toEqual({ switches: { version: 1 }, appReleases: { version: 0 } });
    expect(afterSwitch.packages).toEqual(first.packages);
    expect(afterSwitch.signatures).toHaveLength(1);

    succeeded(await project.run([...ADD_APP_RELEASE, '--version', '3.0.0', '--yes', '--json']));
    const afterApp = await project.readStoreJson(INDEX);
    expect(afterApp.version).toBe(first.version + 2);
    expect(afterApp.documents).toEqual({ switches: { version: 1 }, appReleases: { version: 1 } });

    // A dry run says both writes it would make, and makes neither.
    const before = await snapshotTree(project.store);
    const dry = await project.run(['switch', 'set', 'flag', 'false', '--dry-run', '--yes']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/would write channels\/production\/switches\.json[\s\S]*would write channels\/production\/index\.json/);
    expect(await snapshotTree(project.store)).toEqual(before);

    // A no-op change writes nothing: neither the document nor the index.
    succeeded(await project.run(['switch', 'set', 'flag', 'true', '--yes', '--json']));
    expect((await project.readStoreJson(INDEX)).version).toBe(first.version + 2);

    const refreshed = succeeded(await project.run(['refresh', '--yes', '--json']));
    expect(refreshed.channels[0]).toMatchObject({ version: first.version + 3, switches: { version: 2 }, appReleases: { version: 2 } });
    expect((await project.readStoreJson(INDEX)).documents).toEqual({ switches: { version: 2 }, appReleases: { version: 2 } });
    expect(succeeded(await project.run(['verify', '--json'])).problems ?? []).toEqual([]);
  });

  it('a channel of switches alone gets an index binding them', async () => {
    const project = await makeProject();
    succeeded(await project.run(['switch', 'set', 'flag', 'true', '--yes', '--json']));
    expect(await project.readStoreJson(INDEX)).toMatchObject({ version: 1, packages: {}, documents: { switches: { version: 1 }, appReleases: { version: 0 } } });
    expect(succeeded(await project.run(['switch', 'resolve', '--device-id', 'd1', '--json'])).values).toEqual({ flag: true });
  });
});

describe('a kill between the document write and the index write', () => {
  it('leaves the index naming the previous version (devices keep what they had), and the next run writes the index', async () => {
    const project = await signedProject();
    succeeded(await project.run(['switch', 'set', 'flag', 'false', '--yes', '--json']));
    const before = await project.readStoreJson(INDEX);
    const killed = await project.run(['switch', 'set', 'flag', 'true', '--yes'], { env: { NODE_OPTIONS: `--require ${KILL_AFTER_WRITE}`, KILL_AFTER_WRITE: SWITCHES } });
    expect(killed.code).not.toBe(0);
    expect((await project.readStoreJson(SWITCHES)).version).toBe(2);
    expect(await project.readStoreJson(INDEX)).toEqual(before);
    expect(before.documents.switches).toEqual({ version: 1 });
    expect(await readdir(project.storePath('channels/production/pending'))).toHaveLength(1);
    const publicKey = ['--public-key', join(project.dir, 'keys', 'signing-public.pem')];
    expect((await project.run(['switch', 'resolve', '--device-id', 'd1', ...publicKey, '--json'])).code).toBe(1);

    // A change of another document of the channel finishes it: the index naming switches version 2, then its own write.
    const next = await project.run(['rollout', 'maps', '50', '--yes', '--json']);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/finishing an interrupted switch set flag on 'production'/);
    const index = await project.readStoreJson(INDEX);
    expect(index.version).toBe(before.version + 2);
    expect(index.documents).toEqual({ switches: { version: 2 }, appReleases: { version: 0 } });
    expect(await readdir(project.storePath('channels/production/pending')).catch(() => [])).toEqual([]);
    expect(succeeded(await project.run(['switch', 'resolve', '--device-id', 'd1', ...publicKey, '--json'])).values).toEqual({ flag: true });
  });
});

describe('whitelists named by switches are bound in the index too', () => {
  it('an older signed list put back never brings a removed device back to a switch variant (both clients)', async () => {
    const project = await signedProject();
    const publicKey = ['--public-key', join(project.dir, 'keys', 'signing-public.pem')];
    await writeFile(join(project.dir, 'qa.txt'), 'qa-phone\n');
    succeeded(await project.run(['whitelist', 'upload', 'qa', 'qa.txt', '--yes', '--json']));
    succeeded(await project.run(['switch', 'set', 'debugMenu', 'false', '--yes', '--json']));
    succeeded(await project.run(['switch', 'set', 'debugMenu', 'true', '--rollout', '0', '--whitelist', 'qa', '--yes', '--json']));
    const resolve = async () => succeeded(await project.run(['switch', 'resolve', '--device-id', 'qa-phone', ...publicKey, '--json'])).values.debugMenu;
    expect(await resolve()).toBe(true);
    expect((await project.readStoreJson(INDEX)).whitelists).toEqual({ qa: { version: 1, shards: 1 } });
    await copyFile(project.storePath('whitelists/qa/meta.json'), join(project.dir, 'old-meta.json'));

    // qa-phone leaves the list: the upload rewrites the index, which now names upload 2.
    await writeFile(join(project.dir, 'qa.txt'), 'someone-else\n');
    expect(succeeded(await project.run(['whitelist', 'upload', 'qa', 'qa.txt', '--yes', '--json'])).channels).toEqual(['production']);
    expect((await project.readStoreJson(INDEX)).whitelists).toEqual({ qa: { version: 2, shards: 1 } });
    expect(await resolve()).toBe(false);

    // The mirror puts the older signed meta back (its upload-1 shards are still there).
    await copyFile(join(project.dir, 'old-meta.json'), project.storePath('whitelists/qa/meta.json'));
    expect(await resolve()).toBe(false);
    if (JAVA_INSTALLED) {
      const server = await startServe(project.dir);
      try {
        const java = await runJavaClient(['switch', 'resolve', '--from', server.url, '--device-id', 'qa-phone', ...publicKey]);
        expect(java.code, java.stderr).toBe(0);
        expect(java.json.values.debugMenu).toBe(false);
      } finally {
        await server.stop();
      }
    }
  });
});
