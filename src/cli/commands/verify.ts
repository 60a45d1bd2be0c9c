import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Command } from 'commander';
import { storeSource } from '../../client/fetch/source.js';
import { verifyReleases, type VerifyReport } from '../../client/verify/verify-releases.js';
import type { Config } from '../../config/schema.js';
import { ExitCode, UserError } from '../../errors.js';
import { readArchivedReleases } from '../../channel/archive.js';
import { listChannels } from '../../channel/catalog.js';
import { encryptionKeyFor, signerFor } from '../../keys/publisher-keys.js';
import { requireChannel, withContext, type GlobalOptions } from '../context.js';
import { collect, loadPublicKeys } from '../trust-options.js';

interface VerifyFlags extends GlobalOptions {
  channel?: string;
  publicKey: string[];
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('check every release in the store, archived ones too: objects present, sizes and SHA-256, signatures, deltas rebuild their target')
    .option('--channel <name>', 'only this channel (default: every channel in the store)')
    .option('--public-key <file>', 'trusted signing public key (default: derived from signing.privateKey when configured)', collect, [])
    .addHelpText(
      'after',
      '\nExit code 1 when any problem is found.\n\nExamples:\n  $ update-publish verify\n  $ update-publish verify --channel production --public-key keys/signing-public.pem --json',
    )
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<VerifyFlags>();
      await withContext(flags, async ({ config, configDir, store, output }) => {
        const publicKeys = flags.publicKey.length ? await loadPublicKeys(flags.publicKey) : await configuredPublicKeys(config, configDir);
        const encryptionKey = encryptionKeyFor(config);
        const channels = flags.channel ? [requireChannel(flags.channel, '')] : await listChannels(store);
        // Verifying nothing must not pass: it is almost always a mistyped store.
        if (channels.length === 0) throw new UserError(`nothing to verify: no channel in ${store.location}; check --store (or "store" in the config)`, ExitCode.failure);
        const step = output.step(`verifying ${channels.length} channel(s) in ${store.location}`);
        const report = await verifyReleases(storeSource(store), channels, {
          publicKeys,
          decryptionKeys: encryptionKey ? [encryptionKey] : [],
          archivedReleases: (channel, id) => readArchivedReleases(store, channel, id),
          onRelease: (channel, id, version) => step.update(`verifying ${channel}: ${id}@${version}`),
        });
        if (report.problems.length) step.fail(`${report.problems.length} problem(s) in ${store.location}`);
        else step.succeed(`verified ${store.location}`);
        if (!publicKeys.length) output.warn('signatures not checked: pass --public-key or configure signing.privateKey');
        output.result(report, () => describeReport(report));
        if (report.problems.length) process.exitCode = ExitCode.failure;
      });
    });
}

/** The publisher holds the private key: its public half is what devices trust. */
async function configuredPublicKeys(config: Config, configDir: string): Promise<KeyObject[]> {
  const signer = signerFor(config, configDir);
  return signer ? [createPublicKey((await signer()).key)] : [];
}

function describeReport(report: VerifyReport): string {
  const { checked } = report;
  const summary = `${checked.releases} release(s), ${checked.objects} object(s), ${checked.fullPackagesUnpacked} full package(s) unpacked, ${checked.deltasRebuilt} delta(s) rebuilt${checked.signatures ? ', signatures checked' : ''}`;
  const lines = [
    ...report.problems.map((item) => `✖ ${item.key}: ${item.problem}`),
    ...report.skipped.map((item) => `- ${item.key}: ${item.problem}`),
    report.problems.length ? `${report.problems.length} problem(s) in ${summary}` : `no problems in ${summary}`,
  ];
  return lines.join('\n');
}
