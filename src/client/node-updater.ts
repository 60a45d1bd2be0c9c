import { fetchUpdate, type FetchResult } from './fetch/fetch-update.js';
import type { UpdateSource } from './fetch/source.js';
import { createUpdater as createDocumentUpdater, type Decision, type Updater, type UpdaterOptions } from './updater.js';

export interface NodeUpdaterOptions extends UpdaterOptions {
  /** The store or the CDN in front of it (httpSource, storeSource): documents and package objects. */
  from: UpdateSource;
  /** Package encryption keys (several during a rotation); the manifest's key id picks one. */
  decryptionKeys?: readonly Buffer[];
  /** Aborted: reads and downloads stop, the install folder stays as it was. */
  signal?: AbortSignal;
}

export interface NodeUpdater extends Updater {
  /**
   * Installs what `check` decided into a folder, atomically: staged beside it,
   * every file checked against the manifest, swapped at the end. The index is
   * read (and checked) again, so a release changed since `check` is what lands.
   */
  install(decision: Decision, into: string): Promise<FetchResult>;
}

/** createUpdater of update-publish/client, plus `install` (Node: files and streams). */
export function createUpdater(options: NodeUpdaterOptions): NodeUpdater {
  const updater = createDocumentUpdater(options);
  return {
    ...updater,
    install(decision, into) {
      const { package: packageId, installed: _installed, patches, ...device } = decision.request;
      return fetchUpdate({
        source: options.from,
        channel: options.channel,
        package: packageId,
        device,
        intoDir: into,
        publicKeys: options.trust,
        decryptionKeys: options.decryptionKeys,
        patches,
        signal: options.signal,
        now: options.now?.(),
      });
    },
  };
}
