/**
 * A store that ignores conditional writes must be refused before anything is
 * written: s3rver (an S3-compatible server on npm) accepts PutObject with
 * If-None-Match: * on an existing key and with a wrong If-Match, so two
 * publishers would both "succeed" and one release would be lost.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, removeProjects } from '../helpers/cli.js';

const BUCKET = 'content';
const credentials = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };

describe('a store that ignores conditional writes (s3rver)', () => {
  let server: S3rver;
  let directory: string;
  let endpoint: string;
  let s3: S3Client;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'update-publish-s3rver-'));
    server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: BUCKET, configs: [] }] });
    const address = await server.run();
    endpoint = `http://127.0.0.1:${address.port}`;
    s3 = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  });
  afterAll(async () => {
    s3?.destroy();
    await server?.close();
    await rm(directory, { recursive: true, force: true });
    await removeProjects();
  });

  it('really does ignore them (what the probe must catch)', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'scratch', Body: 'one' }));
    await expect(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'scratch', Body: 'two', IfNoneMatch: '*' }))).resolves.toBeTruthy();
  });

  it('publish refuses it with one line naming what is missing, exit 1, and writes nothing but the removed probe', async () => {
    const project = await makeProject({ config: { store: `s3://${BUCKET}/updates`, s3: { endpoint, forcePathStyle: true, region: 'us-east-1' } } });
    const result = await project.run(['publish', '--yes'], { env: credentials });
    expect(result.code, result.stderr).toBe(1);
    const errors = result.stderr.trimEnd().split('\n').filter((line) => line.startsWith('error:'));
    expect(errors).toEqual([expect.stringMatching(/^error: S3 endpoint http:\/\/127\.0\.0\.1:\d+ ignores conditional writes \(If-None-Match .*, If-Match .*\): two publishers at once would overwrite each other's releases unnoticed/)]);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'updates/' }));
    expect(listed.Contents ?? []).toEqual([]);
  });

  it('a dry run writes nothing, so needs no probe', async () => {
    const project = await makeProject({ config: { store: `s3://${BUCKET}/dry`, s3: { endpoint, forcePathStyle: true, region: 'us-east-1' } } });
    const result = await project.run(['publish', '--dry-run'], { env: credentials });
    expect(result.code, result.stderr).toBe(0);
  });
});
