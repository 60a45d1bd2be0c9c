import { listChannels } from '../channel/index-store.js';
import { UserError } from '../errors.js';
import { channelPrefix } from '../protocol/layout.js';
import { signAsStored, unsignedDocuments } from '../store/signing-store.js';
import type { WorkflowContext } from './context.js';

export interface ResignResult {
  channels: string[];
  /** Documents signed (in a dry run: that would be). */
  signed: string[];
  dryRun: boolean;
}

/**
 * Signs the channels' documents as they are stored where their signature is
 * missing or not this key's, after a person checked them (key rotation,
 * signing turned on, a run stopped between a document and its signature).
 */
export async function resignDocuments(context: WorkflowContext, channel: string | undefined): Promise<ResignResult> {
  const { store } = context;
  if (!context.signer) throw new UserError('signing is not configured; set "signing": { "privateKey": … } in the config');
  const signer = await context.signer();
  const channels = channel ? [channel] : await listChannels(store);
  const keys = (await Promise.all(channels.map((name) => store.list(channelPrefix(name))))).flat().map((object) => object.key);
  const unsigned = await unsignedDocuments(store, keys, signer);
  const question = `Sign ${unsigned.length} document(s) as they are stored: ${unsigned.join(', ')}? Only if you checked them.`;
  if (unsigned.length > 0 && !(await context.confirm(question))) throw new UserError('cancelled; nothing was written');
  await signAsStored(store, unsigned, signer);
  return { channels, signed: unsigned, dryRun: context.dryRun };
}
