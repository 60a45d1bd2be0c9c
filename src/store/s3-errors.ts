import { StoreError } from '../errors.js';

/** Store operations, each with the IAM permission it needs (named in access-denied messages). */
export const S3_PERMISSIONS = {
  checkBucket: 's3:ListBucket',
  read: 's3:GetObject (plus s3:ListBucket, without which a missing object reads as access denied)',
  upload: 's3:PutObject',
  write: 's3:PutObject',
  list: 's3:ListBucket',
  delete: 's3:DeleteObject',
  listUploads: 's3:ListBucketMultipartUploads',
  abortUpload: 's3:AbortMultipartUpload',
} as const;
export type S3Action = keyof typeof S3_PERMISSIONS;

export interface S3ErrorContext {
  action: S3Action;
  bucket: string;
  /** Full object key, when the operation has one. */
  key?: string;
  /** Custom endpoint, already stripped of anything secret. */
  endpoint?: string;
  profile?: string;
}

/** The fields the SDK puts on service, provider and socket errors. */
interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  path?: string;
  $metadata?: { httpStatusCode?: number };
}

const CREDENTIAL_REJECTED = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'TokenRefreshRequired',
  'InvalidToken',
  'RequestExpired',
]);
const NO_CREDENTIALS = new Set(['CredentialsProviderError', 'TokenProviderError']);
const WRONG_REGION = new Set(['PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException']);
const CHECKSUM_MISMATCH = new Set(['BadDigest', 'XAmzContentSHA256Mismatch', 'InvalidDigest']);
// The socket-level codes the SDK's own retry strategy treats as transient or network errors.
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

export const httpStatusOf = (error: unknown) => (error as SdkErrorShape | undefined)?.$metadata?.httpStatusCode;
export const errorNameOf = (error: unknown) => (error as SdkErrorShape | undefined)?.name;

/** A missing object or bucket: HEAD responses carry no body, so only the status tells. */
export const isNotFound = (error: unknown) =>
  httpStatusOf(error) === 404 || ['NoSuchKey', 'NotFound'].includes(errorNameOf(error) ?? '');

/** A conditional write lost: 412 on If-Match/If-None-Match, 409 when another conditional write was in flight. */
export const isConditionFailed = (error: unknown) =>
  httpStatusOf(error) === 412 ||
  httpStatusOf(error) === 409 ||
  ['PreconditionFailed', 'ConditionalRequestConflict'].includes(errorNameOf(error) ?? '');

const firstLine = (text: string | undefined) => (text ?? '').split('\n')[0].trim();

/**
 * The one place SDK failures become one-line StoreErrors. Messages name the
 * bucket, key, endpoint, setting or environment variable to fix — never a
 * credential value.
 */
export function toStoreError(error: unknown, context: S3ErrorContext): StoreError {
  if (error instanceof StoreError) return error;
  const sdkError = (error ?? {}) as SdkErrorShape;
  const name = sdkError.name ?? 'Error';
  const code = sdkError.code ?? '';
  const status = httpStatusOf(error);
  const { bucket, key, endpoint, profile, action } = context;
  const where = endpoint ? `S3 endpoint ${endpoint}` : 'AWS S3';
  const target = key ? `'${key}' in bucket '${bucket}'` : `bucket '${bucket}'`;
  const credentialSource = profile
    ? `AWS profile '${profile}' (run \`aws sso login --profile ${profile}\` if it uses SSO)`
    : 'AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN or AWS_PROFILE';

  if (name === 'NoSuchBucket' || (action === 'checkBucket' && status === 404)) {
    const fix = endpoint ? 'create it, or fix "store" or "s3.endpoint" in the config' : 'create it or fix "store" in the config';
    return new StoreError(`bucket '${bucket}' does not exist at ${where}: ${fix}`);
  }
  if (NO_CREDENTIALS.has(name)) {
    return new StoreError(`no AWS credentials found for ${where}: set ${credentialSource}`);
  }
  if (CREDENTIAL_REJECTED.has(name)) {
    return new StoreError(`${where} rejected the AWS credentials (${name}): check or refresh ${credentialSource}`);
  }
  if (WRONG_REGION.has(name) || status === 301) {
    return new StoreError(`bucket '${bucket}' is not in the configured region (${name}): set "s3.region" to the bucket's region`);
  }
  if (name === 'AccessDenied' || status === 403) {
    return new StoreError(
      `access denied to ${target} (${name}): grant the publishing identity ${S3_PERMISSIONS[action]} on arn:aws:s3:::${bucket}`,
    );
  }
  // An https:// endpoint that answers plain HTTP: OpenSSL's record-layer error says nothing a user can act on.
  if (endpoint?.toLowerCase().startsWith('https://') && (code === 'EPROTO' || /wrong version number|packet length too long|ERR_SSL_/i.test(sdkError.message ?? ''))) {
    return new StoreError(`S3 endpoint ${endpoint} does not answer TLS (it speaks plain HTTP?): write it as http://${endpoint.slice('https://'.length)} in "s3.endpoint", or turn on TLS there`);
  }
  if (UNREACHABLE.has(code) || name === 'TimeoutError') {
    const fix = endpoint ? 'check "s3.endpoint" and that the service is running' : 'check the network and "s3.region"';
    return new StoreError(`cannot reach ${where} (${code || name}): ${fix}`);
  }
  if (CHECKSUM_MISMATCH.has(name)) {
    return new StoreError(`${where} rejected ${target}: its SHA-256 did not match the bytes sent (file changed during upload?); run again`);
  }
  if (isNotFound(error)) {
    return new StoreError(`object ${target} does not exist at ${where}: publish it again or check "store"`);
  }
  if (sdkError.path && code) {
    return new StoreError(`cannot read local file '${sdkError.path}' (${code}): check that it exists and is readable`);
  }
  // A HEAD's error has no body, so the SDK can name nothing but the status; retries are spent by now.
  if (status !== undefined && status >= 500 && name === 'Unknown') {
    return new StoreError(`${where} ${action} of ${target} failed (HTTP ${status}) on every attempt: the service is unavailable or overloaded; run again later`);
  }
  const statusText = status ? `HTTP ${status} ` : '';
  return new StoreError(`${where} ${action} of ${target} failed (${statusText}${name}): ${firstLine(sdkError.message) || 'no details'}`);
}
