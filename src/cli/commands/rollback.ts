/**
 * `rollback <pkg> [--to <version>]`: serve the previous active release (or
 * the named one) again. Every release above it is marked rolled-back, so a
 * device holding one is sent back (a delta when one exists, else the full
 * package); a named release that was halted or rolled back is made active.
 *
 * JSON: { channel, package, from, to, rolledBack: [versions], dryRun, hooks }
 */
import type { Command } from 'commander';
import { rollback } from '../../release/operations.js';
import { requireChannel, withContext } from '../context.js';
import { addChannelOption, addWriteOptions, writeReleaseChange, type WriteFlags } from '../../workflows/change-release.js';

interface RollbackFlags extends WriteFlags {
  to?: string;
}

export function registerRollback(program: Command): void {
  addWriteOptions(addChannelOption(program.command('rollback <package>')))
    .description('send devices back to the previous (or named) release')
    .option('--to <version>', 'the release to serve again (default: the newest active one before the current release)')
    .addHelpText('after', '\nExamples:\n  $ update-publish rollback maps\n  $ update-publish rollback maps --to 1.2.0 --channel staging --yes --json')
    .action(async (packageId: string, _flags, command: Command) => {
      const flags = command.optsWithGlobals<RollbackFlags>();
      await withContext(flags, async (context) => {
        const channel = requireChannel(flags.channel, context.config.channel);
        const { change, hooks } = await writeReleaseChange(context, {
          channel,
          packageId,
          apply: (index) => rollback(index, packageId, flags.to),
          hooks: flags.hooks,
          question: ({ to, rolledBack }) =>
            `Roll ${packageId} on '${channel}' back to ${to}${rolledBack.length ? ` (marks ${rolledBack.join(', ')} rolled-back)` : ''}?`,
          history: ({ from, to, rolledBack }) => ({ action: 'rollback', version: to, from, to, details: { rolledBack } }),
          event: ({ target, from }) => ({ name: 'rollback', release: target, previousVersion: from }),
        });
        const { from, to, rolledBack } = change;
        context.output.result(
          { channel, package: packageId, from, to, rolledBack, dryRun: context.dryRun, hooks },
          () =>
            `${context.dryRun ? '[dry-run] nothing written. ' : ''}${packageId} on ${channel}: ${from ?? '(none)'} → ${to}${rolledBack.length ? `; rolled back ${rolledBack.join(', ')}` : ''}`,
        );
      });
    });
}
