import { parseDocumentJson } from '../protocol/document-json.js';
import type { KeyObject } from 'node:crypto';
import { storeSource, type UpdateSource } from '../client/fetch/source.js';
import { asTrusted, readChannelIndex, readManifestAt, type TrustedKeys } from '../client/fetch/documents.js';
import { readWhitelistMeta, readWhitelistShard } from '../client/read-documents.js';
import { whitelistShardKey, whitelistsPrefix } from '../protocol/whitelist.js';
import { verifyReleases, type VerifyProblem, type VerifyReport } from './verify-releases.js';
import { readArchivedReleases } from '../channel/archive.js';
import { listChannelFolders } from '../channel/index-store.js';
import { ExitCode, UserError } from '../errors.js';
import { encryptionKeyFor } from '../keys/publisher-keys.js';
import { checkDocumentSignature, checkDocumentTrust, type Trust } from '../protocol/document-signature.js';
import { roleTrust, rootKey } from '../protocol/root.js';
import { readRootChain } from './keys-root.js';
import { IntegrityError, ProtocolError } from '../protocol/errors.js';
import { channelPrefix } from '../protocol/layout.js';
import { trustedKeyOf } from '../protocol/signature.js';
import type { Store } from '../store/store.js';
import { formatProgress, plural } from '../format.js';
import type { WorkflowContext } from './context.js';
import { tempRootOf } from '../temp-folders.js';

/**
 * Checks every release of the channels (archived ones too) as a device would:
 * objects present, sizes and SHA-256, signatures, deltas rebuilding their
 * target. Trusted keys: the ones given, else the public half of the
 * publisher's own signing key.
 */
export async function verifyStore(context: WorkflowContext, request: { channel?: string; publicKeys: KeyObject[] }): Promise<VerifyReport> {
  const { config, store, output } = context;
  // With a root in the store: its chain, and the newest root's signing keys at their threshold.
  const chain = await checkRootChain(store);
  const publicKeys: Trust = chain.trust ?? {
    keys: request.publicKeys.length ? request.publicKeys.map(trustedKeyOf) : context.signer ? [...(await context.signer()).trust.keys] : [],
    threshold: 1,
  };
  const encryptionKey = encryptionKeyFor(config, context.env);
  const channels = request.channel ? [request.channel] : await listChannelFolders(store);
  // Verifying nothing must not pass: it is almost always a mistyped store.
  if (channels.length === 0) throw new UserError(`nothing to verify: no channel in ${store.location}; check --store (or "store" in the config)`, ExitCode.failure);
  const started = Date.now();
  let releaseShown = '';
  const step = output.step(`verifying ${plural(channels.length, 'channel')} in ${store.location}`);
  let report: VerifyReport;
  try {
    report = await verifyReleases(storeSource(store), channels, {
      publicKeys,
      decryptionKeys: encryptionKey ? [encryptionKey] : [],
      archivedReleases: (channel, id) => readArchivedReleases(store, channel, id),
      // The store's own errors (an object it cannot read) are findings too.
      isFinding: (error) => error instanceof ProtocolError || error instanceof UserError,
      signal: context.signal,
      tempRoot: tempRootOf(context.env),
      onRelease: (channel, id, version) => step.update((releaseShown = `verifying ${channel}: ${id}@${version}`)),
      onProgress: (done, total) => step.update(`${releaseShown} ${formatProgress(done, total, started)}`),
    });
  } catch (error) {
    step.fail();
    throw error;
  }
  report.problems.push(...chain.problems, ...(await checkChannelLogs(store, channels, publicKeys)));
  report.problems.push(...(await checkBases(storeSource(store), channels, publicKeys)));
  report.problems.push(...(await checkWhitelists(store, publicKeys)));
  if (report.problems.length) step.fail(`${plural(report.problems.length, 'problem')} in ${store.location}`);
  else step.succeed(`verified ${store.location}`);
  if (!publicKeys.keys.length) output.warn('signatures not checked: pass --public-key or configure signing.privateKey');
  return report;
}

/**
 * Archives and histories are not device documents, but `rollback --to` writes
 * archived releases back into the index: each must parse and, with trusted
 * keys, carry a valid signature.
 */
async function checkChannelLogs(store: Store, channels: string[], trust: Trust): Promise<VerifyProblem[]> {
  const problems: VerifyProblem[] = [];
  for (const channel of channels) {
    // Archives, release histories, and the switches' and app releases' histories and kept versions (what rollback writes back).
    const keys = (await store.list(channelPrefix(channel)))
      .map((object) => object.key)
      .filter((key) => /\/(archive|history)\/[^/]+\.json$/.test(key) || /\/(switches|app-releases)\/[^/]+\.json$/.test(key));
    for (const key of keys) {
      let body: Buffer | undefined;
      try {
        body = (await store.readDocument(key))?.body;
      } catch (error) {
        // The signing store refuses what this publisher did not sign: the archive verifyReleases read said so already.
        if (error instanceof UserError && !key.includes('/archive/')) problems.push({ key, problem: error.message });
        else if (!(error instanceof UserError)) throw error;
        continue;
      }
      if (!body) continue;
      let document: unknown;
      try {
        document = parseDocumentJson(body);
      } catch (error) {
        problems.push({ key, problem: `is not valid JSON (${(error as Error).message})` });
        continue;
      }
      if (trust.keys.length === 0) continue;
      const check = checkDocumentTrust(document, trust);
      if (!check.ok) problems.push({ key, problem: check.message });
    }
  }
  return problems;
}

/**
 * Bases (content shipped in the app binary) are what a device's first delta
 * applies to: each manifest an index lists as a base must be there, be the
 * one the index names (SHA-256) and read as a manifest, as fetch reads it.
 */
async function checkBases(source: UpdateSource, channels: string[], publicKeys: TrustedKeys): Promise<VerifyProblem[]> {
  const problems: VerifyProblem[] = [];
  for (const channel of channels) {
    let index;
    try {
      ({ index } = await readChannelIndex(source, channel, publicKeys));
    } catch {
      continue; // The index's own problems are verifyReleases' findings.
    }
    for (const [id, entry] of Object.entries(index.packages)) {
      for (const base of entry.bases ?? []) {
        try {
          const manifest = await readManifestAt(source, base.manifest.key, publicKeys, base.manifest.sha256);
          if (manifest.id !== id || manifest.version !== base.version) problems.push({ key: base.manifest.key, problem: `describes ${manifest.id}@${manifest.version}, not the base ${id}@${base.version} the index lists` });
        } catch (error) {
          if (!(error instanceof ProtocolError)) throw error;
          problems.push({ key: base.manifest.key, problem: `base ${id}@${base.version} in ${channel}: ${error.message}` });
        }
      }
    }
  }
  return problems;
}

/**
 * Every whitelist as a device reads it: the meta (signature, shard count,
 * name) and each shard it names (signature, bound to the list, upload and
 * shard number), with the device's reader.
 */
async function checkWhitelists(store: Store, publicKeys: TrustedKeys): Promise<VerifyProblem[]> {
  const source = storeSource(store);
  const trusted = asTrusted(publicKeys);
  const problems: VerifyProblem[] = [];
  const metaKeys = (await store.list(whitelistsPrefix)).map((object) => object.key).filter((key) => /^whitelists\/[^/]+\/meta\.json$/.test(key));
  for (const metaKey of metaKeys) {
    const name = metaKey.split('/')[1]!;
    try {
      const meta = await readWhitelistMeta(source, name, trusted);
      if (!meta) continue;
      for (let shard = 0; shard < meta.shards; shard++) {
        if (!(await readWhitelistShard(source, meta, shard, trusted))) {
          problems.push({ key: whitelistShardKey(name, shard, meta.version), problem: `is missing: list '${name}' names ${meta.shards} shards` });
        }
      }
    } catch (error) {
      if (!(error instanceof ProtocolError || error instanceof UserError)) throw error;
      problems.push(error instanceof IntegrityError ? { key: error.key, problem: error.problem } : { key: metaKey, problem: error.message });
    }
  }
  return problems;
}

/** The store's root chain as devices follow it from root 1: each link, and the newest root's expiry. */
async function checkRootChain(store: Store, now = new Date()): Promise<{ trust?: Trust; problems: VerifyProblem[] }> {
  try {
    const { roots } = await readRootChain(store);
    const newest = roots.at(-1)?.root;
    if (!newest) return { problems: [] };
    const problems = Date.parse(newest.expires) <= now.getTime() ? [{ key: rootKey(newest.version), problem: `expired at ${newest.expires}: devices refuse it; publish the next root` }] : [];
    return { trust: roleTrust(newest, 'signing'), problems };
  } catch (error) {
    if (!(error instanceof ProtocolError || error instanceof UserError)) throw error;
    return { problems: [{ key: 'root/', problem: error.message }] };
  }
}
