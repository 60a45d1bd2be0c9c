import { addAbortSignal, pipeline, Transform } from 'node:stream';
import type { UpdateSource } from './source.js';

/**
 * The source with every read refused once the signal is aborted (Ctrl-C) and
 * streams cut off when it is; `onBytes` hears what streams carry (progress).
 */
export function watchedSource(source: UpdateSource, signal: AbortSignal | undefined, onBytes?: (bytes: number) => void): UpdateSource {
  return {
    location: source.location,
    ...(source.baseUrl !== undefined && { baseUrl: source.baseUrl }),
    async readDocument(key, maxBytes) {
      signal?.throwIfAborted();
      return source.readDocument(key, maxBytes);
    },
    async openObject(key, size) {
      signal?.throwIfAborted();
      const stream = await source.openObject(key, size);
      if (!stream) return null;
      const counted = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          onBytes?.(chunk.length);
          callback(null, chunk);
        },
      });
      if (signal) addAbortSignal(signal, counted);
      // pipeline hands the source's errors on to the stream returned, and an abort back to the source.
      return pipeline(stream, counted, () => {});
    },
  };
}
