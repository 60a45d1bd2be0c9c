/**
 * Object keys of the store: the protocol devices read. The folder store and
 * the bucket share this layout, so a folder can be synced to S3 as is.
 */
export const INDEX_FILE = 'index.json';

export const channelsPrefix = 'channels/';
export const channelPrefix = (channel: string) => `${channelsPrefix}${channel}/`;
export const channelIndexKey = (channel: string) => `${channelPrefix(channel)}${INDEX_FILE}`;
/** Releases that left the index (no device can reach them), kept for rollback --to and delta bases. */
export const archiveKey = (channel: string, id: string) => `${channelPrefix(channel)}archive/${id}.json`;
/** What must follow an index write (history, hooks), written before it: a run killed after the write is finished by the next. */
export const pendingPrefix = (channel: string) => `${channelPrefix(channel)}pending/`;
export const pendingKey = (channel: string, id: string) => `${pendingPrefix(channel)}${id}.json`;
/**
 * The highest channel index version this channel's publishers wrote, beside the
 * index (never downloaded by devices): an older index put back alone cannot lower it.
 */
export const indexHighWaterKey = (channel: string) => `${channelPrefix(channel)}index/high-water.json`;
/** Who changed what, when: beside the index, never downloaded by devices. */
export const historyKey = (channel: string, id: string) => `${channelPrefix(channel)}history/${id}.json`;
/** Remote switches devices read: one versioned document per channel (protocol/switches.ts). */
export const switchesKey = (channel: string) => `${channelPrefix(channel)}switches.json`;
/** App-upgrade notices devices read: one versioned document per channel (protocol/app-releases.ts). */
export const appReleasesKey = (channel: string) => `${channelPrefix(channel)}app-releases.json`;
/** Beside a versioned channel document, never downloaded by devices: who changed it, when. */
export const documentHistoryKey = (documentKey: string) => documentKey.replace(/\.json$/, '/history.json');
/** Each version of a versioned channel document as written, for rollback --to. */
export const documentSnapshotKey = (documentKey: string, version: number) => documentKey.replace(/\.json$/, `/${version}.json`);
/** The mutable documents devices read: a write of one is the point where a change goes live. */
export const isDeviceDocument = (key: string) =>
  key.startsWith(channelsPrefix) && [INDEX_FILE, 'switches.json', 'app-releases.json'].some((file) => key.endsWith(`/${file}`)) && key.split('/').length === 3;
export const packagesPrefix = 'packages/';
export const packagePrefix = (id: string) => `${packagesPrefix}${id}/`;
export const versionPrefix = (id: string, version: string) => `${packagePrefix(id)}${version}/`;
/** Written create-only before any object of a version: whoever creates it owns the version's keys. */
export const claimKey = (id: string, version: string) => `${versionPrefix(id, version)}claim.json`;
export const manifestKey = (id: string, version: string) => `${versionPrefix(id, version)}manifest.json`;
export const fullPackageKey = (id: string, version: string) => `${versionPrefix(id, version)}full.zip`;
export const deltaPackageKey = (id: string, version: string, fromVersion: string) =>
  `${versionPrefix(id, version)}delta-from-${fromVersion}.zip`;
/** The delta with binary patches, for devices that can apply them. */
export const patchedDeltaPackageKey = (id: string, version: string, fromVersion: string) =>
  `${versionPrefix(id, version)}delta-from-${fromVersion}.patched.zip`;

/** Immutable objects are cached forever; mutable documents must be revalidated. */
export const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
export const MUTABLE_CACHE = 'no-cache, max-age=0';

/**
 * The Cache-Control every object of the store carries, by its class, as the
 * publisher writes it: a version's objects (packages/…) never change; channel
 * documents and whitelists are rewritten. `serve` sends it; a sync to a
 * bucket must set it.
 */
export const cacheControlOf = (key: string) => (key.startsWith(packagesPrefix) ? IMMUTABLE_CACHE : MUTABLE_CACHE);

export const contentTypeOf = (key: string) =>
  key.endsWith('.json') ? 'application/json' : key.endsWith('.zip') ? 'application/zip' : 'application/octet-stream';

/**
 * The dot-file in an install folder saying what is installed there: a name
 * no package may hold (publishers refuse to pack it, devices refuse a
 * manifest listing it).
 */
export const INSTALL_STATE_FILE = '.update-publish.json';
