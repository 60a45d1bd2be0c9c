import type { TargetingRules } from '../../protocol/types.js';
import type { WhitelistLookup } from '../rule-match.js';
import { boundWhitelist, shardHas, validateWhitelistMeta, validateWhitelistShard, whitelistMetaKey, whitelistShard, whitelistShardKey, type WhitelistBindings } from '../../protocol/whitelist.js';
import { DOCUMENT_LIMITS, readSignedJson, type TrustedKeys } from './documents.js';
import type { UpdateSource } from './source.js';

/** The whitelists a set of rules names (a package's releases, a document's switch variants or app releases). */
export const namedWhitelists = (rules: Iterable<TargetingRules>): Set<string> => new Set([...rules].flatMap((each) => each.whitelist ?? []));

/**
 * Which of the named whitelists hold this device, read as a device reads
 * them: the upload the channel index binds (else the list's meta), then the
 * one shard its id hashes to (signatures checked when keys are trusted). A
 * list not in the store holds nobody.
 */
export async function readWhitelistMembership(
  source: UpdateSource,
  names: Iterable<string>,
  deviceId: string,
  publicKeys: TrustedKeys,
  bindings?: WhitelistBindings,
): Promise<WhitelistLookup> {
  const member = new Set<string>();
  for (const name of names) {
    const meta = boundWhitelist(bindings, name) ?? (await readMeta(source, name, publicKeys));
    if (!meta) continue;
    const shard = whitelistShard(deviceId, meta.shards);
    const shardKey = whitelistShardKey(name, shard, meta.version);
    const shardRead = await readSignedJson(source, shardKey, publicKeys, DOCUMENT_LIMITS.whitelistShard);
    // A listed list whose shard is gone holds nobody (an upload replaced it meanwhile).
    if (shardRead && shardHas(validateWhitelistShard(shardRead.document, shardKey, meta, shard), deviceId)) member.add(name);
  }
  return (listName, id) => id === deviceId && member.has(listName);
}

async function readMeta(source: UpdateSource, name: string, publicKeys: TrustedKeys) {
  const metaKey = whitelistMetaKey(name);
  const metaRead = await readSignedJson(source, metaKey, publicKeys, DOCUMENT_LIMITS.whitelistMeta);
  return metaRead && validateWhitelistMeta(metaRead.document, metaKey, name);
}

/** Membership in the whitelists these rules name, for a device that gave its id; none without one. */
export const whitelistsOfDevice = async (
  source: UpdateSource,
  rules: Iterable<TargetingRules>,
  deviceId: string | undefined,
  publicKeys: TrustedKeys,
  bindings?: WhitelistBindings,
): Promise<WhitelistLookup | undefined> => (deviceId ? readWhitelistMembership(source, namedWhitelists(rules), deviceId, publicKeys, bindings) : undefined);
