import { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export interface ResumableObject {
  body: Readable;
  etag: string;
}

/**
 * GetObject hands its body over as a stream, after the SDK's retries are done:
 * a connection lost mid-body would reach the reader as a failure. This body
 * resumes instead, from the byte it stopped at, with a ranged GET pinned to
 * the same ETag (If-Match: never bytes of a newer object), up to `maxResumes`
 * times; `mapError` turns what finally fails into the caller's error type.
 */
export async function getObjectResumable(
  client: S3Client,
  target: { Bucket: string; Key: string },
  options: { maxResumes: number; mapError: (error: unknown) => Error },
): Promise<ResumableObject> {
  const first = await client.send(new GetObjectCommand(target));
  const etag = first.ETag!;
  const size = first.ContentLength;

  async function* chunks(): AsyncGenerator<Buffer> {
    let body = first.Body as Readable;
    let offset = 0;
    for (let resumes = 0; ; resumes++) {
      try {
        for await (const chunk of body) {
          offset += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
        return;
      } catch (error) {
        body.destroy();
        if (resumes >= options.maxResumes || size === undefined) throw options.mapError(error);
        if (offset >= size) return;
        try {
          const rest = await client.send(new GetObjectCommand({ ...target, Range: `bytes=${offset}-`, IfMatch: etag }));
          body = rest.Body as Readable;
        } catch (resumeError) {
          throw options.mapError(resumeError);
        }
      }
    }
  }
  return { body: Readable.from(chunks(), { objectMode: false }), etag };
}
