import type { ChannelIndex } from '../../protocol/types.js';
import type { WhitelistLookup } from '../resolve.js';
import { parseWhitelistMeta, parseWhitelistShard, shardHas, whitelistMetaKey, whitelistShard, whitelistShardKey } from '../../protocol/whitelist.js';
import { checkSignature, type TrustedKeys } from './documents.js';
import type { UpdateSource } from './source.js';

/**
 * Which of the whitelists the package's releases name hold this device, read
 * as a device reads them: each list's meta, then the one shard its id hashes
 * to (signatures checked when keys are trusted). A list not in the store holds nobody.
 */
export async function readWhitelistMembership(
  source: UpdateSource,
  index: ChannelIndex,
  packageId: string,
  deviceId: string,
  publicKeys: TrustedKeys,
): Promise<WhitelistLookup> {
  const names = new Set((index.packages[packageId]?.releases ?? []).flatMap((release) => release.rules.whitelist ?? []));
  const member = new Set<string>();
  for (const name of names) {
    const meta = await readChecked(source, whitelistMetaKey(name), publicKeys, parseWhitelistMeta);
    if (!meta) continue;
    const ids = await readChecked(source, whitelistShardKey(name, whitelistShard(deviceId, meta.shards)), publicKeys, parseWhitelistShard);
    if (ids && shardHas(ids, deviceId)) member.add(name);
  }
  return (listName, id) => id === deviceId && member.has(listName);
}

async function readChecked<T>(source: UpdateSource, key: string, publicKeys: TrustedKeys, parse: (body: Buffer, key: string) => T): Promise<T | null> {
  const body = await source.readDocument(key);
  if (!body) return null;
  await checkSignature(source, key, body, publicKeys);
  return parse(body, key);
}
