import { S3Client } from '@aws-sdk/client-s3';
import { awsClientSettings } from '../aws-settings.js';
import type { S3Config } from '../config/schema.js';
import type { Environment } from '../environment.js';

export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
export const DEFAULT_QUEUE_SIZE = 4;
export const DEFAULT_FILE_CONCURRENCY = 4;
const FALLBACK_REGION = 'us-east-1';
/** Tries per request (the SDK's retries), and per body read (resumed GETs). */
export const MAX_ATTEMPTS = 5;
// An unreachable host fails after MAX_ATTEMPTS connection timeouts (~30 s), a
// stalled one after MAX_ATTEMPTS idle-socket timeouts: bounded, never a hang.
// The idle limit is the AWS CLI's read timeout: S3-compatible servers can be
// silent that long while they assemble a large multipart object (moto: ~45 s
// per GB), and a retried CompleteMultipartUpload only fails.
const CONNECTION_TIMEOUT_MS = 5_000;
const SOCKET_IDLE_TIMEOUT_MS = 60_000;
// Room for every part of every file in flight plus the documents beside them.
const SPARE_SOCKETS = 8;

/**
 * The region the SDK's own chain finds (the profile's config file), or
 * us-east-1 when none is set; S3 then redirects to the bucket's real region.
 */
function regionFromChain(profile: string | undefined): () => Promise<string> {
  let region: Promise<string> | undefined;
  return () =>
    (region ??= (async () => {
      const probe = new S3Client({ profile });
      try {
        return await probe.config.region();
      } catch {
        return FALLBACK_REGION;
      } finally {
        probe.destroy();
      }
    })());
}

/**
 * Region, endpoint and credentials: the config's, else the run's environment's
 * (aws-settings.ts), else the SDK's standard chain (optionally a named profile).
 */
export function createS3Client(options: S3Config, env: Environment): S3Client {
  const { region, endpoint, credentials, profile } = awsClientSettings(env, 'S3', options);
  const maxSockets =
    (options.concurrency ?? DEFAULT_FILE_CONCURRENCY) * (options.queueSize ?? DEFAULT_QUEUE_SIZE) + SPARE_SOCKETS;
  const client = new S3Client({
    region: region ?? regionFromChain(profile),
    endpoint,
    forcePathStyle: options.forcePathStyle,
    profile,
    credentials,
    followRegionRedirects: true,
    retryMode: 'adaptive',
    maxAttempts: MAX_ATTEMPTS,
    requestHandler: {
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      socketTimeout: SOCKET_IDLE_TIMEOUT_MS,
      httpAgent: { maxSockets },
      httpsAgent: { maxSockets },
    },
  });
  client.middlewareStack.addRelativeTo(unsignedChecksummedPayload, {
    relation: 'before',
    toMiddleware: 'httpSigningMiddleware',
    name: 'unsignedChecksummedPayload',
  });
  return client;
}

/**
 * A body whose checksum travels in an x-amz-checksum-* header is already bound
 * to the signature (the header is signed) and checked by S3. SigV4's own
 * payload hash would read every byte a second time, doubling the client's CPU
 * per byte uploaded. The SDK does the same for streamed bodies
 * (STREAMING-UNSIGNED-PAYLOAD-TRAILER).
 */
const unsignedChecksummedPayload =
  <Args extends { request: unknown }, Result>(next: (args: Args) => Result) =>
  (args: Args): Result => {
    const headers = (args.request as { headers?: Record<string, string> }).headers;
    if (headers && Object.keys(headers).some((name) => name.toLowerCase().startsWith('x-amz-checksum-'))) {
      headers['x-amz-content-sha256'] ??= 'UNSIGNED-PAYLOAD';
    }
    return next(args);
  };

/** The endpoint as shown to humans: no user info, query or fragment that could hold a secret. */
export function describeEndpoint(endpoint: string | undefined): string | undefined {
  if (!endpoint) return undefined;
  try {
    const url = new URL(endpoint);
    return url.origin + url.pathname.replace(/\/$/, '');
  } catch {
    return '(invalid s3.endpoint)';
  }
}
