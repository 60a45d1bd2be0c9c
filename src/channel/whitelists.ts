import pLimit from 'p-limit';
import { readWhitelistMeta as readListMeta, readWhitelistShard as readListShard } from '../client/read-documents.js';
import { storeSource } from '../client/fetch/source.js';
import { IntegrityError } from '../protocol/errors.js';
import {
  whitelistMetaKey,
  whitelistPrefix,
  whitelistShard,
  whitelistShardKey,
  whitelistsPrefix,
  type WhitelistMeta,
  type WhitelistShardDocument,
} from '../protocol/whitelist.js';
import { NAME_PATTERN } from '../config/schema.js';
import { StoreError, UserError } from '../errors.js';
import { sha256Hex } from '../hash.js';
import { serializeDocument } from '../protocol/manifest.js';
import { MUTABLE_CACHE } from '../protocol/layout.js';
import type { Store } from '../store/store.js';

export const MAX_WHITELIST_IDS = 1_000_000;
/** Small enough that a device downloads a few tens of KB at most. */
export const IDS_PER_SHARD = 2_000;
const WRITE_CONCURRENCY = 8;
const META_FILE = '/meta.json';

export const shardCountFor = (count: number) => Math.max(1, Math.ceil(count / IDS_PER_SHARD));

export function requireWhitelistName(name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new UserError(`whitelist name '${name}' is not valid; use lowercase letters, digits, '.', '_' or '-'`);
  }
  return name;
}

async function writeBody(store: Store, key: string, body: Buffer): Promise<void> {
  await store.writeDocument(key, body, { contentType: 'application/json', cacheControl: MUTABLE_CACHE, sha256: sha256Hex(body) });
}

/**
 * A stored whitelist document through the device's reader (client/read-documents.ts: one
 * reader, the same refusals), signatures unchecked; the publisher adds the fix.
 */
async function withUploadAdvice<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof IntegrityError) throw new StoreError(`${error.message}; upload the whitelist again`);
    throw error;
  }
}

export const readWhitelistMeta = (store: Store, name: string): Promise<WhitelistMeta | null> => withUploadAdvice(() => readListMeta(storeSource(store), name, []));

/** The ids of the shard an id of this list falls in, as the meta says they must be. */
export async function readWhitelistShard(store: Store, meta: WhitelistMeta, shard: number): Promise<string[]> {
  const ids = await withUploadAdvice(() => readListShard(storeSource(store), meta, shard, []));
  if (!ids) throw new StoreError(`whitelist shard ${whitelistShardKey(meta.name, shard, meta.version)} is missing; upload the whitelist again`);
  return ids;
}

/**
 * Replaces a whitelist: the new upload's shards under their own folder first,
 * then the meta naming that upload (readers follow the meta, so they see the
 * old list or the new one, never a mix), then shards of uploads before the
 * previous one are removed (a reader of the previous meta still finds its shards).
 */
export async function uploadWhitelist(store: Store, name: string, ids: Set<string>, now = new Date()): Promise<WhitelistMeta> {
  requireWhitelistName(name);
  const previous = await readWhitelistMeta(store, name);
  const version = (previous?.version ?? 0) + 1;
  const shards = shardCountFor(ids.size);
  const buckets: string[][] = Array.from({ length: shards }, () => []);
  for (const id of ids) buckets[whitelistShard(id, shards)].push(id);
  const limit = pLimit(WRITE_CONCURRENCY);
  // Shards compact (devices download them), the meta readable.
  const writeShard = (bucket: string[], shard: number) => {
    const document: WhitelistShardDocument = { list: name, version, shard, ids: bucket.sort() };
    return writeBody(store, whitelistShardKey(name, shard, version), Buffer.from(JSON.stringify(document)));
  };
  await Promise.all(buckets.map((bucket, shard) => limit(() => writeShard(bucket, shard))));
  const meta: WhitelistMeta = { name, count: ids.size, shards, uploadedAt: now.toISOString(), version };
  await writeBody(store, whitelistMetaKey(name), serializeDocument(meta));

  const kept = [whitelistMetaKey(name), `${whitelistPrefix(name)}v${version}/`, ...(previous?.version ? [`${whitelistPrefix(name)}v${previous.version}/`] : [])];
  const stale = (await store.list(whitelistPrefix(name))).map((object) => object.key).filter((key) => !kept.some((keep) => key === keep || (keep.endsWith('/') && key.startsWith(keep))));
  if (stale.length) await store.delete(stale);
  return meta;
}

export async function listWhitelists(store: Store): Promise<WhitelistMeta[]> {
  const names = (await store.list(whitelistsPrefix))
    .map((object) => object.key)
    .filter((key) => key.endsWith(META_FILE))
    .map((key) => key.slice(whitelistsPrefix.length, -META_FILE.length))
    .filter((name) => !name.includes('/'))
    .sort();
  const limit = pLimit(WRITE_CONCURRENCY);
  const metas = await Promise.all(names.map((name) => limit(() => readWhitelistMeta(store, name))));
  return metas.filter((meta): meta is WhitelistMeta => meta !== null);
}

async function unknownWhitelist(store: Store, name: string): Promise<UserError> {
  const known = (await listWhitelists(store)).map((meta) => meta.name);
  return new UserError(
    `unknown whitelist '${name}'; ${known.length ? `stored: ${known.join(', ')}` : "upload it with 'update-publish whitelist upload'"}`,
  );
}

/** Meta first, so readers stop using the list before its shards go. */
export async function removeWhitelist(store: Store, name: string): Promise<WhitelistMeta> {
  const meta = await readWhitelistMeta(store, requireWhitelistName(name));
  if (!meta) throw await unknownWhitelist(store, name);
  await store.delete([whitelistMetaKey(name)]);
  const shards = (await store.list(whitelistPrefix(name))).map((object) => object.key);
  if (shards.length) await store.delete(shards);
  return meta;
}

/** Rules may only name lists that exist (publish and promote check before writing). */
export async function assertWhitelistsExist(store: Store, names: string[] | undefined): Promise<void> {
  for (const name of names ?? []) {
    if (!(await readWhitelistMeta(store, requireWhitelistName(name)))) throw await unknownWhitelist(store, name);
  }
}
