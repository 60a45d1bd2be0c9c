import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';

/**
 * Hands every line of a log to `onLine`, gzip or plain as its first bytes say
 * (CloudFront writes .gz; serve writes plain NDJSON), streamed: memory stays
 * flat whatever the size. A callback, not an async iterator: millions of
 * lines would each cost a promise.
 */
export async function readLogLines(stream: Readable, onLine: (line: string) => void, signal?: AbortSignal): Promise<void> {
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const head = first.value as Buffer;
  const rest = async function* () {
    yield head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value as Buffer;
  };
  const decoder = new StringDecoder('utf8');
  let partial = '';
  const splitter = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = partial + decoder.write(chunk);
      let start = 0;
      for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
        onLine(text.slice(start, end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end));
        start = end + 1;
      }
      partial = text.slice(start);
      done();
    },
    final(done) {
      partial += decoder.end();
      if (partial) onLine(partial);
      done();
    },
  });
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  const options = signal ? { signal } : {};
  if (gzip) await pipeline(Readable.from(rest(), { objectMode: false }), createGunzip(), splitter, options);
  else await pipeline(Readable.from(rest(), { objectMode: false }), splitter, options);
}
