import type { Environment } from '../environment.js';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readKeyText } from '../client/trusted-keys.js';
import type { AccessConfig } from '../config/access-schema.js';
import { UserError } from '../errors.js';
import { makeDirectory } from '../make-dir.js';
import { ProtocolError } from '../protocol/errors.js';
import { readSetting } from './config-error.js';

/**
 * The CloudFront key pair of a private store (config `access`): RSA 2048, the
 * only size CloudFront's CreatePublicKey takes, PEM-encoded.
 */
export const ACCESS_PRIVATE_KEY_FILE = 'cloudfront-private.pem';
export const ACCESS_PUBLIC_KEY_FILE = 'cloudfront-public.pem';
const RSA_BITS = 2048;

export interface WrittenAccessKeys {
  privateKeyPath: string;
  publicKeyPath: string;
}

/**
 * Writes a new RSA 2048 key pair into outDir: the public key as SPKI PEM (what
 * CreatePublicKey's EncodedKey takes), the private key as PKCS#8 PEM readable
 * by the owner only. Refuses to overwrite either file, and leaves neither
 * half behind when the second cannot be written.
 */
export async function writeAccessKeyPair(outDir: string): Promise<WrittenAccessKeys> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: RSA_BITS });
  const privateKeyPath = path.join(outDir, ACCESS_PRIVATE_KEY_FILE);
  const publicKeyPath = path.join(outDir, ACCESS_PUBLIC_KEY_FILE);
  await makeDirectory(outDir);
  const written: string[] = [];
  try {
    await writeFile(privateKeyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { flag: 'wx', mode: 0o600 });
    written.push(privateKeyPath);
    await writeFile(publicKeyPath, publicKey.export({ type: 'spki', format: 'pem' }), { flag: 'wx', mode: 0o644 });
  } catch (error) {
    for (const file of written) await rm(file, { force: true });
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UserError(`${(error as NodeJS.ErrnoException).path ?? outDir} already exists; choose another --out folder or move the old key away first`);
    }
    throw error;
  }
  return { privateKeyPath, publicKeyPath };
}

/** The keys `access` names, read and checked: an RSA 2048 pair, the private half matching the public one when both are given. */
export interface AccessKeys {
  keyPairId: string;
  privateKey?: KeyObject;
  /** The configured public key, else the one derived from the private key. */
  publicKey: KeyObject;
}

export async function loadAccessKeys(access: AccessConfig, configDir: string, need: 'private' | 'public', env: Environment): Promise<AccessKeys> {
  if (need === 'private' && !access.privateKey) {
    throw new UserError(`access.privateKey is not set; point it at the ${ACCESS_PRIVATE_KEY_FILE} written by 'update-publish access keys generate' (or env:NAME holding it)`);
  }
  if (!access.privateKey && !access.publicKey) {
    throw new UserError(`access.publicKey is not set; point it at the ${ACCESS_PUBLIC_KEY_FILE} given to CloudFront (or env:NAME holding it)`);
  }
  const privateKey = access.privateKey ? await readRsaKey(access.privateKey, configDir, 'private', env) : undefined;
  const configuredPublic = access.publicKey ? await readRsaKey(access.publicKey, configDir, 'public', env) : undefined;
  const derived = privateKey && createPublicKey(privateKey);
  if (derived && configuredPublic && !derived.equals(configuredPublic)) {
    throw new UserError(
      `access.privateKey is not the private half of access.publicKey (key pair id ${access.keyPairId}); CloudFront would refuse every credential it signs: configure the pair 'access keys generate' wrote together`,
    );
  }
  return { keyPairId: access.keyPairId, privateKey, publicKey: (configuredPublic ?? derived)! };
}

async function readRsaKey(spec: string, configDir: string, half: 'private' | 'public', env: Environment): Promise<KeyObject> {
  const setting = `access.${half}Key`;
  const { pem, source } = await readSetting(async () => {
    try {
      return await readKeyText(spec, configDir, setting, env);
    } catch (error) {
      // readKeyText's hint names the Ed25519 signing keys; this is the CloudFront pair.
      if (error instanceof ProtocolError) throw new UserError(error.message.replace('`update-publish keys generate --out DIR`', '`update-publish access keys generate --out DIR`'));
      throw error;
    }
  });
  const isPrivate = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem);
  if (half === 'public' && isPrivate) throw new UserError(`${setting}: ${source} holds a private key; give the ${ACCESS_PUBLIC_KEY_FILE} instead`);
  let key: KeyObject;
  try {
    key = half === 'private' ? createPrivateKey(pem) : createPublicKey(pem);
  } catch {
    throw new UserError(`${setting}: ${source} is not a PEM ${half} key; use the ${half === 'private' ? ACCESS_PRIVATE_KEY_FILE : ACCESS_PUBLIC_KEY_FILE} written by 'update-publish access keys generate'`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (key.asymmetricKeyType !== 'rsa' || bits !== RSA_BITS) {
    throw new UserError(`${setting}: ${source} is ${key.asymmetricKeyType === 'rsa' ? `an RSA ${bits}` : `a ${key.asymmetricKeyType ?? 'unknown'}`} key; CloudFront takes RSA 2048 only: create one with 'update-publish access keys generate'`);
  }
  return key;
}
