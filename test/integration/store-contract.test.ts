import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { createFolderStore } from '../../src/store/folder-store.js';
import { IMMUTABLE_CACHE, MUTABLE_CACHE } from '../../src/protocol/layout.js';
import { isConditionFailed, toStoreError } from '../../src/store/s3-errors.js';
import { createS3Store } from '../../src/store/s3-store.js';
import type { Store } from '../../src/store/store.js';
import { freePort, motoIam, startMoto, type Moto } from '../helpers/moto.js';
import { documentOptions, json, PART_SIZE, putOptions, sha256, storeContract, useTestFiles } from '../helpers/store-contract.js';
import { MOTO } from '../helpers/prerequisites.js';

const motoInstalled = MOTO.installed;

const BUCKET = 'update-publish-test';
const files = useTestFiles();

describe('folder store', () => {
  storeContract(async () => createFolderStore(await mkdtemp(join(files.dir, 'folder-'))), files);

  it('removes the folders a delete empties, as a bucket has none, and keeps the rest', async () => {
    const root = await mkdtemp(join(files.dir, 'folder-'));
    const store = createFolderStore(root);
    const keys = ['packages/maps/0.9.0/full.zip', 'packages/maps/0.9.0/manifest.json', 'packages/maps/1.0.0/full.zip'];
    for (const key of keys) await store.putFile(key, files.small.path, putOptions(files.small));
    await store.delete(keys.slice(0, 2));
    expect(existsSync(join(root, 'packages/maps/0.9.0'))).toBe(false);
    expect(existsSync(join(root, 'packages/maps/1.0.0/full.zip'))).toBe(true);
    await store.delete(keys.slice(2));
    expect(readdirSync(root)).toEqual([]);
  });
});

describe.skipIf(!motoInstalled)('S3 store (moto)', () => {
  let moto: Moto;
  let s3: S3Client;
  let storeCount = 0;
  const savedEnv = { ...process.env };
  const s3Options = () => ({ endpoint: moto.endpoint, forcePathStyle: true, partSize: PART_SIZE });
  const openS3 = async () => createS3Store({ bucket: BUCKET, prefix: `run-${++storeCount}/releases` }, s3Options(), process.env);

  beforeAll(async () => {
    moto = await startMoto();
    // The store uses the SDK's standard credential chain: give it moto's dummy credentials.
    Object.assign(process.env, moto.env);
    s3 = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  }, 60_000);
  afterAll(async () => {
    process.env = savedEnv;
    s3?.destroy();
    await moto?.stop();
  });

  describe('store contract', () => storeContract(openS3, files));

  describe('S3 specifics', () => {
    let store: Store;
    let prefix: string;
    beforeEach(async () => {
      prefix = `specific-${++storeCount}`;
      store = createS3Store({ bucket: BUCKET, prefix }, s3Options(), process.env);
      return () => store.close();
    });
    const headRaw = (key: string) =>
      s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${key}`, ChecksumMode: 'ENABLED' }));
    const openUploads = async () => (await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: `${prefix}/` }))).Uploads ?? [];

    it('names its location without secrets', () => {
      const withUserInfo = createS3Store(
        { bucket: BUCKET, prefix: 'a/b' },
        { endpoint: 'http://user:hunter2@127.0.0.1:9000/?token=hunter2' },
        process.env,
      );
      expect(withUserInfo.location).toBe(`s3://${BUCKET}/a/b via http://127.0.0.1:9000`);
      expect(createS3Store({ bucket: BUCKET, prefix: '' }, {}, process.env).location).toBe(`s3://${BUCKET}`);
    });

    it('falls back to us-east-1 when neither config nor the SDK chain names a region', async () => {
      const { AWS_REGION } = process.env;
      delete process.env.AWS_REGION;
      try {
        const regionless = createS3Store({ bucket: BUCKET, prefix }, { endpoint: moto.endpoint, forcePathStyle: true }, { ...process.env, AWS_REGION: undefined });
        const body = json({ ok: true });
        expect(await regionless.writeDocument('channels/production/index.json', body, documentOptions(body))).not.toBeNull();
        await regionless.close();
      } finally {
        process.env.AWS_REGION = AWS_REGION;
      }
    });

    it('stores cache policy, content type, sha256 metadata and a checksum S3 can verify', async () => {
      await store.putFile('packages/maps/1.0.0/full.zip', files.small.path, putOptions(files.small));
      const small = await headRaw('packages/maps/1.0.0/full.zip');
      expect(small).toMatchObject({
        CacheControl: IMMUTABLE_CACHE,
        ContentType: 'application/zip',
        Metadata: { sha256: sha256(files.small.bytes) },
        ChecksumSHA256: Buffer.from(sha256(files.small.bytes), 'hex').toString('base64'),
      });
      expect(small.ETag).not.toMatch(/-\d+"$/);

      const body = json({ releases: [] });
      await store.writeDocument('channels/production/index.json', body, documentOptions(body));
      expect(await headRaw('channels/production/index.json')).toMatchObject({
        CacheControl: MUTABLE_CACHE,
        ContentType: 'application/json',
        Metadata: { sha256: sha256(body) },
        ChecksumSHA256: Buffer.from(sha256(body), 'hex').toString('base64'),
      });
    });

    it('uploads a file larger than the part size as a multipart object', async () => {
      await store.putFile('packages/maps/1.0.0/full.zip', files.large.path, putOptions(files.large));
      const large = await headRaw('packages/maps/1.0.0/full.zip');
      expect(large.ETag).toMatch(/-3"$/);
      expect(large).toMatchObject({ CacheControl: IMMUTABLE_CACHE, ContentType: 'application/zip', ContentLength: files.large.bytes.length });
    });

    it('aborting mid-upload aborts the multipart upload before putFile rejects', async () => {
      const serial = createS3Store({ bucket: BUCKET, prefix }, { ...s3Options(), queueSize: 1 }, process.env);
      const controller = new AbortController();
      let openWhenAborted: Promise<number> | undefined;
      const upload = serial.putFile('packages/maps/1.0.0/full.zip', files.huge.path, putOptions(files.huge), () => {
        // After the first part: the multipart upload is open; look, then stop.
        openWhenAborted ??= openUploads().then((uploads) => {
          controller.abort();
          return uploads.length;
        });
      }, controller.signal);

      await expect(upload).rejects.toMatchObject({ name: 'AbortError' });
      expect(await openWhenAborted).toBe(1);
      expect(await openUploads()).toEqual([]);
      expect(await serial.head('packages/maps/1.0.0/full.zip')).toBeNull();
      await serial.close();
    });

    it('uploads again when another publisher of the same version aborts its multipart upload mid-way', async () => {
      const serial = createS3Store({ bucket: BUCKET, prefix }, { ...s3Options(), queueSize: 1 }, process.env);
      const other = createS3Store({ bucket: BUCKET, prefix }, s3Options(), process.env);
      let abortedByOther: Promise<number> | undefined;
      // After the first part, the other publisher takes the open upload for a killed run's and aborts it.
      const upload = serial.putFile('packages/maps/1.0.0/full.zip', files.huge.path, putOptions(files.huge), () => {
        abortedByOther ??= other.listOpenUploads().then(async (uploads) => {
          for (const open of uploads) await other.abortUpload(open);
          return uploads.length;
        });
      });

      await expect(upload).resolves.toBeUndefined();
      expect(await abortedByOther).toBe(1);
      expect(await serial.head('packages/maps/1.0.0/full.zip')).toMatchObject({ sha256: sha256(files.huge.bytes) });
      expect(await openUploads()).toEqual([]);
      await Promise.all([serial.close(), other.close()]);
    });

    it('does not start an upload for an already aborted signal', async () => {
      const controller = new AbortController();
      controller.abort();
      await expect(
        store.putFile('packages/maps/1.0.0/full.zip', files.large.path, putOptions(files.large), undefined, controller.signal),
      ).rejects.toMatchObject({ name: 'AbortError' });
      expect(await openUploads()).toEqual([]);
    });

    it('lists and aborts open multipart uploads under its prefix only', async () => {
      const mine = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `${prefix}/packages/maps/2.0.0/full.zip` }));
      await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `elsewhere-${prefix}/full.zip` }));
      // Only package objects are sent in parts: another key under the prefix is another tool's.
      await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `${prefix}/backups/full.zip` }));

      const open = await store.listOpenUploads();
      expect(open).toEqual([{ key: 'packages/maps/2.0.0/full.zip', uploadId: mine.UploadId, initiated: expect.any(Date) }]);
      await store.abortUpload(open[0]);
      await store.abortUpload(open[0]); // already gone: not an error
      expect(await store.listOpenUploads()).toEqual([]);
    });

    it('maps a missing local file to a one-line error naming it', async () => {
      const missing = join(files.dir, 'no-such-file.zip');
      await expect(store.putFile('packages/x/1/full.zip', missing, putOptions(files.small))).rejects.toThrow(
        new StoreError(`cannot read local file '${missing}' (ENOENT): check that it exists and is readable`),
      );
    });
  });

  describe('errors', () => {
    const expectStoreError = async (promise: Promise<unknown>, pattern: RegExp) => {
      const error = await promise.then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).message).toMatch(pattern);
      expect((error as StoreError).message).not.toContain('\n');
      expect((error as StoreError).exitCode).toBe(1);
    };

    it('names a missing bucket, whatever the first operation', async () => {
      const store = createS3Store({ bucket: 'no-such-bucket', prefix: 'p' }, s3Options(), process.env);
      const missingBucket = /^bucket 'no-such-bucket' does not exist at S3 endpoint http:\/\/127\.0\.0\.1:\d+: create it/;
      await expectStoreError(store.head('x.json'), missingBucket);
      await expectStoreError(store.readDocument('x.json'), missingBucket);
      await expectStoreError(store.list(''), missingBucket);
      await expectStoreError(store.putFile('x.zip', files.small.path, putOptions(files.small)), missingBucket);
      await store.close();
    });

    it('fails fast with one line when the endpoint is unreachable', { timeout: 30_000 }, async () => {
      const port = await freePort();
      const store = createS3Store({ bucket: BUCKET, prefix: '' }, { endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true }, process.env);
      await expectStoreError(store.readDocument('x.json'), new RegExp(`^cannot reach S3 endpoint http://127.0.0.1:${port} \\(ECONNREFUSED\\): check "s3.endpoint"`));
      await store.close();
    });

    it('says so when the SDK chain finds no credentials', async () => {
      const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY } = process.env;
      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
      try {
        const store = createS3Store({ bucket: BUCKET, prefix: '' }, s3Options(), process.env);
        await expectStoreError(store.readDocument('x.json'), /^no AWS credentials found for S3 endpoint .*: set AWS_ACCESS_KEY_ID/);
        await store.close();
      } finally {
        Object.assign(process.env, { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY });
      }
    });

    it('names expired credentials, the wrong region and a checksum mismatch; other failures keep their code and first line', () => {
      const serviceError = (name: string, httpStatusCode: number) =>
        new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode }, message: 'secret-looking detail' });
      const context = { action: 'write', bucket: 'b', key: 'k', profile: 'publisher' } as const;
      expect(toStoreError(serviceError('ExpiredToken', 400), context).message).toBe(
        "AWS S3 rejected the AWS credentials (ExpiredToken): check or refresh AWS profile 'publisher' (run `aws sso login --profile publisher` if it uses SSO)",
      );
      expect(toStoreError(serviceError('PermanentRedirect', 301), context).message).toMatch(/set "s3.region"/);
      expect(toStoreError(serviceError('BadDigest', 400), context).message).toMatch(/^AWS S3 rejected 'k' in bucket 'b': its SHA-256 did not match/);
      // Two conditional writes racing on S3 itself: the loser gets 409, which is a lost condition like 412.
      expect(isConditionFailed(serviceError('ConditionalRequestConflict', 409))).toBe(true);
      expect(isConditionFailed(serviceError('AccessDenied', 403))).toBe(false);
      expect(toStoreError(serviceError('SlowDown', 503), context).message).toBe(
        "AWS S3 write of 'k' in bucket 'b' failed (HTTP 503 SlowDown): secret-looking detail",
      );
    });

    describe('with moto enforcing IAM authentication', () => {
      let authMoto: Moto;
      let accessKey: { id: string; secret: string };
      const opened: Store[] = [];
      const authStore = () => {
        const store = createS3Store({ bucket: BUCKET, prefix: 'p' }, { endpoint: authMoto.endpoint, forcePathStyle: true }, process.env);
        opened.push(store);
        return store;
      };

      const iam = (params: Record<string, string>) => motoIam(authMoto, params);

      beforeAll(async () => {
        authMoto = await startMoto({ authAfterActions: 3 });
        const bucketSetup = new S3Client({ region: 'us-east-1', endpoint: authMoto.endpoint, forcePathStyle: true });
        await bucketSetup.send(new CreateBucketCommand({ Bucket: BUCKET }));
        bucketSetup.destroy();
        await iam({ Action: 'CreateUser', UserName: 'publisher' });
        const created = await iam({ Action: 'CreateAccessKey', UserName: 'publisher' });
        accessKey = {
          id: /<AccessKeyId>(.+?)</.exec(created)![1],
          secret: /<SecretAccessKey>(.+?)</.exec(created)![1],
        };
      }, 60_000);
      afterAll(async () => {
        Object.assign(process.env, moto.env);
        await Promise.all(opened.map((store) => store.close()));
        await authMoto?.stop();
      });

      it('rejects an unknown access key', async () => {
        Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIAUNKNOWNKEY000000', AWS_SECRET_ACCESS_KEY: 'not-a-secret-0' });
        const read = authStore().readDocument('x.json');
        await expectStoreError(read, /^S3 endpoint \S+ rejected the AWS credentials \(InvalidAccessKeyId\): check or refresh AWS_ACCESS_KEY_ID/);
        await expect(read).rejects.not.toThrow(/AKIAUNKNOWNKEY|not-a-secret/);
      });

      it('rejects a wrong secret without ever printing it', async () => {
        Object.assign(process.env, { AWS_ACCESS_KEY_ID: accessKey.id, AWS_SECRET_ACCESS_KEY: 'wrong-secret-value' });
        const read = authStore().readDocument('x.json');
        await expectStoreError(read, /rejected the AWS credentials \(SignatureDoesNotMatch\): check or refresh AWS_ACCESS_KEY_ID/);
        await expect(read).rejects.not.toThrow(new RegExp(`wrong-secret-value|${accessKey.id}`));
      });

      it('names the bucket and the missing permission when access is denied', async () => {
        Object.assign(process.env, { AWS_ACCESS_KEY_ID: accessKey.id, AWS_SECRET_ACCESS_KEY: accessKey.secret });
        const body = json({});
        await expectStoreError(
          authStore().writeDocument('channels/production/index.json', body, documentOptions(body)),
          new RegExp(`^access denied to 'p/channels/production/index.json' in bucket '${BUCKET}' \\(AccessDenied\\): grant the publishing identity s3:PutObject`),
        );
      });
    });
  });
});
