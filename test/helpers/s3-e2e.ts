/**
 * Shared setup for end-to-end tests that run the CLI against moto's S3:
 * whether moto is there (under CI it must be), the project config pointing at
 * a bucket, a raw SDK client for assertions, and a Store for the invariant
 * checker.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  ListMultipartUploadsCommand,
  paginateListObjectsV2,
  S3Client,
  type MultipartUpload,
} from '@aws-sdk/client-s3';
import { createS3Store } from '../../src/store/s3-store.js';
import type { Store } from '../../src/store/store.js';
import { startMoto, type Moto } from './moto.js';
import { MOTO } from './prerequisites.js';

export const MOTO_INSTALLED = MOTO.installed;

/** The smallest part size S3 allows: a package past it is stored multipart. */
export const PART_SIZE = 5 * 1024 * 1024;

export const s3Settings = (endpoint: string) => ({ endpoint, forcePathStyle: true, region: 'us-east-1', partSize: PART_SIZE });

/** Config overlay for makeProject: the store is s3://bucket/prefix at `endpoint` (moto, or a proxy in front of it). */
export const s3ProjectConfig = (endpoint: string, bucket: string, prefix: string) => ({
  store: `s3://${bucket}/${prefix}`,
  s3: s3Settings(endpoint),
});

export function rawS3(endpoint: string): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

export async function createBucket(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
}

/** The store as the CLI opens it (credentials from the environment: moto.env). */
export const openS3Store = (endpoint: string, bucket: string, prefix: string): Store =>
  createS3Store({ bucket, prefix }, s3Settings(endpoint), process.env);

export async function listOpenUploads(s3: S3Client, bucket: string, prefix: string): Promise<MultipartUpload[]> {
  const page = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `${prefix}/` }));
  return page.Uploads ?? [];
}

/** Key → "ETag LastModified" for every object under the prefix: equal listings mean nothing was rewritten. */
export async function objectListing(s3: S3Client, bucket: string, prefix: string): Promise<Record<string, string>> {
  const listing: Record<string, string> = {};
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: `${prefix}/` })) {
    for (const object of page.Contents ?? []) listing[object.Key!] = `${object.ETag} ${object.LastModified?.toISOString()}`;
  }
  return listing;
}

/** Incompressible bytes with a precompressed extension: packed as stored, so the zip is about this big. */
export const incompressible = (bytes: number) => randomBytes(bytes);

/** A moto server with one bucket, and the AWS environment the CLI (and the invariant checker) read. */
export async function startMotoBucket(bucket: string): Promise<{ moto: Moto; s3: S3Client }> {
  const moto = await startMoto();
  Object.assign(process.env, moto.env);
  const s3 = rawS3(moto.endpoint);
  await createBucket(s3, bucket);
  return { moto, s3 };
}
