import type { Environment } from '../environment.js';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { assertEd25519, readKeyText } from '../client/trusted-keys.js';
import { UserError } from '../errors.js';
import { keyIdOf, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, type SigningKey } from '../protocol/signature.js';
import { readSetting } from './config-error.js';
import { makeDirectory } from '../make-dir.js';
import { rememberSecret } from '../secrets.js';

export interface SigningKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
  keyId: string;
}

export function generateSigningKeyPair(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

/**
 * Writes a new key pair into outDir; the private key is readable by the owner
 * only. Refuses to overwrite an existing key: losing one strands every device
 * that trusts it.
 */
export async function writeSigningKeyPair(
  outDir: string,
): Promise<{ privateKeyPath: string; publicKeyPath: string; keyId: string }> {
  const pair = generateSigningKeyPair();
  const privateKeyPath = path.join(outDir, PRIVATE_KEY_FILE);
  const publicKeyPath = path.join(outDir, PUBLIC_KEY_FILE);
  await makeDirectory(outDir);
  try {
    await writeFile(privateKeyPath, pair.privateKeyPem, { flag: 'wx', mode: 0o600 });
    await writeFile(publicKeyPath, pair.publicKeyPem, { flag: 'wx', mode: 0o644 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UserError(
        `${(error as NodeJS.ErrnoException).path ?? outDir} already exists; choose another --out folder or move the old key away first`,
      );
    }
    throw error;
  }
  return { privateKeyPath, publicKeyPath, keyId: pair.keyId };
}

/**
 * Resolves `signing.privateKey`: a file path (relative to the config's folder)
 * or `env:NAME` holding the PEM. Messages name where the key came from, never
 * its content.
 */
export async function loadPrivateKey(spec: string, configDir: string, env: Environment): Promise<SigningKey> {
  const { pem, source } = await readSetting(() => readKeyText(spec, configDir, 'signing.privateKey', env));
  rememberSecret(pem);
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new UserError(
      `signing.privateKey: ${source} is not a PEM private key; point it at the ${PRIVATE_KEY_FILE} written by \`update-publish keys generate\``,
    );
  }
  await readSetting(() => assertEd25519(key, source, 'signing.privateKey'));
  return { key, keyId: keyIdOf(key) };
}

