import pLimit from 'p-limit';
import type { ChannelIndex } from '../protocol/types.js';
import type { WhitelistLookup } from '../client/resolve.js';
import { namedWhitelists } from '../client/read-documents.js';
import { shardHas, whitelistShard, whitelistShardKey, type WhitelistMeta } from '../protocol/whitelist.js';
import { READ_CONCURRENCY, type Store } from '../store/store.js';
import { readWhitelistMeta, readWhitelistShard } from './whitelists.js';


/** Names of the whitelists any release of the package refers to. */
export function referencedWhitelists(index: ChannelIndex, id: string): string[] {
  return [...namedWhitelists((index.packages[id]?.releases ?? []).map((release) => release.rules))];
}

/**
 * Whitelist membership as a device sees it: only the shards holding the ids
 * asked about are read, once each. `load` before `lookup` (which is
 * synchronous, as resolveUpdate needs).
 */
export function createWhitelistCache(store: Store) {
  const metas = new Map<string, WhitelistMeta | null>();
  const shards = new Map<string, string[]>();
  const limit = pLimit(READ_CONCURRENCY);
  const shardKey = (meta: WhitelistMeta, id: string) => whitelistShardKey(meta.name, whitelistShard(id, meta.shards), meta.version);

  async function load(listNames: string[], deviceIds: string[]): Promise<void> {
    for (const name of listNames) if (!metas.has(name)) metas.set(name, await readWhitelistMeta(store, name));
    const wanted = new Map<string, { meta: WhitelistMeta; shard: number }>();
    for (const name of listNames) {
      const meta = metas.get(name);
      if (meta) for (const id of deviceIds) wanted.set(shardKey(meta, id), { meta, shard: whitelistShard(id, meta.shards) });
    }
    const missing = [...wanted].filter(([key]) => !shards.has(key));
    await Promise.all(missing.map(([key, { meta, shard }]) => limit(async () => void shards.set(key, await readWhitelistShard(store, meta, shard)))));
  }

  const lookup: WhitelistLookup = (listName, deviceId) => {
    const meta = metas.get(listName);
    if (meta === undefined) throw new Error(`whitelist '${listName}' was not loaded`);
    if (meta === null) return false;
    const ids = shards.get(shardKey(meta, deviceId));
    if (!ids) throw new Error(`whitelist shard for '${deviceId}' in '${listName}' was not loaded`);
    return shardHas(ids, deviceId);
  };

  /** Lists a rule names that are not in the store: nobody is in them. */
  const absent = () => [...metas].filter(([, meta]) => meta === null).map(([name]) => name);

  return { load, lookup, absent, shardsRead: () => shards.size };
}

export type WhitelistCache = ReturnType<typeof createWhitelistCache>;
