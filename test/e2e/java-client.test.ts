/**
 * The second, independent client (templates/clients/java/UpdateClient.java):
 * every conformance vector in one process launched as its users launch it
 * (`java UpdateClient.java`, the single-file source launch); then installs and
 * updates from `update-publish serve`, refusals included, through the same
 * file compiled once with javac (a source launch compiles on every run: ~1.5
 * CPU seconds each); and `.ci/run` insists on a JDK.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFORMANCE_DIR } from '../conformance/generate.js';
import { VECTOR_FILES, type VectorFile } from '../conformance/vector-file.js';
import { makeProject, REPO_ROOT, removeProjects, snapshotTree, succeeded, type Project } from '../helpers/cli.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { freePort } from '../helpers/moto.js';
import { JAVA_INSTALLED, removeJavaClasses, runJavaClient, type JavaResult } from '../helpers/java-client.js';

afterAll(async () => {
  await removeProjects();
  await removeJavaClasses();
});

if (!JAVA_INSTALLED && process.env.CI === 'true') throw new Error('java 17 or newer (a JDK) is required under CI (apt-get install openjdk-17-jdk-headless)');

/** `java UpdateClient …`: compiled once (the helper), or `source` as its users launch it. */
const runJava = (args: string[], env: Record<string, string> = {}, launch: 'source' | 'compiled' = 'compiled'): Promise<JavaResult> =>
  runJavaClient(args, { env, launch });

/** A refusal as the Java client reports it: exit 1, one JSON line with the error, the same line on stderr, no stack. */
function refused(result: JavaResult): string {
  expect(result.code, result.stderr).toBe(1);
  expect(result.json?.error?.exitCode, result.stdout).toBe(1);
  expect(result.stderr.trim()).toBe(`error: ${result.json.error.message}`);
  return result.json.error.message;
}

describe.skipIf(!JAVA_INSTALLED)('Java client: conformance vectors', () => {
  it('gives every expected answer, all files in one Java process', async () => {
    const files = VECTOR_FILES.map((name) => join(CONFORMANCE_DIR, name));
    const result = await runJava(['--conformance', ...files], {}, 'source');
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { file: string; case: string; pass: boolean; actual: unknown });
    const expected: { file: string; case: string; actual: unknown }[] = [];
    for (const name of VECTOR_FILES) {
      const file = JSON.parse(await readFile(join(CONFORMANCE_DIR, name), 'utf8')) as VectorFile;
      for (const vector of file.cases) expected.push({ file: name, case: vector.name, actual: vector.expected });
    }
    expect(lines.map(({ file, case: name, actual }) => ({ file, case: name, actual }))).toEqual(expected);
    expect(lines.every((line) => line.pass)).toBe(true);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`${expected.length} of ${expected.length} conformance cases passed`);
  });
});

const V1 = { 'a.txt': 'alpha\n'.repeat(100), 'img.png': randomBytes(3000), 'sub/b.txt': 'bravo\n', 'data/x.json': '{"x":1}' };
const INDEX = 'channels/production/index.json';
const STATE = '.update-publish.json';

describe.skipIf(!JAVA_INSTALLED)('Java client: install and update from serve', () => {
  let project: Project;
  let server: ServeProcess;
  let device: string;
  const publicKey = () => ['--public-key', join(project.dir, 'keys', 'signing-public.pem')];
  const java = (args: string[] = []) =>
    runJava(['maps', '--from', server.url, '--into', device, '--platform', 'iOS', '--app-version', '2.1.0', '--device-id', 'dev-1', '--attr', 'region=eu', ...publicKey(), ...args]);
  const publish = async (args: string[] = []) => succeeded(await project.run(['publish', '--yes', '--json', ...args]));
  const installed = () => snapshotTree(device, { ignore: [STATE] });
  const release = async (version: string) => (await project.readStoreJson(INDEX)).packages.maps.releases.find((entry: { version: string }) => entry.version === version);

  beforeAll(async () => {
    project = await makeProject({ packages: { maps: V1 }, config: { signing: { privateKey: 'keys/signing-private.pem' } } });
    succeeded(await project.run(['keys', 'generate', '--out', 'keys', '--json']));
    await publish(['--platform', 'ios', '--app-version', '>=2.0.0 <3', '--attr', 'region=eu']);
    server = await startServe(project.dir);
    device = join(project.dir, 'device', 'maps');
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('installs the full package, then a delta where a folder became a file, then reports up to date; the TypeScript client reads its install state', async () => {
    const first = await java();
    expect(first.code, first.stderr).toBe(0);
    expect(first.json).toEqual({
      package: 'maps', channel: 'production', updated: true, version: '1.0.0', previousVersion: null, kind: 'full',
      bytesDownloaded: (await release('1.0.0')).full.size, mandatory: false, reason: 'not-installed',
    });
    expect(await installed()).toEqual(await snapshotTree(project.packageDir('maps')));
    const state = JSON.parse(await readFile(join(device, STATE), 'utf8'));
    expect(state).toMatchObject({ package: 'maps', version: '1.0.0', channel: 'production', trust: { channel: 'production', indexVersion: 1, signed: true } });

    await rm(join(project.packageDir('maps'), 'data'), { recursive: true });
    await project.remove('maps', ['sub/b.txt']);
    await project.write('maps', { 'a.txt': 'alpha, second edition\n', data: 'now a file' });
    await publish(['--platform', 'ios', '--app-version', '>=2.0.0 <3', '--attr', 'region=eu']);
    const update = await java();
    expect(update.json, update.stderr).toMatchObject({ updated: true, version: '1.0.1', previousVersion: '1.0.0', kind: 'delta', bytesDownloaded: (await release('1.0.1')).deltas[0].size });
    expect(await installed()).toEqual(await snapshotTree(project.packageDir('maps')));

    expect((await java()).json).toMatchObject({ updated: false, version: '1.0.1', reason: 'up-to-date' });
    const viaTypeScript = succeeded(await project.run(['fetch', 'maps', '--into', device, '--from', server.url, '--platform', 'ios', '--app-version', '2.1.0', '--attr', 'region=eu', ...publicKey(), '--json']));
    expect(viaTypeScript).toMatchObject({ updated: false, version: '1.0.1', reason: 'up-to-date' });
  });

  it('refuses a tampered package object and leaves the folder exactly as it was; a tampered delta gives way to the full package (§10.3)', async () => {
    await project.write('maps', { 'sub/c.txt': 'charlie\n' });
    await publish(['--platform', 'ios', '--app-version', '>=2.0.0 <3', '--attr', 'region=eu']);
    const target = await release('1.0.2');
    const delta = target.deltas.find((entry: { from: string }) => entry.from === '1.0.1');
    const tamper = async (key: string) => {
      const original = await readFile(project.storePath(key));
      const tampered = Buffer.from(original);
      tampered[Math.floor(tampered.length / 2)] ^= 0x01;
      await writeFile(project.storePath(key), tampered);
      return () => writeFile(project.storePath(key), original);
    };
    const restoreDelta = await tamper(delta.key);
    const restoreFull = await tamper(target.full.key);
    const before = await snapshotTree(device);
    const message = refused(await java());
    expect(message).toContain(target.full.key);
    expect(message).toContain('SHA-256');
    expect(await snapshotTree(device)).toEqual(before);

    await restoreFull();
    expect((await java()).json).toMatchObject({ updated: true, version: '1.0.2', kind: 'full', bytesDownloaded: target.full.size });
    expect(await installed()).toEqual(await snapshotTree(project.packageDir('maps')));
    await restoreDelta();
  });

  it('refuses an altered index, an expired one, and an unsigned one after a signed one, naming each', async () => {
    const current = await readFile(project.storePath(INDEX));
    const document = JSON.parse(current.toString());
    const withIndex = async <T>(body: string, run: () => Promise<T>) => {
      await writeFile(project.storePath(INDEX), body);
      try {
        return await run();
      } finally {
        await writeFile(project.storePath(INDEX), current);
      }
    };
    const releases = document.packages.maps.releases.map((entry: { rules: object }) => ({ ...entry, rules: { ...entry.rules, mandatory: true } }));
    const altered = JSON.stringify({ ...document, packages: { maps: { releases } } });
    expect(refused(await withIndex(altered, () => java()))).toContain('signature does not match the content');
    expect(refused(await java(['--now', '2100-01-01T00:00:00Z']))).toContain('expired');
    // Without a trusted key an unsigned index is refused by what the folder remembers: it accepted a signed one.
    const { signatures: _dropped, ...unsigned } = document;
    const stripped = await withIndex(JSON.stringify(unsigned), () => runJava(['maps', '--from', server.url, '--into', device]));
    expect(refused(stripped)).toContain('unsigned index after a signed one');
  });

  it('refuses a signed index holding a member name twice, as the TypeScript client and the publisher do (issue 28 item 6)', async () => {
    const current = await readFile(project.storePath(INDEX));
    // The signature covers the last value of "channel", which equals the first: last-wins readers verified it.
    await writeFile(project.storePath(INDEX), current.toString().trimEnd().replace(/}$/, ',"channel":"production"}'));
    try {
      const before = await snapshotTree(device);
      expect(refused(await java())).toContain('is not valid JSON');
      expect(await snapshotTree(device)).toEqual(before);
      const viaTypeScript = await project.run(['fetch', 'maps', '--into', device, '--from', server.url, '--platform', 'ios', '--app-version', '2.1.0', ...publicKey(), '--json']);
      expect(viaTypeScript.code).toBe(1);
      expect(viaTypeScript.stderr).toContain('member name "channel" appears twice in one object');
      const status = await project.run(['status', '--json']);
      expect(status.code).not.toBe(0);
      expect(status.stderr).toContain('appears twice');
    } finally {
      await writeFile(project.storePath(INDEX), current);
    }
  });

  it('refuses a rollback: an index older than the one it accepted, validly signed', async () => {
    const old = await readFile(project.storePath(INDEX));
    succeeded(await project.run(['rollout', 'maps', '99', '--yes', '--json']));
    const accepted = (await project.readStoreJson(INDEX)).version;
    // Nothing to install, but the folder remembers the newer index.
    expect((await java()).json).toMatchObject({ updated: false, version: '1.0.2' });
    expect(JSON.parse(await readFile(join(device, STATE), 'utf8')).trust).toEqual({ channel: 'production', indexVersion: accepted, signed: true });
    const current = await readFile(project.storePath(INDEX));
    await writeFile(project.storePath(INDEX), old);
    try {
      const before = await snapshotTree(device);
      expect(refused(await java())).toContain('rollback');
      expect(await snapshotTree(device)).toEqual(before);
    } finally {
      await writeFile(project.storePath(INDEX), current);
    }
  });

  it('remembers the channel with nothing installed in a trust-only marker, which the TypeScript client reads too (PROTOCOL.md §5, §10.2)', async () => {
    const untargeted = join(project.dir, 'device-android', 'maps');
    const first = await runJava(['maps', '--from', server.url, '--into', untargeted, '--platform', 'android', '--app-version', '2.1.0', ...publicKey()]);
    expect(first.json, first.stderr).toMatchObject({ updated: false, version: null, reason: 'no-matching-release' });
    const marker = JSON.parse(await readFile(join(untargeted, STATE), 'utf8'));
    expect(marker).toEqual({ package: 'maps', version: null, channel: 'production', trust: { channel: 'production', indexVersion: expect.any(Number), signed: true } });
    expect(Object.keys(await snapshotTree(untargeted))).toEqual([STATE]);
    const viaTypeScript = succeeded(await project.run(['fetch', 'maps', '--into', untargeted, '--from', server.url, '--platform', 'android', '--app-version', '2.1.0', ...publicKey(), '--json']));
    expect(viaTypeScript).toMatchObject({ updated: false, version: null, reason: 'no-matching-release' });
    // The folder takes a real install once the device is targeted.
    const installedThere = await runJava(['maps', '--from', server.url, '--into', untargeted, '--platform', 'ios', '--app-version', '2.1.0', '--device-id', 'dev-1', '--attr', 'region=eu', ...publicKey()]);
    expect(installedThere.json, installedThere.stderr).toMatchObject({ updated: true, previousVersion: null, kind: 'full' });
  });

  it('usage errors exit 2 with one line', async () => {
    const result = await runJava(['maps', '--from', 'ftp://example.com', '--into', device]);
    expect(result.code).toBe(2);
    expect(result.json.error.message).toContain('is not an http(s) URL');
    expect((await runJava(['maps', '--from', server.url])).json.error.message).toContain('--into <dir> is required');
    expect((await runJava(['maps', '--from', server.url, '--into', device, '--app-version', 'two'])).code).toBe(2);
  });
});

/** A proxy in front of serve that cuts the first download of each object after `cutAfter` bytes, and records Range requests. */
async function cuttingProxy(target: string, cutAfter: number): Promise<{ url: string; ranges: { range?: string; ifRange?: string }[]; close: () => Promise<void> }> {
  const cut = new Set<string>();
  const ranges: { range?: string; ifRange?: string }[] = [];
  const server: Server = createServer((request, response) => {
    if (request.headers.range) ranges.push({ range: request.headers.range, ifRange: request.headers['if-range'] as string | undefined });
    const upstream = httpRequest(new URL(request.url!, target), { method: request.method, headers: { ...request.headers, host: new URL(target).host } }, (answer) => {
      response.writeHead(answer.statusCode!, answer.headers);
      const cutThis = request.url!.endsWith('.zip') && !request.headers.range && !cut.has(request.url!);
      if (!cutThis) return void answer.pipe(response);
      cut.add(request.url!);
      let sent = 0;
      answer.on('data', (chunk: Buffer) => {
        if (sent >= cutAfter) return;
        const part = chunk.subarray(0, cutAfter - sent);
        sent += part.length;
        // The headers and the first bytes reach the client; then the connection drops mid-body.
        if (sent >= cutAfter) response.write(part, () => response.socket?.destroy());
        else response.write(part);
      });
    });
    upstream.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    ranges,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe.skipIf(!JAVA_INSTALLED)('Java and TypeScript clients: an overall deadline per document (issue 28 items 7 and 8)', () => {
  /** Answers every request by trickling `head` then an endless body, one byte every 200 ms: never a stall, never done. */
  async function trickler(head: string): Promise<{ url: string; close(): Promise<void> }> {
    const sockets = new Set<import('node:net').Socket>();
    const server = createNetServer((socket) => {
      sockets.add(socket);
      const bytes = Buffer.from(head);
      let at = 0;
      const timer = setInterval(() => socket.write(at < bytes.length ? bytes.subarray(at, ++at) : ' '), 200);
      socket.on('error', () => {});
      socket.on('close', () => {
        clearInterval(timer);
        sockets.delete(socket);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      close: () => new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
    };
  }

  beforeAll(async () => {
  });

  for (const [what, head] of [
    ['response headers trickled a byte at a time', 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: ' + 'x'.repeat(200) + '\r\n\r\n'],
    ['a body trickled a byte at a time', 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n'],
  ] as const) {
    it(`gives up on ${what} at the deadline, both clients, naming it`, async () => {
      const server = await trickler(head);
      const project = await makeProject({ packages: {} , configFile: false });
      try {
        const started = Date.now();
        const java = await runJava(['maps', '--from', server.url, '--into', join(project.dir, 'java-device'), '--deadline', '2']);
        expect(refused(java)).toMatch(/index\.json took longer than 2 s in all \(headers included\), its deadline/);
        expect(Date.now() - started).toBeLessThan(15_000);
        const node = await project.run(['fetch', 'maps', '--from', server.url, '--into', join(project.dir, 'node-device'), '--deadline', '2', '--stall-timeout', '30']);
        expect(node.code).toBe(1);
        expect(node.stderr).toMatch(/index\.json took longer than 2 s in all \(headers included\), its deadline/);
      } finally {
        await server.close();
      }
    });
  }
});

describe.skipIf(!JAVA_INSTALLED)('Java client: encrypted packages and a cut download', () => {
  it('decrypts, and resumes a cut download with Range and If-Range', async () => {
    const key = randomBytes(32).toString('base64');
    const project = await makeProject({ packages: { maps: { 'big.png': randomBytes(200_000), 'a.txt': 'alpha\n' } }, config: { encryption: { key: 'env:CONTENT_KEY' } } });
    succeeded(await project.run(['publish', '--yes', '--json'], { env: { CONTENT_KEY: key } }));
    const server = await startServe(project.dir);
    const proxy = await cuttingProxy(server.url, 50_000);
    try {
      const device = join(project.dir, 'device', 'maps');
      const result = await runJava(['maps', '--from', proxy.url, '--into', device, '--decryption-key', 'env:CONTENT_KEY'], { CONTENT_KEY: key });
      expect(result.json, result.stderr).toMatchObject({ updated: true, version: '1.0.0', kind: 'full' });
      expect(await snapshotTree(device, { ignore: [STATE] })).toEqual(await snapshotTree(project.packageDir('maps')));
      expect(proxy.ranges).toEqual([{ range: 'bytes=50000-', ifRange: expect.stringMatching(/^"/) }]);

      const other = join(project.dir, 'device', 'other');
      const wrongKey = await runJava(['maps', '--from', server.url, '--into', other, '--decryption-key', 'env:CONTENT_KEY'], { CONTENT_KEY: randomBytes(32).toString('hex') });
      expect(wrongKey.code).toBe(1);
      expect(wrongKey.json.error.message).toMatch(/encrypted with key id [0-9a-f]{16}, but no decryption key given has that id/);
    } finally {
      await proxy.close();
      await server.stop();
    }
  });
});

describe.skipIf(!JAVA_INSTALLED)('Java client: switch resolve and app-release resolve, as the CLI answers them', () => {
  let project: Project;
  let server: ServeProcess;
  const publicKey = () => ['--public-key', join(project.dir, 'keys', 'signing-public.pem')];
  const run = async (...args: string[]) => succeeded(await project.run([...args, '--yes', '--json']));
  const cli = async (...args: string[]) => succeeded(await project.run([...args, '--from', server.url, ...publicKey(), '--json']));
  const java = (...args: string[]) => runJava([...args, '--from', server.url, ...publicKey()]);
  const devices = ['device-1', 'device-2', 'device-3', 'qa-phone'];

  beforeAll(async () => {
    project = await makeProject({ packages: { maps: V1 }, config: { signing: { privateKey: 'keys/signing-private.pem' } } });
    succeeded(await project.run(['keys', 'generate', '--out', 'keys', '--json']));
    await writeFile(join(project.dir, 'qa.txt'), 'qa-phone\n');
    succeeded(await project.run(['whitelist', 'upload', 'qa', 'qa.txt', '--yes', '--json']));
    await run('switch', 'set', 'newCheckout', 'false', '--type', 'boolean');
    await run('switch', 'set', 'newCheckout', 'true', '--platform', 'ios', '--rollout', '50');
    await run('switch', 'set', 'debugMenu', 'false');
    await run('switch', 'set', 'debugMenu', 'true', '--rollout', '0', '--whitelist', 'qa');
    await run('switch', 'set', 'limits', '{"max":3}');
    await run('switch', 'set', 'limits', '{"max":10}', '--app-version', '>=2.0.0 <3', '--attr', 'region=eu');
    await run('app-release', 'add', '--platform', 'ios', '--version', '3.2.0', '--url', 'https://apps.example.com/app', '--min-supported', '3.0.0', '--message', 'Faster maps', '--rollout', '50');
    await run('app-release', 'add', '--platform', 'ios', '--version', '3.3.0', '--url', 'https://apps.example.com/app', '--rollout', '0', '--whitelist', 'qa');
    server = await startServe(project.dir);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('gives the CLI\'s answer for every device, platform and app version', async () => {
    for (const deviceId of devices) {
      for (const device of [['--platform', 'ios', '--app-version', '2.4.0', '--attr', 'region=eu'], ['--platform', 'android', '--app-version', '2.4.0+77']]) {
        const viaJava = await java('switch', 'resolve', '--device-id', deviceId, ...device);
        expect(viaJava.code, viaJava.stderr).toBe(0);
        expect(viaJava.json).toEqual(await cli('switch', 'resolve', '--device-id', deviceId, ...device));
      }
      for (const appVersion of ['2.9.0', '3.1.0', '3.2.0', '3.3.0']) {
        const device = ['--platform', 'ios', '--app-version', appVersion, '--device-id', deviceId];
        const viaJava = await java('app-release', 'resolve', ...device);
        expect(viaJava.code, viaJava.stderr).toBe(0);
        expect(viaJava.json).toEqual(await cli('app-release', 'resolve', ...device));
      }
    }
    const qa = await java('switch', 'resolve', '--device-id', 'qa-phone');
    expect(qa.json.values.debugMenu).toBe(true);
  });

  it('refuses an altered switches document (exit 1) and an app version that is not SemVer 2.0.0 (exit 2)', async () => {
    const key = 'channels/production/switches.json';
    const original = await readFile(project.storePath(key), 'utf8');
    await writeFile(project.storePath(key), original.replace('"rolloutBasisPoints":5000', '"rolloutBasisPoints":10000'));
    try {
      expect(original).toContain('"rolloutBasisPoints":5000');
      expect(refused(await java('switch', 'resolve', '--device-id', 'device-1'))).toContain(key);
    } finally {
      await writeFile(project.storePath(key), original);
    }
    const lenient = await java('app-release', 'resolve', '--platform', 'ios', '--app-version', 'v3.0.0');
    expect(lenient.code).toBe(2);
    expect(lenient.json.error.message).toContain("--app-version 'v3.0.0' is not a SemVer 2.0.0 version");
  });
});

describe('.ci/run', () => {
  let bin: string;
  beforeAll(async () => {
    bin = await mkdtemp(join(tmpdir(), 'ci-run-bin-'));
    await symlink(process.execPath, join(bin, 'node'));
    // The other programs .ci/run checks for are there (as in CI), so java is the one missing.
    for (const tool of ['dirname', 'sed', 'head', 'tmux', 'zstd', 'unzip', 'chromium']) await symlink(spawnSync('sh', ['-c', `command -v ${tool}`]).stdout.toString().trim(), join(bin, tool));
    await writeFile(join(bin, 'moto_server'), '#!/bin/sh\nexit 0\n');
    await chmod(join(bin, 'moto_server'), 0o755);
  });
  afterAll(async () => {
    await rm(bin, { recursive: true, force: true });
  });
  const ciRun = (path: string) => spawnSync('/bin/bash', [join(REPO_ROOT, '.ci', 'run')], { env: { PATH: path }, encoding: 'utf8' });

  it('fails with an install hint when java is missing, before installing anything', () => {
    const result = ciRun(bin);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/java 17 or newer \(a JDK: java and javac\) is required .*apt-get install openjdk-17-jdk-headless/);
    expect(result.stderr).not.toMatch(/npm/);
  });

  it('fails with the same hint when java is older than 17, and goes on with a JDK 17', async () => {
    const withJava = await mkdtemp(join(tmpdir(), 'ci-run-java-'));
    try {
      const fakeJava = (version: string) => writeFile(join(withJava, 'java'), `#!/bin/sh\necho 'openjdk version "${version}" 2021-01-01' >&2\n`, { mode: 0o755 });
      await writeFile(join(withJava, 'javac'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
      await fakeJava('11.0.2');
      const old = ciRun(`${bin}:${withJava}`);
      expect(old.status).toBe(1);
      expect(old.stderr).toMatch(/java 17 or newer .* is required .*found 11/);
      await fakeJava('17.0.15');
      // Past the check, the next step (npm ci) is not on this PATH: the check let it through.
      const current = ciRun(`${bin}:${withJava}`);
      expect(current.stderr).not.toMatch(/java 17 or newer/);
      expect(current.stderr).toMatch(/npm: command not found/);
    } finally {
      await rm(withJava, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!JAVA_INSTALLED)('Java client: receipts and the crash-loop guard through serve --receipts-log', () => {
  it('reports check, applied and the launch; rolls back an install unconfirmed after two starts', async () => {
    const project = await makeProject({ packages: { maps: { 'a.txt': 'one' } }, config: { receipts: { url: 'r/v1' } } });
    succeeded(await project.run(['publish', '--yes', '--json']));
    const server = await startServe(project.dir, ['--receipts-log', 'receipts.ndjson']);
    const device = join(project.dir, 'device', 'maps');
    const java = (args: string[] = []) => runJava(['maps', '--from', server.url, '--into', device, '--platform', 'android', '--app-version', '3.0.0', ...args]);
    try {
      expect((await java()).json).toMatchObject({ updated: true, version: '1.0.0' });
      expect((await java(['--confirm-launch', 'ok'])).json).toEqual({ package: 'maps', launch: 'ok', version: '1.0.0' });
      await project.write('maps', { 'a.txt': 'two' });
      succeeded(await project.run(['publish', '--yes', '--json']));
      expect((await java()).json).toMatchObject({ updated: true, version: '1.0.1', previousVersion: '1.0.0' });
      expect((await java()).json).toMatchObject({ updated: false, version: '1.0.1' });
      const rolled = await java();
      expect(rolled.stderr).toContain('maps 1.0.1 was not confirmed after 2 starts: rolled back to 1.0.0');
      expect(rolled.json).toMatchObject({ updated: false, version: '1.0.0', reason: 'failed-on-device' });
      expect(await readFile(join(device, 'a.txt'), 'utf8')).toBe('one');
    } finally {
      await server.stop();
    }
    const events = (await readFile(join(project.dir, 'receipts.ndjson'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => new URLSearchParams(JSON.parse(line).query))
      .map((query) => [query.get('e'), query.get('rel'), query.get('from'), query.get('pf')]);
    expect(events).toEqual([
      ['check', '1.0.0', 'none', 'android'],
      ['applied', '1.0.0', 'none', 'android'],
      ['launch_ok', '1.0.0', 'none', 'android'],
      ['check', '1.0.1', '1.0.0', 'android'],
      ['applied', '1.0.1', '1.0.0', 'android'],
      ['rolled_back', '1.0.1', '1.0.0', 'android'],
    ]);
    // The same counts as the Node client's receipts give.
    const health = succeeded(await project.run(['health', '--receipts', 'receipts.ndjson', '--json']));
    expect(health.releases.map((release: any) => [release.version, release.installs, release.launchOk, release.rolledBack])).toEqual([
      ['1.0.1', 1, 0, 1],
      ['1.0.0', 1, 1, 0],
    ]);
    expect(health.skipped).toEqual({ malformed: 0, duplicates: 0 });
  });

  it('receipts to a dead endpoint wait in the queue beside the folder and go out later with the same eid', async () => {
    const port = await freePort();
    const project = await makeProject({ packages: { maps: { 'a.txt': 'one' } }, config: { receipts: { url: `http://127.0.0.1:${port}/r/v1` } } });
    succeeded(await project.run(['publish', '--yes', '--json']));
    const server = await startServe(project.dir);
    const device = join(project.dir, 'device', 'maps');
    try {
      expect((await runJava(['maps', '--from', server.url, '--into', device])).json).toMatchObject({ updated: true });
    } finally {
      await server.stop();
    }
    const queued = JSON.parse(await readFile(`${device}.update-publish-device.json`, 'utf8')).queue.map((entry: { eid: string }) => entry.eid);
    expect(queued).toHaveLength(2);
    const heard: string[] = [];
    const endpoint = createServer((request, response) => {
      heard.push(new URL(request.url!, 'http://x').searchParams.get('eid')!);
      response.writeHead(204).end();
    });
    await new Promise<void>((resolve) => endpoint.listen(port, '127.0.0.1', resolve));
    try {
      expect((await runJava(['maps', '--into', device, '--confirm-launch', 'ok'])).json).toEqual({ package: 'maps', launch: 'ok', version: '1.0.0' });
    } finally {
      await new Promise((resolve) => endpoint.close(resolve));
    }
    expect(heard.slice(0, 2)).toEqual(queued);
    expect(heard).toHaveLength(3);
  });
});
