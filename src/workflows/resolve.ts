import { readChannelIndex, type TrustedKeys } from '../client/fetch/documents.js';
import type { UpdateSource } from '../client/fetch/source.js';
import { resolveUpdate, type DeviceRequest, type Resolution } from '../client/resolve.js';
import { readIndex, requireExistingChannel, requireReleasedPackage } from '../channel/index-store.js';
import { createWhitelistCache, referencedWhitelists } from '../channel/whitelist-lookup.js';
import { configuredChannels } from '../config/schema.js';
import { assertIndexFresh } from '../protocol/freshness.js';
import type { ChannelIndex } from '../protocol/types.js';
import type { WorkflowContext } from './context.js';

/**
 * What devices of one channel get for one package, read as a device reads
 * it: the device library's index reader (size cap, signatures when keys are
 * given, channel binding) and freshness (an expired index is refused, as
 * `fetch` refuses it), then resolveUpdate per device. Whitelist membership is
 * read from the shards the asked ids fall in, once each.
 */
export async function openResolver(
  context: Pick<WorkflowContext, 'store' | 'config'>,
  /** `now`: the instant release windows are evaluated at. */
  request: { channel: string; packageId: string; source: UpdateSource; publicKeys: TrustedKeys; now: Date },
) {
  const { store } = context;
  const { channel, packageId } = request;
  // A misspelt channel or package must not answer 'unknown-package' as if a device asked.
  if ((await readIndex(store, channel)).etag === null) await requireExistingChannel(store, channel, configuredChannels(context.config));
  const { index, signed } = await readChannelIndex(request.source, channel, request.publicKeys);
  // Freshness on the real clock: `now` moves the device through release windows (resolve --now), not the index's expiry.
  assertIndexFresh(index, { now: new Date(), signed });
  requireReleasedPackage(index, packageId);
  const whitelists = createWhitelistCache(store);
  const lists = referencedWhitelists(index, packageId);
  return {
    index: index as ChannelIndex,
    /** One Resolution per request, in order. */
    async resolve(requests: DeviceRequest[]): Promise<Resolution[]> {
      const ids = requests.flatMap((device) => (device.deviceId ? [device.deviceId] : []));
      if (ids.length) await whitelists.load(lists, ids);
      return requests.map((device) => resolveUpdate(index, { ...device, now: device.now ?? request.now }, whitelists.lookup));
    },
    /** Whitelists a rule names that the store lacks (nobody is in them). */
    absentWhitelists: () => whitelists.absent(),
    shardsRead: () => whitelists.shardsRead(),
  };
}
