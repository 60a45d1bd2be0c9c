/**
 * The small device API: createUpdater runs refresh → resolve → download →
 * install in the only safe order, against what the CLI published.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createUpdater as createDocumentUpdater, FreshnessError, SignatureError, trustedKeyFromPem, type DocumentTrust } from '../../src/client/index.js';
import { createUpdater, type UpdateSource } from '../../src/client/node.js';
import { storeSource } from '../../src/client/fetch/source.js';
import { createFolderStore } from '../../src/store/folder-store.js';
import { makeProject, removeProjects, succeeded } from '../helpers/cli.js';

afterAll(removeProjects);

const INDEX = 'channels/production/index.json';

/** A device's memory: what createUpdater keeps between checks. */
const memory = () => {
  const kept = new Map<string, DocumentTrust>();
  return { kept, get: (key: string) => kept.get(key), set: (key: string, trust: DocumentTrust) => void kept.set(key, trust) };
};

describe('createUpdater', () => {
  it('checks, installs, resolves switches and app upgrades, and refuses a rollback, a forgery and an unsigned copy', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'alpha' } }, config: { signing: { privateKey: 'keys/signing-private.pem' } } });
    succeeded(await project.run(['keys', 'generate', '--out', 'keys', '--json']));
    succeeded(await project.run(['publish', '--yes']));
    const oldIndex = await readFile(project.storePath(INDEX));
    await project.write('maps', { 'a.txt': 'beta' });
    succeeded(await project.run(['publish', '--yes']));
    succeeded(await project.run(['switch', 'set', 'newCheckout', 'true', '--yes']));
    succeeded(await project.run(['app-release', 'add', '--platform', 'ios', '--version', '3.0.0', '--url', 'https://apps.apple.com/app/id1', '--yes']));

    const trust = [trustedKeyFromPem(await readFile(join(project.dir, 'keys', 'signing-public.pem'), 'utf8'))];
    const from: UpdateSource = storeSource(createFolderStore(project.store));
    const state = memory();
    const updater = createUpdater({ from, channel: 'production', trust, state });

    const decision = await updater.check({ package: 'maps', platform: 'ios', appVersion: '2.0.0', deviceId: 'd1' });
    // Versions 3 and 4 of the index name the switches and app releases written after the second publish.
    expect(decision).toMatchObject({ update: true, version: '1.0.1', kind: 'full', indexVersion: 4 });
    expect(state.kept.get(INDEX)).toEqual({ channel: 'production', version: 4, signed: true });
    const into = join(project.dir, 'device', 'maps');
    expect(await updater.install(decision, into)).toMatchObject({ updated: true, version: '1.0.1' });
    expect(await readFile(join(into, 'a.txt'), 'utf8')).toBe('beta');

    expect(await updater.switches({ platform: 'ios', deviceId: 'd1' })).toMatchObject({ documentVersion: 1, values: { newCheckout: true } });
    expect(await updater.appUpgrade({ platform: 'ios', appVersion: '2.9.0', deviceId: 'd1' })).toMatchObject({ update: true, latest: '3.0.0' });

    // A mirror serving the older (validly signed) index again: refused, the device remembers version 2.
    await writeFile(project.storePath(INDEX), oldIndex);
    await expect(updater.check({ package: 'maps', deviceId: 'd1' })).rejects.toThrow(FreshnessError);
    // Altered after signing: refused by the signature, before anything else is read.
    const forged = JSON.parse(oldIndex.toString('utf8'));
    forged.version = 99;
    await writeFile(project.storePath(INDEX), JSON.stringify(forged));
    await expect(updater.check({ package: 'maps', deviceId: 'd1' })).rejects.toThrow(SignatureError);
    // The pure updater (no Node APIs) reads the same way: a copy without signatures is refused.
    delete forged.signatures;
    await writeFile(project.storePath(INDEX), JSON.stringify(forged));
    const pure = createDocumentUpdater({ from, channel: 'production', trust });
    await expect(pure.check({ package: 'maps' })).rejects.toThrow(/no signature|unsigned|signature/i);
  });
});
