import { validateAppReleases, emptyAppReleases, type AppReleasesDocument } from '../protocol/app-releases.js';
import { assertChannelBinding } from '../protocol/channel-document.js';
import { validateIndex } from '../protocol/channel-index.js';
import { parseDocumentJson } from '../protocol/document-json.js';
import { checkDocumentSignature, checkDocumentTrust, type Trust, type TrustedKey } from '../protocol/document-signature.js';
import { ChannelNotFoundError, IntegrityError } from '../protocol/errors.js';
import { appReleasesKey, channelIndexKey, switchesKey } from '../protocol/layout.js';
import { DOCUMENT_LIMITS, SIGNATURES_ROOM } from '../protocol/limits.js';
import { emptySwitches, validateSwitches, type SwitchesDocument } from '../protocol/switches.js';
import type { ChannelIndex, TargetingRules } from '../protocol/types.js';
import {
  boundWhitelist,
  shardHas,
  validateWhitelistMeta,
  validateWhitelistShard,
  whitelistMetaKey,
  whitelistShard,
  whitelistShardKey,
  type WhitelistBindings,
  type WhitelistMeta,
} from '../protocol/whitelist.js';
import { SignatureError } from './errors.js';
import type { WhitelistLookup } from './rule-match.js';

/**
 * The device's readers of the documents it polls, pure JavaScript (no Node
 * APIs): what `createUpdater` and the Node reference client both use. Each
 * reads at most the protocol's size limit, checks signatures against the
 * trusted keys (with any, an unsigned or foreign document is refused), then
 * the protocol's validation and channel binding.
 */

/** Where a device reads documents: the CDN in front of the store, the store itself, a test double. */
export interface DocumentSource {
  /** For messages; never holds a secret. */
  readonly location: string;
  /** A small document; null when absent. Refused past `maxBytes`. */
  readDocument(key: string, maxBytes?: number): Promise<Uint8Array | null>;
}


/** What a device trusts: keys (one valid signature suffices), or a root's signing keys and threshold. */
export type DeviceTrust = readonly TrustedKey[] | Trust;

/** With trusted keys, one signature must be valid by one of them; returns whether the document was verified. */
export function checkTrustedSignature(key: string, document: unknown, trusted: DeviceTrust): boolean {
  const trust: Trust = 'threshold' in trusted ? trusted : { keys: trusted, threshold: 1 };
  if (trust.keys.length === 0) return false;
  const check = checkDocumentTrust(document, trust);
  if (check.ok) return true;
  const why = check.reason === 'unsigned' ? `${check.message} although a public key is trusted; the store is unsigned or the signatures were removed` : check.message;
  throw new SignatureError(key, why);
}

/** A signed JSON document: its size bounded, parsed, its signatures checked. Null when absent. */
export async function readSignedDocument(
  source: DocumentSource,
  key: string,
  trusted: DeviceTrust,
  maxBytes: number,
): Promise<{ document: unknown; signed: boolean } | null> {
  const body = await source.readDocument(key, maxBytes);
  if (!body) return null;
  if (body.length > maxBytes) throw new IntegrityError(key, `is larger than the ${maxBytes} bytes a device reads for it: refused (an endless or swapped document)`);
  let document: unknown;
  try {
    // PROTOCOL.md §19.2: one strict reader (a name twice, bad UTF-8, lone surrogates… refused).
    document = parseDocumentJson(body);
  } catch (error) {
    throw new IntegrityError(key, `is not valid JSON (${(error as Error).message}): it was altered or damaged`);
  }
  return { document, signed: checkTrustedSignature(key, document, trusted) };
}

/** The channel's index, bound to its channel; a channel without one is ChannelNotFoundError. */
export async function readIndexDocument(
  source: DocumentSource,
  channel: string,
  trusted: DeviceTrust,
  maxBytes: number = DOCUMENT_LIMITS.index,
): Promise<{ index: ChannelIndex; key: string; signed: boolean; carriesSignatures: boolean }> {
  const key = channelIndexKey(channel);
  const read = await readSignedDocument(source, key, trusted, maxBytes);
  if (!read) throw new ChannelNotFoundError(channel, source.location, key);
  const index = validateIndex(read.document, key);
  assertChannelBinding(index, key, channel);
  // Signatures present but unchecked (no trusted key): the caller may want to say so.
  const signatures = (read.document as { signatures?: unknown }).signatures;
  return { index, key, signed: read.signed, carriesSignatures: Array.isArray(signatures) && signatures.length > 0 };
}

/** The versioned documents beside the index; a channel without one has none (the empty document). */
const DEVICE_DOCUMENTS = {
  switches: { key: switchesKey, validate: validateSwitches, empty: emptySwitches, maxBytes: DOCUMENT_LIMITS.switches },
  appReleases: { key: appReleasesKey, validate: validateAppReleases, empty: emptyAppReleases, maxBytes: DOCUMENT_LIMITS.appReleases },
};

export async function readSwitches(source: DocumentSource, channel: string, trusted: DeviceTrust) {
  return readVersioned<SwitchesDocument>(DEVICE_DOCUMENTS.switches, source, channel, trusted);
}

export async function readAppReleases(source: DocumentSource, channel: string, trusted: DeviceTrust) {
  return readVersioned<AppReleasesDocument>(DEVICE_DOCUMENTS.appReleases, source, channel, trusted);
}

async function readVersioned<T>(
  kind: { key(channel: string): string; validate(document: unknown, key: string, channel: string): unknown; empty(channel: string): unknown; maxBytes: number },
  source: DocumentSource,
  channel: string,
  trusted: DeviceTrust,
): Promise<{ document: T; key: string; signed: boolean }> {
  const key = kind.key(channel);
  // Room past the publishers' cap: the signatures added after it was checked.
  const read = await readSignedDocument(source, key, trusted, kind.maxBytes + SIGNATURES_ROOM);
  return read ? { document: kind.validate(read.document, key, channel) as T, key, signed: read.signed } : { document: kind.empty(channel) as T, key, signed: false };
}

/** The whitelists a set of rules names (a package's releases, a document's switch variants or app releases). */
export const namedWhitelists = (rules: Iterable<TargetingRules>): Set<string> => new Set([...rules].flatMap((each) => each.whitelist ?? []));

/**
 * Which of the named whitelists hold this device, read as a device reads
 * them: each list's meta, then the one shard its id hashes to. A list not in
 * the store holds nobody.
 */
export async function readWhitelistMembership(
  source: DocumentSource,
  names: Iterable<string>,
  deviceId: string,
  trusted: DeviceTrust,
  bindings?: WhitelistBindings,
): Promise<WhitelistLookup> {
  const member = new Set<string>();
  for (const name of names) {
    // The upload the channel index binds: exactly its shard is read, so an older list put back is never used (§7).
    const meta = boundWhitelist(bindings, name) ?? (await readWhitelistMeta(source, name, trusted));
    if (!meta) continue;
    const ids = await readWhitelistShard(source, meta, whitelistShard(deviceId, meta.shards), trusted);
    // A listed list whose shard is gone holds nobody (an upload replaced it meanwhile).
    if (ids && shardHas(ids, deviceId)) member.add(name);
  }
  return (listName, id) => id === deviceId && member.has(listName);
}

/**
 * A whitelist's meta (PROTOCOL.md §7), read by devices and publishers alike:
 * size-capped, strict JSON, signatures checked against `trusted` (none: not
 * checked), name and shard count validated. Null when the list is absent.
 */
export async function readWhitelistMeta(source: DocumentSource, name: string, trusted: DeviceTrust): Promise<WhitelistMeta | null> {
  const key = whitelistMetaKey(name);
  const read = await readSignedDocument(source, key, trusted, DOCUMENT_LIMITS.whitelistMeta);
  return read && validateWhitelistMeta(read.document, key, name);
}

/** The ids of one shard of the upload `meta` names, bound to that list, upload and shard number; null when absent. */
export async function readWhitelistShard(source: DocumentSource, meta: Pick<WhitelistMeta, 'name' | 'version'>, shard: number, trusted: DeviceTrust): Promise<string[] | null> {
  const key = whitelistShardKey(meta.name, shard, meta.version);
  const read = await readSignedDocument(source, key, trusted, DOCUMENT_LIMITS.whitelistShard);
  return read && validateWhitelistShard(read.document, key, meta, shard);
}

/** Membership in the whitelists these rules name, for a device that gave its id; none without one. */
export const whitelistsOfDevice = async (
  source: DocumentSource,
  rules: Iterable<TargetingRules>,
  deviceId: string | undefined,
  trusted: DeviceTrust,
  bindings?: WhitelistBindings,
): Promise<WhitelistLookup | undefined> => (deviceId ? readWhitelistMembership(source, namedWhitelists(rules), deviceId, trusted, bindings) : undefined);
