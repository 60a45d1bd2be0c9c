import { IntegrityError } from './errors.js';
import { hash32 } from './rollout.js';

/**
 * Whitelists are stored hash-partitioned so a device fetches one small shard,
 * never the whole list: `whitelists/<name>/meta.json` says how many shards
 * there are, `whitelists/<name>/shard-<nnn>.json` holds the sorted ids of one.
 */
export interface WhitelistMeta {
  name: string;
  count: number;
  shards: number;
  uploadedAt: string;
}

export const whitelistsPrefix = 'whitelists/';
export const whitelistMetaKey = (name: string) => `${whitelistsPrefix}${name}/meta.json`;
export const whitelistShardKey = (name: string, shard: number) =>
  `${whitelistsPrefix}${name}/shard-${String(shard).padStart(3, '0')}.json`;

/** The shard holding an id: apps compute the same number from the meta's `shards`. */
export function whitelistShard(id: string, shards: number): number {
  return hash32(`whitelist:${id}`) % shards;
}

/** Membership in one downloaded shard (a sorted array of ids): binary search. */
export function shardHas(sortedIds: readonly string[], id: string): boolean {
  let low = 0;
  let high = sortedIds.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const candidate = sortedIds[middle];
    if (candidate === id) return true;
    if (candidate < id) low = middle + 1;
    else high = middle - 1;
  }
  return false;
}

function parseJson(body: Buffer, key: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new IntegrityError(key, 'is not valid JSON: it was altered or damaged');
  }
}

/** A whitelist's meta.json, checked: publishers and devices read it with this one reader. */
export function parseWhitelistMeta(body: Buffer, key: string): WhitelistMeta {
  const meta = parseJson(body, key) as Partial<WhitelistMeta> | null;
  if (typeof meta !== 'object' || meta === null || !(Number.isInteger(meta.shards) && meta.shards! > 0)) {
    throw new IntegrityError(key, 'is malformed (no shard count)');
  }
  return meta as WhitelistMeta;
}

/** One shard: the sorted ids it holds. */
export function parseWhitelistShard(body: Buffer, key: string): string[] {
  const ids = parseJson(body, key);
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) throw new IntegrityError(key, 'is not a list of ids');
  return ids;
}
