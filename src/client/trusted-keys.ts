import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ProtocolError } from '../protocol/errors.js';
import { keyIdOf, PUBLIC_KEY_FILE, type SigningKey } from '../protocol/signature.js';
import type { Environment } from '../environment.js';
import { readEnvSecret } from './env-secret.js';

/**
 * A trusted public key, given as PEM text, as `env:NAME` holding the PEM, or
 * as a path to a PEM file (relative to baseDir). A private key is refused: it
 * must never ship. The CLI passes its run's folder and environment; an app may
 * rely on the process's.
 */
export async function loadPublicKey(pemOrPath: string, baseDir = process.cwd(), env: Environment = process.env): Promise<SigningKey> {
  const isPem = pemOrPath.includes('-----BEGIN');
  const { pem, source } = isPem
    ? { pem: pemOrPath, source: 'the given PEM text' }
    : await readKeyText(pemOrPath, baseDir, 'public key', env);
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new ProtocolError(`public key: ${source} holds a private key; give the ${PUBLIC_KEY_FILE} instead and keep the private key secret`, 'input');
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new ProtocolError(`public key: ${source} is not a PEM public key; use the ${PUBLIC_KEY_FILE} written by \`update-publish keys generate\``, 'input');
  }
  assertEd25519(key, source, 'public key');
  return { key, keyId: keyIdOf(key) };
}

/** The PEM text a key setting names (`env:NAME` or a file), and where it came from for messages: never the text. */
export async function readKeyText(spec: string, baseDir: string, setting: string, env: Environment): Promise<{ pem: string; source: string }> {
  const fromEnv = readEnvSecret(spec, setting, 'the PEM key text', env);
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
      throw new ProtocolError(`${setting}: key file ${file} ${why}; fix the path or create a key with \`update-publish keys generate --out DIR\``, 'input');
    }
    throw error;
  }
}

/** Devices verify Ed25519 and ECDSA P-256: any other key is refused where it is configured. */
export function assertEd25519(key: KeyObject, source: string, setting: string): void {
  const p256 = key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  if (key.asymmetricKeyType !== 'ed25519' && !p256) {
    throw new ProtocolError(
      `${setting}: ${source} is a ${key.asymmetricKeyType ?? 'unknown'}${key.asymmetricKeyType === 'ec' ? ` (${key.asymmetricKeyDetails?.namedCurve})` : ''} key, not Ed25519 or ECDSA P-256; create one with \`update-publish keys generate\``,
      'input',
    );
  }
}

