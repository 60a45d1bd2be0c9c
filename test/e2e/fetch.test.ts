import { randomBytes } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import fg from 'fast-glob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelIndex, Manifest } from '../../src/protocol/types.js';
import { makeProject, removeProjects, snapshotTree, succeeded, type CliResult, type Project } from '../helpers/cli.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { createBucket, MOTO_INSTALLED, rawS3, s3ProjectConfig } from '../helpers/s3-e2e.js';

afterAll(removeProjects);

const INDEX = 'channels/production/index.json';
const STATE_FILE = '.update-publish.json';

/** Version 1.0.0 of the package, and the change that makes 1.0.1: one file changed, one added, one removed. */
const V1 = {
  'a.txt': 'alpha\n',
  'b.txt': 'bravo\n',
  'e.txt': 'echo\n',
  'sub/c.txt': 'charlie\n',
  'sub/deep/d.bin': randomBytes(4096),
  'img.png': randomBytes(3000),
};
const CHANGE = { 'a.txt': 'alpha, second edition\n', 'sub/new.txt': 'november\n' };
const REMOVED = ['e.txt'];

const publish = async (project: Project, env?: Record<string, string>) =>
  succeeded(await project.run(['publish', '--yes', '--json'], { env }));
const publishChange = async (project: Project, env?: Record<string, string>) => {
  await project.write('maps', CHANGE);
  await project.remove('maps', REMOVED);
  return publish(project, env);
};
const fetchInto = (project: Project, dir: string, args: string[] = [], env?: Record<string, string>) =>
  project.run(['fetch', 'maps', '--into', dir, '--device-id', 'device-1', '--json', ...args], { env });
const verify = (project: Project, args: string[] = [], env?: Record<string, string>) => project.run(['verify', '--json', ...args], { env });

/** The installed files, without the installer's dot-file: must equal the published asset folder byte for byte. */
const installedFiles = (dir: string) => snapshotTree(dir, { ignore: [STATE_FILE] });
const assetFiles = (project: Project) => snapshotTree(project.packageDir('maps'));

/** Everything in and beside dir (work folders of a failed fetch would show here). */
async function deviceState(dir: string) {
  const siblings = (await readdir(dirname(dir)).catch(() => [] as string[])).filter((name) => name.startsWith(basename(dir)));
  return { tree: await snapshotTree(dir), siblings };
}

/** A failure as users see it: non-zero exit and one `error:` line, which is returned. */
function refused(result: CliResult): string {
  expect(result.code, result.stdout).not.toBe(0);
  const lines = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
  expect(lines, result.stderr).toHaveLength(1);
  return lines[0];
}

/** Runs `during` with one byte of a store file flipped, then restores the file. */
async function withFlippedByte<T>(project: Project, key: string, at: (bytes: Buffer) => number, during: () => Promise<T>): Promise<T> {
  const path = project.storePath(key);
  const original = await readFile(path);
  const flipped = Buffer.from(original);
  flipped[at(original)] ^= 0x01;
  await writeFile(path, flipped);
  try {
    return await during();
  } finally {
    await writeFile(path, original);
  }
}
const middle = (bytes: Buffer) => Math.floor(bytes.length / 2);
/** A digit of a timestamp field: the JSON stays valid, only integrity checks can tell. */
const timestampDigit = (field: string) => (bytes: Buffer) => bytes.indexOf(`"${field}": "`) + field.length + 5;

describe('fetch from the folder store and through http', () => {
  let project: Project;
  let server: Server;
  let baseUrl: string;

  beforeAll(async () => {
    project = await makeProject({ packages: { maps: V1 } });
    server = createServer(async (request, response) => {
      const key = decodeURIComponent(new URL(request.url!, 'http://localhost').pathname.slice(1));
      const body = await readFile(project.storePath(key)).catch(() => null);
      response.writeHead(body ? 200 : 404).end(body ?? undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server?.close(() => resolve())));

  it('installs the full package, then applies the delta, reproducing the asset tree byte for byte', async () => {
    await publish(project);
    const direct = join(project.dir, 'device', 'maps');
    const viaHttp = join(project.dir, 'device-http', 'maps');

    const first = succeeded(await fetchInto(project, direct));
    expect(first).toMatchObject({ updated: true, version: '1.0.0', kind: 'full', previousVersion: null });
    const index1: ChannelIndex = await project.readStoreJson(INDEX);
    expect(first.bytesDownloaded).toBe(index1.packages.maps.releases[0].full.size);
    expect(succeeded(await fetchInto(project, viaHttp, ['--from', baseUrl]))).toMatchObject({ version: '1.0.0', kind: 'full' });
    const v1 = await assetFiles(project);
    expect(await installedFiles(direct)).toEqual(v1);
    expect(await installedFiles(viaHttp)).toEqual(v1);
    expect(JSON.parse(await readFile(join(direct, STATE_FILE), 'utf8'))).toMatchObject({ package: 'maps', version: '1.0.0', channel: 'production' });

    await publishChange(project);
    const index2: ChannelIndex = await project.readStoreJson(INDEX);
    const delta = index2.packages.maps.releases[0].deltas.find((candidate) => candidate.from === '1.0.0')!;
    const inodes = async (dir: string, paths: string[]) => Promise.all(paths.map(async (path) => (await stat(join(dir, path))).ino));
    const v1Inodes = await inodes(direct, Object.keys(v1));
    const second = succeeded(await fetchInto(project, direct));
    expect(second).toMatchObject({ updated: true, version: '1.0.1', kind: 'delta', previousVersion: '1.0.0', bytesDownloaded: delta.size });
    expect(succeeded(await fetchInto(project, viaHttp, ['--from', baseUrl]))).toMatchObject({ version: '1.0.1', kind: 'delta' });
    const v2 = await assetFiles(project);
    expect(Object.keys(v2)).not.toContain('e.txt');
    expect(await installedFiles(direct)).toEqual(v2);
    expect(await installedFiles(viaHttp)).toEqual(v2);
    expect((await deviceState(direct)).siblings).toEqual(['maps']);
    // The files the delta does not carry were checked and linked from the old tree, not written again (issue 27).
    const unchanged = Object.keys(v1).filter((path) => v2[path] === v1[path]);
    expect(unchanged.length).toBeGreaterThan(0);
    expect(await inodes(direct, unchanged)).toEqual(unchanged.map((path) => v1Inodes[Object.keys(v1).indexOf(path)]));

    expect(succeeded(await fetchInto(project, direct))).toMatchObject({ updated: false, reason: 'up-to-date', version: '1.0.1', bytesDownloaded: 0 });
    // 1.0.1 in the index and 1.0.0 in the archive: three objects (each full zip, one delta).
    expect(succeeded(await verify(project))).toMatchObject({ problems: [], checked: { releases: 2, objects: 3, deltasRebuilt: 1 } });
  });

  it('decides like resolve: whitelisted devices get a 0% release, device attributes pick attribute releases', async () => {
    const gated = await makeProject({ packages: { maps: V1 } });
    await publish(gated);
    await writeFile(join(gated.dir, 'qa.txt'), 'qa-phone\n');
    succeeded(await gated.run(['whitelist', 'upload', 'qa', 'qa.txt', '--json']));
    await gated.write('maps', { 'a.txt': 'for qa' });
    succeeded(await gated.run(['publish', '--rollout', '0', '--whitelist', 'qa', '--yes', '--json']));
    await gated.write('maps', { 'a.txt': 'for eu' });
    succeeded(await gated.run(['publish', '--attr', 'region=eu', '--yes', '--json']));
    const fetchAs = async (device: string, args: string[]) =>
      succeeded(await gated.run(['fetch', 'maps', '--into', join(gated.dir, device), '--json', ...args]));
    const resolveAs = async (args: string[]) => succeeded(await gated.run(['resolve', '--package', 'maps', '--json', ...args]));

    for (const args of [['--device-id', 'qa-phone'], ['--device-id', 'someone'], ['--device-id', 'qa-phone', '--attr', 'region=eu']]) {
      const expected = (await resolveAs(args)).version;
      expect((await fetchAs(args.join('-'), args)).version).toBe(expected);
    }
    expect((await fetchAs('qa', ['--device-id', 'qa-phone'])).version).toBe('1.0.1');
    expect((await fetchAs('eu', ['--device-id', 'someone', '--attr', 'region=eu'])).version).toBe('1.0.2');
    expect((await fetchAs('plain', ['--device-id', 'someone'])).version).toBe('1.0.0');
  });

  it('refuses a flipped byte in a full package or a manifest, takes the full package past a flipped delta (PROTOCOL.md §10.3), leaves the folder as it was, and verify reports each', async () => {
    // A device still on 1.0.0 gets the delta; a new device gets the full package.
    const onV1 = join(project.dir, 'device-v1', 'maps');
    const fresh = join(project.dir, 'device-new', 'maps');
    const index: ChannelIndex = await project.readStoreJson(INDEX);
    const release = index.packages.maps.releases[0];
    const v1Manifest: Manifest = await project.readStoreJson('packages/maps/1.0.0/manifest.json');
    await writeV1Install(onV1, v1Manifest);

    const cases = [
      { key: release.full.key, at: middle, device: fresh, problem: /SHA-256 is [0-9a-f]{64} but the manifest lists/ },
      { key: release.manifest.key, at: timestampDigit('createdAt'), device: onV1, problem: /SHA-256 is [0-9a-f]{64} but the channel index lists/ },
    ];
    for (const { key, at, device, problem } of cases) {
      const before = await deviceState(device);
      await withFlippedByte(project, key, at, async () => {
        const line = refused(await fetchInto(project, device));
        expect(line).toContain(key);
        expect(line).toMatch(problem);
        expect(await deviceState(device)).toEqual(before);

        const report = await verify(project);
        expect(report.code).toBe(1);
        expect(report.json.problems).toContainEqual({ key, problem: expect.stringMatching(problem) });
      });
    }
    // A damaged delta gives way to the full package, and says so; verify still reports the delta.
    const deltaKey = release.deltas[0].key;
    await withFlippedByte(project, deltaKey, middle, async () => {
      const result = succeeded(await fetchInto(project, onV1));
      expect(result).toMatchObject({ version: '1.0.1', kind: 'full', fallbacks: [{ key: deltaKey, problem: expect.stringMatching(/SHA-256 is [0-9a-f]{64} but the manifest lists/) }] });
      expect(result.bytesDownloaded).toBe(release.full.size);
      const report = await verify(project);
      expect(report.json.problems).toContainEqual({ key: deltaKey, problem: expect.stringMatching(/SHA-256/) });
    });
    expect(await installedFiles(onV1)).toEqual(await assetFiles(project));
    // Restored: the new device updates too.
    expect(succeeded(await fetchInto(project, fresh))).toMatchObject({ version: '1.0.1', kind: 'full' });
  });

  it('falls back to the full package when the installed copy was changed', async () => {
    const device = join(project.dir, 'device-edited', 'maps');
    await writeV1Install(device, await project.readStoreJson('packages/maps/1.0.0/manifest.json'));
    await writeFile(join(device, 'b.txt'), 'edited on the device\n');
    expect(succeeded(await fetchInto(project, device))).toMatchObject({ version: '1.0.1', kind: 'full' });
    expect(await installedFiles(device)).toEqual(await assetFiles(project));
  });

  it('refuses to install into a folder it did not create', async () => {
    const folder = join(project.dir, 'somebody-elses');
    await writeFileIn(folder, 'notes.txt', 'precious');
    const line = refused(await fetchInto(project, folder));
    expect(line).toMatch(/is not empty and has no \.update-publish\.json/);
    expect(await snapshotTree(folder)).toEqual({ 'notes.txt': expect.any(String) });
  });
});

describe('signed releases', () => {
  let project: Project;
  let otherKey: string;

  beforeAll(async () => {
    project = await makeProject({ packages: { maps: V1 }, config: { signing: { privateKey: 'keys/signing-private.pem' } } });
    const generated = succeeded(await project.run(['keys', 'generate', '--out', 'keys', '--json']));
    expect(generated.keyId).toMatch(/^[0-9a-f]{16}$/);
    succeeded(await project.run(['keys', 'generate', '--out', 'other-keys', '--json']));
    otherKey = join(project.dir, 'other-keys', 'signing-public.pem');
    await publish(project);
    await publishChange(project);
  });

  const trusted = () => ['--public-key', join(project.dir, 'keys', 'signing-public.pem')];

  it('signs every manifest and index, and a device trusting the public key installs and updates', async () => {
    for (const key of [INDEX, 'packages/maps/1.0.0/manifest.json', 'packages/maps/1.0.1/manifest.json']) {
      // Each document carries its own signatures: nothing detached to pair up.
      expect((await project.readStoreJson(key)).signatures).toEqual([{ keyid: expect.stringMatching(/^[0-9a-f]{16}$/), alg: 'ed25519', sig: expect.any(String) }]);
      await expect(readFile(project.storePath(`${key}.sig`))).rejects.toThrow(/ENOENT/);
    }
    const device = join(project.dir, 'device', 'maps');
    await writeV1Install(device, await project.readStoreJson('packages/maps/1.0.0/manifest.json'));
    expect(succeeded(await fetchInto(project, device, trusted()))).toMatchObject({ version: '1.0.1', kind: 'delta' });
    expect(await installedFiles(device)).toEqual(await assetFiles(project));
    // verify derives the public key from signing.privateKey, or takes --public-key.
    expect(succeeded(await verify(project))).toMatchObject({ problems: [], checked: { signatures: true, deltasRebuilt: 1 } });
    expect(succeeded(await verify(project, trusted()))).toMatchObject({ problems: [] });
  });

  it('refuses a flipped byte in the index (valid JSON, bad signature), a wrong key and a missing signature', async () => {
    const device = join(project.dir, 'device-strict', 'maps');
    const before = await deviceState(device);

    await withFlippedByte(project, INDEX, timestampDigit('updatedAt'), async () => {
      const line = refused(await fetchInto(project, device, trusted()));
      expect(line).toContain(INDEX);
      expect(line).toMatch(/does not match the content/);
      const report = await verify(project);
      expect(report.code).toBe(1);
      expect(report.json.problems).toContainEqual({ key: INDEX, problem: expect.stringMatching(/does not match the content/) });
    });

    const wrongKey = refused(await fetchInto(project, device, ['--public-key', otherKey]));
    expect(wrongKey).toMatch(/signed with key [0-9a-f]{16}, which is not a trusted key/);
    expect((await verify(project, ['--public-key', otherKey])).json.problems.length).toBeGreaterThan(0);

    const saved = await readFile(project.storePath(INDEX));
    const { signatures: _signatures, ...unsigned } = JSON.parse(saved.toString());
    await writeFile(project.storePath(INDEX), JSON.stringify(unsigned));
    try {
      expect(refused(await fetchInto(project, device, trusted()))).toMatch(/carries no signature/);
      expect((await verify(project)).json.problems).toContainEqual({ key: INDEX, problem: expect.stringMatching(/carries no signature/) });
    } finally {
      await writeFile(project.storePath(INDEX), saved);
    }
    expect(await deviceState(device)).toEqual(before);
    expect(succeeded(await fetchInto(project, device, trusted()))).toMatchObject({ version: '1.0.1', kind: 'full' });
  });

  it('a change made in the store outside update-publish is never signed into trust by the next release operation', async () => {
    const copy = await makeProject({ packages: { maps: V1 }, config: { signing: { privateKey: join(project.dir, 'keys', 'signing-private.pem') } } });
    await cp(project.store, copy.store, { recursive: true });
    const index = await copy.readStoreJson(INDEX);
    index.packages.maps.releases[0].rules.mandatory = true;
    await writeFile(copy.storePath(INDEX), JSON.stringify(index));
    const tampered = await snapshotTree(copy.store);

    const rollout = await copy.run(['rollout', 'maps', '60', '--yes']);
    expect(rollout.code).toBe(1);
    expect(rollout.stderr).toMatch(
      /^error: channels\/production\/index\.json signature by key [0-9a-f]{16} does not match the content.*: it was changed outside update-publish.*'update-publish keys resign'.*\n$/,
    );
    expect(await snapshotTree(copy.store)).toEqual(tampered);
    expect((await verify(copy)).json.problems).toContainEqual({ key: INDEX, problem: expect.stringMatching(/does not match the content/) });

    // A person who checked it signs it as stored; then operations and devices accept it again.
    // Signing it again is refused until a person who checked it names it (issue 25: resign launders nothing).
    expect((await copy.run(['keys', 'resign', '--yes'])).stderr).toMatch(/nothing was signed: .*index\.json signature by key [0-9a-f]{16} does not match the content/);
    expect(succeeded(await copy.run(['keys', 'resign', '--accept', INDEX, '--dry-run', '--json']))).toEqual({ channels: ['production'], signed: [INDEX], dryRun: true });
    expect(await snapshotTree(copy.store)).toEqual(tampered);
    expect(succeeded(await copy.run(['keys', 'resign', '--accept', INDEX, '--yes', '--json']))).toEqual({ channels: ['production'], signed: [INDEX], dryRun: false });
    expect(succeeded(await copy.run(['keys', 'resign', '--yes', '--json'])).signed).toEqual([]);
    expect(succeeded(await copy.run(['rollout', 'maps', '60', '--yes', '--json'])).current).toEqual({ state: 'active', rollout: 60 });
    expect(succeeded(await verify(copy)).problems).toEqual([]);
  });

  it('refuses to publish when the signing key is missing, before writing anything', async () => {
    const broken = await makeProject({ packages: { maps: V1 }, config: { signing: { privateKey: 'keys/nope.pem' } } });
    const line = refused(await broken.run(['publish', '--yes']));
    expect(line).toMatch(/key file .*nope\.pem does not exist/);
    expect(await snapshotTree(broken.store)).toEqual({});
    expect(refused(await project.run(['keys', 'generate', '--out', 'keys']))).toMatch(/already exists/);
  });
});

describe('encrypted packages', () => {
  const KEY = randomBytes(32).toString('base64');
  const env = { CONTENT_KEY: KEY, OTHER_KEY: randomBytes(32).toString('base64') };
  let project: Project;

  beforeAll(async () => {
    project = await makeProject({
      packages: { maps: V1 },
      config: { encryption: { key: 'env:CONTENT_KEY' }, signing: { privateKey: 'keys/signing-private.pem' } },
    });
    succeeded(await project.run(['keys', 'generate', '--out', 'keys', '--json']));
  });

  it('stores no readable zip, and a device with the key installs and updates', async () => {
    await publish(project, env);
    await publishChange(project, env);
    const objects = await fg('packages/**/*.zip', { cwd: project.store });
    expect(objects).toHaveLength(3);
    for (const key of objects) {
      const bytes = await readFile(project.storePath(key));
      expect(bytes.subarray(0, 4).toString('latin1')).toBe('UPE1');
      expect(bytes.indexOf(Buffer.from('PK\x03\x04', 'latin1'))).toBe(-1);
      expect(bytes.indexOf('charlie')).toBe(-1);
    }
    const manifest: Manifest = await project.readStoreJson('packages/maps/1.0.1/manifest.json');
    expect(manifest.encryption).toEqual({ algorithm: 'aes-256-gcm-chunked', keyId: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(manifest.files.map((file) => file.path)).toContain('sub/new.txt');

    const device = join(project.dir, 'device', 'maps');
    await writeV1Install(device, await project.readStoreJson('packages/maps/1.0.0/manifest.json'));
    const args = ['--decryption-key', 'env:CONTENT_KEY', '--public-key', 'keys/signing-public.pem'];
    expect(succeeded(await fetchInto(project, device, args, env))).toMatchObject({ version: '1.0.1', kind: 'delta' });
    expect(await installedFiles(device)).toEqual(await assetFiles(project));
    expect(succeeded(await verify(project, [], env))).toMatchObject({ problems: [], skipped: [], checked: { deltasRebuilt: 1 } });
  });

  it('names the key id when the decryption key is missing or wrong, and leaves the folder alone', async () => {
    const device = join(project.dir, 'device-nokey', 'maps');
    const before = await deviceState(device);
    expect(refused(await fetchInto(project, device, [], env))).toMatch(/is encrypted \(key id [0-9a-f]{16}\) and no decryption key was given/);
    expect(refused(await fetchInto(project, device, ['--decryption-key', 'env:OTHER_KEY'], env))).toMatch(
      /encrypted with key id [0-9a-f]{16}, but the decryption key given has id [0-9a-f]{16}/,
    );
    expect(refused(await fetchInto(project, device, ['--decryption-key', 'env:UNSET_KEY'], env))).toMatch(/UNSET_KEY is not set/);
    expect(await deviceState(device)).toEqual(before);
  });

  it('finishes a publish that stopped after its manifest, keeping the stored objects and signing the manifest', async () => {
    const resumed = await makeProject({
      packages: { maps: V1 },
      config: { encryption: { key: 'env:CONTENT_KEY' }, signing: { privateKey: 'keys/signing-private.pem' } },
    });
    succeeded(await resumed.run(['keys', 'generate', '--out', 'keys', '--json']));
    await publish(resumed, env);
    const manifestKey = 'packages/maps/1.0.0/manifest.json';
    const stored = await snapshotTree(resumed.store, { ignore: ['channels/**'] });
    // As if the run had stopped right after writing the (signed) manifest: no index, nor the history written after it
    // (an index missing under a history that records one is a replay the publisher refuses).
    await rm(resumed.storePath('channels'), { recursive: true });

    expect((await publish(resumed, env)).packages[0]).toMatchObject({ status: 'published', version: '1.0.0' });
    expect(await snapshotTree(resumed.store, { ignore: ['channels/**'] })).toEqual(stored);
    expect((await resumed.readStoreJson(manifestKey)).signatures).toHaveLength(1);
    const device = join(resumed.dir, 'device', 'maps');
    const args = ['--decryption-key', 'env:CONTENT_KEY', '--public-key', 'keys/signing-public.pem'];
    expect(succeeded(await fetchInto(resumed, device, args, env))).toMatchObject({ version: '1.0.0', kind: 'full' });
    expect(await installedFiles(device)).toEqual(await assetFiles(resumed));
  });
});

describe.skipIf(!MOTO_INSTALLED)('fetch from S3 (moto)', () => {
  const BUCKET = 'fetch-e2e';
  let moto: Moto;
  let s3: S3Client;

  beforeAll(async () => {
    moto = await startMoto();
    s3 = rawS3(moto.endpoint);
    await createBucket(s3, BUCKET);
  });
  afterAll(async () => {
    s3?.destroy();
    await moto?.stop();
  });

  it('installs the full package, then applies the delta, byte for byte', async () => {
    const project = await makeProject({ packages: { maps: V1 }, config: s3ProjectConfig(moto.endpoint, BUCKET, 'app/releases') });
    const device = join(project.dir, 'device', 'maps');
    await publish(project, moto.env);
    expect(succeeded(await fetchInto(project, device, [], moto.env))).toMatchObject({ version: '1.0.0', kind: 'full' });
    expect(await installedFiles(device)).toEqual(await assetFiles(project));

    await publishChange(project, moto.env);
    expect(succeeded(await fetchInto(project, device, [], moto.env))).toMatchObject({ version: '1.0.1', kind: 'delta' });
    expect(await installedFiles(device)).toEqual(await assetFiles(project));
    expect(succeeded(await verify(project, [], moto.env))).toMatchObject({ problems: [], checked: { deltasRebuilt: 1 } });
  });
});

/** A device that installed 1.0.0 earlier: its files (from the published full package's manifest) and dot-file. */
async function writeV1Install(dir: string, manifest: Manifest): Promise<void> {
  expect(manifest.version).toBe('1.0.0');
  for (const file of manifest.files) {
    const content = V1[file.path as keyof typeof V1];
    if (content === undefined) throw new Error(`unknown 1.0.0 file ${file.path}`);
    await writeFileIn(dir, file.path, content);
  }
  await writeFileIn(dir, STATE_FILE, JSON.stringify({ package: 'maps', version: '1.0.0', channel: 'production', installedAt: new Date().toISOString() }));
}

async function writeFileIn(dir: string, path: string, content: string | Buffer): Promise<void> {
  await mkdir(dirname(join(dir, path)), { recursive: true });
  await writeFile(join(dir, path), content);
}
