import { createPublicKey, type KeyObject } from 'node:crypto';
import { storeSource } from '../client/fetch/source.js';
import { verifyReleases, type VerifyProblem, type VerifyReport } from './verify-releases.js';
import { readArchivedReleases } from '../channel/archive.js';
import { listChannelFolders } from '../channel/index-store.js';
import { ExitCode, UserError } from '../errors.js';
import { encryptionKeyFor } from '../keys/publisher-keys.js';
import { checkDocumentSignature } from '../protocol/document-signature.js';
import { ProtocolError } from '../protocol/errors.js';
import { channelPrefix } from '../protocol/layout.js';
import { trustedKeyOf } from '../protocol/signature.js';
import type { Store } from '../store/store.js';
import { formatProgress, plural } from '../format.js';
import type { WorkflowContext } from './context.js';

/**
 * Checks every release of the channels (archived ones too) as a device would:
 * objects present, sizes and SHA-256, signatures, deltas rebuilding their
 * target. Trusted keys: the ones given, else the public half of the
 * publisher's own signing key.
 */
export async function verifyStore(context: WorkflowContext, request: { channel?: string; publicKeys: KeyObject[] }): Promise<VerifyReport> {
  const { config, store, output } = context;
  const publicKeys = request.publicKeys.length ? request.publicKeys : context.signer ? [createPublicKey((await context.signer()).key)] : [];
  const encryptionKey = encryptionKeyFor(config);
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
      onRelease: (channel, id, version) => step.update((releaseShown = `verifying ${channel}: ${id}@${version}`)),
      onProgress: (done, total) => step.update(`${releaseShown} ${formatProgress(done, total, started)}`),
    });
  } catch (error) {
    step.fail();
    throw error;
  }
  report.problems.push(...(await checkChannelLogs(store, channels, publicKeys)));
  if (report.problems.length) step.fail(`${plural(report.problems.length, 'problem')} in ${store.location}`);
  else step.succeed(`verified ${store.location}`);
  if (!publicKeys.length) output.warn('signatures not checked: pass --public-key or configure signing.privateKey');
  return report;
}

/**
 * Archives and histories are not device documents, but `rollback --to` writes
 * archived releases back into the index: each must parse and, with trusted
 * keys, carry a valid signature.
 */
async function checkChannelLogs(store: Store, channels: string[], publicKeys: KeyObject[]): Promise<VerifyProblem[]> {
  const trusted = publicKeys.map(trustedKeyOf);
  const problems: VerifyProblem[] = [];
  for (const channel of channels) {
    const keys = (await store.list(channelPrefix(channel))).map((object) => object.key).filter((key) => /\/(archive|history)\/[^/]+\.json$/.test(key));
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
        document = JSON.parse(body.toString('utf8'));
      } catch {
        problems.push({ key, problem: 'is not valid JSON' });
        continue;
      }
      if (trusted.length === 0) continue;
      const check = checkDocumentSignature(document, trusted);
      if (!check.ok) problems.push({ key, problem: check.message });
    }
  }
  return problems;
}
