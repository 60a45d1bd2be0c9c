import { algorithmOf, checkDocumentTrust, SIGNATURE_ALGORITHMS, spkiOfTrustedKey, trustedKeyFromSpki, withoutSignatures, type SignatureAlgorithm, type Trust, type TrustedKey } from './document-signature.js';
import { ProtocolError, type ProtocolFault } from './errors.js';

/**
 * The root of trust (PROTOCOL.md "Root of trust"): `root/<N>.root.json`
 * names the keys devices trust and, per role, which keys and how many of them
 * must sign. `root` signs root documents (kept offline); `signing` signs every
 * document devices read. An app ships one root and follows the chain from it:
 * root N+1 counts only when a threshold of root N's root keys and a threshold
 * of its own signed it, so a leaked signing key is revoked by publishing the
 * next root, without an app release. Pure: apps check roots with this code.
 */
export interface RootDocument {
  type: 'root';
  version: number;
  /** ISO-8601: a device refuses a current root at or after it (publish the next one before). */
  expires: string;
  /** Key id → its algorithm and DER SubjectPublicKeyInfo in base64. */
  keys: Record<string, { algorithm: SignatureAlgorithm; publicKey: string }>;
  roles: Record<RoleName, RootRole>;
}

export type RoleName = 'root' | 'signing';
export interface RootRole {
  keyids: string[];
  threshold: number;
}

export const rootKey = (version: number) => `root/${version}.root.json`;
export const ROOT_PREFIX = 'root/';
/** The most a root document may be; a device reads no more. */
export const MAX_ROOT_BYTES = 512 * 1024;
/** A device follows at most this many links per run (an endless chain is an attack, not a history). */
export const MAX_ROOT_LINKS = 32;

export class RootError extends ProtocolError {
  constructor(
    message: string,
    readonly reason: 'malformed' | 'under-threshold' | 'expired' | 'rollback' | 'wrong-version' | 'too-many-links',
    fault: ProtocolFault = 'source',
  ) {
    super(message, fault);
    this.name = 'RootError';
  }
}

const fromBase64 = (text: string) => Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
const toBase64 = (bytes: Uint8Array) => btoa(Array.from(bytes, (byte) => String.fromCharCode(byte)).join(''));

/** A root entry of a trusted key. */
export const rootKeyEntry = (key: TrustedKey) => ({ algorithm: algorithmOf(key), publicKey: toBase64(spkiOfTrustedKey(key)) });

/** A root document parsed from JSON, checked field by field (without its signatures); what fails is named. */
export function validateRoot(document: unknown, where: string): RootDocument {
  const fail = (problem: string): never => {
    throw new RootError(`${where} is not a valid root: ${problem}`, 'malformed');
  };
  const root = document as Partial<RootDocument> | null;
  if (typeof root !== 'object' || root === null || Array.isArray(root)) fail('not a JSON object');
  if (root!.type !== 'root') fail('"type" is not "root"');
  if (!Number.isInteger(root!.version) || root!.version! < 1) fail('"version" is not a positive integer');
  if (typeof root!.expires !== 'string' || Number.isNaN(Date.parse(root!.expires))) fail('"expires" is not an ISO-8601 time');
  if (typeof root!.keys !== 'object' || root!.keys === null) fail('"keys" is not an object');
  for (const [keyId, entry] of Object.entries(root!.keys!)) {
    if (typeof entry !== 'object' || entry === null || !(SIGNATURE_ALGORITHMS as readonly string[]).includes(entry.algorithm) || typeof entry.publicKey !== 'string') {
      fail(`key ${keyId} is not { algorithm, publicKey }`);
    }
    let key: TrustedKey | undefined;
    try {
      key = trustedKeyFromSpki(fromBase64(entry.publicKey));
    } catch {
      fail(`key ${keyId} is not an Ed25519 or ECDSA P-256 public key`);
    }
    if (key!.keyId !== keyId) fail(`key ${keyId} has id ${key!.keyId} (the first 16 hex of SHA-256 over its SubjectPublicKeyInfo)`);
    if (algorithmOf(key!) !== entry.algorithm) fail(`key ${keyId} is ${algorithmOf(key!)}, not ${entry.algorithm}`);
  }
  for (const name of ['root', 'signing'] as const) {
    const role = root!.roles?.[name];
    if (!role || !Array.isArray(role.keyids) || !Number.isInteger(role.threshold) || role.threshold < 1) fail(`role "${name}" is not { keyids, threshold ≥ 1 }`);
    const unknown = role!.keyids.filter((keyId) => !Object.hasOwn(root!.keys!, keyId));
    if (unknown.length) fail(`role "${name}" names key ${unknown.join(', ')}, which "keys" does not list`);
    if (new Set(role!.keyids).size !== role!.keyids.length) fail(`role "${name}" lists a key twice`);
    if (role!.keyids.length < role!.threshold) fail(`role "${name}" has ${role!.keyids.length} ${role!.keyids.length === 1 ? 'key' : 'keys'}, fewer than its threshold ${role!.threshold}`);
  }
  return withoutSignatures(root as RootDocument & { signatures?: unknown });
}

/** The keys of a role with its threshold: what a document (or a root) signed by that role must satisfy. */
export function roleTrust(root: RootDocument, role: RoleName): Trust {
  const keys = root.roles[role].keyids.map((keyId) => trustedKeyFromSpki(fromBase64(root.keys[keyId].publicKey)));
  return { keys, threshold: root.roles[role].threshold };
}

/** How many signatures a root still needs: by the previous root's root role and by its own. */
export function rootSignatureShortfall(document: unknown, root: RootDocument, previous: RootDocument | undefined): { previous: number; own: number } {
  const missing = (trust: Trust) => {
    const valid = trust.keys.filter((key) => checkDocumentTrust(document, { keys: [key], threshold: 1 }).ok).length;
    return Math.max(0, trust.threshold - valid);
  };
  return { previous: previous ? missing(roleTrust(previous, 'root')) : 0, own: missing(roleTrust(root, 'root')) };
}

/**
 * Root N+1 as a device accepts it from the store: valid, exactly the next
 * version, and signed by a threshold of root N's root keys and of its own.
 */
export function acceptNextRoot(current: RootDocument, document: unknown, where: string): RootDocument {
  const next = validateRoot(document, where);
  if (next.version !== current.version + 1) {
    throw new RootError(`${where} is root version ${next.version}, not ${current.version + 1}: it was put in place of another`, 'wrong-version');
  }
  const shortfall = rootSignatureShortfall(document, next, current);
  if (shortfall.previous > 0 || shortfall.own > 0) {
    const parts = [shortfall.previous && `${shortfall.previous} more by the root keys of root ${current.version}`, shortfall.own && `${shortfall.own} more by its own root keys`].filter(Boolean);
    throw new RootError(`${where} is not signed by enough root keys (needs ${parts.join(' and ')}): it is not a root to trust`, 'under-threshold');
  }
  return next;
}

/** A device's own root (shipped, or remembered): valid, and self-signed at its root threshold. */
export function acceptTrustedRoot(document: unknown, where: string, fault: ProtocolFault = 'source'): RootDocument {
  let root: RootDocument;
  try {
    root = validateRoot(document, where);
  } catch (error) {
    throw error instanceof RootError ? new RootError(error.message, error.reason, fault) : error;
  }
  const { own } = rootSignatureShortfall(document, root, undefined);
  if (own > 0) throw new RootError(`${where} is not signed by enough of its own root keys (${own} more needed)`, 'under-threshold', fault);
  return root;
}

/** The newer of two trusted roots: a device never goes back to an older one. */
export const newerRoot = (a: RootDocument, b: RootDocument | undefined) => (b && b.version > a.version ? b : a);

/**
 * Follows the chain from a trusted root: reads root N+1 until there is none
 * (at most MAX_ROOT_LINKS per run), checks each link, then refuses the newest
 * when it expired. `read(key)` returns the parsed JSON or null when absent.
 */
export async function followRootChain(
  trusted: RootDocument,
  trustedDocument: unknown,
  read: (key: string) => Promise<unknown | null>,
  now: Date,
): Promise<{ root: RootDocument; document: unknown }> {
  let current = trusted;
  let currentDocument = trustedDocument;
  for (let links = 0; ; links++) {
    const key = rootKey(current.version + 1);
    const document = await read(key);
    if (document === null) break;
    if (links === MAX_ROOT_LINKS) {
      throw new RootError(`${key}: the root chain has more than ${MAX_ROOT_LINKS} new links since root ${trusted.version}; refusing to follow further in one run`, 'too-many-links');
    }
    current = acceptNextRoot(current, document, key);
    currentDocument = document;
  }
  if (Date.parse(current.expires) <= now.getTime()) {
    throw new RootError(`${rootKey(current.version)} (the newest root) expired at ${current.expires}: the publisher must publish the next root`, 'expired');
  }
  return { root: current, document: currentDocument };
}
