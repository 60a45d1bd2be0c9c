/**
 * Issue 14's attacks, as a hostile mirror, CDN or bucket editor would try them:
 * each ends in one line, exit 1, and the device folder untouched.
 */
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TRANSFER_LIMITS, httpSource } from '../../src/client/fetch/http-source.js';
import { loadPublicKey } from '../../src/client/trusted-keys.js';
import { checkDocumentSignature } from '../../src/protocol/document-signature.js';
import { trustedKeyOf } from '../../src/protocol/signature.js';
import { makeProject, removeProjects, snapshotTree, succeeded, type CliResult, type Project } from '../helpers/cli.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { createBucket, MOTO_INSTALLED, rawS3, s3ProjectConfig } from '../helpers/s3-e2e.js';

afterAll(removeProjects);

const INDEX = 'channels/production/index.json';
const KILL_AFTER_WRITE = fileURLToPath(new URL('../helpers/kill-after-write.cjs', import.meta.url));

/** A project whose store is signed, with one release of maps published. */
async function signedProject(config: Record<string, unknown> = {}): Promise<Project> {
  const project = await makeProject({ packages: { maps: { 'a.txt': 'alpha' } }, config: { signing: { privateKey: 'keys/signing-private.pem' }, ...config } });
  succeeded(await project.run(['keys', 'generate', '--out', 'keys', '--json']));
  return project;
}
const publicKey = (project: Project) => ['--public-key', join(project.dir, 'keys', 'signing-public.pem')];
const publish = async (project: Project, args: string[] = [], env?: Record<string, string>) =>
  succeeded(await project.run(['publish', '--yes', '--json', ...args], { env }));
const fetchInto = (project: Project, dir: string, args: string[] = [], env?: Record<string, string>) =>
  project.run(['fetch', 'maps', '--into', dir, '--json', ...args], { env });

/** The one error line of a refused run (exit 1). */
function refused(result: CliResult): string {
  expect(result.code, result.stderr).toBe(1);
  const lines = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
  expect(lines, result.stderr).toHaveLength(1);
  expect(result.stderr).not.toMatch(/a bug in update-publish|\n\s+at /);
  return lines[0];
}

/** The device folder and whatever lies beside it. */
async function deviceState(dir: string) {
  const siblings = (await readdir(dirname(dir)).catch(() => [] as string[])).filter((name) => name.startsWith(basename(dir)));
  return { tree: await snapshotTree(dir), siblings };
}

/** Serves a folder over HTTP; `override` may answer a path itself (a hostile mirror). */
async function serveFolder(root: () => string, override?: (key: string, response: ServerResponse) => boolean): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer(async (request, response) => {
    const key = decodeURIComponent(new URL(request.url!, 'http://localhost').pathname.slice(1));
    if (override?.(key, response)) return;
    const body = await readFile(join(root(), key)).catch(() => null);
    response.writeHead(body ? 200 : 404).end(body ?? undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('1. signed whitelists stay signed', () => {
  it('upload keeps every signature it writes; a member device gets the whitelisted release; verify and keys resign agree', async () => {
    const project = await signedProject();
    await publish(project);
    await writeFile(join(project.dir, 'qa.txt'), 'qa-phone\nqa-tablet\n');
    succeeded(await project.run(['whitelist', 'upload', 'qa', 'qa.txt', '--yes', '--json']));
    // Uploading again replaces the list; its documents must still carry their signatures.
    succeeded(await project.run(['whitelist', 'upload', 'qa', 'qa.txt', '--yes', '--json']));
    await project.write('maps', { 'a.txt': 'for qa' });
    await publish(project, ['--rollout', '0', '--whitelist', 'qa']);
    const trusted = trustedKeyOf((await loadPublicKey(join(project.dir, 'keys', 'signing-public.pem'))).key);
    for (const key of ['whitelists/qa/meta.json', 'whitelists/qa/v2/shard-000.json']) {
      expect(checkDocumentSignature(await project.readStoreJson(key), [trusted])).toMatchObject({ ok: true });
    }
    expect(succeeded(await fetchInto(project, join(project.dir, 'qa-device', 'maps'), [...publicKey(project), '--device-id', 'qa-phone']))).toMatchObject({ version: '1.0.1' });
    expect(succeeded(await fetchInto(project, join(project.dir, 'other', 'maps'), [...publicKey(project), '--device-id', 'someone']))).toMatchObject({ version: '1.0.0' });
    const http = await serveFolder(() => project.store);
    try {
      expect(succeeded(await fetchInto(project, join(project.dir, 'qa-http', 'maps'), [...publicKey(project), '--device-id', 'qa-tablet', '--from', http.url]))).toMatchObject({ version: '1.0.1' });
    } finally {
      await http.close();
    }
    expect(succeeded(await project.run(['verify', '--json', ...publicKey(project)])).problems).toEqual([]);
    expect(succeeded(await project.run(['keys', 'resign', '--dry-run', '--json'])).signed).toEqual([]);
  });

  it.skipIf(!MOTO_INSTALLED)('the same on S3 (moto)', async () => {
    const moto: Moto = await startMoto();
    const s3: S3Client = rawS3(moto.endpoint);
    try {
      await createBucket(s3, 'trust');
      const project = await signedProject(s3ProjectConfig(moto.endpoint, 'trust', 'app'));
      await publish(project, [], moto.env);
      await writeFile(join(project.dir, 'qa.txt'), 'qa-phone\n');
      succeeded(await project.run(['whitelist', 'upload', 'qa', 'qa.txt', '--yes', '--json'], { env: moto.env }));
      succeeded(await project.run(['whitelist', 'upload', 'qa', 'qa.txt', '--yes', '--json'], { env: moto.env }));
      await project.write('maps', { 'a.txt': 'for qa' });
      await publish(project, ['--rollout', '0', '--whitelist', 'qa'], moto.env);
      const device = join(project.dir, 'qa-device', 'maps');
      expect(succeeded(await fetchInto(project, device, [...publicKey(project), '--device-id', 'qa-phone'], moto.env))).toMatchObject({ version: '1.0.1' });
      expect(succeeded(await project.run(['keys', 'resign', '--dry-run', '--json'], { env: moto.env })).signed).toEqual([]);
    } finally {
      s3.destroy();
      await moto.stop();
    }
  });
});

describe('2. rollback: an earlier signed index served again', () => {
  it('a device that accepted a newer index refuses the restored one, and keeps its folder', async () => {
    const project = await signedProject();
    await publish(project);
    const earlier = join(project.dir, 'earlier-channel');
    await cp(join(project.store, 'channels/production'), earlier, { recursive: true });
    await project.write('maps', { 'a.txt': 'bad release' });
    await publish(project);
    succeeded(await project.run(['halt', 'maps', '--yes', '--json']));
    succeeded(await project.run(['rollback', 'maps', '--to', '1.0.0', '--yes', '--json']));
    const device = join(project.dir, 'device', 'maps');
    expect(succeeded(await fetchInto(project, device, publicKey(project)))).toMatchObject({ version: '1.0.0' });
    const accepted = JSON.parse(await readFile(join(device, '.update-publish.json'), 'utf8')).trust;
    expect(accepted).toEqual({ channel: 'production', indexVersion: expect.any(Number), signed: true });

    // The mirror restores the channel folder as it was: validly signed, but older.
    await rm(join(project.store, 'channels/production'), { recursive: true });
    await cp(earlier, join(project.store, 'channels/production'), { recursive: true });
    const before = await deviceState(device);
    const line = refused(await fetchInto(project, device, publicKey(project)));
    expect(line).toMatch(/index is version \d+, older than version \d+ accepted before: a rollback/);
    expect(await deviceState(device)).toEqual(before);
  });
});

describe('3. freeze: an old index served forever', () => {
  it('every index expires (signing.indexLifetime); devices refuse an expired one; refresh renews; status warns; verify reports', async () => {
    const project = await signedProject({ signing: { privateKey: 'keys/signing-private.pem', indexLifetime: '5d' } });
    await publish(project);
    const index = await project.readStoreJson(INDEX);
    expect(index).toMatchObject({ version: 1, expires: expect.any(String) });
    const lifetime = Date.parse(index.expires) - Date.parse(index.updatedAt);
    expect(lifetime).toBe(5 * 86_400_000);
    const device = join(project.dir, 'device', 'maps');
    const later = new Date(Date.parse(index.expires) + 1000).toISOString();
    const before = await deviceState(device);
    expect(refused(await fetchInto(project, device, [...publicKey(project), '--now', later]))).toMatch(/index expired at .*; refused/);
    expect(await deviceState(device)).toEqual(before);

    const status = await project.run(['status', '--json']);
    expect(status.json.channels[0]).toMatchObject({ channel: 'production', version: 1, expires: index.expires });
    expect(status.stderr).toMatch(/warning: channel 'production' index expires at .*run 'update-publish refresh --channel production'/);

    const refreshed = succeeded(await project.run(['refresh', '--json']));
    expect(refreshed).toEqual({ channels: [{ channel: 'production', version: 2, expires: expect.any(String) }], dryRun: false });
    expect(Date.parse(refreshed.channels[0].expires)).toBeGreaterThan(Date.parse(index.expires));
    expect(succeeded(await project.run(['refresh', '--channel', 'production', '--dry-run', '--json'])).channels[0].version).toBe(3);
    expect((await project.readStoreJson(INDEX)).version).toBe(2);
    expect(succeeded(await fetchInto(project, device, publicKey(project)))).toMatchObject({ version: '1.0.0' });

    // An index already expired is reported by verify.
    const frozen = await signedProject({ signing: { privateKey: 'keys/signing-private.pem', indexLifetime: '1s' } });
    await publish(frozen);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const report = await frozen.run(['verify', '--json']);
    expect(report.code).toBe(1);
    expect(report.json.problems).toContainEqual({ key: INDEX, problem: expect.stringMatching(/expired at .*run 'update-publish refresh --channel production'/) });
  });
});

describe('4. whitelist mix-and-match', () => {
  it("a shard of list beta served in place of list qa's is refused", async () => {
    const project = await signedProject();
    await publish(project);
    await writeFile(join(project.dir, 'qa.txt'), 'qa-phone\n');
    await writeFile(join(project.dir, 'beta.txt'), 'outsider\n');
    succeeded(await project.run(['whitelist', 'upload', 'qa', 'qa.txt', '--yes', '--json']));
    succeeded(await project.run(['whitelist', 'upload', 'beta', 'beta.txt', '--yes', '--json']));
    await project.write('maps', { 'a.txt': 'qa only' });
    await publish(project, ['--rollout', '0', '--whitelist', 'qa']);
    // Both lists hold one shard: beta's (validly signed) is copied over qa's.
    await cp(project.storePath('whitelists/beta/v1/shard-000.json'), project.storePath('whitelists/qa/v1/shard-000.json'));
    const device = join(project.dir, 'device', 'maps');
    const before = await deviceState(device);
    expect(refused(await fetchInto(project, device, [...publicKey(project), '--device-id', 'outsider']))).toMatch(
      /whitelists\/qa\/v1\/shard-000\.json: is shard 0 of list 'beta' upload 1, not shard 0 of 'qa' upload 1/,
    );
    expect(await deviceState(device)).toEqual(before);
  });
});

describe('5. endless data and slow retrieval', () => {
  let project: Project;
  beforeAll(async () => {
    project = await makeProject({ packages: { maps: { 'a.txt': 'alpha' } } });
    await publish(project);
  });

  it('an endless index is dropped at the cap, not read into memory', async () => {
    const http = await serveFolder(() => project.store, (key, response) => {
      if (key !== INDEX) return false;
      response.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (response.write(chunk));
      };
      response.on('drain', pump);
      response.on('close', () => response.off('drain', pump));
      pump();
      return true;
    });
    try {
      const device = join(project.dir, 'endless', 'maps');
      const line = refused(await fetchInto(project, device, ['--from', http.url, '--max-index-size', '1048576']));
      expect(line).toMatch(/channels\/production\/index\.json is larger than the 1048576 bytes a device reads for it/);
      expect(await deviceState(device)).toEqual({ tree: {}, siblings: [] });
    } finally {
      await http.close();
    }
  });

  it('a server that trickles, or says nothing, is given up on', async () => {
    const timers: NodeJS.Timeout[] = [];
    const http = await serveFolder(() => project.store, (key, response) => {
      if (key === INDEX) {
        response.writeHead(200);
        timers.push(setInterval(() => response.write(' '), 3000));
        return true;
      }
      return false;
    });
    try {
      const device = join(project.dir, 'trickle', 'maps');
      const started = Date.now();
      const line = refused(await fetchInto(project, device, ['--from', http.url, '--stall-timeout', '1']));
      expect(line).toMatch(/GET .*index\.json stalled: nothing received for 1 s/);
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(await deviceState(device)).toEqual({ tree: {}, siblings: [] });
    } finally {
      timers.forEach(clearInterval);
      await http.close();
    }
  });

  it('a body arriving below the minimum speed after the grace period is dropped', async () => {
    const timers: NodeJS.Timeout[] = [];
    const http = await serveFolder(() => project.store, (key, response) => {
      if (key !== INDEX) return false;
      response.writeHead(200);
      timers.push(setInterval(() => response.write(' '), 50));
      return true;
    });
    try {
      const source = httpSource(http.url, { ...DEFAULT_TRANSFER_LIMITS, stallTimeoutMs: 5_000, minBytesPerSecond: 1024, minSpeedGraceMs: 400 });
      await expect(source.readDocument(INDEX, 1024 * 1024)).rejects.toThrow(/index\.json is too slow: \d+ bytes\/s over \d+ s \(minimum 1024\)/);
    } finally {
      timers.forEach(clearInterval);
      await http.close();
    }
  });

  it('a manifest declaring more than the disk holds is refused before any download', async () => {
    const store = await makeProject({ packages: { maps: { 'a.txt': 'alpha' } } });
    await publish(store);
    // An unsigned store: the mirror may rewrite the index and the manifest together.
    const index = await store.readStoreJson(INDEX);
    const manifestKey = index.packages.maps.releases[0].manifest.key;
    const manifest = await store.readStoreJson(manifestKey);
    manifest.files[0].size = 2 ** 50;
    const body = Buffer.from(JSON.stringify(manifest));
    await writeFile(store.storePath(manifestKey), body);
    const { createHash } = await import('node:crypto');
    index.packages.maps.releases[0].manifest = { key: manifestKey, sha256: createHash('sha256').update(body).digest('hex'), size: body.length };
    await writeFile(store.storePath(INDEX), JSON.stringify(index));
    const device = join(store.dir, 'device', 'maps');
    expect(refused(await fetchInto(store, device))).toMatch(/maps@1\.0\.0 needs \d+ bytes in .* but only \d+ are free/);
    expect(await deviceState(device)).toEqual({ tree: {}, siblings: [] });
  });
});

describe('6. archives are checked before use', () => {
  it('an edited archive is reported by verify and refused by rollback --to, which writes nothing', async () => {
    const project = await signedProject();
    await publish(project);
    await project.write('maps', { 'a.txt': 'second' });
    await publish(project);
    const archiveKey = 'channels/production/archive/maps.json';
    const archive = await project.readStoreJson(archiveKey);
    expect(archive.releases.map((release: { version: string }) => release.version)).toEqual(['1.0.0']);
    archive.releases[0].rules.mandatory = true;
    await writeFile(project.storePath(archiveKey), JSON.stringify(archive));
    const tampered = await snapshotTree(project.store);

    const report = await project.run(['verify', '--json']);
    expect(report.code).toBe(1);
    expect(JSON.stringify(report.json.problems)).toMatch(/archive\/maps\.json signature by key [0-9a-f]{16} does not match the content/);
    expect(refused(await project.run(['rollback', 'maps', '--to', '1.0.0', '--yes']))).toMatch(
      /channels\/production\/archive\/maps\.json signature .* does not match the content.*'update-publish keys resign'/,
    );
    expect(await snapshotTree(project.store)).toEqual(tampered);
  });
});

describe('7. a kill after the index write is finished by the next run', () => {
  it('publish: the rerun writes the history entry and runs the hooks it had not run, and says so', async () => {
    const project = await signedProject({ hooks: [{ type: 'command', run: 'echo "$UP_EVENT $UP_VERSION" >> hooks.log' }] });
    await publish(project);
    await project.write('maps', { 'a.txt': 'second' });
    const killed = await project.run(['publish', '--yes'], { env: { NODE_OPTIONS: `--require ${KILL_AFTER_WRITE}`, KILL_AFTER_WRITE: INDEX } });
    expect(killed.code).not.toBe(0);
    expect((await project.readStoreJson(INDEX)).packages.maps.releases[0].version).toBe('1.0.1');
    expect(await readFile(join(project.dir, 'hooks.log'), 'utf8')).toBe('publish 1.0.0\n');
    expect((await readdir(project.storePath('channels/production/pending'))).length).toBe(1);

    const rerun = await project.run(['publish', '--yes', '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.json.packages[0]).toMatchObject({ status: 'unchanged', version: '1.0.1' });
    expect(rerun.stderr).toMatch(/finishing an interrupted publish of maps@1\.0\.1 on 'production'/);
    expect(await readFile(join(project.dir, 'hooks.log'), 'utf8')).toBe('publish 1.0.0\npublish 1.0.1\n');
    const history = succeeded(await project.run(['history', 'maps', '--json']));
    expect(history.entries.map((entry: { action: string; version: string }) => `${entry.action} ${entry.version}`)).toEqual(['publish 1.0.1', 'publish 1.0.0']);
    expect(history.entries[0].details.logged).toBeUndefined();
    // The record is gone once its work ran (the folder store drops the emptied folder too).
    expect(await readdir(project.storePath('channels/production/pending')).catch(() => [])).toEqual([]);
    // Devices were never refused meanwhile: the index carried its signature from the moment it landed.
    expect(succeeded(await fetchInto(project, join(project.dir, 'device', 'maps'), publicKey(project)))).toMatchObject({ version: '1.0.1' });
  });

  it('rollout: the next release operation finishes it first', async () => {
    const project = await signedProject({ hooks: [{ type: 'command', run: 'echo "$UP_EVENT $UP_ROLLOUT" >> hooks.log' }] });
    await publish(project, ['--rollout', '10']);
    const killed = await project.run(['rollout', 'maps', '50', '--yes'], { env: { NODE_OPTIONS: `--require ${KILL_AFTER_WRITE}`, KILL_AFTER_WRITE: INDEX } });
    expect(killed.code).not.toBe(0);
    succeeded(await project.run(['rollout', 'maps', '80', '--yes', '--json']));
    expect(await readFile(join(project.dir, 'hooks.log'), 'utf8')).toBe('publish 10\nrollout 50\nrollout 80\n');
    const history = succeeded(await project.run(['history', 'maps', '--json']));
    expect(history.entries.map((entry: { action: string; to: unknown }) => `${entry.action} ${entry.to}`)).toEqual(['rollout 80', 'rollout 50', 'publish null']);
  });

  it('a run killed before its index write leaves nothing to finish', async () => {
    const project = await signedProject({ hooks: [{ type: 'command', run: 'echo "$UP_EVENT" >> hooks.log' }] });
    await publish(project);
    await project.write('maps', { 'a.txt': 'second' });
    // Killed as its pending record lands: the index write never happens.
    const killed = await project.run(['publish', '--yes'], { env: { NODE_OPTIONS: `--require ${KILL_AFTER_WRITE}`, KILL_AFTER_WRITE: 'channels/production/pending/' } });
    expect(killed.code).not.toBe(0);
    succeeded(await project.run(['status', '--json']));
    const rerun = await project.run(['publish', '--yes', '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).not.toMatch(/finishing an interrupted/);
  });
});

describe('8. index and signature cannot be read apart', () => {
  it('every read during a series of rollouts is one validly signed document', async () => {
    const project = await signedProject();
    await publish(project, ['--rollout', '1']);
    const trusted = trustedKeyOf((await loadPublicKey(join(project.dir, 'keys', 'signing-public.pem'))).key);
    const rollouts = (async () => {
      for (let percent = 2; percent <= 12; percent++) {
        succeeded(await project.run(['rollout', 'maps', String(percent), '--yes', '--json'], { spawn: true }));
      }
    })();
    let reads = 0;
    let done = false;
    void rollouts.finally(() => (done = true));
    while (!done) {
      const body = await readFile(project.storePath(INDEX), 'utf8');
      expect(checkDocumentSignature(JSON.parse(body), [trusted])).toMatchObject({ ok: true });
      reads++;
    }
    await rollouts;
    expect(reads).toBeGreaterThan(50);
  });
});

describe('signed stores stay signed', () => {
  it('a device that accepted a signed index refuses an unsigned one later, even without --public-key', async () => {
    const project = await signedProject();
    await publish(project);
    const device = join(project.dir, 'device', 'maps');
    succeeded(await fetchInto(project, device, publicKey(project)));
    // The mirror swaps in an unsigned copy (signatures stripped, or another store).
    const index = await project.readStoreJson(INDEX);
    delete index.signatures;
    index.version += 5;
    const unsignedStore = join(project.dir, 'unsigned-mirror');
    await mkdir(join(unsignedStore, 'channels/production'), { recursive: true });
    await cp(join(project.store, 'packages'), join(unsignedStore, 'packages'), { recursive: true });
    await writeFile(join(unsignedStore, INDEX), JSON.stringify(index));
    const mirror = await serveFolder(() => unsignedStore);
    try {
      const before = await deviceState(device);
      expect(refused(await fetchInto(project, device, ['--from', mirror.url]))).toMatch(/served an unsigned index after a signed one was accepted/);
      expect(await deviceState(device)).toEqual(before);
    } finally {
      await mirror.close();
    }
  });
});

describe('turning signing on for an existing store', () => {
  it('is refused before any work until keys resign signs what is stored; then publishes, verify and signed devices all accept it', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'alpha' } } });
    await publish(project);
    await project.write('maps', { 'a.txt': 'beta' });
    await publish(project);
    succeeded(await project.run(['keys', 'generate', '--out', 'keys', '--json']));
    const config = JSON.parse(await readFile(project.configPath, 'utf8'));
    await writeFile(project.configPath, JSON.stringify({ ...config, signing: { privateKey: 'keys/signing-private.pem' } }));
    await project.write('maps', { 'a.txt': 'gamma' });
    const before = await snapshotTree(project.store);

    const refusedPublish = await project.run(['publish', '--yes']);
    expect(refused(refusedPublish)).toMatch(/channels\/production\/index\.json carries no signature: .*'update-publish keys resign'/);
    // Checked before any work: nothing hashed, packed or uploaded.
    expect(refusedPublish.stderr).not.toMatch(/hashing|packing|uploading/);
    expect(await snapshotTree(project.store)).toEqual(before);

    const listed = succeeded(await project.run(['keys', 'resign', '--accept-unsigned', '--dry-run', '--json']));
    expect(listed.signed).toEqual(expect.arrayContaining([INDEX, 'channels/production/archive/maps.json', 'channels/production/history/maps.json']));
    succeeded(await project.run(['keys', 'resign', '--accept-unsigned', '--yes', '--json']));
    expect(succeeded(await project.run(['verify', '--json'])).problems).toEqual([]);
    // Releases published before signing: their manifests are bound by the signed index.
    expect(succeeded(await fetchInto(project, join(project.dir, 'device', 'maps'), publicKey(project)))).toMatchObject({ version: '1.0.1' });
    expect(succeeded(await project.run(['rollback', 'maps', '--to', '1.0.0', '--yes', '--json']))).toMatchObject({ to: '1.0.0' });
    await publish(project);
    expect(succeeded(await project.run(['verify', '--json', ...publicKey(project)])).problems).toEqual([]);
  });
});

describe('verify checks archives and histories too', () => {
  it('reports an edited history or archive by its key, with --public-key and without a signing config', async () => {
    const project = await signedProject();
    await publish(project);
    await project.write('maps', { 'a.txt': 'second' });
    await publish(project);
    const historyKey = 'channels/production/history/maps.json';
    const history = await project.readStoreJson(historyKey);
    history.entries[0].actor = 'someone-else';
    await writeFile(project.storePath(historyKey), JSON.stringify(history));
    const signed = await project.run(['verify', '--json']);
    expect(signed.code).toBe(1);
    expect(signed.json.problems).toContainEqual({ key: historyKey, problem: expect.stringMatching(/does not match the content/) });

    // A device-side check (no signing config, the public key given) finds the same.
    const config = JSON.parse(await readFile(project.configPath, 'utf8'));
    delete config.signing;
    await writeFile(project.configPath, JSON.stringify(config));
    const archiveKey = 'channels/production/archive/maps.json';
    const archive = await project.readStoreJson(archiveKey);
    archive.releases[0].rules.rollout = 5;
    await writeFile(project.storePath(archiveKey), JSON.stringify(archive));
    const viaKey = await project.run(['verify', '--json', ...publicKey(project)]);
    expect(viaKey.code).toBe(1);
    expect(viaKey.json.problems).toEqual(
      expect.arrayContaining([
        { key: historyKey, problem: expect.stringMatching(/does not match the content/) },
        { key: archiveKey, problem: expect.stringMatching(/does not match the content/) },
      ]),
    );
  });
});
