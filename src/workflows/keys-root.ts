import { resolve } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { loadPublicKey } from '../client/trusted-keys.js';
import { parseDuration } from '../duration.js';
import { ConflictError, StoreError, UserError } from '../errors.js';
import { plural } from '../format.js';
import { sha256Hex } from '../hash.js';
import { readSetting } from '../keys/config-error.js';
import { keyObjectSigner, type DocumentSigner, type SignerSet } from '../keys/signers.js';
import { loadPrivateKey } from '../keys/signing-keys.js';
import { canonicalBytes, checkDocumentTrust, trustedKeyFromSpki, withSignatures, withoutSignatures, type DocumentSignature, type TrustedKey } from '../protocol/document-signature.js';
import { IMMUTABLE_CACHE } from '../protocol/layout.js';
import { serializeDocument } from '../protocol/manifest.js';
import { acceptNextRoot, acceptTrustedRoot, MAX_ROOT_BYTES, rootKey, rootKeyEntry, rootSignatureShortfall, RootError, validateRoot, type RootDocument } from '../protocol/root.js';
import { trustedKeyOf } from '../protocol/signature.js';
import type { Store } from '../store/store.js';
import { confirmOrDecline, type WorkflowContext } from './context.js';

/** How long a root stays valid unless --expires says otherwise: roots are signed offline, rarely. */
export const DEFAULT_ROOT_LIFETIME = '365d';

export interface RootChain {
  /** Every root in the store, oldest first, as the chain accepts them. */
  roots: { version: number; document: unknown; root: RootDocument }[];
}

type SignedRoot = RootDocument & { signatures: DocumentSignature[] };

/** The store's chain from root/1.root.json, each link checked; empty when the store has no root. */
export async function readRootChain(store: Store): Promise<RootChain> {
  const roots: RootChain['roots'] = [];
  for (let version = 1; ; version++) {
    const stored = await store.readDocument(rootKey(version));
    if (!stored) break;
    if (stored.body.length > MAX_ROOT_BYTES) throw new StoreError(`${rootKey(version)} is larger than ${MAX_ROOT_BYTES} bytes; devices refuse it`);
    const document = parseRoot(stored.body, rootKey(version));
    const root = version === 1 ? acceptTrustedRoot(document, rootKey(version)) : acceptNextRoot(roots[roots.length - 1].root, document, rootKey(version));
    roots.push({ version, document, root });
  }
  return { roots };
}

function parseRoot(body: Buffer, where: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new UserError(`${where} is not a valid root: not JSON`);
  }
}

/** A root key (`--root-key`) or signing key (`--signing-key`): a PEM public key file, or kms:<key-arn> for a signing key. */
async function publicKeyOf(context: Pick<WorkflowContext, 'cwd' | 'env'>, spec: string, flag: string): Promise<TrustedKey> {
  if (spec.startsWith('kms:')) {
    if (flag !== '--signing-key' && flag !== '--add-signing-key') throw new UserError(`${flag} ${spec}: root keys are kept offline as PEM files; KMS keys sign online documents (--signing-key)`);
    return (await (await import('../keys/kms-signer.js')).kmsSigner(spec.slice(4), context.env)).trusted;
  }
  return trustedKeyOf((await readSetting(() => loadPublicKey(spec, context.cwd, context.env))).key);
}

async function signersOf(context: Pick<WorkflowContext, 'cwd' | 'env'>, files: string[]): Promise<DocumentSigner[]> {
  const signers: DocumentSigner[] = [];
  for (const file of files) signers.push(keyObjectSigner((await loadPrivateKey(file, context.cwd, context.env)).key, file));
  return signers;
}

/** Adds each key's signature (keeping those there); a key that is no root key of this root or the previous one is refused. */
async function signRoot(document: SignedRoot | RootDocument, signers: DocumentSigner[], previous: RootDocument | undefined): Promise<SignedRoot> {
  const existing = 'signatures' in document ? document.signatures : [];
  const root = withoutSignatures(document as SignedRoot) as RootDocument;
  const rootKeys = new Set([...root.roles.root.keyids, ...(previous?.roles.root.keyids ?? [])]);
  const bytes = canonicalBytes(root);
  const signatures = [...existing];
  for (const signer of signers) {
    if (!rootKeys.has(signer.trusted.keyId)) {
      throw new UserError(`${signer.source} (key ${signer.trusted.keyId}) is not a root key of root ${root.version}${previous ? ` or root ${previous.version}` : ''}; sign with the root keys`);
    }
    if (signatures.some((signature) => signature.keyid === signer.trusted.keyId)) continue;
    signatures.push(await signer.sign(bytes));
  }
  return withSignatures(root, signatures) as SignedRoot;
}

/** Signatures already on a proposal must still verify: a proposal changed after it was signed is refused. */
function assertUnchangedSinceSigned(document: SignedRoot, where: string): void {
  const root = checkedRoot(validateRootAt(document, where));
  for (const signature of document.signatures ?? []) {
    const entry = root.keys[signature.keyid];
    const candidates = entry ? [trustedKeyFromSpki(Uint8Array.from(Buffer.from(entry.publicKey, 'base64')))] : [];
    if (candidates.length && !checkDocumentTrust(withSignatures(root, [signature]), { keys: candidates, threshold: 1 }).ok) {
      throw new UserError(`${where} changed after key ${signature.keyid} signed it; nothing was signed or published: make the proposal again and sign it again`);
    }
  }
}

/** A proposal file's root, refused as a usage error when it is not a valid root. */
function validateRootAt(document: unknown, where: string): RootDocument {
  try {
    return validateRoot(document, where);
  } catch (error) {
    throw error instanceof RootError ? new UserError(`${error.message}; nothing was signed or published`) : error;
  }
}

/** Why a root is not ready to publish: the signatures still missing, in words; undefined when both thresholds are met. */
function missingSignatures(document: SignedRoot, previous: RootDocument | undefined): string | undefined {
  const root = withoutSignatures(document) as RootDocument;
  const shortfall = rootSignatureShortfall(document, root, previous);
  if (shortfall.previous === 0 && shortfall.own === 0) return undefined;
  const parts = [
    shortfall.previous > 0 && `${plural(shortfall.previous, 'more signature')} by the root keys of root ${previous!.version} (threshold ${previous!.roles.root.threshold})`,
    shortfall.own > 0 && `${plural(shortfall.own, 'more signature')} by its own root keys (threshold ${root.roles.root.threshold})`,
  ].filter(Boolean);
  return parts.join(' and ');
}

export interface RootWriteResult {
  version: number;
  key: string;
  /** published: in the store; proposal: written to --out for offline signing. */
  status: 'published' | 'proposal';
  out?: string;
  signatures: string[];
  missing: string | null;
  keys: { root: string[]; signing: string[] };
  thresholds: { root: number; signing: number };
  expires: string;
  dryRun: boolean;
}

/** Publishes a root that meets both thresholds (create-only), or writes it to `out` as a proposal. */
async function finish(context: WorkflowContext, document: SignedRoot, previous: RootDocument | undefined, out: string | undefined, copy: string | undefined): Promise<RootWriteResult> {
  const missing = missingSignatures(document, previous) ?? null;
  const summary = {
    version: document.version,
    key: rootKey(document.version),
    signatures: document.signatures.map((signature) => signature.keyid),
    missing,
    keys: { root: document.roles.root.keyids, signing: document.roles.signing.keyids },
    thresholds: { root: document.roles.root.threshold, signing: document.roles.signing.threshold },
    expires: document.expires,
    dryRun: context.dryRun,
  };
  if (out) {
    if (!context.dryRun) await writeFile(resolve(context.cwd, out), serializeDocument(document));
    return { ...summary, status: 'proposal', out };
  }
  if (missing) {
    throw new UserError(`root ${document.version} needs ${missing}; nothing was published: sign it with --sign, or write a proposal with --out and sign it offline ('keys root sign')`);
  }
  await confirmOrDecline(context, `Publish ${rootKey(document.version)} (signing keys ${summary.keys.signing.join(', ')}, threshold ${summary.thresholds.signing}; expires ${document.expires})?`);
  const body = serializeDocument(document);
  const written = await context.store.writeDocument(rootKey(document.version), body, { contentType: 'application/json', cacheControl: IMMUTABLE_CACHE, sha256: sha256Hex(body), ifNoneMatch: true });
  if (!written) throw new ConflictError(`${rootKey(document.version)} was just published by someone else; run 'update-publish keys root status' and start again from it`);
  if (copy && !context.dryRun) await writeFile(resolve(context.cwd, copy), body);
  return { ...summary, status: 'published', ...(copy && { out: copy }) };
}

const expiresIn = (duration: string | undefined, now = new Date()) => {
  const ms = parseDuration(duration ?? DEFAULT_ROOT_LIFETIME);
  if (!ms || ms <= 0) throw new UserError(`--expires '${duration}' is not a duration such as "365d", "26w" or "12h"`);
  return new Date(now.getTime() + ms).toISOString();
};

const threshold = (value: string | undefined, flag: string, fallback: number) => {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new UserError(`${flag} '${value}' is not a whole number of at least 1`);
  return parsed;
};

/** A root as validateRoot refuses it, said as a usage error (nothing is written). */
function checkedRoot(root: RootDocument): RootDocument {
  try {
    return validateRoot(root, `root ${root.version}`);
  } catch (error) {
    throw error instanceof RootError ? new UserError(`${error.message}; nothing was written`) : error;
  }
}

export interface RootInitRequest {
  rootKeys: string[];
  threshold?: string;
  signingKeys: string[];
  signingThreshold?: string;
  expires?: string;
  sign: string[];
  out?: string;
  copy?: string;
}

/** `keys root init`: root 1, self-signed at its root threshold, in the store (and a copy to ship in apps). */
export async function initRoot(context: WorkflowContext, request: RootInitRequest): Promise<RootWriteResult> {
  if ((await readRootChain(context.store)).roots.length > 0) throw new UserError(`${context.store.location} already has ${rootKey(1)}; rotate with 'update-publish keys root rotate'`);
  if (request.rootKeys.length === 0) throw new UserError('--root-key is required: the public keys (PEM) of the offline root keys');
  if (request.signingKeys.length === 0) throw new UserError('--signing-key is required: the public key (PEM) or kms:<key-arn> of each online signing key');
  const rootKeys = await Promise.all(request.rootKeys.map((spec) => publicKeyOf(context, spec, '--root-key')));
  const signingKeys = await Promise.all(request.signingKeys.map((spec) => publicKeyOf(context, spec, '--signing-key')));
  const root = checkedRoot({
    type: 'root',
    version: 1,
    expires: expiresIn(request.expires),
    keys: Object.fromEntries([...rootKeys, ...signingKeys].map((key) => [key.keyId, rootKeyEntry(key)])),
    roles: {
      root: { keyids: [...new Set(rootKeys.map((key) => key.keyId))], threshold: threshold(request.threshold, '--threshold', 1) },
      signing: { keyids: [...new Set(signingKeys.map((key) => key.keyId))], threshold: threshold(request.signingThreshold, '--signing-threshold', 1) },
    },
  });
  const signed = await signRoot(root, await signersOf(context, request.sign), undefined);
  return finish(context, signed, undefined, request.out, request.copy ?? (request.out ? undefined : '1.root.json'));
}

export interface RootRotateRequest {
  addSigningKeys: string[];
  removeSigningKeys: string[];
  addRootKeys: string[];
  removeRootKeys: string[];
  threshold?: string;
  signingThreshold?: string;
  expires?: string;
  sign: string[];
  out?: string;
}

/** `keys root rotate`: the next root from the newest, with the changes asked for. */
export async function rotateRoot(context: WorkflowContext, request: RootRotateRequest): Promise<RootWriteResult> {
  const { roots } = await readRootChain(context.store);
  const current = roots.at(-1)?.root;
  if (!current) throw new UserError(`${context.store.location} has no root yet; create one with 'update-publish keys root init'`);
  const keys = { ...current.keys };
  const edit = async (ids: string[], add: string[], remove: string[], flag: string) => {
    const next = new Set(ids);
    for (const spec of add) {
      const key = await publicKeyOf(context, spec, flag);
      keys[key.keyId] = rootKeyEntry(key);
      next.add(key.keyId);
    }
    for (const keyId of remove) {
      if (!next.delete(keyId)) throw new UserError(`${flag.replace('add', 'remove')} ${keyId}: root ${current.version} has no such key in that role (keys: ${[...next].join(', ')})`);
    }
    return [...next];
  };
  const rootIds = await edit(current.roles.root.keyids, request.addRootKeys, request.removeRootKeys, '--add-root-key');
  const signingIds = await edit(current.roles.signing.keyids, request.addSigningKeys, request.removeSigningKeys, '--add-signing-key');
  const used = new Set([...rootIds, ...signingIds]);
  const next = checkedRoot({
    type: 'root',
    version: current.version + 1,
    expires: expiresIn(request.expires),
    keys: Object.fromEntries(Object.entries(keys).filter(([keyId]) => used.has(keyId))),
    roles: {
      root: { keyids: rootIds, threshold: threshold(request.threshold, '--threshold', current.roles.root.threshold) },
      signing: { keyids: signingIds, threshold: threshold(request.signingThreshold, '--signing-threshold', current.roles.signing.threshold) },
    },
  });
  const signed = await signRoot(next, await signersOf(context, request.sign), current);
  return finish(context, signed, current, request.out, undefined);
}

async function readProposal(file: string, cwd: string): Promise<SignedRoot> {
  const text = await readFile(resolve(cwd, file)).catch((error: NodeJS.ErrnoException) => {
    throw new UserError(`${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}; give the proposal 'keys root rotate --out' wrote`);
  });
  const document = parseRoot(text, file) as SignedRoot;
  assertUnchangedSinceSigned(document, file);
  return { ...document, signatures: Array.isArray(document.signatures) ? document.signatures : [] };
}

/** The root a proposal follows (undefined for root 1), from the store's chain. */
async function previousOf(store: Store, proposal: RootDocument): Promise<RootDocument | undefined> {
  const { roots } = await readRootChain(store);
  const newest = roots.at(-1)?.root;
  if ((newest?.version ?? 0) + 1 !== proposal.version) {
    throw new UserError(`the proposal is root ${proposal.version}, but the store's newest root is ${newest?.version ?? 'none'}: it must be ${(newest?.version ?? 0) + 1}; make a new proposal`);
  }
  return newest;
}

/** `keys root sign FILE --key PRIV`: adds signatures to a proposal, offline (no store needed beyond the chain). */
export async function signRootProposal(context: WorkflowContext, file: string, keyFiles: string[]): Promise<RootWriteResult> {
  if (keyFiles.length === 0) throw new UserError('--key is required: the private key (PEM) of a root key');
  const proposal = await readProposal(file, context.cwd);
  const previous = await previousOf(context.store, proposal);
  const signed = await signRoot(proposal, await signersOf(context, keyFiles), previous);
  return finish(context, signed, previous, file, undefined);
}

/** `keys root publish FILE`: publishes a proposal once both thresholds are met. */
export async function publishRootProposal(context: WorkflowContext, file: string): Promise<RootWriteResult> {
  const proposal = await readProposal(file, context.cwd);
  const previous = await previousOf(context.store, proposal);
  return finish(context, proposal, previous, undefined, undefined);
}

export interface RootStatus {
  roots: { version: number; expires: string; keys: { root: string[]; signing: string[] }; thresholds: { root: number; signing: number } }[];
  current: number | null;
  expires: string | null;
  expired: boolean;
}

/** `keys root status`: the chain, each root's keys and thresholds, the newest root's expiry. */
export async function rootStatus(context: WorkflowContext, now = new Date()): Promise<RootStatus> {
  const { roots } = await readRootChain(context.store);
  const listed = roots.map(({ root }) => ({
    version: root.version,
    expires: root.expires,
    keys: { root: root.roles.root.keyids, signing: root.roles.signing.keyids },
    thresholds: { root: root.roles.root.threshold, signing: root.roles.signing.threshold },
  }));
  const newest = listed.at(-1);
  return { roots: listed, current: newest?.version ?? null, expires: newest?.expires ?? null, expired: newest ? Date.parse(newest.expires) <= now.getTime() : false };
}

/**
 * With a root in the store, the configured signing keys must be signing keys
 * of its newest root, enough of them for its signing threshold: devices
 * following the root would refuse anything else. Checked when the keys are
 * first used, before anything is written.
 */
export async function assertSignersTrustedByRoot(store: Store, set: SignerSet): Promise<void> {
  // A broken chain is for verify and `keys root status` to report; devices refuse it whatever is signed.
  const newest = (await readRootChain(store).catch((error: unknown) => {
    if (error instanceof RootError) return { roots: [] };
    throw error;
  })).roots.at(-1)?.root;
  if (!newest) return;
  const role = newest.roles.signing;
  const outside = set.signers.filter((signer) => !role.keyids.includes(signer.trusted.keyId));
  if (outside.length) {
    throw new UserError(
      `${outside.map((signer) => `${signer.source} (key ${signer.trusted.keyId})`).join(', ')} ${outside.length === 1 ? 'is not a signing key' : 'are not signing keys'} of ${rootKey(newest.version)} (signing keys: ${role.keyids.join(', ')}): devices following the root would refuse what ${outside.length === 1 ? 'it signs' : 'they sign'}; configure a key the root names, or add it with 'update-publish keys root rotate --add-signing-key'`,
    );
  }
  if (set.signers.length < role.threshold) {
    throw new UserError(`${rootKey(newest.version)} requires ${role.threshold} signatures on every document, but signing.privateKey names ${plural(set.signers.length, 'key')}; configure ${role.threshold} of its signing keys`);
  }
}
