import type { Environment } from '../environment.js';
import { createReadStream } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { S3Config } from '../config/schema.js';
import { createS3Client, DEFAULT_PART_SIZE, DEFAULT_QUEUE_SIZE, describeEndpoint, MAX_ATTEMPTS } from './s3-client.js';
import { errorNameOf, httpStatusOf, isConditionFailed, isNotFound, toStoreError, type S3Action } from './s3-errors.js';
import { getObjectResumable } from './s3-resumable-read.js';
import { packagesPrefix } from '../protocol/layout.js';
import type { S3Location } from '../config/s3-url.js';
import type { ObjectInfo, OpenUpload, Store } from './store.js';
import { StoreError } from '../errors.js';
import { sha256Hex } from '../hash.js';

/** Where the conditional-write probe writes (and removes) its scratch object, under the store's prefix. */
const PROBE_PREFIX = '.update-publish/conditional-write-probe-';

// DeleteObjects takes at most this many keys per request.
const DELETE_BATCH = 1000;

/** S3 wants the SHA-256 base64-encoded; the store interface carries it as hex. */
const base64Sha256 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

const abortReason = (signal: AbortSignal) =>
  signal.reason ?? Object.assign(new Error('upload aborted'), { name: 'AbortError' });

/**
 * Amazon S3 and S3-compatible services (MinIO, R2, Ceph). Keys live under the
 * location's prefix; every failure reaches callers as a one-line StoreError,
 * except the nulls the Store interface defines (absent object, lost condition).
 */
export function createS3Store(location: S3Location, options: S3Config, env: Environment): Store {
  const client = createS3Client(options, env);
  const Bucket = location.bucket;
  const root = location.prefix.replace(/^\/+|\/+$/g, '');
  const endpoint = describeEndpoint(options.endpoint);
  const partSize = options.partSize ?? DEFAULT_PART_SIZE;
  const queueSize = options.queueSize ?? DEFAULT_QUEUE_SIZE;

  const fullKey = (key: string) => (root ? `${root}/${key}` : key);
  const rootPrefix = fullKey('');
  const relativeKey = (key: string) => key.slice(rootPrefix.length);

  // Checked once, so a missing bucket or unreachable endpoint gets its own
  // message whatever runs first (a HEAD 404 alone cannot tell bucket from key).
  let bucketChecked: Promise<void> | undefined;
  const checkBucket = () =>
    (bucketChecked ??= client
      .send(new HeadBucketCommand({ Bucket }))
      .then(() => undefined)
      .catch((error: unknown) => {
        // Publishing identities may lack s3:ListBucket, and a HEAD error has no body
        // to say why (400: expired or invalid token): the object calls that follow will tell.
        if (httpStatusOf(error) === 403 || httpStatusOf(error) === 400) return;
        bucketChecked = undefined;
        throw toStoreError(error, { action: 'checkBucket', bucket: Bucket, endpoint, profile: options.profile });
      }));

  // Checked once, before the first write: a store that ignores If-None-Match / If-Match (some
  // S3-compatible servers) would let two publishers overwrite each other's releases unnoticed.
  let conditionalWritesChecked: Promise<void> | undefined;
  const checkConditionalWrites = () =>
    (conditionalWritesChecked ??= probeConditionalWrites().catch((error: unknown) => {
      conditionalWritesChecked = undefined;
      throw error;
    }));

  /** Its own failures (access denied…) reach the caller's guarded(), which names the key the caller meant to write. */
  async function probeConditionalWrites(): Promise<void> {
    const Key = fullKey(`${PROBE_PREFIX}${randomUUID()}.json`);
    const body = Buffer.from('{}');
    // Checksummed as every other write is (and so sent as UNSIGNED-PAYLOAD, see s3-client.ts).
    const put = (condition: { IfNoneMatch?: string; IfMatch?: string }) =>
      client.send(
        new PutObjectCommand({ Bucket, Key, Body: body, ContentType: 'application/json', ChecksumAlgorithm: 'SHA256', ChecksumSHA256: base64Sha256(sha256Hex(body)), ...condition }),
      );
    /** Whether the write went through although its condition was false. */
    const ignored = (condition: { IfNoneMatch?: string; IfMatch?: string }) =>
      put(condition).then(
        () => true,
        (error: unknown) => {
          if (isConditionFailed(error)) return false;
          throw error;
        },
      );
    try {
      await put({ IfNoneMatch: '*' });
      const missing = [
        ...((await ignored({ IfNoneMatch: '*' })) ? ['If-None-Match (create only if absent)'] : []),
        ...((await ignored({ IfMatch: '"update-publish-probe"' })) ? ['If-Match (replace only the version read)'] : []),
      ];
      if (missing.length) {
        throw new StoreError(
          `${endpoint ? `S3 endpoint ${endpoint}` : 'this S3 store'} ignores conditional writes (${missing.join(', ')}): two publishers at once would overwrite each other's releases unnoticed; use a store that honours them (Amazon S3, Cloudflare R2, MinIO…)`,
        );
      }
    } finally {
      // Best effort: an identity without s3:DeleteObject leaves one small file under ${PROBE_PREFIX}.
      await client.send(new DeleteObjectCommand({ Bucket, Key })).catch(() => undefined);
    }
  }

  /** One PutObject under the write's condition; null when the condition failed. */
  // 404: the document an If-Match named is gone, which is a lost condition too.
  const writeConditionally = (key: string, body: Buffer, options: Parameters<Store['writeDocument']>[2]) =>
    nullWhen(
      (error) => isConditionFailed(error) || (options.ifMatch !== undefined && isNotFound(error)),
      async () => {
        const response = await client.send(
          new PutObjectCommand({
            Bucket,
            Key: fullKey(key),
            Body: body,
            ContentType: options.contentType,
            CacheControl: options.cacheControl,
            Metadata: { sha256: options.sha256 },
            ChecksumAlgorithm: 'SHA256',
            ChecksumSHA256: base64Sha256(options.sha256),
            IfMatch: options.ifMatch,
            IfNoneMatch: options.ifNoneMatch ? '*' : undefined,
          }),
        );
        return { etag: response.ETag! };
      },
    );

  /** Runs one store operation; everything it throws leaves as a StoreError. */
  async function guarded<T>(action: S3Action, key: string | undefined, work: () => Promise<T>): Promise<T> {
    await checkBucket();
    try {
      return await work();
    } catch (error) {
      throw toStoreError(error, { action, bucket: Bucket, key, endpoint, profile: options.profile });
    }
  }

  /** A GET whose body survives a connection lost mid-way (see getObjectResumable). */
  const getObject = (Key: string) =>
    getObjectResumable(client, { Bucket, Key }, {
      maxResumes: MAX_ATTEMPTS - 1,
      mapError: (error) => toStoreError(error, { action: 'read', bucket: Bucket, key: Key, endpoint, profile: options.profile }),
    });

  /** Lets expected outcomes (absent object, lost condition) through as null. */
  async function nullWhen<T>(expected: (error: unknown) => boolean, work: () => Promise<T>): Promise<T | null> {
    try {
      return await work();
    } catch (error) {
      if (expected(error)) return null;
      throw error;
    }
  }

  async function uploadFile(
    Key: string,
    localPath: string,
    file: Parameters<Store['putFile']>[2],
    onProgress: ((loadedBytes: number) => void) | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    // 1 MiB reads: lib-storage gathers them into parts, and 64 KiB ones cost 16,000 buffers per GB.
    const body = createReadStream(localPath, { highWaterMark: 1024 * 1024 });
    // The upload reads the stream; this listener only keeps a late abort from crashing the process.
    body.on('error', () => {});
    // Failing the body (rather than Upload.abort(), whose promise settles before
    // its cleanup) makes lib-storage finish in-flight parts, abort the multipart
    // upload, and only then reject: no open upload is left when we return.
    const stopReading = () => body.destroy(abortReason(signal!));
    signal?.addEventListener('abort', stopReading, { once: true });
    const upload = new Upload({
      client,
      partSize,
      queueSize,
      leavePartsOnError: false,
      params: {
        Bucket,
        Key,
        Body: body,
        ContentLength: file.size,
        ContentType: file.contentType,
        CacheControl: file.cacheControl,
        // Multipart objects only get a composite S3 checksum; the metadata keeps the whole-file one.
        Metadata: { sha256: file.sha256 },
        ChecksumAlgorithm: 'SHA256',
        // lib-storage sends up to partSize bytes as one PUT, which can carry the
        // whole-file checksum for S3 to verify; parts get theirs from the SDK.
        ...(file.size <= partSize && { ChecksumSHA256: base64Sha256(file.sha256) }),
      },
    });
    upload.on('httpUploadProgress', (progress) => {
      if (progress.loaded !== undefined) onProgress?.(progress.loaded);
    });
    try {
      await upload.done();
    } finally {
      signal?.removeEventListener('abort', stopReading);
      body.destroy();
    }
  }

  return {
    location: `s3://${Bucket}${root ? `/${root}` : ''}${endpoint ? ` via ${endpoint}` : ''}`,

    readDocument: (key) =>
      guarded('read', fullKey(key), () =>
        nullWhen(isNotFound, async () => {
          const { body, etag } = await getObject(fullKey(key));
          return { body: Buffer.concat(await body.toArray()), etag };
        }),
      ),

    head: (key) =>
      guarded('read', fullKey(key), () =>
        nullWhen(isNotFound, async () => {
          const response = await client.send(new HeadObjectCommand({ Bucket, Key: fullKey(key) }));
          return {
            key,
            size: response.ContentLength ?? 0,
            sha256: response.Metadata?.sha256,
            lastModified: response.LastModified,
          };
        }),
      ),

    async putFile(key, localPath, options, onProgress, signal) {
      signal?.throwIfAborted();
      try {
        await guarded('upload', fullKey(key), checkConditionalWrites);
        const upload = () => uploadFile(fullKey(key), localPath, options, onProgress, signal);
        await guarded('upload', fullKey(key), () =>
          upload().catch((error) => {
            // A concurrent publisher of this same version and content (see claimVersion) aborts
            // the uploads it finds open on its keys, taking ours for a killed run's: upload again.
            if (errorNameOf(error) !== 'NoSuchUpload' || signal?.aborted) throw error;
            return upload();
          }),
        );
      } catch (error) {
        // The caller asked to stop: give back its own reason, not a store failure.
        if (signal?.aborted) throw abortReason(signal);
        throw error;
      }
      signal?.throwIfAborted();
    },

    writeDocument: (key, body, options) =>
      guarded('write', fullKey(key), async () => {
        await checkConditionalWrites();
        return writeConditionally(key, body, options);
      }),

    openRead: (key, range) =>
      guarded('read', fullKey(key), async () => {
        if (!range) return (await getObject(fullKey(key))).body;
        const response = await client.send(new GetObjectCommand({ Bucket, Key: fullKey(key), Range: `bytes=${range.start}-${range.end}` }));
        return response.Body as Readable;
      }),

    list: (prefix) =>
      guarded('list', fullKey(prefix), async () => {
        const objects: ObjectInfo[] = [];
        for await (const page of paginateListObjectsV2({ client }, { Bucket, Prefix: fullKey(prefix) })) {
          for (const object of page.Contents ?? []) {
            objects.push({ key: relativeKey(object.Key!), size: object.Size ?? 0, lastModified: object.LastModified });
          }
        }
        return objects;
      }),

    delete: (keys) =>
      guarded('delete', undefined, async () => {
        for (let start = 0; start < keys.length; start += DELETE_BATCH) {
          const batch = keys.slice(start, start + DELETE_BATCH);
          const response = await client.send(
            new DeleteObjectsCommand({
              Bucket,
              Delete: { Objects: batch.map((key) => ({ Key: fullKey(key) })), Quiet: true },
            }),
          );
          const failed = response.Errors?.[0];
          if (failed) {
            throw toStoreError(
              { name: failed.Code, message: failed.Message },
              { action: 'delete', bucket: Bucket, key: failed.Key, endpoint, profile: options.profile },
            );
          }
        }
      }),

    listOpenUploads: () =>
      guarded('listUploads', undefined, async () => {
        const uploads: OpenUpload[] = [];
        let markers: { KeyMarker?: string; UploadIdMarker?: string } = {};
        for (;;) {
          // Only package objects are sent in parts; other keys (another project's, at the bucket root) are not ours.
          const page = await client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: `${rootPrefix}${packagesPrefix}`, ...markers }));
          for (const upload of page.Uploads ?? []) {
            uploads.push({ key: relativeKey(upload.Key!), uploadId: upload.UploadId!, initiated: upload.Initiated });
          }
          if (!page.IsTruncated) return uploads;
          markers = { KeyMarker: page.NextKeyMarker, UploadIdMarker: page.NextUploadIdMarker };
        }
      }),

    abortUpload: (upload) =>
      guarded('abortUpload', fullKey(upload.key), async () => {
        // Already completed or aborted (NoSuchUpload is a 404): nothing left to clean.
        await nullWhen(isNotFound, () =>
          client.send(new AbortMultipartUploadCommand({ Bucket, Key: fullKey(upload.key), UploadId: upload.uploadId })),
        );
      }),

    async close() {
      client.destroy();
    },
  };
}
