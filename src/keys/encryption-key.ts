import type { Environment } from '../environment.js';
import { randomBytes } from 'node:crypto';
import { readEnvSecret } from '../client/env-secret.js';
import { UserError } from '../errors.js';
import { decodeEncryptionKey, ENCRYPTION_KEY_BYTES } from '../protocol/encryption.js';
import { readSettingSync } from './config-error.js';
import { rememberSecret } from '../secrets.js';

/** A fresh key, base64, for `encryption.key` via an environment variable. */
export function generateEncryptionKey(): string {
  return randomBytes(ENCRYPTION_KEY_BYTES).toString('base64');
}

/**
 * Resolves `encryption.key`, which must be `env:NAME`: a key written into the
 * config file would end up in version control.
 */
export function parseEncryptionKey(spec: string, env: Environment): Buffer {
  const fromEnv = readSettingSync(() => readEnvSecret(spec, 'encryption.key', 'a 32-byte key in base64 or hex', env));
  if (!fromEnv) {
    throw new UserError('encryption.key must be "env:NAME" naming an environment variable that holds the key; keep the key itself out of the config file');
  }
  rememberSecret(fromEnv.value);
  const key = readSettingSync(() => decodeEncryptionKey(fromEnv.value, `environment variable ${fromEnv.name}`));
  // The same key written another way (hex for base64, or the reverse) is the same secret.
  rememberSecret(key.toString('base64'));
  rememberSecret(key.toString('hex'));
  return key;
}
