import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheControlOf, IMMUTABLE_CACHE, MUTABLE_CACHE } from '../../src/protocol/layout.js';
import { isPublisherDocument } from '../../src/protocol/private-access.js';
import { makeProject, removeProjects, snapshotTree, succeeded, type Project } from '../helpers/cli.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { createBucket, MOTO_INSTALLED, rawS3, s3ProjectConfig } from '../helpers/s3-e2e.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { spawnCli } from '../helpers/spawn-cli.js';

afterAll(removeProjects);

const INDEX = 'channels/production/index.json';
const FULL = 'packages/maps/1.0.0/full.zip';
const MANIFEST = 'packages/maps/1.0.0/manifest.json';
const V1 = { 'a.txt': 'alpha\n'.repeat(200), 'img.png': Buffer.alloc(3000, 7), 'sub/b.txt': 'bravo\n' };

/** A request sent exactly as given (no URL normalization), answered in full. */
function rawGet(url: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function publishedProject(): Promise<Project> {
  const project = await makeProject({ packages: { maps: V1 } });
  await writeFile(join(project.dir, 'qa.txt'), 'qa-1\nqa-2\n');
  succeeded(await project.run(['whitelist', 'upload', 'qa', 'qa.txt', '--yes', '--json']));
  succeeded(await project.run(['publish', '--yes', '--json']));
  return project;
}

describe('serve: the folder store over HTTP as S3 behind CloudFront', () => {
  let project: Project;
  let server: ServeProcess;

  beforeAll(async () => {
    project = await publishedProject();
    server = await startServe(project.dir);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('serves each object with the headers of its class: immutable package objects, no-cache documents', async () => {
    const stored = await snapshotTree(project.store);
    const keys = Object.keys(stored).filter((key) => !isPublisherDocument(key));
    expect(keys).toEqual(expect.arrayContaining([INDEX, FULL, MANIFEST, 'whitelists/qa/meta.json']));
    // History and claims name who released: never served to devices (issue 24).
    const publisherOnly = Object.keys(stored).filter((key) => isPublisherDocument(key));
    expect(publisherOnly).toEqual(expect.arrayContaining(['packages/maps/1.0.0/claim.json']));
    expect(publisherOnly.some((key) => key.startsWith('channels/production/history/'))).toBe(true);
    for (const key of publisherOnly) expect((await fetch(`${server.url}${key}`)).status, key).toBe(403);
    for (const key of keys) {
      const response = await fetch(`${server.url}${key.split('/').map(encodeURIComponent).join('/')}`);
      expect(response.status, key).toBe(200);
      const body = Buffer.from(await response.arrayBuffer());
      expect(body.equals(await readFile(project.storePath(key))), key).toBe(true);
      expect(response.headers.get('cache-control'), key).toBe(key.startsWith('packages/') ? IMMUTABLE_CACHE : MUTABLE_CACHE);
      expect(response.headers.get('content-type'), key).toBe(key.endsWith('.json') ? 'application/json' : 'application/zip');
      expect(response.headers.get('etag'), key).toMatch(/^"[^"]+"$/);
      expect(response.headers.get('accept-ranges'), key).toBe('bytes');
      expect(Date.parse(response.headers.get('last-modified')!), key).not.toBeNaN();
      expect(Number(response.headers.get('content-length')), key).toBe(body.length);
    }
  });

  it('HEAD answers the same headers without a body', async () => {
    const get = await fetch(`${server.url}${FULL}`);
    const head = await rawGet(server.url, `/${FULL}`, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    for (const name of ['cache-control', 'content-type', 'etag', 'last-modified', 'content-length']) expect(head.headers[name], name).toBe(get.headers.get(name));
  });

  it('Range → 206 with Content-Range (first-last, open end, suffix), past the end → 416, several ranges or bad syntax → the whole object', async () => {
    const bytes = await readFile(project.storePath(FULL));
    const ranged = async (range: string) => {
      const response = await fetch(`${server.url}${FULL}`, { headers: { range } });
      return { status: response.status, contentRange: response.headers.get('content-range'), body: Buffer.from(await response.arrayBuffer()) };
    };
    expect(await ranged('bytes=10-19')).toEqual({ status: 206, contentRange: `bytes 10-19/${bytes.length}`, body: bytes.subarray(10, 20) });
    expect(await ranged('bytes=100-')).toEqual({ status: 206, contentRange: `bytes 100-${bytes.length - 1}/${bytes.length}`, body: bytes.subarray(100) });
    expect(await ranged('bytes=-5')).toEqual({ status: 206, contentRange: `bytes ${bytes.length - 5}-${bytes.length - 1}/${bytes.length}`, body: bytes.subarray(-5) });
    expect(await ranged(`bytes=0-${bytes.length + 100}`)).toMatchObject({ status: 206, contentRange: `bytes 0-${bytes.length - 1}/${bytes.length}` });
    expect(await ranged(`bytes=${bytes.length}-`)).toMatchObject({ status: 416, contentRange: `bytes */${bytes.length}` });
    expect(await ranged('bytes=0-1,5-6')).toMatchObject({ status: 200, contentRange: null, body: bytes });
    expect(await ranged('lines=1-2')).toMatchObject({ status: 200, body: bytes });
  });

  it('If-Range: the range only while the ETag is the current one (a changed object is sent whole, never spliced)', async () => {
    const etag = (await fetch(`${server.url}${INDEX}`)).headers.get('etag')!;
    const current = await fetch(`${server.url}${INDEX}`, { headers: { range: 'bytes=0-9', 'if-range': etag } });
    expect(current.status).toBe(206);
    const stale = await fetch(`${server.url}${INDEX}`, { headers: { range: 'bytes=0-9', 'if-range': '"an-older-version"' } });
    expect(stale.status).toBe(200);
    expect(Buffer.from(await stale.arrayBuffer()).equals(await readFile(project.storePath(INDEX)))).toBe(true);
  });

  it('If-None-Match → 304 while the document is unchanged, 200 with the new one once it is rewritten; If-Match → 412', async () => {
    const first = await fetch(`${server.url}${INDEX}`);
    const etag = first.headers.get('etag')!;
    const revalidated = await fetch(`${server.url}${INDEX}`, { headers: { 'if-none-match': etag } });
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers.get('etag')).toBe(etag);
    expect(revalidated.headers.get('cache-control')).toBe(MUTABLE_CACHE);
    expect((await revalidated.arrayBuffer()).byteLength).toBe(0);
    expect((await fetch(`${server.url}${INDEX}`, { headers: { 'if-none-match': `W/${etag}` } })).status).toBe(304);
    expect((await fetch(`${server.url}${INDEX}`, { headers: { 'if-none-match': '*' } })).status).toBe(304);
    expect((await fetch(`${server.url}${INDEX}`, { headers: { 'if-modified-since': new Date(Date.now() + 60_000).toUTCString() } })).status).toBe(304);
    expect((await fetch(`${server.url}${INDEX}`, { headers: { 'if-match': '"another"' } })).status).toBe(412);

    succeeded(await project.run(['rollout', 'maps', '50', '--yes', '--json']));
    const changed = await fetch(`${server.url}${INDEX}`, { headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(Buffer.from(await changed.arrayBuffer()).equals(await readFile(project.storePath(INDEX)))).toBe(true);
  });

  it('serves only files inside the store: traversal, encoded traversal, folders, links out, write leftovers, other methods', async () => {
    await writeFile(join(project.dir, 'secret.txt'), 'not in the store');
    await symlink(join(project.dir, 'secret.txt'), project.storePath('channels/production/link.json'));
    await writeFile(project.storePath(`${INDEX}.0123456789ab.partial`), '{}');
    await mkdir(project.storePath('channels/production/empty'), { recursive: true });
    for (const path of [
      '/../secret.txt',
      '/channels/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/channels%2f..%2f..%2fsecret.txt',
      '/channels/production\\..\\..\\..\\secret.txt',
      '//etc/passwd',
      '/channels/production/link.json',
      `/${INDEX}.0123456789ab.partial`,
      '/channels/production',
      '/channels/production/empty',
      '/',
      '/packages/maps/9.9.9/full.zip',
      '/%ZZ',
    ]) {
      const response = await rawGet(server.url, path);
      expect(response.status, path).toBe(404);
      expect(response.body.toString(), path).not.toContain('not in the store');
    }
    expect((await rawGet(server.url, `/${INDEX}?x=1`)).status).toBe(200);
    const post = await rawGet(server.url, `/${INDEX}`, {}, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('never serves files named like keys or secrets, nor dot files, even inside the store (issue 28 item 2)', async () => {
    const copies = ['channels/production/signing-private.pem', 'packages/maps/encryption.key', 'whitelists/qa/.env', 'channels/production/.git/config', 'packages/aws-credentials.json'];
    for (const key of copies) {
      await mkdir(join(project.storePath(key), '..'), { recursive: true });
      await writeFile(project.storePath(key), '-----BEGIN PRIVATE KEY-----');
    }
    for (const key of copies) {
      const response = await rawGet(server.url, `/${key}`);
      expect(response.status, key).toBe(404);
      expect(response.body.toString(), key).not.toContain('PRIVATE');
    }
    expect((await rawGet(server.url, `/${INDEX}`)).status).toBe(200);
  });

  it('keys with spaces and non-ASCII characters are served under their percent-encoded path', async () => {
    const key = 'channels/production/ünïcode name.json';
    await writeFile(project.storePath(key), '{"ok":true}');
    const response = await fetch(`${server.url}${key.split('/').map(encodeURIComponent).join('/')}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });
});

describe('serve: the command', () => {
  it('prints the base URL as its first line, logs requests on stderr, and stops on Ctrl-C (exit 130) or SIGTERM, also with a keep-alive connection open', async () => {
    const project = await publishedProject();
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const server = await startServe(project.dir);
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      // A keep-alive connection left open must not hold the process.
      const agentResponse = await rawGet(server.url, `/${INDEX}`, { connection: 'keep-alive' });
      expect(agentResponse.status).toBe(200);
      const started = Date.now();
      const { code, stdout, stderr } = await server.stop(signal);
      expect(Date.now() - started).toBeLessThan(4000);
      expect(code).toBe(130);
      expect(stdout).toBe(`${server.url}\n`);
      expect(stderr).toContain(`GET /${INDEX} 200`);
      expect(stderr).toContain(`error: interrupted by ${signal}: stopped serving ${project.store} at ${server.url}`);
      expect(stderr).not.toMatch(/upload|channel index/);
    }
  });

  it('--json prints one document { url }; --store serves a folder without any config', async () => {
    const project = await publishedProject();
    const elsewhere = await makeProject({ configFile: false });
    const running = spawnCli(['serve', '--port', '0', '--json', '--store', project.store], { cwd: elsewhere.dir });
    let stdout = '';
    const url = await new Promise<string>((resolve) => {
      running.child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        try {
          resolve(JSON.parse(stdout).url);
        } catch {
          // not complete yet
        }
      });
    });
    expect(Object.keys(JSON.parse(stdout))).toEqual(['url']);
    expect((await fetch(`${url}${INDEX}`)).status).toBe(200);
    running.child.kill('SIGINT');
    const done = await running.done;
    expect(done.code).toBe(130);
    expect(JSON.parse(done.stdout)).toEqual({ url });
  });

  it('refuses in one line: a port in use, a bad port, a store that is no folder store, a missing folder', async () => {
    const project = await publishedProject();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const busy = (blocker.address() as { port: number }).port;
    try {
      const cases: [string[], number, RegExp][] = [
        [['--port', String(busy)], 1, new RegExp(`port ${busy} on 127\\.0\\.0\\.1 is in use; pass --port`)],
        [['--port', 'eighty'], 2, /--port 'eighty' is not a port number/],
        [['--store', 's3://bucket/prefix'], 2, /serve reads a folder store/],
        [['--store', './nowhere'], 2, /store folder .*nowhere does not exist/],
        [['--host', '203.0.113.7'], 1, /203\.0\.113\.7 is not an address of this machine/],
      ];
      for (const [args, exitCode, message] of cases) {
        const result = await project.run(['serve', ...args]);
        expect(result.code, args.join(' ')).toBe(exitCode);
        const lines = result.stderr.trim().split('\n');
        expect(lines, args.join(' ')).toHaveLength(1);
        expect(lines[0], args.join(' ')).toMatch(message);
      }
    } finally {
      blocker.close();
    }
  });
});

describe('fetch --from a serve URL', () => {
  it('installs, then updates with a delta, exactly as through a CDN', async () => {
    const project = await makeProject({ packages: { maps: V1 } });
    succeeded(await project.run(['publish', '--yes', '--json']));
    const server = await startServe(project.dir);
    try {
      const device = join(project.dir, 'device', 'maps');
      const fetchInto = () => project.run(['fetch', 'maps', '--into', device, '--from', server.url, '--device-id', 'd1', '--json']);
      expect(succeeded(await fetchInto())).toMatchObject({ updated: true, version: '1.0.0', kind: 'full' });
      await project.write('maps', { 'a.txt': 'alpha, second edition\n', 'sub/c.txt': 'charlie\n' });
      await project.remove('maps', ['sub/b.txt']);
      succeeded(await project.run(['publish', '--yes', '--json']));
      const update = succeeded(await fetchInto());
      expect(update).toMatchObject({ updated: true, version: '1.0.1', previousVersion: '1.0.0', kind: 'delta' });
      const delta = (await project.readStoreJson(INDEX)).packages.maps.releases[0].deltas[0];
      expect(update.bytesDownloaded).toBe(delta.size);
      expect(await snapshotTree(device, { ignore: ['.update-publish.json'] })).toEqual(await snapshotTree(project.packageDir('maps')));
      expect(succeeded(await fetchInto())).toMatchObject({ updated: false, reason: 'up-to-date' });
    } finally {
      await server.stop();
    }
  });
});

describe.skipIf(!MOTO_INSTALLED)('serve answers with the headers S3 stores (moto)', () => {
  let moto: Moto;
  let s3: S3Client;
  beforeAll(async () => {
    moto = await startMoto();
    s3 = rawS3(moto.endpoint);
    await createBucket(s3, 'serve-compare');
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('Cache-Control and Content-Type of every object equal what the publisher stored in the bucket', async () => {
    const folder = await publishedProject();
    const bucket = await makeProject({ packages: { maps: V1 }, config: s3ProjectConfig(moto.endpoint, 'serve-compare', 'app') });
    await writeFile(join(bucket.dir, 'qa.txt'), 'qa-1\nqa-2\n');
    succeeded(await bucket.run(['whitelist', 'upload', 'qa', 'qa.txt', '--yes', '--json'], { env: moto.env }));
    succeeded(await bucket.run(['publish', '--yes', '--json'], { env: moto.env }));
    const server = await startServe(folder.dir);
    try {
      const keys = Object.keys(await snapshotTree(folder.store)).filter((key) => !isPublisherDocument(key));
      expect(keys.length).toBeGreaterThan(4);
      for (const key of keys) {
        const inBucket = await s3.send(new GetObjectCommand({ Bucket: 'serve-compare', Key: `app/${key}` }));
        await inBucket.Body?.transformToByteArray();
        const served = await fetch(`${server.url}${key}`);
        await served.arrayBuffer();
        expect({ key, cacheControl: served.headers.get('cache-control'), contentType: served.headers.get('content-type') }).toEqual({
          key,
          cacheControl: inBucket.CacheControl,
          contentType: inBucket.ContentType,
        });
        expect(cacheControlOf(key)).toBe(inBucket.CacheControl);
      }
    } finally {
      await server.stop();
    }
  });
});

describe('serve refuses a folder that is not a store (issue 28 item 2)', () => {
  it('init --store . then serve: refused in one line, naming what it would expose; nothing is served', async () => {
    const project = await makeProject({ packages: { maps: V1 }, config: { store: '.', signing: { privateKey: 'keys/signing-private.pem' } } });
    succeeded(await project.run(['keys', 'generate', '--out', 'keys', '--json']));
    succeeded(await project.run(['publish', '--yes', '--json']));
    const result = await project.run(['serve', '--port', '0']);
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/is not only a store: it holds .*'keys'.* point --store/);
    expect(result.stdout).toBe('');
  });
});
