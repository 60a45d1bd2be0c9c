import pLimit from 'p-limit';
import type { OpenUpload, Store } from './store.js';

/** Files in flight by default; S3 config `concurrency` overrides. */
export const DEFAULT_CONCURRENCY = 4;

export interface UploadItem {
  key: string;
  localPath: string;
  size: number;
  sha256: string;
  contentType: string;
  cacheControl: string;
}

export interface UploadResult {
  uploaded: UploadItem[];
  /** Already in the store with the same SHA-256: not sent again. */
  skipped: UploadItem[];
  bytesUploaded: number;
}

/**
 * 1. ask the store what it already has, 2. abort uploads a killed run left
 * open on the keys still missing, 3. upload only those, a bounded number at a
 * time, reporting bytes done across all files.
 */
export async function uploadObjects(
  store: Store,
  items: UploadItem[],
  options: { concurrency?: number; onProgress?: (doneBytes: number, totalBytes: number) => void; signal?: AbortSignal } = {},
): Promise<UploadResult> {
  const limit = pLimit(options.concurrency ?? DEFAULT_CONCURRENCY);
  const existing = await Promise.all(items.map((item) => limit(() => store.head(item.key))));
  const missing = items.filter((item, i) => existing[i]?.sha256 !== item.sha256);
  const skipped = items.filter((item, i) => existing[i]?.sha256 === item.sha256);
  if (missing.length === 0) return { uploaded: [], skipped, bytesUploaded: 0 };
  await abortLeftoverUploads(store, missing.map((item) => item.key));

  const totalBytes = missing.reduce((sum, item) => sum + item.size, 0);
  const loadedByKey = new Map<string, number>();
  let doneBytes = 0;
  const report = (key: string, loaded: number) => {
    doneBytes += loaded - (loadedByKey.get(key) ?? 0);
    loadedByKey.set(key, loaded);
    options.onProgress?.(doneBytes, totalBytes);
  };
  // The first failure stops the other uploads, and every one is waited for: one still
  // aborting its multipart upload when the process exits would leave it open.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const outcomes = await Promise.allSettled(
    missing.map((item) =>
      limit(() =>
        store
          .putFile(
            item.key,
            item.localPath,
            { size: item.size, sha256: item.sha256, contentType: item.contentType, cacheControl: item.cacheControl },
            (loaded) => report(item.key, loaded),
            signal,
          )
          .catch((error: unknown) => {
            if (!signal.aborted) stop.abort(error);
            throw error;
          }),
      ),
    ),
  );
  if (outcomes.some((outcome) => outcome.status === 'rejected')) throw signal.reason;
  return { uploaded: missing, skipped, bytesUploaded: totalBytes };
}

/**
 * A run killed mid-upload (SIGKILL, power loss) leaves its multipart uploads
 * open. Package keys are versioned, so only this version's publisher writes
 * them: whatever is open on exactly these keys is such a leftover, and is
 * aborted before uploading again, so none outlives the rerun. Best effort: an
 * identity without s3:ListBucketMultipartUploads leaves them to `gc`.
 */
async function abortLeftoverUploads(store: Store, keys: string[]): Promise<void> {
  const wanted = new Set(keys);
  const open: OpenUpload[] = await store.listOpenUploads().catch(() => []);
  await Promise.all(
    open.filter((upload) => wanted.has(upload.key)).map((upload) => store.abortUpload(upload).catch(() => undefined)),
  );
}
