/**
 * `rollback <pkg> [--to <version>]`: serve the previous active release (or
 * the named one) again. Every release above it is marked rolled-back, so a
 * device holding one is sent back (a delta when one exists, else the full
 * package); a named release that was halted or rolled back is made active.
 *
 * JSON: { channel, package, from, to, rolledBack: [versions], dryRun, hooks }
 */
import type { Command } from 'commander';
import { rollbackRelease } from '../../workflows/change-release.js';
import { withContext } from '../context.js';
import { dryRunNote, noteHookFailures } from '../render.js';
import type { Session } from '../session.js';
import { addChannelOption, addWriteOptions, type WriteFlags } from '../write-options.js';

interface RollbackFlags extends WriteFlags {
  to?: string;
}

export function registerRollback(program: Command, session: Session): void {
  addWriteOptions(addChannelOption(program.command('rollback <package>')))
    .description('send devices back to the previous (or named) release')
    .option('--to <version>', 'the release to serve again (default: the newest active one before the current release)')
    .addHelpText('after', '\nExamples:\n  $ update-publish rollback maps\n  $ update-publish rollback maps --to 1.2.0 --channel staging --yes --json')
    .action(async (packageId: string, _flags, command: Command) => {
      const flags = command.optsWithGlobals<RollbackFlags>();
      await withContext(session, flags, async (context) => {
        const channel = await context.channel(flags.channel);
        const result = await rollbackRelease(context, { channel, packageId, to: flags.to, hooks: flags.hooks });
        noteHookFailures(session, result.hooks);
        const { from, to, rolledBack } = result;
        context.output.result(
          result,
          () => `${dryRunNote(context.dryRun)}${packageId} on ${channel}: ${from ?? '(none)'} → ${to}${rolledBack.length ? `; rolled back ${rolledBack.join(', ')}` : ''}`,
        );
      });
    });
}
