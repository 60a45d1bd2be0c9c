import type { Environment } from '../environment.js';
import { spawn } from 'node:child_process';
import { sign, type KeyObject } from 'node:crypto';
import { UserError } from '../errors.js';
import { canonicalBytes, checkDocumentTrust, withSignatures, type DocumentSignature, type TrustedKey, type Trust } from '../protocol/document-signature.js';
import { trustedKeyOf } from '../protocol/signature.js';
import { loadPrivateKey } from './signing-keys.js';
import { readSetting } from './config-error.js';
import { loadPublicKey } from '../client/trusted-keys.js';

/**
 * One key that signs documents, wherever it lives: a PEM file or variable
 * (Ed25519 or ECDSA P-256), AWS KMS, or an external program (an HSM or a
 * YubiKey through its tooling). The private key never leaves KMS or the
 * program; what the publisher holds is the public half and a way to ask.
 */
export interface DocumentSigner {
  /** The public half as devices trust it (key id, algorithm, key bytes). */
  trusted: TrustedKey;
  /** Where the key is, for messages: a path, a variable name, an ARN, a program. Never the key. */
  source: string;
  sign(bytes: Uint8Array): Promise<DocumentSignature>;
}

/** The publisher's signing keys: every document is signed by all of them; read back, `threshold` must vouch. */
export interface SignerSet {
  signers: DocumentSigner[];
  threshold: number;
  trust: Trust;
}

/** What a signature carries: the key id, the algorithm named, the bytes in base64. */
const signatureOf = (key: TrustedKey, sig: Uint8Array): DocumentSignature => ({ keyid: key.keyId, alg: key.algorithm ?? 'ed25519', sig: Buffer.from(sig).toString('base64') });

/** A key held as a PEM private key (file or env:NAME). */
export function keyObjectSigner(key: KeyObject, source: string): DocumentSigner {
  const trusted = trustedKeyOf(key);
  return {
    trusted,
    source,
    // Ed25519 signs the bytes; ECDSA signs their SHA-256, DER-encoded (as KMS and HSMs do).
    sign: async (bytes) => signatureOf(trusted, sign(trusted.algorithm === 'ecdsa-p256-sha256' ? 'sha256' : null, bytes, { key, dsaEncoding: 'der' })),
  };
}

/** The most a signing program may print: a signature is tens of bytes. */
const MAX_COMMAND_OUTPUT = 64 * 1024;

/**
 * An external signer: the program (run by the shell, in the config's folder)
 * reads the bytes to sign on stdin and prints the signature on stdout, in
 * base64 (or as raw bytes); its public key is configured beside it. Each
 * signature is checked against that key before it is used.
 */
export function commandSigner(program: string, trusted: TrustedKey, cwd: string, env: Environment): DocumentSigner {
  const source = `signing command '${program}'`;
  return {
    trusted,
    source,
    async sign(bytes) {
      const output = await runSigner(program, bytes, cwd, env, source);
      const text = output.toString('latin1').trim();
      const sig = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : output;
      return signatureOf(trusted, sig);
    },
  };
}

function runSigner(program: string, input: Uint8Array, cwd: string, env: Environment, source: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, { shell: true, cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let size = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_COMMAND_OUTPUT) stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-500)));
    child.on('error', (error) => reject(new UserError(`${source} could not be run: ${error.message}`)));
    child.on('close', (code) => {
      if (code !== 0) return reject(new UserError(`${source} exited ${code}${stderr.trim() ? `: ${stderr.trim().split('\n').pop()}` : ''}; nothing was signed`));
      if (size === 0 || size > MAX_COMMAND_OUTPUT) return reject(new UserError(`${source} printed ${size === 0 ? 'nothing' : 'more than 64 KiB'}; it must print the signature (base64) on stdout`));
      resolve(Buffer.concat(stdout));
    });
    // A program that does not read its input is told so through its exit code, not an EPIPE here.
    child.stdin.on('error', () => undefined);
    child.stdin.end(Buffer.from(input));
  });
}

/**
 * Signs a document with every key of the set; each signature is verified
 * before the document is stored, so a KMS key or a program that signs with
 * another key than configured is caught here, not by devices.
 */
export async function signWithAll<T extends object>(document: T, set: SignerSet) {
  const bytes = canonicalBytes(document);
  const signatures: DocumentSignature[] = [];
  for (const signer of set.signers) {
    const signature = await signer.sign(bytes);
    const signed = withSignatures(document, [signature]);
    const check = checkDocumentTrust(signed, { keys: [signer.trusted], threshold: 1 });
    if (!check.ok) {
      throw new UserError(`${signer.source} made a signature that does not verify with its public key ${signer.trusted.keyId} (${check.message}); check that the key and its configured public key belong together`);
    }
    signatures.push(signature);
  }
  return withSignatures(document, signatures);
}

/** Every entry of a setting that takes one value or a list. */
const listOf = (value: string | string[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

export interface SigningSettings {
  privateKey: string | string[];
  publicKey?: string | string[];
  threshold?: number;
}

/**
 * The signers `signing.privateKey` names: a PEM path, `env:NAME`,
 * `kms:<key-arn>` or `command:<program>` (or a list of them: every document
 * is signed by all). A `command:` signer's public key is the next entry of
 * `signing.publicKey`, in order.
 */
export async function loadSigners(settings: SigningSettings, configDir: string, env: Environment): Promise<SignerSet> {
  const specs = listOf(settings.privateKey);
  const publicKeys = listOf(settings.publicKey);
  const commands = specs.filter((spec) => spec.startsWith('command:'));
  if (publicKeys.length !== commands.length) {
    throw new UserError(
      `signing.publicKey must list one public key per command: signer (${commands.length} command: ${commands.length === 1 ? 'signer' : 'signers'}, ${publicKeys.length} public ${publicKeys.length === 1 ? 'key' : 'keys'}); give the PEM path of each signing program's public key, in order`,
    );
  }
  let nextPublicKey = 0;
  const signers: DocumentSigner[] = [];
  for (const spec of specs) {
    // The KMS client loads only for a KMS key: the SDK takes longer to load than most commands take to run.
    if (spec.startsWith('kms:')) signers.push(await (await import('./kms-signer.js')).kmsSigner(spec.slice('kms:'.length), env));
    else if (spec.startsWith('command:')) {
      const program = spec.slice('command:'.length).trim();
      if (!program) throw new UserError('signing.privateKey: command: must name a program, e.g. "command:./sign-with-hsm.sh"');
      const publicKey = await readSetting(() => loadPublicKey(publicKeys[nextPublicKey++], configDir, env));
      signers.push(commandSigner(program, trustedKeyOf(publicKey.key), configDir, env));
    } else {
      const loaded = await loadPrivateKey(spec, configDir, env);
      signers.push(keyObjectSigner(loaded.key, spec.startsWith('env:') ? `environment variable ${spec.slice(4)}` : spec));
    }
  }
  // A key that signs with another key than configured (a program, KMS) is found now, before any work.
  for (const signer of signers) await signWithAll({ probe: 'update-publish signing key check' }, { signers: [signer], threshold: 1, trust: { keys: [signer.trusted], threshold: 1 } });
  const ids = signers.map((signer) => signer.trusted.keyId);
  const twice = ids.find((id, at) => ids.indexOf(id) !== at);
  if (twice) throw new UserError(`signing.privateKey names key ${twice} twice; a threshold counts distinct keys, so list each key once`);
  const threshold = settings.threshold ?? 1;
  if (threshold > signers.length) {
    throw new UserError(`signing.threshold is ${threshold} but signing.privateKey names ${signers.length} ${signers.length === 1 ? 'key' : 'keys'}; add keys or lower the threshold`);
  }
  return { signers, threshold, trust: { keys: signers.map((signer) => signer.trusted), threshold } };
}

