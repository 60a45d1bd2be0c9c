import type { Store } from './store.js';

/**
 * Dry run is enforced here, where writes happen: reads go to the real store,
 * every write is described and skipped. Commands run their normal path.
 */
export function dryRunStore(store: Store, describe: (line: string) => void): Store {
  return {
    ...store,
    async putFile(key, _localPath, options) {
      describe(`would upload ${key} (${options.size} bytes)`);
    },
    async writeDocument(key, body) {
      describe(`would write ${key} (${body.length} bytes)`);
      return { etag: 'dry-run' };
    },
    async delete(keys) {
      for (const key of keys) describe(`would delete ${key}`);
    },
    async abortUpload(upload) {
      describe(`would abort upload ${upload.key}`);
    },
  };
}
