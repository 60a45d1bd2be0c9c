import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, removeProjects, snapshotTree, unzipTo, type CliResult, type FileTree } from '../helpers/cli.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { freePort, motoIam, startMoto, type Moto } from '../helpers/moto.js';
import {
  createBucket,
  incompressible,
  listOpenUploads,
  MOTO_INSTALLED,
  objectListing,
  openS3Store,
  PART_SIZE,
  rawS3,
  startMotoBucket,
  s3ProjectConfig,
} from '../helpers/s3-e2e.js';
import { spawnCli } from '../helpers/spawn-cli.js';
import { checkStore } from '../helpers/store-check.js';

const BUCKET = 'e2e-s3';
const INDEX = 'channels/production/index.json';

/** A failure as users see it: non-zero exit, exactly one `error:` line, no stack. */
function expectOneLineFailure(result: { code: number; stderr: string }): string {
  expect(result.code, result.stderr).not.toBe(0);
  const errorLines = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
  expect(errorLines, result.stderr).toHaveLength(1);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  return errorLines[0];
}

describe.skipIf(!MOTO_INSTALLED)('publish to S3 end to end (moto)', () => {
  let moto: Moto;
  let s3: S3Client;
  let runs = 0;
  const nextPrefix = () => `run-${++runs}/releases`;

  beforeAll(async () => {
    ({ moto, s3 } = await startMotoBucket(BUCKET));
  });
  afterAll(async () => {
    await removeProjects();
    s3?.destroy();
    await moto?.stop();
  });

  const readObject = async (key: string) => {
    const response = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return Buffer.from(await response.Body!.transformToByteArray());
  };
  const indexOf = async (prefix: string) => JSON.parse((await readObject(`${prefix}/${INDEX}`)).toString('utf8'));
  const indexExists = (prefix: string) =>
    s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${INDEX}` })).then(
      () => true,
      () => false,
    );
  const expectConsistent = async (prefix: string) => {
    const store = openS3Store(moto.endpoint, BUCKET, prefix);
    const check = await checkStore(store);
    await store.close();
    expect(check.problems).toEqual([]);
    return check;
  };
  const project = (prefix: string, packages: Record<string, FileTree>, endpoint = moto.endpoint) =>
    makeProject({ packages, config: s3ProjectConfig(endpoint, BUCKET, prefix) });
  const publish = (target: { run: (args: string[], options?: { env?: Record<string, string> }) => Promise<CliResult> }) =>
    target.run(['publish', '--yes', '--json'], { env: moto.env });

  it('stores a package larger than the part size as a multipart object, byte-exact, each byte hashed once', async () => {
    const prefix = nextPrefix();
    const proxy = await startFaultProxy({ target: moto.endpoint });
    const maps = await project(prefix, { maps: { 'tiles.png': incompressible(2 * PART_SIZE + 100_000), 'readme.txt': 'maps' } }, proxy.endpoint);

    const result = await publish(maps).finally(() => proxy.close());
    expect(result.code, result.stderr).toBe(0);
    // Every body carries the SHA-256 S3 verifies in a signed header, so the signature does not hash the payload again.
    const puts = proxy.log.filter((request) => request.method === 'PUT');
    expect(puts.filter((request) => request.url.includes('partNumber='))).toHaveLength(3);
    for (const put of puts) expect(put).toMatchObject({ checksumSha256: expect.stringMatching(/=$/), contentSha256: 'UNSIGNED-PAYLOAD' });

    const release = (await indexOf(prefix)).packages.maps.releases[0];
    const fullKey = `${prefix}/${release.full.key}`;
    expect(release.full.size).toBeGreaterThan(2 * PART_SIZE);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: fullKey }));
    expect(head.ETag).toMatch(/-3"$/);
    // (moto's GetObjectAttributes dates do not parse in the SDK; HEAD of part 1 gives the part count.)
    const firstPart = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: fullKey, PartNumber: 1 }));
    expect(firstPart.PartsCount).toBe(3);
    expect(firstPart.ContentLength).toBe(PART_SIZE);
    expect(createHash('sha256').update(await readObject(fullKey)).digest('hex')).toBe(release.full.sha256);
    await expectConsistent(prefix);
  });

  it('an unchanged republish writes no object at all', async () => {
    const prefix = nextPrefix();
    const proxy = await startFaultProxy({ target: moto.endpoint });
    try {
      const maps = await project(prefix, { maps: { 'tiles.png': incompressible(PART_SIZE + 1000), 'a.txt': 'a' } }, proxy.endpoint);
      expect((await publish(maps)).code).toBe(0);
      const before = await objectListing(s3, BUCKET, prefix);
      proxy.clearCounts();

      const again = await publish(maps);

      expect(again.code, again.stderr).toBe(0);
      expect(again.json.packages[0]).toMatchObject({ id: 'maps', status: 'unchanged' });
      expect(await objectListing(s3, BUCKET, prefix)).toEqual(before);
      // Reads only: no PUT (object, part, index), no POST (multipart, delete), no DELETE.
      expect(proxy.requests.GET).toBeGreaterThan(0);
      expect(proxy.requests).not.toHaveProperty('PUT');
      expect(proxy.requests).not.toHaveProperty('POST');
      expect(proxy.requests).not.toHaveProperty('DELETE');
    } finally {
      await proxy.close();
    }
  });

  it('a delta from the bucket applied to the previous full package rebuilds the new version', async () => {
    const prefix = nextPrefix();
    const maps = await project(prefix, { maps: { 'a.txt': 'alpha', 'b.txt': 'bravo', 'c/deep.txt': 'charlie', 'big.png': incompressible(300_000) } });
    expect((await publish(maps)).code).toBe(0);
    await maps.write('maps', { 'b.txt': 'bravo, changed', 'd.txt': 'delta' });
    await maps.remove('maps', ['c/deep.txt']);
    const second = await publish(maps);
    expect(second.code, second.stderr).toBe(0);

    const v2 = (await indexOf(prefix)).packages.maps.releases[0];
    const v1 = JSON.parse((await readObject(`${prefix}/packages/maps/1.0.0/manifest.json`)).toString('utf8'));
    expect([v1.version, v2.version]).toEqual(['1.0.0', '1.0.1']);
    const delta = v2.deltas.find((candidate: { from: string }) => candidate.from === v1.version);
    expect(delta).toBeDefined();
    expect(delta.size).toBeLessThan(v2.full.size / 10);

    const work = await mkdtemp(join(tmpdir(), 'update-publish-delta-'));
    try {
      const download = async (key: string, name: string) => {
        const path = join(work, name);
        await writeFile(path, await readObject(`${prefix}/${key}`));
        return path;
      };
      const device = join(work, 'device');
      await unzipTo(await download(v1.full.key, 'v1.zip'), device);
      const deltaEntries = await unzipTo(await download(delta.key, 'delta.zip'), device);
      const manifest = JSON.parse((await readObject(`${prefix}/${v2.manifest.key}`)).toString('utf8'));
      const deltaInManifest = manifest.deltas.find((candidate: { from: string }) => candidate.from === v1.version);
      for (const path of deltaInManifest.removed) await rm(join(device, path));

      expect(deltaEntries.sort()).toEqual(['b.txt', 'd.txt']);
      expect(deltaInManifest.removed).toEqual(['c/deep.txt']);
      const expected = Object.fromEntries(manifest.files.map((file: { path: string; sha256: string }) => [file.path, file.sha256]));
      expect(await snapshotTree(device)).toEqual(expected);
      expect(await snapshotTree(maps.packageDir('maps'))).toEqual(expected);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    await expectConsistent(prefix);
  });

  it('six publishers releasing different packages to one channel at once all end up in the index', async () => {
    const prefix = nextPrefix();
    const ids = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
    const projects = await Promise.all(ids.map((id) => project(prefix, { [id]: { 'content.txt': `content of ${id}` } })));

    const results = await Promise.all(projects.map(publish));

    for (const result of results) expect(result.code, result.stderr).toBe(0);
    const index = await indexOf(prefix);
    expect(Object.keys(index.packages).sort()).toEqual(ids);
    for (const id of ids) expect(index.packages[id].releases).toHaveLength(1);
    await expectConsistent(prefix);
  });

  it('SIGTERM mid-upload aborts the multipart upload and leaves no index; a rerun completes', async () => {
    const prefix = nextPrefix();
    const proxy = await startFaultProxy({ target: moto.endpoint });
    try {
      const maps = await project(prefix, { maps: { 'tiles.png': incompressible(2 * PART_SIZE + 1000) } }, proxy.endpoint);
      const running = spawnCli(['publish', '--yes'], { cwd: maps.dir, env: moto.env });
      // Once the multipart upload starts, every request waits: the signal surely lands while parts are in flight.
      await proxy.nextRequest((request) => request.method === 'POST' && /[?&]uploads\b/.test(request.url));
      proxy.configure({ latencyMs: 1000 });
      await proxy.nextRequest((request) => request.method === 'PUT' && request.url.includes('uploadId='));
      running.child.kill('SIGTERM');
      const interrupted = await running.done;

      expect(interrupted.code).toBe(130);
      expect(expectOneLineFailure(interrupted)).toMatch(/^error: .*interrupted by SIGTERM/);
      expect(await indexExists(prefix)).toBe(false);
      expect(await listOpenUploads(s3, BUCKET, prefix)).toEqual([]);

      proxy.configure({ latencyMs: 0 });
      const rerun = await publish(maps);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect((await indexOf(prefix)).packages.maps.releases[0].version).toBe(rerun.json.packages[0].version);
      expect(await listOpenUploads(s3, BUCKET, prefix)).toEqual([]);
      await expectConsistent(prefix);
    } finally {
      await proxy.close();
    }
  });

  it('SIGTERM while several objects upload: every multipart upload is aborted before the process exits', async () => {
    const prefix = nextPrefix();
    const proxy = await startFaultProxy({ target: moto.endpoint });
    try {
      const packages = { maps: { 'tiles.png': incompressible(2 * PART_SIZE + 1000) }, levels: { 'level.bin': incompressible(2 * PART_SIZE + 2000) } };
      const both = await project(prefix, packages, proxy.endpoint);
      const running = spawnCli(['publish', '--yes'], { cwd: both.dir, env: moto.env });
      // Both multipart uploads open, then every request waits: each upload still has its abort to send.
      let created = 0;
      await proxy.nextRequest((request) => request.method === 'POST' && /[?&]uploads\b/.test(request.url) && ++created === 2);
      proxy.configure({ latencyMs: 1000 });
      await proxy.nextRequest((request) => request.method === 'PUT' && request.url.includes('uploadId='));
      running.child.kill('SIGTERM');
      const interrupted = await running.done;

      expect(interrupted.code).toBe(130);
      expect(await indexExists(prefix)).toBe(false);
      expect(await listOpenUploads(s3, BUCKET, prefix)).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('a rerun aborts the multipart uploads a killed run left open on its keys, and only those', async () => {
    const prefix = nextPrefix();
    const maps = await project(prefix, { maps: { 'tiles.png': incompressible(PART_SIZE + 1000) } });
    // What SIGKILL mid-upload leaves: an open upload on the key the rerun writes; another package's is not ours.
    const leftover = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `${prefix}/packages/maps/1.0.0/full.zip` }));
    const someoneElses = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `${prefix}/packages/levels/3.0.0/full.zip` }));

    const result = await publish(maps);

    expect(result.code, result.stderr).toBe(0);
    expect(result.json.packages[0].version).toBe('1.0.0');
    const open = (await listOpenUploads(s3, BUCKET, prefix)).map((upload) => upload.UploadId);
    expect(open).toEqual([someoneElses.UploadId]);
    expect(open).not.toContain(leftover.UploadId);
    await expectConsistent(prefix);
  });

  describe('errors: one clear line, non-zero exit, nothing published', () => {
    const failingPublish = async (config: Record<string, unknown>, env: Record<string, string> = moto.env, flags: string[] = []) => {
      const maps = await makeProject({ packages: { maps: { 'a.txt': 'a' } }, config });
      const started = Date.now();
      const result = await maps.run(['publish', '--yes', ...flags], { env });
      return { ...result, seconds: (Date.now() - started) / 1000, line: expectOneLineFailure(result) };
    };

    it('no such bucket', async () => {
      const result = await failingPublish(s3ProjectConfig(moto.endpoint, 'no-such-bucket-e2e', 'p'));
      expect(result.code).toBe(1);
      expect(result.line).toMatch(/^error: bucket 'no-such-bucket-e2e' does not exist at S3 endpoint http:\/\/127\.0\.0\.1:\d+: create it/);
    });

    it('bad endpoint (nothing listening): fails in bounded time', async () => {
      const port = await freePort();
      const result = await failingPublish(s3ProjectConfig(`http://127.0.0.1:${port}`, BUCKET, 'p'));
      expect(result.code).toBe(1);
      expect(result.line).toMatch(new RegExp(`^error: cannot reach S3 endpoint http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\): check "s3.endpoint"`));
      expect(result.seconds).toBeLessThan(60);
    });

    it('unreachable host (name does not resolve): fails in bounded time', async () => {
      const result = await failingPublish(s3ProjectConfig('http://s3.update-publish.invalid:9000', BUCKET, 'p'));
      expect(result.code).toBe(1);
      expect(result.line).toMatch(/^error: cannot reach S3 endpoint http:\/\/s3\.update-publish\.invalid:9000 \((ENOTFOUND|EAI_AGAIN)\)/);
      expect(result.seconds).toBeLessThan(60);
    });

    it('expired credentials', async () => {
      const prefix = nextPrefix();
      const proxy = await startFaultProxy({ target: moto.endpoint, faultRate: 1, faults: ['ExpiredToken'] });
      try {
        const result = await failingPublish(s3ProjectConfig(proxy.endpoint, BUCKET, prefix), {
          ...moto.env,
          AWS_SESSION_TOKEN: 'an-expired-session-token',
        });
        expect(result.code).toBe(1);
        expect(result.line).toMatch(/^error: S3 endpoint \S+ rejected the AWS credentials \(ExpiredToken\): check or refresh AWS_ACCESS_KEY_ID/);
        expect(result.line).not.toContain('an-expired-session-token');
        expect(proxy.requests).not.toHaveProperty('PUT');
        expect(await indexExists(prefix)).toBe(false);
      } finally {
        await proxy.close();
      }
    });

    it('access denied on a write: names the key and the permission, and publishes nothing', async () => {
      const prefix = nextPrefix();
      const proxy = await startFaultProxy({
        target: moto.endpoint,
        faultRate: 1,
        faults: ['AccessDenied'],
        // Package uploads are refused (the version's claim gets through): the upload path must fail cleanly.
        only: (request) => (request.method === 'PUT' || request.method === 'POST') && request.url.includes('.zip'),
      });
      try {
        const result = await failingPublish(s3ProjectConfig(proxy.endpoint, BUCKET, prefix));
        expect(result.code).toBe(1);
        expect(result.line).toMatch(
          new RegExp(`^error: access denied to '${prefix}/packages/maps/1\\.0\\.0/full\\.zip' in bucket '${BUCKET}' \\(AccessDenied\\): grant the publishing identity s3:PutObject`),
        );
        const stored = Object.keys(await objectListing(s3, BUCKET, prefix));
        expect(stored.filter((key) => /\.zip$|manifest\.json$|index\.json$/.test(key))).toEqual([]);
        expect(await listOpenUploads(s3, BUCKET, prefix)).toEqual([]);
      } finally {
        await proxy.close();
      }
    });

    describe('with moto enforcing IAM authentication', () => {
      let authMoto: Moto;
      let noPermissions: { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string };
      const authConfig = (prefix: string) => s3ProjectConfig(authMoto.endpoint, BUCKET, prefix);

      const iam = (params: Record<string, string>) => motoIam(authMoto, params);

      beforeAll(async () => {
        authMoto = await startMoto({ authAfterActions: 3 });
        const setup = rawS3(authMoto.endpoint);
        await createBucket(setup, BUCKET);
        setup.destroy();
        await iam({ Action: 'CreateUser', UserName: 'nobody' });
        const created = await iam({ Action: 'CreateAccessKey', UserName: 'nobody' });
        noPermissions = {
          AWS_ACCESS_KEY_ID: /<AccessKeyId>(.+?)</.exec(created)![1],
          AWS_SECRET_ACCESS_KEY: /<SecretAccessKey>(.+?)</.exec(created)![1],
        };
      });
      afterAll(async () => {
        await authMoto?.stop();
      });

      // (moto rejects the signature of ListObjectsV2 with a prefix under IAM auth, so a
      // read-only identity cannot get as far as the first write here: the proxy case above covers that.)
      it('access denied by IAM names the bucket and the missing permission', async () => {
        const prefix = nextPrefix();
        // --allow-unsigned: no look for signed documents first (a listing with a prefix, which moto's IAM mode cannot sign-check), so the index read is the first request.
        const result = await failingPublish(authConfig(prefix), { ...moto.env, ...noPermissions }, ['--allow-unsigned']);
        expect(result.code).toBe(1);
        expect(result.line).toMatch(
          new RegExp(`^error: access denied to '${prefix}/channels/production/index\\.json' in bucket '${BUCKET}' \\(AccessDenied\\): grant the publishing identity s3:GetObject`),
        );
        expect(result.stderr).not.toContain(noPermissions.AWS_SECRET_ACCESS_KEY);
      });

      it('bad credentials (unknown access key) are named without printing them', async () => {
        const result = await failingPublish(authConfig(nextPrefix()), {
          ...moto.env,
          AWS_ACCESS_KEY_ID: 'AKIAUNKNOWNKEY000000',
          AWS_SECRET_ACCESS_KEY: 'not-a-secret-0',
        });
        expect(result.code).toBe(1);
        expect(result.line).toMatch(/^error: S3 endpoint \S+ rejected the AWS credentials \(InvalidAccessKeyId\): check or refresh AWS_ACCESS_KEY_ID/);
        expect(result.stderr).not.toMatch(/AKIAUNKNOWNKEY|not-a-secret/);
      });
    });
  });
});
