import pLimit from 'p-limit';
import type { Manifest } from '../client/protocol.js';
import { StoreError } from '../errors.js';
import { channelsPrefix, INDEX_FILE, manifestKey, packagePrefix } from '../store/layout.js';
import type { Store } from '../store/store.js';

const READ_CONCURRENCY = 8;
const MANIFEST_FILE = '/manifest.json';

/** Read-only questions about what the store holds, across channels. */
export async function listChannels(store: Store): Promise<string[]> {
  const objects = await store.list(channelsPrefix);
  return objects
    .map((object) => object.key.slice(channelsPrefix.length).split('/'))
    .filter((parts) => parts.length === 2 && parts[1] === INDEX_FILE)
    .map((parts) => parts[0])
    .sort();
}

export async function readManifest(store: Store, id: string, version: string): Promise<{ manifest: Manifest; body: Buffer }> {
  const key = manifestKey(id, version);
  const document = await store.readDocument(key);
  if (!document) throw new StoreError(`manifest ${key} is missing from the store; run 'update-publish verify'`);
  try {
    return { manifest: JSON.parse(document.body.toString('utf8')), body: document.body };
  } catch {
    throw new StoreError(`manifest ${key} is not valid JSON; run 'update-publish verify'`);
  }
}

/** Every stored version of a package (those with a manifest), whether any channel releases it or not. */
export async function listStoredManifests(store: Store, id: string): Promise<Manifest[]> {
  const prefix = packagePrefix(id);
  const versions = (await store.list(prefix))
    .filter((object) => object.key.endsWith(MANIFEST_FILE))
    .map((object) => object.key.slice(prefix.length, -MANIFEST_FILE.length))
    .filter((version) => !version.includes('/'));
  const limit = pLimit(READ_CONCURRENCY);
  return Promise.all(versions.map((version) => limit(async () => (await readManifest(store, id, version)).manifest)));
}
