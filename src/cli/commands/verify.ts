import type { Command } from 'commander';
import type { VerifyReport } from '../../workflows/verify-releases.js';
import { ExitCode } from '../../errors.js';
import { plural } from '../../format.js';
import { verifyStore } from '../../workflows/verify.js';
import { withContext, type GlobalOptions } from '../context.js';
import type { Session } from '../session.js';
import { collect, loadPublicKeys } from '../trust-options.js';

interface VerifyFlags extends GlobalOptions {
  channel?: string;
  publicKey?: string[];
}

export function registerVerify(program: Command, session: Session): void {
  program
    .command('verify')
    .description('check every release in the store, archived ones too: objects present, sizes and SHA-256, signatures, deltas rebuild their target')
    .option('--channel <name>', 'only this channel (default: every channel in the store)')
    .option('--public-key <file>', 'trusted signing public key (default: derived from signing.privateKey when configured)', collect)
    .addHelpText(
      'after',
      '\nExit code 1 when any problem is found.\n\nExamples:\n  $ update-publish verify\n  $ update-publish verify --channel production --public-key keys/signing-public.pem --json',
    )
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<VerifyFlags>();
      await withContext(session, flags, async (context) => {
        const publicKeys = await loadPublicKeys(session, flags.publicKey ?? []);
        const report = await verifyStore(context, { channel: flags.channel === undefined ? undefined : await context.knownChannel(flags.channel), publicKeys });
        context.output.result(report, () => describeReport(report));
        if (report.problems.length) session.exitCode = ExitCode.failure;
      }, { configOptional: true });
    });
}

function describeReport(report: VerifyReport): string {
  const { checked } = report;
  const summary = `${plural(checked.releases, 'release')}, ${plural(checked.objects, 'object')}, ${plural(checked.fullPackagesUnpacked, 'full package')} unpacked, ${plural(checked.deltasRebuilt, 'delta')} rebuilt${checked.signatures ? ', signatures checked' : ''}`;
  const lines = [
    ...report.problems.map((item) => `✖ ${item.key}: ${item.problem}`),
    ...report.skipped.map((item) => `- ${item.key}: ${item.problem}`),
    report.problems.length ? `${plural(report.problems.length, 'problem')} in ${summary}` : `no problems in ${summary}`,
  ];
  return lines.join('\n');
}
