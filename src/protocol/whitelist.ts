import { withoutSignatures } from './document-signature.js';
import { IntegrityError } from './errors.js';
import { hash32 } from './rollout.js';

/**
 * Whitelists are stored hash-partitioned so a device fetches one small shard,
 * never the whole list: `whitelists/<name>/meta.json` says how many shards
 * there are and which upload (`version`) is current; the shards of upload V
 * are `whitelists/<name>/v<V>/shard-<nnn>.json`, each naming its list, its
 * upload and its number, so a shard cannot be served for another list, another
 * shard or an older upload. Meta and shards carry their own signatures.
 */
export interface WhitelistMeta {
  name: string;
  count: number;
  shards: number;
  uploadedAt: string;
  /** One more on every upload; absent in lists uploaded before shards were bound (their shards sit beside meta.json). */
  version?: number;
}

export interface WhitelistShardDocument {
  /** The list's name. */
  list: string;
  /** The upload (meta `version`) this shard belongs to. */
  version: number;
  shard: number;
  /** Sorted by UTF-16 code units (JavaScript's default sort). */
  ids: string[];
}

/**
 * What a channel index says of a whitelist its rules use (`whitelists` in the
 * index): the upload devices read and its shard count. Devices read the
 * shards of exactly that upload and no meta, so an older signed list put
 * back in the store is never read (a rollback of the list).
 */
export interface WhitelistBinding {
  version: number;
  shards: number;
}

export type WhitelistBindings = Record<string, WhitelistBinding>;

/**
 * The list as the index binds it (the meta its shards are checked against);
 * undefined when the index binds no such list (written before lists were
 * bound, or the list was uploaded since without versions): read its meta.
 */
export function boundWhitelist(bindings: WhitelistBindings | undefined, name: string): Pick<WhitelistMeta, 'name' | 'version' | 'shards'> | undefined {
  const binding = bindings && Object.hasOwn(bindings, name) ? (bindings[name] as Partial<WhitelistBinding> | null) : undefined;
  if (binding === undefined) return undefined;
  const positive = (value: unknown): value is number => Number.isInteger(value) && (value as number) > 0;
  if (!binding || !positive(binding.version) || !positive(binding.shards)) throw new IntegrityError('channel index', `binds whitelist '${name}' malformed (whitelists.${name} must be { version, shards }, positive integers)`);
  return { name, version: binding.version, shards: binding.shards };
}

/** The bindings an index written now carries: each named list's current upload (lists uploaded before uploads were numbered cannot be bound). */
export function whitelistBindings(names: Iterable<string>, metas: ReadonlyMap<string, WhitelistMeta>): WhitelistBindings | undefined {
  const bindings: WhitelistBindings = {};
  for (const name of [...new Set(names)].sort()) {
    const meta = metas.get(name);
    if (meta?.version !== undefined) bindings[name] = { version: meta.version, shards: meta.shards };
  }
  return Object.keys(bindings).length ? bindings : undefined;
}

export const whitelistsPrefix = 'whitelists/';
export const whitelistPrefix = (name: string) => `${whitelistsPrefix}${name}/`;
export const whitelistMetaKey = (name: string) => `${whitelistPrefix(name)}meta.json`;
export const whitelistShardKey = (name: string, shard: number, version?: number) =>
  `${whitelistPrefix(name)}${version === undefined ? '' : `v${version}/`}shard-${String(shard).padStart(3, '0')}.json`;

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

/** PROTOCOL.md §7: at 2,000 ids a shard, two billion ids; a reader refuses more (a meta that would send it past any real list). */
export const MAX_WHITELIST_SHARDS = 1_000_000;

/** A whitelist's meta.json, already parsed from JSON, checked: publishers and devices read it with this one reader. */
export function validateWhitelistMeta(document: unknown, key: string, name: string): WhitelistMeta {
  const meta = document as Partial<WhitelistMeta> | null;
  if (typeof meta !== 'object' || meta === null || !(Number.isInteger(meta.shards) && meta.shards! > 0 && meta.shards! <= MAX_WHITELIST_SHARDS)) {
    throw new IntegrityError(key, `is malformed (no shard count from 1 to ${MAX_WHITELIST_SHARDS})`);
  }
  if (meta.name !== name) throw new IntegrityError(key, `names list '${String(meta.name)}', not '${name}': it was copied from another list`);
  if (meta.version !== undefined && !(Number.isInteger(meta.version) && meta.version > 0)) throw new IntegrityError(key, 'has a malformed version');
  return withoutSignatures(meta as WhitelistMeta & { signatures?: unknown });
}

/**
 * The ids of one shard, already parsed from JSON, checked against what the
 * meta says it must be: this list, this upload, this shard number.
 */
export function validateWhitelistShard(document: unknown, key: string, meta: Pick<WhitelistMeta, 'name' | 'version'>, shard: number): string[] {
  if (meta.version === undefined) {
    // Uploaded before shards were bound: a bare array of ids.
    if (Array.isArray(document) && document.every((id) => typeof id === 'string')) return document;
    throw new IntegrityError(key, 'is not a list of ids');
  }
  const found = document as Partial<WhitelistShardDocument> | null;
  if (typeof found !== 'object' || found === null || !Array.isArray(found.ids) || !found.ids.every((id) => typeof id === 'string')) {
    throw new IntegrityError(key, 'is not a whitelist shard (list, version, shard, ids)');
  }
  if (found.list !== meta.name || found.version !== meta.version || found.shard !== shard) {
    throw new IntegrityError(
      key,
      `is shard ${String(found.shard)} of list '${String(found.list)}' upload ${String(found.version)}, not shard ${shard} of '${meta.name}' upload ${meta.version}: a shard served in place of another`,
    );
  }
  return found.ids;
}
