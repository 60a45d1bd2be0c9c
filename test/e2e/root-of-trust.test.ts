/**
 * Issue 25: a root of trust. An app ships root 1 and follows the chain; the
 * signing key is rotated by publishing root 2, without an app release.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPair } from '../../src/keys/signing-keys.js';
import { keyObjectSigner } from '../../src/keys/signers.js';
import { canonicalBytes, withSignatures } from '../../src/protocol/document-signature.js';
import { rootKey, rootKeyEntry, type RootDocument } from '../../src/protocol/root.js';
import { createPrivateKey } from 'node:crypto';
import { expectRefused, makeProject, removeProjects, snapshotTree, succeeded, type Project } from '../helpers/cli.js';
import { startServe } from '../helpers/serve.js';
import { JAVA_INSTALLED, removeJavaClasses, runJavaClient } from '../helpers/java-client.js';

/** The Java client with --root, against `serve` of the project's store. */
async function javaFetch(project: Project, dir: string): Promise<{ code: number; json: any; stderr: string }> {
  const server = await startServe(project.dir);
  try {
    return await runJavaClient(['maps', '--from', server.url, '--into', join(project.dir, dir), '--root', join(project.dir, '1.root.json')]);
  } finally {
    await server.stop();
  }
}
afterAll(removeJavaClasses);

afterAll(removeProjects);

const INDEX = 'channels/production/index.json';

/** A project with signing, two offline root keys (r1, r2) and root 1: root threshold 2, the signing key trusted. */
async function rootedProject(): Promise<Project> {
  const project = await makeProject({ packages: { maps: { 'a.txt': 'alpha' } }, config: { signing: { privateKey: 'keys/signing-private.pem' } } });
  for (const dir of ['keys', 'r1', 'r2', 'keys-new']) succeeded(await project.run(['keys', 'generate', '--out', dir, '--json']));
  const init = await project.run([
    'keys', 'root', 'init', '--root-key', 'r1/signing-public.pem', '--root-key', 'r2/signing-public.pem', '--threshold', '2',
    '--signing-key', 'keys/signing-public.pem', '--sign', 'r1/signing-private.pem', '--sign', 'r2/signing-private.pem', '--yes', '--json',
  ]);
  expect(succeeded(init)).toMatchObject({ status: 'published', version: 1, key: 'root/1.root.json', missing: null, thresholds: { root: 2, signing: 1 } });
  return project;
}
const fetchInto = (project: Project, dir: string, args: string[] = []) => project.run(['fetch', 'maps', '--into', join(project.dir, dir), '--json', '--root', join(project.dir, '1.root.json'), ...args]);

describe('root of trust', () => {
  it('an app pinned to root 1 follows a rotation of the signing key (root 2) and installs; an index signed by the removed key is refused, even with a higher version', async () => {
    const project = await rootedProject();
    succeeded(await project.run(['publish', '--yes', '--json']));
    expect(succeeded(await fetchInto(project, 'device/maps'))).toMatchObject({ updated: true, version: '1.0.0' });
    const state = JSON.parse(await readFile(join(project.dir, 'device', 'maps', '.update-publish.json'), 'utf8'));
    expect(state.root.version).toBe(1);
    const oldIndex = await readFile(project.storePath(INDEX));
    const oldKeyId = (await project.readStoreJson(INDEX)).signatures[0].keyid;

    // Rotation under the threshold: refused by the command, naming the signatures missing; nothing published.
    const under = await project.run(['keys', 'root', 'rotate', '--add-signing-key', 'keys-new/signing-public.pem', '--remove-signing-key', oldKeyId, '--sign', 'r1/signing-private.pem', '--yes']);
    expectRefused(under, 2, /root 2 needs 1 more signature by the root keys of root 1 \(threshold 2\) and 1 more signature by its own root keys \(threshold 2\); nothing was published/);
    expect(succeeded(await project.run(['keys', 'root', 'status', '--json'])).current).toBe(1);

    // Offline: a proposal, signed by each root key holder, then published.
    const proposal = join(project.dir, 'root-2.json');
    const proposed = succeeded(await project.run(['keys', 'root', 'rotate', '--add-signing-key', 'keys-new/signing-public.pem', '--remove-signing-key', oldKeyId, '--out', proposal, '--json']));
    expect(proposed).toMatchObject({ status: 'proposal', version: 2, signatures: [], missing: expect.stringContaining('2 more signatures') });
    expectRefused(await project.run(['keys', 'root', 'publish', proposal, '--yes']), 2, /needs 2 more signatures by the root keys of root 1/);
    succeeded(await project.run(['keys', 'root', 'sign', proposal, '--key', 'r1/signing-private.pem', '--json']));
    // A proposal changed after it was signed is refused.
    const tampered = JSON.parse(await readFile(proposal, 'utf8'));
    await writeFile(join(project.dir, 'tampered.json'), JSON.stringify({ ...tampered, expires: '2099-01-01T00:00:00.000Z' }));
    expectRefused(await project.run(['keys', 'root', 'sign', join(project.dir, 'tampered.json'), '--key', 'r2/signing-private.pem']), 2, /changed after key [0-9a-f]{16} signed it/);
    expect(succeeded(await project.run(['keys', 'root', 'sign', proposal, '--key', 'r2/signing-private.pem', '--json'])).missing).toBeNull();
    const storeBefore = await snapshotTree(project.store);
    expect(succeeded(await project.run(['keys', 'root', 'publish', proposal, '--dry-run', '--json']))).toMatchObject({ status: 'published', version: 2, dryRun: true });
    expect(await snapshotTree(project.store)).toEqual(storeBefore);
    expect(succeeded(await project.run(['keys', 'root', 'publish', proposal, '--yes', '--json']))).toMatchObject({ status: 'published', version: 2 });
    expect(succeeded(await project.run(['keys', 'root', 'status', '--json']))).toMatchObject({ current: 2, expired: false, roots: [{ version: 1 }, { version: 2, thresholds: { root: 2, signing: 1 } }] });

    // The old key is no signing key of root 2: the publisher refuses to sign with it, before any work.
    await project.write('maps', { 'a.txt': 'not with the old key' });
    expectRefused(await project.run(['publish', '--yes']), 2, /keys\/signing-private\.pem \(key [0-9a-f]{16}\) is not a signing key of root\/2\.root\.json .*devices following the root would refuse what it signs/);

    // The publisher moves to the new key: documents the old key signed are signed again.
    const config = JSON.parse(await readFile(project.configPath, 'utf8'));
    await writeFile(project.configPath, JSON.stringify({ ...config, signing: { privateKey: 'keys-new/signing-private.pem' } }));
    succeeded(await project.run(['keys', 'resign', '--public-key', 'keys/signing-public.pem', '--yes', '--json']));
    await project.write('maps', { 'a.txt': 'beta' });
    succeeded(await project.run(['publish', '--yes', '--json']));
    expect(succeeded(await fetchInto(project, 'device/maps'))).toMatchObject({ updated: true, version: '1.0.1' });
    expect(JSON.parse(await readFile(join(project.dir, 'device', 'maps', '.update-publish.json'), 'utf8')).root.version).toBe(2);
    expect(succeeded(await project.run(['verify', '--json'])).problems).toEqual([]);
    if (JAVA_INSTALLED) {
      const java = await javaFetch(project, 'java/maps');
      expect(java.code, java.stderr).toBe(0);
      expect(java.json).toMatchObject({ updated: true, version: '1.0.1' });
      expect(JSON.parse(await readFile(join(project.dir, 'java', 'maps', '.update-publish.json'), 'utf8')).root.version).toBe(2);
    }

    // The leaked old key signs an index with a higher version: refused, the device folder untouched.
    const forged = JSON.parse(oldIndex.toString('utf8'));
    forged.version = 99;
    forged.packages.maps.releases[0].rules.mandatory = true;
    const oldSigner = keyObjectSigner(createPrivateKey(await readFile(join(project.dir, 'keys', 'signing-private.pem'))), 'old key');
    await writeFile(project.storePath(INDEX), JSON.stringify(withSignatures(forged, [await oldSigner.sign(canonicalBytes(withSignatures(forged, [])))])));
    const before = await snapshotTree(join(project.dir, 'device'));
    const refused = await fetchInto(project, 'device/maps');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/index\.json.*is signed with key [0-9a-f]{16}, which is not a trusted key/);
    expect(await snapshotTree(join(project.dir, 'device'))).toEqual(before);
    if (JAVA_INSTALLED) {
      const java = await javaFetch(project, 'java-fresh/maps');
      expect(java.code).toBe(1);
      expect(java.stderr).toMatch(/index\.json: is not signed by a trusted key/);
    }
    // verify checks documents against the newest root's signing keys: the forged index is named.
    const verified = await project.run(['verify', '--json']);
    expect(verified.code).toBe(1);
    expect(verified.json.problems).toContainEqual({ key: INDEX, problem: expect.stringMatching(/which is not a trusted key/) });
  });

  it('a root signed by one root key when the threshold is 2, forged into the store, is refused; so is an expired root; a device never goes back to an older root; a chain of 40 links is bounded', async () => {
    const project = await rootedProject();
    succeeded(await project.run(['publish', '--yes', '--json']));
    const root1 = JSON.parse(await readFile(project.storePath(rootKey(1)), 'utf8')) as RootDocument;
    const r1 = keyObjectSigner(createPrivateKey(await readFile(join(project.dir, 'r1', 'signing-private.pem'))), 'r1');
    const r2 = keyObjectSigner(createPrivateKey(await readFile(join(project.dir, 'r2', 'signing-private.pem'))), 'r2');
    const attacker = generateSigningKeyPair();
    const attackerSigner = keyObjectSigner(createPrivateKey(attacker.privateKeyPem), 'attacker');
    const nextRoot = (previous: RootDocument, changes: Partial<RootDocument> = {}): RootDocument => {
      const { signatures: _signatures, ...base } = previous as RootDocument & { signatures?: unknown };
      return { ...base, version: previous.version + 1, ...changes };
    };
    const sign = async (root: RootDocument, signers = [r1, r2]) => withSignatures(root, await Promise.all(signers.map((signer) => signer.sign(canonicalBytes(root)))));
    const put = (root: object, version: number) => writeFile(project.storePath(rootKey(version)), JSON.stringify(root));

    // Root 2 trusting the attacker's key, signed by r1 alone (threshold 2).
    const evil = nextRoot(root1, { keys: { ...root1.keys, [attackerSigner.trusted.keyId]: rootKeyEntry(attackerSigner.trusted) }, roles: { ...root1.roles, signing: { keyids: [attackerSigner.trusted.keyId], threshold: 1 } } });
    await put(await sign(evil, [r1]), 2);
    const before = await snapshotTree(project.store);
    const forged = await fetchInto(project, 'device/maps');
    expect(forged.code).toBe(1);
    expect((await project.run(['verify', '--json'])).json.problems).toContainEqual({ key: 'root/', problem: expect.stringMatching(/root\/2\.root\.json is not signed by enough root keys/) });
    expect(forged.stderr).toMatch(/root\/2\.root\.json is not signed by enough root keys \(needs 1 more by the root keys of root 1 and 1 more by its own root keys\)/);
    // keys root status names the broken link in one line (exit 1), not a chain to trust.
    const forgedStatus = await project.run(['keys', 'root', 'status', '--json']);
    expect(forgedStatus.code).toBe(1);
    expect(forgedStatus.json).toEqual({ error: { message: expect.stringMatching(/^root\/2\.root\.json is not signed by enough root keys \(needs 1 more by the root keys of root 1 and 1 more by its own root keys\): it is not a root to trust$/), exitCode: 1 } });
    expect(await snapshotTree(join(project.dir, 'device')).catch(() => ({}))).toEqual({});
    expect(await snapshotTree(project.store)).toEqual(before);
    if (JAVA_INSTALLED) {
      const java = await javaFetch(project, 'java/maps');
      expect(java.code).toBe(1);
      expect(java.stderr).toMatch(/root\/2\.root\.json is not signed by enough root keys/);
    }

    // An expired newest root is refused.
    await put(await sign(nextRoot(root1, { expires: '2020-01-01T00:00:00.000Z' })), 2);
    expect((await fetchInto(project, 'device/maps')).stderr).toMatch(/root\/2\.root\.json \(the newest root\) expired at 2020-01-01/);
    // keys root status shows the chain and says the newest root expired; verify names it as a problem (exit 1).
    expect(succeeded(await project.run(['keys', 'root', 'status', '--json']))).toMatchObject({ current: 2, expires: '2020-01-01T00:00:00.000Z', expired: true });
    expect((await project.run(['keys', 'root', 'status'])).stdout).toMatch(/^root 2 EXPIRED at 2020-01-01T00:00:00\.000Z: devices refuse it; publish the next root$/m);
    const expiredVerify = await project.run(['verify', '--json']);
    expect(expiredVerify.code).toBe(1);
    expect(expiredVerify.json.problems).toContainEqual({ key: 'root/2.root.json', problem: 'expired at 2020-01-01T00:00:00.000Z: devices refuse it; publish the next root' });

    // A valid root 2: the device follows it and remembers it; served without it later, it keeps root 2.
    const root2 = await sign(nextRoot(root1));
    await put(root2, 2);
    expect(succeeded(await fetchInto(project, 'device/maps'))).toMatchObject({ version: '1.0.0' });
    await rm(project.storePath(rootKey(2)));
    // A mirror without root 2 cannot take the device back to root 1: it starts from the root it remembers.
    expect(succeeded(await fetchInto(project, 'device/maps'))).toMatchObject({ updated: false });
    expect(JSON.parse(await readFile(join(project.dir, 'device', 'maps', '.update-publish.json'), 'utf8')).root.version).toBe(2);

    // 40 links: a run follows at most 32.
    let previous = root2 as RootDocument;
    await put(root2, 2);
    for (let version = 3; version <= 42; version++) {
      const next = await sign(nextRoot(previous));
      await put(next, version);
      previous = next;
    }
    const bounded = await fetchInto(project, 'fresh/maps');
    expect(bounded.code).toBe(1);
    expect(bounded.stderr).toMatch(/the root chain has more than 32 new links since root 1/);

    // A root file that is not a valid root: exit 2.
    await writeFile(join(project.dir, 'bad-root.json'), JSON.stringify({ ...root1, type: 'not-root' }));
    const bad = await project.run(['fetch', 'maps', '--into', join(project.dir, 'bad', 'maps'), '--root', join(project.dir, 'bad-root.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/the root given \(--root\) is not a valid root: "type" is not "root"/);
  });
});
