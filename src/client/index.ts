/**
 * update-publish/client: what apps and edge functions import to read the
 * store's protocol and decide what a device gets, exactly as the CLI does.
 * Pure JavaScript (no Node APIs): it runs in React Native, browsers and edge
 * runtimes. Downloading and installing on Node is `update-publish/client/node`.
 */
export * from '../protocol/types.js';
export { resolveUpdate, releaseMatches } from './resolve.js';
export type { DeviceRequest, Resolution, ResolveReason } from './resolve.js';
export { rulesMatch } from './rule-match.js';
export type { DeviceFacts, WhitelistLookup } from './rule-match.js';
export { resolveSwitches } from './switches.js';
export type { SwitchReason, SwitchResolution } from './switches.js';
export { resolveAppUpgrade } from './app-upgrade.js';
export type { AppDevice, AppUpgrade, AppUpgradeReason } from './app-upgrade.js';
export { switchTypeOf, SWITCH_TYPES } from '../protocol/switches.js';
export type { JsonValue, Switch, SwitchType, SwitchVariant, SwitchesDocument } from '../protocol/switches.js';
export type { AppRelease, AppReleaseState, AppReleasesDocument } from '../protocol/app-releases.js';
export type { VersionedChannelDocument } from '../protocol/channel-document.js';
export { switchesKey, appReleasesKey, channelIndexKey } from '../protocol/layout.js';
export { rolloutBucket, inRollout, rolloutThreshold, bucketOf, inRolloutOf, releaseSalt, switchSalt, appReleaseSalt, ROLLOUT_BUCKETS } from '../protocol/rollout.js';
export { normalizePlatform } from '../protocol/rule-values.js';
export { whitelistShard, shardHas, whitelistMetaKey, whitelistShardKey } from '../protocol/whitelist.js';
export type { WhitelistMeta } from '../protocol/whitelist.js';
export { checkDocumentSignature, trustedKeyFromPem, trustedKeyFromSpki, canonicalBytes, SIGNATURES_FIELD } from '../protocol/document-signature.js';
export type { DocumentSignature, SignatureCheck, TrustedKey } from '../protocol/document-signature.js';
export { indexFreshnessProblem, assertIndexFresh, rememberIndex, documentFreshnessProblem, assertDocumentFresh, rememberDocument, FreshnessError } from '../protocol/freshness.js';
export type { ChannelTrust, DocumentTrust, FreshnessFailure, FreshnessFields } from '../protocol/freshness.js';
export { validateIndex } from '../protocol/channel-index.js';
export { ProtocolError } from '../protocol/errors.js';
export type { ProtocolFault } from '../protocol/errors.js';
export { runOnceSteps } from './run-once.js';
export type { RunOnceRecord, RunOnceStep } from './run-once.js';
export { parseAccessCredential, authorizeRequest, requiresCredentials, isPublisherDocument, ACCESS_SCOPES } from '../protocol/private-access.js';
export type { AccessCredential, AccessScope, CookieCredential, UrlCredential } from '../protocol/private-access.js';
