import type { Environment } from '../environment.js';
import type { Config } from '../config/schema.js';
import { UserError } from '../errors.js';
import { encryptionKeyId } from '../protocol/encryption.js';
import { parseEncryptionKey } from './encryption-key.js';
import { loadSigners, type SignerSet } from './signers.js';

/**
 * The publisher's keys, from `signing` and `encryption` in the config. An
 * optional `keyId` in either pins the key: a different key in the variable or
 * file (a mix-up between environments) is refused before anything is written.
 */

/** A loader for the signing keys that reads them once, when first called; undefined without `signing`. */
export function signerFor(config: Pick<Config, 'signing'>, configDir: string, env: Environment): (() => Promise<SignerSet>) | undefined {
  const { signing } = config;
  if (!signing) return undefined;
  let loaded: Promise<SignerSet> | undefined;
  return () =>
    (loaded ??= loadSigners(signing, configDir, env).then((set) => {
      assertPinned('signing', signing.keyId, set.signers[0].trusted.keyId);
      return set;
    }));
}

/** The package encryption key; undefined without `encryption`. */
export function encryptionKeyFor(config: Pick<Config, 'encryption'>, env: Environment): Buffer | undefined {
  const { encryption } = config;
  if (!encryption) return undefined;
  const key = parseEncryptionKey(encryption.key, env);
  assertPinned('encryption', encryption.keyId, encryptionKeyId(key));
  return key;
}

function assertPinned(setting: 'signing' | 'encryption', pinned: string | undefined, actual: string): void {
  if (pinned !== undefined && pinned !== actual) {
    throw new UserError(
      `${setting}.keyId is ${pinned} but the configured key has id ${actual}; point ${setting === 'signing' ? 'signing.privateKey' : 'encryption.key'} at the right key or update ${setting}.keyId`,
    );
  }
}
