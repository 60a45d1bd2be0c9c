import { receiptsSettingsOf, type Config } from '../config/schema.js';
import type { ChannelIndex } from '../protocol/types.js';

/**
 * The index as written with the config's `receipts` (PROTOCOL.md §18): every
 * index write carries the publisher's current setting, so turning receipts
 * on or off reaches devices with the next write (publish, rollout, refresh…).
 */
export function withReceiptsSettings(index: ChannelIndex, config: Pick<Config, 'receipts'>): ChannelIndex {
  const { receipts: _previous, ...rest } = index;
  const receipts = receiptsSettingsOf(config);
  return receipts ? { ...rest, receipts } : rest;
}
