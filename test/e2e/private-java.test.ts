/**
 * The Java client (templates/clients/java/UpdateClient.java) against a
 * private store (serve --private): --credentials-command before the first
 * private request, refused in one line without it, and an entitlement that
 * expires mid-download renewed once, the download resumed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeProjects, snapshotTree, type Project } from '../helpers/cli.js';
import { expiringEntitlement, LARGE_PACKAGE, privateProject, signCommand, startCuttingProxy } from '../helpers/private-store.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { removeJavaClasses, runJavaClient } from '../helpers/java-client.js';

const STATE_FILE = '.update-publish.json';

afterAll(async () => {
  await removeProjects();
  await removeJavaClasses();
});

const runJava = (args: string[], cwd: string) => runJavaClient(args, { cwd });

describe('Java client and a private store', () => {
  let project: Project;
  let server: ServeProcess;

  beforeAll(async () => {
    project = await privateProject('packages', LARGE_PACKAGE);
    server = await startServe(project.dir, ['--private']);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const same = async (device: string) =>
    expect((await snapshotTree(device, { ignore: [STATE_FILE] }))['big.bin']).toBe((await snapshotTree(project.packageDir('maps')))['big.bin']);

  it('refuses without credentials in one line naming --credentials-command (exit 1), device folder untouched', async () => {
    const device = join(project.dir, 'java-none');
    const result = await runJava(['maps', '--from', server.url, '--into', device], project.dir);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^error: GET .*manifest\.json answered HTTP 403: the store requires credentials .*pass --credentials-command CMD/);
    expect(existsSync(device)).toBe(false);
    const failing = await runJava(['maps', '--from', server.url, '--into', device, '--credentials-command', 'sh -c "exit 4"'], project.dir);
    expect(failing.code).toBe(1);
    expect(failing.stderr.trim()).toBe(`error: credentials command 'sh' failed (exit 4); run it yourself to see why (it must print what 'update-publish access sign --json' prints)`);
  });

  it('installs with signed cookies and with a signed URL; no credential in its output or install state', async () => {
    for (const kind of ['cookie', 'url']) {
      const device = join(project.dir, `java-${kind}`);
      const result = await runJava(['maps', '--from', server.url, '--into', device, '--credentials-command', signCommand('--kind', kind)], project.dir);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json).toMatchObject({ updated: true, version: '1.0.0' });
      await same(device);
      const { readFile } = await import('node:fs/promises');
      expect(result.stdout + result.stderr + (await readFile(join(device, STATE_FILE), 'utf8'))).not.toMatch(/Signature|Key-Pair-Id|CloudFront-/);
    }
  });

  it('renews an entitlement that expired mid-download once and resumes the download', async () => {
    const proxy = await startCuttingProxy(server.url);
    const { script, calls } = await expiringEntitlement(project.dir);
    try {
      const device = join(project.dir, 'java-resume');
      const result = await runJava(['maps', '--from', proxy.url, '--into', device, '--credentials-command', script], project.dir);
      expect(result.code, result.stderr).toBe(0);
      await same(device);
      expect(await calls()).toBe(2);
      expect(proxy.requests.filter((request) => request.url.endsWith('full.zip')).map(({ status, range }) => ({ status, resumed: range !== undefined }))).toEqual([
        { status: 200, resumed: false },
        { status: 403, resumed: true },
        { status: 206, resumed: true },
      ]);
    } finally {
      await proxy.close();
    }
  });

  it('under scope all asks for credentials on the first 403 (the channel index) and installs', async () => {
    const all = await privateProject('all');
    const served = await startServe(all.dir, ['--private']);
    try {
      const refusedRun = await runJava(['maps', '--from', served.url, '--into', join(all.dir, 'none')], all.dir);
      expect(refusedRun.code).toBe(1);
      expect(refusedRun.stderr).toMatch(/channels\/production\/index\.json answered HTTP 403: the store requires credentials/);
      const result = await runJava(['maps', '--from', served.url, '--into', join(all.dir, 'device'), '--credentials-command', signCommand()], all.dir);
      expect(result.code, result.stderr).toBe(0);
      expect(result.json).toMatchObject({ updated: true, version: '1.0.0' });
      // Switches are channel documents: private under scope all too.
      const switches = await runJava(['switch', 'resolve', '--from', served.url, '--device-id', 'd1', '--credentials-command', signCommand()], all.dir);
      expect(switches.code, switches.stderr).toBe(0);
      expect(switches.json).toMatchObject({ channel: 'production', values: {} });
    } finally {
      await served.stop();
    }
  });
});
