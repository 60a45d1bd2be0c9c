/**
 * update-publish/client: what apps and edge functions import to read the
 * store's protocol and decide what a device gets, exactly as the CLI does.
 */
export * from './protocol.js';
export { resolveUpdate, releaseMatches } from './resolve.js';
export type { DeviceRequest, Resolution, ResolveReason, WhitelistLookup } from './resolve.js';
export { rolloutBucket, inRollout, ROLLOUT_BUCKETS } from './rollout.js';
export { whitelistShard, shardHas, whitelistMetaKey, whitelistShardKey } from './whitelist.js';
export type { WhitelistMeta } from './whitelist.js';
export { fetchUpdate } from './fetch/fetch-update.js';
export type { FetchOptions, FetchResult } from './fetch/fetch-update.js';
export { storeSource, httpSource } from './fetch/source.js';
export type { UpdateSource } from './fetch/source.js';
export { INSTALL_STATE_FILE, readInstallState } from './fetch/install-state.js';
export type { InstallState } from './fetch/install-state.js';
export { IntegrityError, SignatureError, DamagedBaseError } from './fetch/integrity-error.js';
export { verifyReleases } from './verify/verify-releases.js';
export type { VerifyOptions, VerifyProblem, VerifyReport } from './verify/verify-releases.js';
export { runOnceSteps } from './run-once.js';
export type { RunOnceRecord, RunOnceStep } from './run-once.js';
export { assertSafeEntryPath, safeJoin, isSymlinkEntry, UnsafePathError } from './path-safety.js';
export { verifyBytes, signatureKey } from '../trust/signature.js';
export { loadPublicKey } from '../trust/keys.js';
export { decodeEncryptionKey, encryptionKeyId, DecryptError } from '../trust/encryption.js';
