/**
 * update-publish/client: what apps and edge functions import. Pure JavaScript
 * (no Node APIs): it runs in React Native, browsers and edge runtimes.
 * `createUpdater` runs every step in the only safe order; the pure functions
 * are for apps that fetch and keep documents themselves (docs/client.md).
 * Installing on Node is `update-publish/client/node`.
 */
export type * from '../protocol/types.js';
export { createUpdater } from './updater.js';
export type { Decision, TrustState, Updater, UpdaterOptions } from './updater.js';
export type { DocumentSource } from './read-documents.js';
export { resolveUpdate } from './resolve.js';
export type { DeviceRequest, Resolution, ResolveReason } from './resolve.js';
export { rulesMatch } from './rule-match.js';
export type { DeviceFacts, WhitelistLookup } from './rule-match.js';
export { resolveSwitches } from './switches.js';
export type { SwitchReason, SwitchResolution } from './switches.js';
export { resolveAppUpgrade } from './app-upgrade.js';
export type { AppDevice, AppUpgrade, AppUpgradeReason } from './app-upgrade.js';
export { validateSwitches } from '../protocol/switches.js';
export type { JsonValue, Switch, SwitchType, SwitchVariant, SwitchesDocument } from '../protocol/switches.js';
export { validateAppReleases } from '../protocol/app-releases.js';
export type { AppRelease, AppReleaseState, AppReleasesDocument } from '../protocol/app-releases.js';
export type { VersionedChannelDocument } from '../protocol/channel-document.js';
export { checkDocumentSignature, trustedKeyFromPem } from '../protocol/document-signature.js';
export type { DocumentSignature, SignatureCheck, TrustedKey } from '../protocol/document-signature.js';
export { assertIndexFresh, rememberIndex, assertDocumentFresh, rememberDocument, FreshnessError } from '../protocol/freshness.js';
export type { ChannelTrust, DocumentTrust, FreshnessFailure, FreshnessFields } from '../protocol/freshness.js';
export { validateIndex } from '../protocol/channel-index.js';
export { assertBoundDocument } from '../protocol/document-binding.js';
export type { BoundDocument, DocumentBindings } from '../protocol/document-binding.js';
export { ProtocolError, IntegrityError, ChannelNotFoundError } from '../protocol/errors.js';
export type { ProtocolFault } from '../protocol/errors.js';
export { SignatureError } from './errors.js';
export { runOnceSteps } from './run-once.js';
export type { RunOnceRecord, RunOnceStep } from './run-once.js';
export { checkDocumentTrust } from '../protocol/document-signature.js';
export type { Trust, SignatureAlgorithm } from '../protocol/document-signature.js';
export { acceptTrustedRoot, followRootChain, roleTrust, RootError } from '../protocol/root.js';
export type { RootDocument, RootRole, RoleName } from '../protocol/root.js';
export { parseAccessCredential, authorizeRequest } from '../protocol/private-access.js';
export type { AccessCredential, AccessScope, CookieCredential, UrlCredential } from '../protocol/private-access.js';
