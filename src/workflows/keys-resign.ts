import { listChannelFolders } from '../channel/index-store.js';
import { ConflictError, UserError } from '../errors.js';
import { plural } from '../format.js';
import { sha256Hex } from '../hash.js';
import { channelPrefix, MUTABLE_CACHE } from '../protocol/layout.js';
import { whitelistsPrefix } from '../protocol/whitelist.js';
import type { StoredDocument } from '../store/store.js';
import { UnsignedDocumentError } from '../store/signing-store.js';
import { confirmOrDecline, type WorkflowContext } from './context.js';

export interface ResignResult {
  channels: string[];
  /** Documents signed (in a dry run: that would be). */
  signed: string[];
  dryRun: boolean;
}

/**
 * Signs, as they are stored, the channels' documents and the whitelists that
 * do not carry this publisher's signature, once a person checked them: after
 * a key rotation, or to bring a store that was unsigned under signing (package
 * manifests need nothing: the signed index binds each by its SHA-256).
 */
export async function resignDocuments(context: WorkflowContext, channel: string | undefined): Promise<ResignResult> {
  const { store } = context;
  if (!context.signer) throw new UserError('signing is not configured; set "signing": { "privateKey": … } in the config');
  await context.signer();
  const channels = channel ? [channel] : await listChannelFolders(store);
  const prefixes = [...channels.map(channelPrefix), ...(channel ? [] : [whitelistsPrefix])];
  const keys = (await Promise.all(prefixes.map((prefix) => store.list(prefix)))).flat().map((object) => object.key).filter((key) => key.endsWith('.json'));
  const unsigned = new Map<string, StoredDocument>();
  for (const key of keys) {
    // The store refuses to hand out what its signature does not vouch for, and says what it read.
    await store.readDocument(key).catch((error: unknown) => {
      if (!(error instanceof UnsignedDocumentError)) throw error;
      unsigned.set(key, error.stored);
    });
  }
  const listed = [...unsigned.keys()];
  const question = `Sign ${plural(listed.length, 'document')} as they are stored: ${listed.join(', ')}? Only if you checked them.`;
  if (listed.length > 0) await confirmOrDecline(context, question);
  // Shards of lists uploaded before they were bound are bare arrays: they cannot carry signatures.
  for (const key of keys.filter((name) => name.startsWith(whitelistsPrefix) && name.endsWith('/meta.json'))) {
    const stored = unsigned.get(key) ?? (await store.readDocument(key));
    if (stored && JSON.parse(stored.body.toString('utf8')).version === undefined) {
      context.output.warn(`${key}: this list was uploaded before whitelist shards were signed and bound; upload it again ('update-publish whitelist upload') so devices that check signatures can read it`);
    }
  }
  for (const [key, stored] of unsigned) {
    // Conditional on what was checked: a document changed since is left for the next look.
    const written = await store.writeDocument(key, stored.body, { contentType: 'application/json', cacheControl: MUTABLE_CACHE, sha256: sha256Hex(stored.body), ifMatch: stored.etag });
    if (!written) throw new ConflictError(`${key} changed while it was being signed; check it again, then run 'update-publish keys resign' again`);
  }
  return { channels, signed: listed, dryRun: context.dryRun };
}
