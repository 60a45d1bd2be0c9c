import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UserError } from '../errors.js';
import { decodeEncryptionKey } from '../protocol/encryption.js';
import { readEnvSecret } from '../client/env-secret.js';
import { loadPublicKey } from '../client/trusted-keys.js';
import type { Session } from './session.js';

/** commander collector for options given several times (key rotation: old and new key). */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `--public-key FILE` values (relative to the run's folder; `env:NAME` from the run's environment). */
export async function loadPublicKeys(session: Pick<Session, 'cwd' | 'env'>, files: readonly string[]): Promise<KeyObject[]> {
  return Promise.all(files.map(async (file) => (await loadPublicKey(file, session.cwd, session.env)).key));
}

/** `--decryption-key env:NAME` values: keys never go on the command line, where shell history and ps would show them. */
export function readDecryptionKeys(session: Pick<Session, 'env'>, specs: readonly string[]): Buffer[] {
  return specs.map((spec) => {
    const fromEnv = readEnvSecret(spec, '--decryption-key', 'a 32-byte key in base64 or hex', session.env);
    if (!fromEnv) throw new UserError('--decryption-key must be env:NAME naming an environment variable that holds the key; never put the key itself on the command line');
    return decodeEncryptionKey(fromEnv.value, `environment variable ${fromEnv.name}`);
  });
}

/** `--root FILE`: the root document an app ships, parsed; a file that is not JSON is a usage error. */
export async function readRootFile(session: Pick<Session, 'cwd'>, file: string): Promise<unknown> {
  const text = await readFile(resolve(session.cwd, file), 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UserError(`--root ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}; give the root/<N>.root.json the app ships ('update-publish keys root init' writes it)`);
  });
  try {
    return JSON.parse(text);
  } catch {
    throw new UserError(`--root ${file} is not a valid root: not JSON`);
  }
}
