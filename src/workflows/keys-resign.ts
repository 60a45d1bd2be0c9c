import type { KeyObject } from 'node:crypto';
import { listChannelFolders } from '../channel/index-store.js';
import { ConflictError, StoreError, UserError } from '../errors.js';
import { plural } from '../format.js';
import { sha256Hex } from '../hash.js';
import { checkDocumentSignature, isSigned, type TrustedKey } from '../protocol/document-signature.js';
import { channelPrefix, MUTABLE_CACHE } from '../protocol/layout.js';
import { trustedKeyOf } from '../protocol/signature.js';
import { whitelistsPrefix } from '../protocol/whitelist.js';
import { roleTrust } from '../protocol/root.js';
import { readRootChain } from './keys-root.js';
import type { StoredDocument } from '../store/store.js';
import { UnsignedDocumentError } from '../store/signing-store.js';
import { confirmOrDecline, type WorkflowContext } from './context.js';

export interface ResignRequest {
  /** Only this channel (and no whitelists); every channel and the whitelists when absent. */
  channel?: string;
  /** The old trust (`--public-key`): a document is signed again only when one of these (or the configured key) vouches for it. */
  publicKeys: KeyObject[];
  /** Documents a person checked and signs as stored although no trusted key vouches for them (`--accept KEY`). */
  accept: string[];
  /** Sign documents that carry no signature at all (turning signing on for a store never signed); refused in a signed store. */
  acceptUnsigned: boolean;
}

export interface ResignResult {
  channels: string[];
  /** Documents signed (in a dry run: that would be). */
  signed: string[];
  dryRun: boolean;
}

/**
 * Signs with the configured key the channels' documents and whitelists that a
 * trusted key (the old one after a rotation, given with --public-key) vouches
 * for as they are stored. Anything else (altered, signed by an unknown key,
 * unsigned in a signed store) is refused, each document named, unless a
 * person checked it and names it with --accept: signing again must never turn
 * a tampered document into a trusted one.
 */
export async function resignDocuments(context: WorkflowContext, request: ResignRequest): Promise<ResignResult> {
  const { store } = context;
  if (!context.signer) throw new UserError('signing is not configured; set "signing": { "privateKey": … } in the config');
  const signer = await context.signer();
  const channels = request.channel ? [request.channel] : await listChannelFolders(store);
  const prefixes = [...channels.map(channelPrefix), ...(request.channel ? [] : [whitelistsPrefix])];
  const keys = (await Promise.all(prefixes.map((prefix) => store.list(prefix)))).flat().map((object) => object.key).filter((key) => key.endsWith('.json'));
  const unknownAccepted = request.accept.filter((key) => !keys.includes(key));
  if (unknownAccepted.length) throw new UserError(`--accept ${unknownAccepted.join(', ')}: no such document in ${store.location}; name documents as 'keys resign' lists them`);
  // The old trust: keys given, the configured ones, and the current root's signing keys (never a removed key's).
  const newestRoot = (await readRootChain(store)).roots.at(-1)?.root;
  const trusted = [...request.publicKeys.map(trustedKeyOf), ...signer.trust.keys, ...(newestRoot ? roleTrust(newestRoot, 'signing').keys : [])];

  const unvouched: { key: string; stored: StoredDocument; document: unknown }[] = [];
  let vouched = 0;
  for (const key of keys) {
    // The store refuses to hand out what the configured key does not vouch for, and says what it read.
    await store.readDocument(key).then(
      (found) => void (found && vouched++),
      (error: unknown) => {
        if (!(error instanceof UnsignedDocumentError)) throw error;
        unvouched.push({ key, stored: error.stored, document: parseOrUndefined(error.stored) });
      },
    );
  }
  // Signatures stripped from a signed store are tampering, not a store that was never signed.
  const signedStore = vouched > 0 || unvouched.some(({ document }) => isSigned(document));
  const candidates = unvouched
    // Shards of lists uploaded before they were bound are bare arrays: they cannot carry signatures.
    .filter(({ document }) => !Array.isArray(document))
    .map(({ key, stored, document }) => ({
      key,
      stored,
      problem: request.accept.includes(key) ? undefined : problemOf(document, trusted, request.acceptUnsigned && !signedStore),
    }));
  const refusedDocuments = candidates.filter((candidate) => candidate.problem !== undefined);
  if (refusedDocuments.length) {
    const lines = refusedDocuments.map(({ key, problem }) => `${key} ${problem}`);
    const trust = request.publicKeys.length
      ? 'neither the keys given with --public-key nor the configured key vouch for'
      : 'the configured key does not vouch for (after a rotation, give the old public key with --public-key)';
    const them = refusedDocuments.length === 1 ? 'it' : 'them';
    throw new StoreError(
      `nothing was signed: ${trust} ${plural(refusedDocuments.length, 'document')}: ${lines.join('; ')}; restore ${them} from a backup, or once you checked ${them}, name each with --accept KEY`,
    );
  }

  const listed = candidates.map((candidate) => candidate.key);
  const question = `Sign ${plural(listed.length, 'document')} with ${plural(signer.signers.length, 'key')} ${signer.signers.map((one) => one.trusted.keyId).join(', ')}: ${listed.join(', ')}?`;
  if (listed.length > 0) await confirmOrDecline(context, question);
  for (const key of keys.filter((name) => name.startsWith(whitelistsPrefix) && name.endsWith('/meta.json'))) {
    const stored = unvouched.find((candidate) => candidate.key === key)?.stored ?? (await store.readDocument(key));
    if (stored && parseOrUndefined(stored) && (parseOrUndefined(stored) as { version?: number }).version === undefined) {
      context.output.warn(`${key}: this list was uploaded before whitelist shards were signed and bound; upload it again ('update-publish whitelist upload') so devices that check signatures can read it`);
    }
  }
  for (const { key, stored } of candidates) {
    // Conditional on what was checked: a document changed since is left for the next look.
    const written = await store.writeDocument(key, stored.body, { contentType: 'application/json', cacheControl: MUTABLE_CACHE, sha256: sha256Hex(stored.body), ifMatch: stored.etag });
    if (!written) throw new ConflictError(`${key} changed while it was being signed; check it again, then run 'update-publish keys resign' again`);
  }
  return { channels, signed: listed, dryRun: context.dryRun };
}

const parseOrUndefined = (stored: StoredDocument): unknown => {
  try {
    return JSON.parse(stored.body.toString('utf8'));
  } catch {
    return undefined;
  }
};

/** Why a document the configured key does not vouch for may not be signed; undefined when the old trust vouches for it. */
function problemOf(document: unknown, trusted: TrustedKey[], acceptUnsigned: boolean): string | undefined {
  if (document === undefined) return 'is not valid JSON';
  if (!isSigned(document)) {
    if (acceptUnsigned) return undefined;
    return 'carries no signature (in a store never signed: --accept-unsigned; in a signed store it was changed outside update-publish)';
  }
  const check = checkDocumentSignature(document, trusted);
  return check.ok ? undefined : check.message;
}
