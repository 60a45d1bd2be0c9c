/**
 * update-publish/client/node: update-publish/client plus installing on Node
 * (what `fetch` runs): createUpdater gains `install`, which downloads, checks
 * signatures and SHA-256, decrypts and swaps a package into a folder atomically.
 */
// Every type of update-publish/client; of its values, what a Node app uses beside createUpdater:
// decisions, trust and the errors. The step-by-step functions createUpdater runs for it (validate,
// freshness, binding) stay in update-publish/client, for apps that fetch documents themselves.
export type * from './index.js';
export {
  resolveUpdate,
  rulesMatch,
  resolveSwitches,
  resolveAppUpgrade,
  runOnceSteps,
  trustedKeyFromPem,
  checkDocumentSignature,
  checkDocumentTrust,
  acceptTrustedRoot,
  followRootChain,
  roleTrust,
  ProtocolError,
  IntegrityError,
  ChannelNotFoundError,
  SignatureError,
  FreshnessError,
  RootError,
  parseAccessCredential,
  authorizeRequest,
} from './index.js';
export { createUpdater } from './node-updater.js';
export type { NodeUpdater, NodeUpdaterOptions } from './node-updater.js';
export type { FetchResult } from './fetch/fetch-update.js';
// Receipts (PROTOCOL.md §18): the app confirms a launch; the crash-loop guard runs at every start.
export { markLaunched, rollbackIfUnconfirmed } from './receipts/reporter.js';
export type { LaunchOptions, RollbackResult } from './receipts/reporter.js';
export type { UpdateSource } from './fetch/source.js';
export { httpSource } from './fetch/http-source.js';
export type { TransferLimits, HttpSourceOptions } from './fetch/http-source.js';
export { CredentialsRequiredError, CredentialsRefusedError } from './fetch/private-access.js';
export type { CredentialsCallback } from './fetch/private-access.js';
export { credentialsFromCommand } from './fetch/credentials-command.js';
export { s3Source } from './fetch/s3-source.js';
export { fetchUpdate } from './fetch/fetch-update.js';
export type { FetchOptions } from './fetch/fetch-update.js';
