/**
 * fetch --from a private store (serve --private): a credentials command is run
 * before the first private request, its cookies or signed URL go with each
 * request, it runs once more on a 403 (an expired entitlement, also mid-way
 * through a download, which then resumes), and without it the fetch is
 * refused in one line with the device folder untouched.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefused, removeProjects, snapshotTree, succeeded, type CliResult, type Project } from '../helpers/cli.js';
import { privateProject, signCommand } from '../helpers/private-store.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';

afterAll(removeProjects);

/** fetch shows its step (checking…, nothing installed) before the error: the refusal is the one error line after it. */
const refusal = (result: CliResult): CliResult => ({ ...result, stderr: result.stderr.split('\n').filter((line) => !/^\S+ maps: /.test(line)).join('\n') });
const absent = (dir: string) => !existsSync(dir);

const STATE_FILE = '.update-publish.json';
/** Large and incompressible: the download spans many chunks, so it can be cut mid-way. */
const BIG = { 'a.txt': 'alpha\n', 'big.bin': randomBytes(3 * 1024 * 1024) };

describe('fetch from a private store (scope packages)', () => {
  let project: Project;
  let server: ServeProcess;

  beforeAll(async () => {
    project = await privateProject('packages', BIG);
    server = await startServe(project.dir, ['--private']);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('without credentials: one line naming --credentials-command, exit 1, the device folder untouched', async () => {
    const device = join(project.dir, 'device-none');
    const result = await project.run(['fetch', 'maps', '--into', device, '--from', server.url]);
    expectRefused(refusal(result), 1, /the store at http:\/\/127\.0\.0\.1:\d+\/ requires credentials .*answered 403.*pass --credentials-command CMD, a command printing what 'update-publish access sign --json' prints/);
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
    expectRefused(await project.run(['fetch', 'maps', '--into', device, '--credentials-command', 'true']), 2, /--credentials-command applies with --from URL/);
  });

  it('a credential refused even fresh is reported once, not retried forever', async () => {
    const device = join(project.dir, 'device-wrong');
    const result = await project.run(['fetch', 'maps', '--into', device, '--from', server.url, '--credentials-command', signCommand('--ip', '10.0.0.0/8')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/answered HTTP 403 to a fresh credential/);
    expect(result.stderr).not.toMatch(/Signature|CloudFront-/);
  });

  it('an entitlement that expires mid-download is renewed once and the download resumes where it was cut', async () => {
    // Between fetch and serve: the first package download is cut after its first bytes, once its credential has expired.
    const requests: { url: string; status: number; range?: string }[] = [];
    let cutOnce = false;
    const proxy = createServer((request: IncomingMessage, response) => {
      const upstream = httpRequest(new URL(request.url!, server.url), { method: request.method, headers: request.headers }, (answer) => {
        requests.push({ url: request.url!.split('?')[0]!, status: answer.statusCode!, range: request.headers.range });
        response.writeHead(answer.statusCode!, answer.headers);
        if (cutOnce || !request.url!.includes('full.zip') || answer.statusCode !== 200) return void answer.pipe(response);
        cutOnce = true;
        answer.once('data', (chunk: Buffer) => {
          answer.pause();
          response.write(chunk);
          // The credential lived 6 s from its signing, before this request: 7.5 s later it has expired.
          setTimeout(() => {
            answer.destroy();
            response.socket?.destroy();
          }, 7500);
        });
      });
      request.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const calls = join(project.dir, 'calls.log');
    await writeFile(calls, '');
    // First call: a short entitlement; later calls: a fresh hour.
    const script = join(project.dir, 'entitlement.sh');
    await writeFile(script, `#!/bin/sh\necho call >> '${calls}'\nif [ "$(wc -l < '${calls}')" -le 1 ]; then exec ${signCommand('--ttl', '6s')}; fi\nexec ${signCommand('--ttl', '1h')}\n`, { mode: 0o755 });
    try {
      const device = join(project.dir, 'device-resume');
      const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/`;
      const fetched = succeeded(await project.run(['fetch', 'maps', '--into', device, '--from', url, '--credentials-command', script, '--json']));
      expect(fetched).toMatchObject({ updated: true, version: '1.0.0' });
      expect((await snapshotTree(device, { ignore: [STATE_FILE] }))['big.bin']).toBe((await snapshotTree(project.packageDir('maps')))['big.bin']);
      expect((await readFile(calls, 'utf8')).trim().split('\n')).toHaveLength(2);
      const downloads = requests.filter((request) => request.url.endsWith('full.zip'));
      expect(downloads.map(({ status, range }) => ({ status, resumed: range !== undefined }))).toEqual([
        { status: 200, resumed: false },
        { status: 403, resumed: true },
        { status: 206, resumed: true },
      ]);
      expect(fetched.bytesDownloaded).toBeGreaterThan(3 * 1024 * 1024);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
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
      expect(refused.stderr).toMatch(/requires credentials \(GET .*channels\/production\/index\.json answered 403\)/);
      const fetched = succeeded(await project.run(['fetch', 'maps', '--into', join(project.dir, 'device'), '--from', server.url, '--credentials-command', signCommand(), '--json']));
      expect(fetched).toMatchObject({ updated: true, version: '1.0.0' });
    } finally {
      await server.stop();
    }
  });
});
