import { Readable } from 'node:stream';
import { GetObjectCommand, S3Client, S3ServiceException, type S3ClientConfig } from '@aws-sdk/client-s3';
import { ProtocolError } from '../errors.js';
import { checkedKey, type UpdateSource } from './source.js';

/**
 * Reads a store straight from S3 with the AWS SDK's credentials: a device
 * holding a Cognito identity pool's temporary credentials (its role allows
 * what `update-publish access policy --cognito` prints). Node only: the pure
 * `update-publish/client` never loads the SDK.
 */
export function s3Source(url: string, config: S3ClientConfig = {}): UpdateSource {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!match) throw new ProtocolError(`'${url}' is not an s3://bucket/prefix URL`, 'input');
  const bucket = match[1]!;
  const prefix = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  const location = `s3://${bucket}${prefix ? `/${prefix}` : ''}/`;
  const client = new S3Client(config);
  const get = async (key: string, resume?: { from: number; etag: string }) => {
    const shown = `${location}${key}`;
    try {
      const answer = await client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: `${prefix ? `${prefix}/` : ''}${checkedKey(key)}`,
          // Pinned to the first answer's ETag: a replaced object is never spliced.
          ...(resume && { Range: `bytes=${resume.from}-`, IfMatch: resume.etag }),
        }),
      );
      return { body: answer.Body as Readable, etag: answer.ETag };
    } catch (error) {
      if (error instanceof S3ServiceException) {
        if (error.name === 'NoSuchKey' || error.$metadata.httpStatusCode === 404) return null;
        if (resume && error.$metadata.httpStatusCode === 412) throw new ProtocolError(`GET ${shown} was cut and could not be resumed: the object changed meanwhile; try again`);
        if (error.$metadata.httpStatusCode === 403) {
          throw new ProtocolError(`GET ${shown} was denied to these AWS credentials (without s3:ListBucket a missing object is denied too); check the role's policy ('update-publish access policy --cognito')`);
        }
        throw new ProtocolError(`GET ${shown} failed: ${error.name} (HTTP ${error.$metadata.httpStatusCode ?? '?'}); check the bucket and the network`);
      }
      if (error instanceof ProtocolError) throw error;
      throw new ProtocolError(`cannot reach ${shown}: ${(error as Error).message}; check the credentials, region and network`);
    }
  };
  return {
    location,
    async readDocument(key, maxBytes) {
      const body = (await get(key))?.body;
      if (!body) return null;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of body) {
        size += (chunk as Buffer).length;
        if (maxBytes !== undefined && size > maxBytes) {
          body.destroy();
          throw new ProtocolError(`${key} is larger than the ${maxBytes} bytes a device reads for it: refused (an endless or swapped document)`);
        }
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks, size);
    },
    async openObject(key) {
      const first = await get(key);
      return first && Readable.from(resumable(first, (from, etag) => get(key, { from, etag }), `${location}${key}`));
    },
  };
}

/** How often a cut object download is resumed before giving up. */
const RESUME_ATTEMPTS = 3;

/** An object's bytes, resumed with a Range request pinned to its ETag when the connection is cut. */
async function* resumable(
  first: { body: Readable; etag?: string },
  again: (from: number, etag: string) => Promise<{ body: Readable } | null>,
  shown: string,
): AsyncGenerator<Buffer> {
  let body = first.body;
  let received = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      for await (const chunk of body) {
        received += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      return;
    } catch (error) {
      if (error instanceof ProtocolError || !first.etag || attempt > RESUME_ATTEMPTS) {
        throw error instanceof ProtocolError ? error : new ProtocolError(`the connection to ${shown} was cut mid-body (${(error as Error).message}); check the network and try again`);
      }
      const next = await again(received, first.etag);
      if (!next) throw new ProtocolError(`GET ${shown} disappeared while it was being downloaded; try again`);
      body = next.body;
    }
  }
}
