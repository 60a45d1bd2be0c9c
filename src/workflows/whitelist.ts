import { resolve } from 'node:path';
import { releasesNamingWhitelist } from '../channel/catalog.js';
import { readIdSet } from '../channel/id-file.js';
import { MAX_WHITELIST_IDS, readWhitelistMeta, removeWhitelist, requireWhitelistName, uploadWhitelist } from '../channel/whitelists.js';
import { plural } from '../format.js';
import { listChannels, readIndex } from '../channel/index-store.js';
import { refreshIndex } from './refresh.js';
import { APP_RELEASES } from '../channel/app-releases-store.js';
import { SWITCHES } from '../channel/switches-store.js';
import { readChannelDocument } from '../channel/versioned-document.js';
import { appReleasesWhitelists, switchesWhitelists } from '../protocol/whitelist-rules.js';
import { confirmOrDecline, type WorkflowContext } from './context.js';

/** Stores (or replaces, once confirmed) a whitelist from a file of ids. */
export async function uploadWhitelistFile(context: WorkflowContext, name: string, file: string) {
  const ids = await readIdSet(resolve(context.cwd, file), MAX_WHITELIST_IDS);
  const existing = await readWhitelistMeta(context.store, requireWhitelistName(name));
  if (existing) await confirmOrDecline(context, `Replace whitelist '${name}' (${plural(existing.count, 'id')}) with ${plural(ids.size, 'id')}?`);
  const { count, shards } = await uploadWhitelist(context.store, name, ids);
  const channels = await bindWhitelist(context, name);
  return { name, count, shards, channels, dryRun: context.dryRun };
}

/**
 * Each channel index whose releases, switches or app releases name the list
 * is written again, naming the new upload: devices read the shards of the
 * upload their index names, so the list changes for them now, and an older
 * list put back never does.
 */
async function bindWhitelist(context: WorkflowContext, name: string): Promise<string[]> {
  const bound: string[] = [];
  for (const channel of await listChannels(context.store)) {
    if (!(await channelNamesWhitelist(context, channel, name))) continue;
    await refreshIndex(context, channel);
    bound.push(channel);
  }
  return bound;
}

/** Whether the channel's releases, switches or app releases name the list. */
async function channelNamesWhitelist(context: WorkflowContext, channel: string, name: string): Promise<boolean> {
  const { index } = await readIndex(context.store, channel);
  if (Object.values(index.packages).some(({ releases }) => releases.some((release) => release.rules.whitelist?.includes(name)))) return true;
  const { document: switches } = await readChannelDocument(context.store, SWITCHES, channel);
  const { document: appReleases } = await readChannelDocument(context.store, APP_RELEASES, channel);
  return [...switchesWhitelists(switches), ...appReleasesWhitelists(appReleases)].includes(name);
}

/** Removes a whitelist, once confirmed; first says which served releases still name it. */
export async function removeWhitelistNamed(context: WorkflowContext, name: string) {
  const existing = await readWhitelistMeta(context.store, requireWhitelistName(name));
  // Its devices then get those releases only through the rollout: say so before it is gone.
  const namedBy = existing ? await releasesNamingWhitelist(context.store, name) : [];
  if (namedBy.length > 0) context.output.warn(`whitelist '${name}' is named by ${namedBy.join(', ')}: its devices will get those releases only through the rollout`);
  if (existing) await confirmOrDecline(context, `Remove whitelist '${name}' (${plural(existing.count, 'id')})?`, 'cancelled; nothing was removed');
  await removeWhitelist(context.store, name);
  return { name, removed: true as const, dryRun: context.dryRun };
}
