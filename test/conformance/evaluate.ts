/**
 * The TypeScript client (src/client, src/protocol) run on one conformance
 * case: returns what it computes, in the shape the case's `expected` has.
 * The generator records these answers; the test checks they still hold, and
 * the Java client (templates/clients/java) must give the same.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import semver from 'semver';
import { buildTree } from '../../src/client/fetch/build-tree.js';
import { readReleaseManifest } from '../../src/client/fetch/documents.js';
import { DamagedBaseError } from '../../src/client/errors.js';
import { interpretInstallFolder, markerAfterCheck } from '../../src/client/fetch/install-state.js';
import { installChoices, nextChoice, type AttemptFailure, type PackageChoice } from '../../src/client/install-order.js';
import { resolveUpdate } from '../../src/client/resolve.js';
import { resolveAppUpgrade } from '../../src/client/app-upgrade.js';
import { runOnceSteps } from '../../src/client/run-once.js';
import { resolveSwitches } from '../../src/client/switches.js';
import { validateAppReleases } from '../../src/protocol/app-releases.js';
import { validateSwitches } from '../../src/protocol/switches.js';
import { assertBoundDocument, boundDocumentVersion } from '../../src/protocol/document-binding.js';
import { validateIndex } from '../../src/protocol/channel-index.js';
import { parseProtocolTime } from '../../src/protocol/time.js';
import { compareVersions, isProtocolVersion } from '../../src/protocol/version.js';
import { canonicalBytes, checkDocumentSignature, checkDocumentTrust, trustedKeyFromPem } from '../../src/protocol/document-signature.js';
import { parseDocumentJson } from '../../src/protocol/document-json.js';
import { acceptTrustedRoot, followRootChain, roleTrust, RootError } from '../../src/protocol/root.js';
import { createDecryptStream, DecryptError, encryptionKeyId } from '../../src/protocol/encryption.js';
import { IntegrityError, ProtocolError } from '../../src/protocol/errors.js';
import { documentFreshnessProblem, indexFreshnessProblem, rememberDocument, rememberIndex, type ChannelTrust, type DocumentTrust } from '../../src/protocol/freshness.js';
import { authorizeRequest, parseAccessCredential } from '../../src/protocol/private-access.js';
import { hash32, rolloutBucket, rolloutThreshold } from '../../src/protocol/rollout.js';
import { ReceiptTally, wilsonInterval } from '../../src/protocol/receipt-counts.js';
import { decodeReceiptQuery, encodeReceiptQuery, installSampled, type Receipt } from '../../src/protocol/receipts.js';
import type { ChannelIndex, Manifest, ReleaseRules } from '../../src/protocol/types.js';
import { boundWhitelist, shardHas, validateWhitelistMeta, validateWhitelistShard, whitelistShard, whitelistShardKey, type WhitelistBindings } from '../../src/protocol/whitelist.js';
import { FIXTURE_FOLDER, type VectorCase, type VectorFile } from './vector-file.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** What the TypeScript client answers for one case. `root` is test/conformance/ (fixtures are under it). */
export async function evaluate(file: VectorFile, vector: VectorCase, root: string): Promise<unknown> {
  const input = vector as Record<string, any>;
  switch (vector.check) {
    case 'hash32':
      return { hash32: hash32(input.text) };
    case 'rollout': {
      const rules = input.rules as Pick<ReleaseRules, 'rollout' | 'rolloutBasisPoints'>;
      const bucket = rolloutBucket(input.deviceId, input.packageId, input.version);
      return { hashInput: `${input.packageId}@${input.version}:${input.deviceId}`, bucket, threshold: rolloutThreshold(rules), inside: bucket < rolloutThreshold(rules) };
    }
    case 'whitelist-shard': {
      const shard = whitelistShard(input.id, input.shards);
      return { hashInput: `whitelist:${input.id}`, shard, key: whitelistShardKey(input.list, shard, input.version) };
    }
    case 'whitelist-member':
      try {
        const meta = validateWhitelistMeta(input.meta, 'meta.json', input.list);
        const shard = whitelistShard(input.id, meta.shards);
        return { member: shardHas(validateWhitelistShard(input.shardDocument, 'shard', meta, shard), input.id) };
      } catch (error) {
        if (error instanceof ProtocolError) return { error: 'bad-whitelist' };
        throw error;
      }
    case 'receipt-query':
      return { query: encodeReceiptQuery(input.receipt as Receipt) };
    case 'receipt-decode': {
      const decoded = decodeReceiptQuery(input.query);
      return decoded.ok ? { ok: true, receipt: decoded.receipt } : { ok: false };
    }
    case 'receipt-sampled':
      return { sampled: installSampled(input.iid, input.sampleRate) };
    case 'wilson':
      return wilsonInterval(input.failures, input.trials);
    case 'receipt-count': {
      const tally = new ReceiptTally();
      for (const line of input.lines as { at?: number; query: string }[]) {
        const decoded = decodeReceiptQuery(line.query);
        if (decoded.ok) tally.add(decoded.receipt, line.at);
        else tally.addMalformed();
      }
      return tally.report();
    }
    case 'whitelist-bound':
      try {
        const bindings = input.bindings as WhitelistBindings;
        if (!Object.hasOwn(bindings, input.list)) return { bound: false };
        const meta = boundWhitelist(bindings, input.list)!;
        const shard = whitelistShard(input.id, meta.shards);
        const key = whitelistShardKey(input.list, shard, meta.version);
        return { bound: true, key, member: shardHas(validateWhitelistShard(input.shardDocument, key, meta, shard), input.id) };
      } catch (error) {
        if (error instanceof ProtocolError) return { error: 'bad-whitelist' };
        throw error;
      }
    case 'app-version':
      return { satisfies: (input.versions as string[]).map((version) => semver.satisfies(version, input.range)) };
    case 'resolve': {
      const index = (file.indexes as Record<string, ChannelIndex>)[input.index];
      const lists = (input.whitelists ?? {}) as Record<string, string[]>;
      const { now, ...device } = input.device;
      return inputFailure(() => resolveUpdate(index, { ...device, now: new Date(now) }, (list, id) => lists[list]?.includes(id) ?? false));
    }
    case 'device-version':
      return { valid: isProtocolVersion(input.text) };
    case 'time': {
      const instant = parseProtocolTime(input.text);
      return { instant: Number.isNaN(instant) ? null : new Date(instant).toISOString() };
    }
    case 'version-order':
      return { order: Math.sign(compareVersions(input.a, input.b)) };
    case 'install-folder':
      return inputFailure(() => {
        const state = interpretInstallFolder({ marker: input.marker ?? null, otherEntries: input.otherEntries }, input.package, 'folder');
        return { ok: true, installed: state?.version ?? null, trust: state?.trust ?? null };
      }, { ok: false, error: 'input' });
    case 'remember-trust':
      return { write: markerAfterCheck(input.state ?? null, input.package, input.channel, input.trust) };
    case 'switches': {
      const lists = (input.whitelists ?? {}) as Record<string, string[]>;
      const { now, ...device } = input.device;
      return channelDocumentAnswer(() =>
        resolveSwitches(validateSwitches((file.documents as Record<string, unknown>)[input.document], 'switches.json', 'production'), { ...device, now: new Date(now) }, (list, id) => lists[list]?.includes(id) ?? false),
      );
    }
    case 'app-upgrade': {
      const lists = (input.whitelists ?? {}) as Record<string, string[]>;
      const { now, ...device } = input.device;
      return channelDocumentAnswer(() =>
        resolveAppUpgrade(validateAppReleases((file.documents as Record<string, unknown>)[input.document], 'app-releases.json', 'production'), { ...device, now: new Date(now) }, (list, id) => lists[list]?.includes(id) ?? false),
      );
    }
    case 'document-binding':
      // The index is read first (its `documents` member checked with it), then the document's version compared.
      return channelDocumentAnswer(() => {
        assertBoundDocument(validateIndex(input.index, 'index.json'), input.document, { version: input.version }, input.document);
        return { ok: true, bound: boundDocumentVersion(input.index, input.document) ?? null };
      });
    case 'document-freshness': {
      const check = { now: new Date(input.now), signed: input.signed as boolean, remembered: input.remembered as DocumentTrust | undefined };
      const problem = documentFreshnessProblem(input.document, 'document', check);
      return problem ? { ok: false, reason: problem.reason } : { ok: true, remember: rememberDocument(input.document, check.signed, check.remembered) };
    }
    case 'run-once':
      return runOnce(input.steps, input.done, input.installed, input.fails);
    case 'install-order':
      return installOrder(input.kind, input.patched, input.failures);
    case 'freshness': {
      const index = input.index as ChannelIndex;
      const check = { now: new Date(input.now), signed: input.signed as boolean, remembered: input.remembered as ChannelTrust | undefined };
      const problem = indexFreshnessProblem(index, check);
      return problem ? { ok: false, reason: problem.reason } : { ok: true, remember: rememberIndex(index, check.signed, check.remembered) };
    }
    case 'release-manifest': {
      const body = Buffer.from(JSON.stringify(input.manifest));
      const release = { ...input.release, manifest: { key: input.release.manifest.key, sha256: sha256(body) } };
      const source = { location: 'vector', readDocument: async () => body, openObject: async () => null };
      try {
        const manifest = await readReleaseManifest(source, input.package, release);
        return { ok: true, deltaFrom: manifest.deltas.map((delta) => delta.from) };
      } catch (error) {
        if (error instanceof ProtocolError) return { ok: false };
        throw error;
      }
    }
    case 'json':
      try {
        const value = parseDocumentJson(input.base64 !== undefined ? Buffer.from(input.base64, 'base64') : Buffer.from(input.text, 'utf8'));
        return { ok: true, canonical: new TextDecoder().decode(canonicalBytes(value as object)) };
      } catch {
        return { ok: false };
      }
    case 'canonical':
      try {
        const value = input.valueText !== undefined ? parseDocumentJson(input.valueText) : input.value;
        return { ok: true, canonical: new TextDecoder().decode(canonicalBytes(value)) };
      } catch {
        return { ok: false };
      }
    case 'key-id':
      return { keyId: trustedKeyFromPem((file.keys as Record<string, string>)[input.key]).keyId };
    case 'signature': {
      const keys = file.keys as Record<string, string>;
      let document: unknown;
      try {
        document = input.documentText !== undefined ? parseDocumentJson(input.documentText) : input.document;
      } catch {
        return { ok: false, reason: 'malformed' };
      }
      const check = checkDocumentTrust(document, { keys: (input.trusted as string[]).map((name) => trustedKeyFromPem(keys[name])), threshold: input.threshold ?? 1 });
      return check.ok ? { ok: true, keyId: check.keyId } : { ok: false, reason: check.reason };
    }
    case 'root-chain': {
      const chain = (input.chain ?? []) as unknown[];
      const trustedVersion = (input.trusted as { version?: number }).version ?? 0;
      try {
        const trusted = acceptTrustedRoot(input.trusted, 'trusted root');
        const { root } = await followRootChain(trusted, input.trusted, async (key) => chain[Number(/root\/(\d+)\.root\.json/.exec(key)![1]) - trustedVersion - 1] ?? null, new Date(input.now));
        if (input.document === undefined) return { version: root.version };
        const check = checkDocumentTrust(input.document, roleTrust(root, 'signing'));
        return { version: root.version, document: check.ok ? { ok: true, keyId: check.keyId } : { ok: false, reason: check.reason } };
      } catch (error) {
        if (error instanceof RootError) return { error: error.reason };
        throw error;
      }
    }
    case 'encryption-key-id':
      return { keyId: encryptionKeyId(encryptionKey(file, input.key)) };
    case 'decrypt':
      return decrypt(file, input, root);
    case 'authorize': {
      const credential = parseAccessCredential(input.credential);
      if (typeof credential === 'string') return { refused: true };
      const { url, cookie } = authorizeRequest(input.url, credential);
      return { url, cookie: cookie ?? null };
    }
    case 'package':
      return applyPackage(input, root);
    default:
      throw new Error(`unknown check '${vector.check}' in case '${vector.name}'`);
  }
}

/** What a client answers when the device's own input is wrong: an input failure, not a decision. */
function inputFailure<T>(decide: () => T, answer: unknown = { error: 'input' }): T | unknown {
  try {
    return decide();
  } catch (error) {
    if (error instanceof ProtocolError && error.fault === 'input') return answer;
    throw error;
  }
}

/** A document refused as the store's fault is an integrity failure; a wrong device fact is an input failure. */
function channelDocumentAnswer(decide: () => unknown): unknown {
  try {
    return decide();
  } catch (error) {
    if (error instanceof IntegrityError) return { error: 'integrity' };
    if (error instanceof ProtocolError && error.fault === 'input') return { error: 'input' };
    throw error;
  }
}

/** runOnceSteps over an in-memory record; the step named by `fails` throws. */
async function runOnce(steps: string[], done: string[], installed: string, fails?: string) {
  let record = [...done];
  const ran: string[] = [];
  try {
    await runOnceSteps(
      steps.map((version) => ({
        version,
        run: () => {
          if (version === fails) throw new Error(`step ${version} failed`);
          ran.push(version);
        },
      })),
      { load: async () => [...record], save: async (saved) => void (record = [...saved]) },
      installed,
    );
  } catch (error) {
    if (error instanceof ProtocolError && error.fault === 'input') return { error: 'input' };
    return { ran, done: record, error: 'step' };
  }
  return { ran, done: record };
}

/** Walks install-order.ts as fetch does: each package in turn, failing as `failures` says. */
function installOrder(kind: 'full' | 'delta', patched: boolean, failures: Record<string, AttemptFailure>) {
  const choices = installChoices(kind, patched);
  const tried: PackageChoice[] = [];
  for (let choice: PackageChoice | null = choices[0]!; choice; ) {
    tried.push(choice);
    const failure = failures[choice];
    if (!failure) return { tried, installed: choice };
    const next = nextChoice(choices, choice, failure);
    if (!next) return { tried, installed: null, error: failure };
    choice = next;
  }
  throw new Error('unreachable');
}

const encryptionKey = (file: VectorFile, name: string) => Buffer.from((file.keys as Record<string, string>)[name], 'base64');

async function decrypt(file: VectorFile, input: Record<string, any>, root: string) {
  const ciphertext = input.ciphertextFile ? await readFile(join(root, input.ciphertextFile)) : Buffer.from(input.ciphertext, 'base64');
  const hash = createHash('sha256');
  let size = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback();
    },
  });
  try {
    const keys = (input.keys as string[]).map((name) => encryptionKey(file, name));
    await pipeline(Readable.from([ciphertext]), createDecryptStream(keys, input.expectedKeyId), sink);
    return { ok: true, size, sha256: hash.digest('hex') };
  } catch (error) {
    if (error instanceof DecryptError) return { ok: false, reason: error.reason };
    throw error;
  }
}

/** Builds the tree the way fetch does (installed files for a delta written first), and reports it. */
async function applyPackage(input: Record<string, any>, root: string) {
  const work = await mkdtemp(join(tmpdir(), 'up-conformance-'));
  try {
    const installed = join(work, 'installed');
    await mkdir(installed);
    for (const [path, base64] of Object.entries((input.installed ?? {}) as Record<string, string>)) {
      await mkdir(dirname(join(installed, path)), { recursive: true });
      await writeFile(join(installed, path), Buffer.from(base64, 'base64'));
    }
    const zipPath = join(root, input.package);
    const pkg = input.kind === 'delta' ? { kind: 'delta' as const, zipPath, objectKey: input.package, baseDir: installed } : { kind: 'full' as const, zipPath, objectKey: input.package };
    const tree = join(work, 'tree');
    try {
      await buildTree(input.manifest as Manifest, pkg, tree);
    } catch (error) {
      if (error instanceof DamagedBaseError) return { ok: false, error: 'damaged-base' };
      if (error instanceof ProtocolError) return { ok: false, error: 'bad-package' };
      throw error;
    }
    return { ok: true, ...(await describeTree(tree)) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Every file with its SHA-256 and every folder, as sorted POSIX paths. */
export async function describeTree(dir: string): Promise<{ files: Record<string, string>; folders: string[] }> {
  const files: Record<string, string> = {};
  const folders: string[] = [];
  const walk = async (folder: string, prefix: string) => {
    for (const name of (await readdir(folder)).sort()) {
      const path = join(folder, name);
      const relative = prefix ? `${prefix}/${name}` : name;
      if ((await stat(path)).isDirectory()) {
        folders.push(relative);
        await walk(path, relative);
      } else {
        files[relative] = sha256(await readFile(path));
      }
    }
  };
  await walk(dir, '');
  return { files, folders: folders.sort() };
}

export const fixturePath = (name: string) => `${FIXTURE_FOLDER}/${name}`;
