import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { uploadObjects, type UploadItem } from '../../src/store/upload.js';

const item = (key: string): UploadItem => ({ key, localPath: `/tmp/${key}`, size: 10, sha256: key, contentType: 'application/zip', cacheControl: 'x' });

/** A store whose first upload fails at once and whose others take a while to stop when told to. */
function storeWithOneFailure() {
  const settled: string[] = [];
  const signals: AbortSignal[] = [];
  const store = {
    location: 'memory',
    head: async () => null,
    listOpenUploads: async () => [],
    async putFile(key: string, _path: string, _options: unknown, _progress: unknown, signal?: AbortSignal) {
      if (key === 'a') throw new Error('a failed');
      signals.push(signal!);
      // Like an S3 upload: on abort it still sends its AbortMultipartUpload before it rejects.
      await new Promise((resolve) => signal!.addEventListener('abort', resolve, { once: true }));
      await sleep(100);
      settled.push(key);
      throw signal!.reason;
    },
  } as unknown as Store;
  return { store, settled, signals };
}

describe('uploadObjects', () => {
  it('on the first failure stops the other uploads and waits for each to finish cleaning up, then throws that failure', async () => {
    const { store, settled, signals } = storeWithOneFailure();
    const failure = uploadObjects(store, ['b', 'a', 'c'].map(item), { concurrency: 4 });
    await expect(failure).rejects.toThrow('a failed');
    expect(settled.sort()).toEqual(['b', 'c']);
    expect(signals.every((signal) => signal.aborted)).toBe(true);
  });

  it('passes the caller’s interruption on to every upload, and throws its reason once all have stopped', async () => {
    const { store, settled } = storeWithOneFailure();
    const interruption = new AbortController();
    const uploads = uploadObjects(store, ['b', 'c'].map(item), { signal: interruption.signal });
    await sleep(10);
    interruption.abort(new Error('interrupted by SIGINT'));
    await expect(uploads).rejects.toThrow('interrupted by SIGINT');
    expect(settled.sort()).toEqual(['b', 'c']);
  });
});
