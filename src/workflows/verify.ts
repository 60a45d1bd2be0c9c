import { createPublicKey, type KeyObject } from 'node:crypto';
import { storeSource } from '../client/fetch/source.js';
import { verifyReleases, type VerifyReport } from '../client/verify/verify-releases.js';
import { readArchivedReleases } from '../channel/archive.js';
import { listChannels } from '../channel/index-store.js';
import { ExitCode, UserError } from '../errors.js';
import { encryptionKeyFor } from '../keys/publisher-keys.js';
import { ProtocolError } from '../protocol/errors.js';
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
  const channels = request.channel ? [request.channel] : await listChannels(store);
  // Verifying nothing must not pass: it is almost always a mistyped store.
  if (channels.length === 0) throw new UserError(`nothing to verify: no channel in ${store.location}; check --store (or "store" in the config)`, ExitCode.failure);
  const step = output.step(`verifying ${channels.length} channel(s) in ${store.location}`);
  const report = await verifyReleases(storeSource(store), channels, {
    publicKeys,
    decryptionKeys: encryptionKey ? [encryptionKey] : [],
    archivedReleases: (channel, id) => readArchivedReleases(store, channel, id),
    // The store's own errors (an object it cannot read) are findings too.
    isFinding: (error) => error instanceof ProtocolError || error instanceof UserError,
    onRelease: (channel, id, version) => step.update(`verifying ${channel}: ${id}@${version}`),
  });
  if (report.problems.length) step.fail(`${report.problems.length} problem(s) in ${store.location}`);
  else step.succeed(`verified ${store.location}`);
  if (!publicKeys.length) output.warn('signatures not checked: pass --public-key or configure signing.privateKey');
  return report;
}
