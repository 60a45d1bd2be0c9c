import { UserError } from '../errors.js';

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing '/': '' means the bucket root. */
  prefix: string;
}

const SCHEME = 's3://';
// S3 general-purpose bucket naming rules (MinIO, R2 and Ceph accept the same names).
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IP_ADDRESS = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Parses the "store" setting `s3://bucket/some/prefix`. */
export function parseS3Url(url: string): S3Location {
  if (!url.toLowerCase().startsWith(SCHEME)) {
    throw new UserError(`store '${url}' is not an S3 URL: write it as s3://bucket/prefix`);
  }
  const rest = url.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const prefix = slash === -1 ? '' : rest.slice(slash + 1).replace(/^\/+|\/+$/g, '');

  if (!BUCKET_PATTERN.test(bucket) || bucket.includes('..') || IP_ADDRESS.test(bucket)) {
    throw new UserError(
      `store '${url}' names an invalid bucket '${bucket}': bucket names are 3–63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit`,
    );
  }
  const badSegment = prefix.split('/').some((segment) => segment === '' || segment === '.' || segment === '..');
  if (prefix !== '' && (badSegment || /[?#\\]/.test(prefix))) {
    throw new UserError(
      `store '${url}' has an invalid prefix '${prefix}': use '/'-separated names without empty, '.' or '..' segments, '?', '#' or '\\'`,
    );
  }
  return { bucket, prefix };
}
