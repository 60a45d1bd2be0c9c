/**
 * update-publish/client: what apps and edge functions import to read the
 * store's protocol and decide what a device gets, exactly as the CLI does.
 */
export * from './protocol.js';
export { resolveUpdate, releaseMatches } from './resolve.js';
export type { DeviceRequest, Resolution, ResolveReason, WhitelistLookup } from './resolve.js';
export { rolloutBucket, inRollout, ROLLOUT_BUCKETS } from './rollout.js';
