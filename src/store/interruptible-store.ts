import { isDeviceDocument } from '../protocol/layout.js';
import type { Store } from './store.js';

/**
 * Ctrl-C / SIGTERM is honoured here, where writes happen: once the signal is
 * aborted, the next write throws its reason instead of landing, whatever the
 * command was doing (a folder-store copy cannot be cut short, but nothing
 * after it is written). A write of a document devices read (channel index,
 * switches, app releases) is the point of no return: after one lands the
 * change is live, so the command's follow-up writes (history) go through and
 * it finishes normally.
 */
export function interruptibleStore(
  store: Store,
  signal: AbortSignal,
  events: { onWrite?: () => void; onIndexWritten?: () => void } = {},
): Store {
  let committed = false;
  const guard = () => {
    if (!committed) signal.throwIfAborted();
    events.onWrite?.();
  };
  // Reads pass straight through; only writes are guarded.
  return {
    ...store,
    async putFile(key, localPath, options, onProgress, putSignal) {
      guard();
      await store.putFile(key, localPath, options, onProgress, putSignal);
      guard();
    },
    async writeDocument(key, body, options) {
      guard();
      const written = await store.writeDocument(key, body, options);
      if (written && isDeviceDocument(key)) {
        committed = true;
        events.onIndexWritten?.();
      }
      return written;
    },
    async delete(keys) {
      guard();
      await store.delete(keys);
    },
    async abortUpload(upload) {
      guard();
      await store.abortUpload(upload);
    },
  };
}
