import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';
import { readEnvSecret } from '../client/env-secret.js';

/** A key with the id written next to every signature it makes, so verifiers can pick the right public key. */
export interface SigningKey {
  key: KeyObject;
  keyId: string;
}

export interface SigningKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
  keyId: string;
}

/** File names written by `keys generate --out DIR`. */
export const PRIVATE_KEY_FILE = 'signing-private.pem';
export const PUBLIC_KEY_FILE = 'signing-public.pem';

/** First 16 hex of SHA-256 over the DER SubjectPublicKeyInfo: stable whatever the PEM line wrapping. */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
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
  await mkdir(outDir, { recursive: true });
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
export async function loadPrivateKey(spec: string, configDir: string): Promise<SigningKey> {
  const { pem, source } = await readKeyText(spec, configDir, 'signing.privateKey');
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new UserError(
      `signing.privateKey: ${source} is not a PEM private key; point it at the ${PRIVATE_KEY_FILE} written by \`update-publish keys generate\``,
    );
  }
  assertEd25519(key, source, 'signing.privateKey');
  return { key, keyId: keyIdOf(key) };
}

/**
 * A trusted public key, given as PEM text or as a path to a PEM file
 * (relative to baseDir). A private key is refused: it must never ship.
 */
export async function loadPublicKey(pemOrPath: string, baseDir = process.cwd()): Promise<SigningKey> {
  const isPem = pemOrPath.includes('-----BEGIN');
  const { pem, source } = isPem
    ? { pem: pemOrPath, source: 'the given PEM text' }
    : await readKeyText(pemOrPath, baseDir, 'public key');
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new UserError(`public key: ${source} holds a private key; give the ${PUBLIC_KEY_FILE} instead and keep the private key secret`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new UserError(`public key: ${source} is not a PEM public key; use the ${PUBLIC_KEY_FILE} written by \`update-publish keys generate\``);
  }
  assertEd25519(key, source, 'public key');
  return { key, keyId: keyIdOf(key) };
}

async function readKeyText(spec: string, baseDir: string, setting: string): Promise<{ pem: string; source: string }> {
  const fromEnv = readEnvSecret(spec, setting, 'the PEM key text');
  if (fromEnv) {
    const { name, value } = fromEnv;
    // CI secret stores often flatten newlines to a literal "\n".
    const pem = value.includes('\n') ? value : value.replace(/\\n/g, '\n');
    return { pem, source: `environment variable ${name}` };
  }
  const file = path.resolve(baseDir, spec);
  try {
    return { pem: await readFile(file, 'utf8'), source: file };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') {
      const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder' : 'is not readable';
      throw new UserError(`${setting}: key file ${file} ${why}; fix the path or create a key with \`update-publish keys generate --out DIR\``);
    }
    throw error;
  }
}

function assertEd25519(key: KeyObject, source: string, setting: string): void {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new UserError(
      `${setting}: ${source} is a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519; create one with \`update-publish keys generate\``,
    );
  }
}
