/**
 * fetch --from a private store (serve --private): a credentials command is run
 * before the first private request, its cookies or signed URL go with each
 * request, it runs once more on a 403 (an expired entitlement, also mid-way
 * through a download, which then resumes), and without it the fetch is
 * refused in one line with the device folder untouched.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefused, removeProjects, snapshotTree, succeeded, type CliResult, type Project } from '../helpers/cli.js';
import { expiringEntitlement, LARGE_PACKAGE, privateProject, signCommand, startCuttingProxy } from '../helpers/private-store.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';

afterAll(removeProjects);

/** fetch shows its step (checking…, nothing installed) before the error: the refusal is the one error line after it. */
const refusal = (result: CliResult): CliResult => ({ ...result, stderr: result.stderr.split('\n').filter((line) => !/^\S+ maps: /.test(line)).join('\n') });
const absent = (dir: string) => !existsSync(dir);

const STATE_FILE = '.update-publish.json';

describe('fetch from a private store (scope packages)', () => {
  let project: Project;
  let server: ServeProcess;

  beforeAll(async () => {
    project = await privateProject('packages', LARGE_PACKAGE);
    server = await startServe(project.dir, ['--private']);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('without credentials: one line naming --credentials-command, exit 1, the device folder untouched', async () => {
    const device = join(project.dir, 'device-none');
    const result = await project.run(['fetch', 'maps', '--into', device, '--from', server.url]);
    expectRefused(refusal(result), 1, /GET http:\/\/127\.0\.0\.1:\d+\/packages\/maps\/1\.0\.0\/manifest\.json answered HTTP 403: the store requires credentials for it .*; pass --credentials-command CMD, a command printing what 'update-publish access sign --json' prints/);
    expect(absent(device)).toBe(true);
  });

  it('installs with signed cookies and with a signed URL from the credentials command; no credential in output', async () => {
    for (const kind of ['cookie', 'url']) {
      const device = join(project.dir, `device-${kind}`);
      const result = await project.run(['fetch', 'maps', '--into', device, '--from', server.url, '--credentials-command', signCommand('--kind', kind), '--json']);
      const fetched = succeeded(result);
      expect(fetched).toMatchObject({ updated: true, version: '1.0.0', kind: 'full' });
      expect((await snapshotTree(device, { ignore: [STATE_FILE] }))['big.bin']).toBe((await snapshotTree(project.packageDir('maps')))['big.bin']);
      const everything = result.stdout + result.stderr + (await readFile(join(device, STATE_FILE), 'utf8'));
      expect(everything).not.toMatch(/Signature|Key-Pair-Id|CloudFront-/);
    }
  });

  it('a credentials command that fails or prints something else: one line naming it, exit 1', async () => {
    const device = join(project.dir, 'device-bad');
    expectRefused(
      refusal(await project.run(['fetch', 'maps', '--into', device, '--from', server.url, '--credentials-command', 'sh -c "exit 3"'])),
      1,
      /credentials command 'sh' failed \(exit 3\); run it yourself/,
    );
    expectRefused(
      refusal(await project.run(['fetch', 'maps', '--into', device, '--from', server.url, '--credentials-command', 'echo hello'])),
      1,
      /credentials command 'echo' printed something that is not JSON/,
    );
    expectRefused(
      refusal(await project.run(['fetch', 'maps', '--into', device, '--from', server.url, '--credentials-command', `echo '{"token":"x","expires":"2030-01-01T00:00:00Z"}'`])),
      1,
      /credentials command 'echo' printed JSON that is not a credential: it has neither "cookies" nor "url"/,
    );
    expect(absent(device)).toBe(true);
    expectRefused(await project.run(['fetch', 'maps', '--into', device, '--credentials-command', 'true']), 2, /--credentials-command applies with --from https:\/\/… \(a CDN in front of a private store\)/);
  });

  it('access is not integrity: a package altered in the store is refused even with a valid credential', async () => {
    const other = await privateProject('packages');
    const served = await startServe(other.dir, ['--private']);
    try {
      const full = other.storePath('packages/maps/1.0.0/full.zip');
      const bytes = await readFile(full);
      bytes[bytes.length - 30] ^= 0xff;
      await writeFile(full, bytes);
      const device = join(other.dir, 'device-altered');
      const result = await other.run(['fetch', 'maps', '--into', device, '--from', served.url, '--credentials-command', signCommand()]);
      expectRefused(refusal(result), 1, /packages\/maps\/1\.0\.0\/full\.zip: SHA-256 is [0-9a-f]{64} but the manifest lists/);
      expect(absent(device)).toBe(true);
    } finally {
      await served.stop();
    }
  });

  it('a credential refused even fresh is reported once, not retried forever', async () => {
    const device = join(project.dir, 'device-wrong');
    const result = await project.run(['fetch', 'maps', '--into', device, '--from', server.url, '--credentials-command', signCommand('--ip', '10.0.0.0/8')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/answered HTTP 403 to a fresh credential/);
    expect(result.stderr).not.toMatch(/Signature|CloudFront-/);
  });

  it('an entitlement that expires mid-download is renewed once and the download resumes where it was cut', async () => {
    const proxy = await startCuttingProxy(server.url);
    const { script, calls } = await expiringEntitlement(project.dir);
    try {
      const device = join(project.dir, 'device-resume');
      const fetched = succeeded(await project.run(['fetch', 'maps', '--into', device, '--from', proxy.url, '--credentials-command', script, '--json']));
      expect(fetched).toMatchObject({ updated: true, version: '1.0.0' });
      expect((await snapshotTree(device, { ignore: [STATE_FILE] }))['big.bin']).toBe((await snapshotTree(project.packageDir('maps')))['big.bin']);
      expect(await calls()).toBe(2);
      const downloads = proxy.requests.filter((request) => request.url.endsWith('full.zip'));
      expect(downloads.map(({ status, range }) => ({ status, resumed: range !== undefined }))).toEqual([
        { status: 200, resumed: false },
        { status: 403, resumed: true },
        { status: 206, resumed: true },
      ]);
      expect(fetched.bytesDownloaded).toBeGreaterThan(3 * 1024 * 1024);
    } finally {
      await proxy.close();
    }
  });
});

describe('fetch from a private store (scope all)', () => {
  it('asks for credentials on the first 403 (the channel index) and reads everything with them', async () => {
    const project = await privateProject('all');
    const server = await startServe(project.dir, ['--private']);
    try {
      const refused = await project.run(['fetch', 'maps', '--into', join(project.dir, 'none'), '--from', server.url]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/channels\/production\/index\.json answered HTTP 403: the store requires credentials .*pass --credentials-command CMD/);
      const fetched = succeeded(await project.run(['fetch', 'maps', '--into', join(project.dir, 'device'), '--from', server.url, '--credentials-command', signCommand(), '--json']));
      expect(fetched).toMatchObject({ updated: true, version: '1.0.0' });
      // Reading commands that take --from take the credentials too: under scope all the index, read
      // first because it names the switches version devices accept, is private like the switches.
      expectRefused(await project.run(['switch', 'resolve', '--from', server.url, '--device-id', 'd1']), 1, /channels\/production\/index\.json answered HTTP 403: the store requires credentials .*pass --credentials-command CMD/);
      succeeded(await project.run(['switch', 'resolve', '--from', server.url, '--device-id', 'd1', '--credentials-command', signCommand(), '--json']));
    } finally {
      await server.stop();
    }
  });
});
