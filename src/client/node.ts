/**
 * update-publish/client/node: the reference client for Node (what `fetch`
 * and `verify` run): download, check signatures and SHA-256, decrypt, and
 * install a package into a folder atomically.
 */
export * from './index.js';
export { fetchUpdate } from './fetch/fetch-update.js';
export type { FetchOptions, FetchResult } from './fetch/fetch-update.js';
export { storeSource } from './fetch/source.js';
export { readSwitchesDocument, readAppReleasesDocument } from './fetch/channel-documents.js';
export { parseSwitches, validateSwitches, emptySwitches } from '../protocol/switches.js';
export { parseAppReleases, validateAppReleases, emptyAppReleases } from '../protocol/app-releases.js';
export type { UpdateSource } from './fetch/source.js';
export { httpSource, DEFAULT_TRANSFER_LIMITS } from './fetch/http-source.js';
export type { TransferLimits, HttpSourceOptions } from './fetch/http-source.js';
export { CredentialsRequiredError, CredentialsRefusedError } from './fetch/private-access.js';
export type { CredentialsCallback } from './fetch/private-access.js';
export { credentialsFromCommand } from './fetch/credentials-command.js';
export { s3Source } from './fetch/s3-source.js';
export { INSTALL_STATE_FILE, readInstallState } from './fetch/install-state.js';
export type { InstallState } from './fetch/install-state.js';
export { IntegrityError, SignatureError, DamagedBaseError } from './errors.js';
export { verifyReleases } from './verify/verify-releases.js';
export type { VerifyOptions, VerifyProblem, VerifyReport } from './verify/verify-releases.js';
export { assertSafeEntryPath, safeJoin, isSymlinkEntry, UnsafePathError } from '../protocol/path-safety.js';
export { trustedKeyOf } from '../protocol/signature.js';
export { loadPublicKey } from './trusted-keys.js';
export { decodeEncryptionKey, encryptionKeyId, DecryptError } from '../protocol/encryption.js';
