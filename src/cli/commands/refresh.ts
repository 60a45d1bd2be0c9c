/**
 * `refresh [--channel C]`: every channel index (or one) written again with one
 * more version and a fresh expiry (`signing.indexLifetime`), nothing else
 * changed. Devices refuse an expired index: run it on a schedule.
 *
 * JSON: { channels: [{ channel, version, expires }], dryRun }
 */
import type { Command } from 'commander';
import { refreshIndexes } from '../../workflows/refresh.js';
import { withContext, type GlobalOptions } from '../context.js';
import { dryRunNote } from '../render.js';
import type { Session } from '../session.js';

interface RefreshFlags extends GlobalOptions {
  channel?: string;
}

export function registerRefresh(program: Command, session: Session): void {
  program
    .command('refresh')
    .description('write each channel index again with a new version and expiry (run on a schedule: devices refuse an expired index)')
    .option('--channel <name>', 'only this channel (default: every channel in the store)')
    .option('--dry-run', 'show what would be written, write nothing')
    .addHelpText('after', '\nExamples:\n  $ update-publish refresh\n  $ update-publish refresh --channel production --json')
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<RefreshFlags>();
      await withContext(session, flags, async (context) => {
        const channel = flags.channel === undefined ? undefined : await context.knownChannel(flags.channel);
        const result = await refreshIndexes(context, channel);
        context.output.result(result, () =>
          result.channels.length === 0
            ? `no channels in ${context.store.location} yet: nothing to refresh`
            : result.channels.map((item) => `${dryRunNote(result.dryRun)}${item.channel}: index version ${item.version}, expires ${item.expires}`).join('\n'),
        );
      });
    });
}
