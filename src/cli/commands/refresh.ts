/**
 * `refresh [--channel C]`: every channel index, switches and app releases (or
 * one channel's) written again with one more version and a fresh expiry
 * (`signing.indexLifetime`), nothing else changed. Devices refuse an expired
 * document: run it on a schedule.
 *
 * JSON: { channels: [{ channel, version, expires, switches?: { version, expires }, appReleases?: { version, expires } }], dryRun }
 */
import type { Command } from 'commander';
import { refreshIndexes, type RefreshedChannel } from '../../workflows/refresh.js';
import { withContext, type GlobalOptions } from '../context.js';
import { dryRunNote } from '../render.js';
import type { Session } from '../session.js';

interface RefreshFlags extends GlobalOptions {
  channel?: string;
}

export function registerRefresh(program: Command, session: Session): void {
  program
    .command('refresh')
    .description('write each channel index, switches and app releases again with a new version and expiry (run on a schedule: devices refuse an expired one)')
    .option('--channel <name>', 'only this channel (default: every channel in the store)')
    .option('--dry-run', 'show what would be written, write nothing')
    .option('-y, --yes', 'do not ask for confirmation (accepted for scripts: this command never asks)')
    .addHelpText('after', '\nExamples:\n  $ update-publish refresh\n  $ update-publish refresh --channel production --json')
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<RefreshFlags>();
      await withContext(session, flags, async (context) => {
        const channel = flags.channel === undefined ? undefined : await context.knownChannel(flags.channel);
        const result = await refreshIndexes(context, channel);
        context.output.result(result, () =>
          result.channels.length === 0
            ? `no channels in ${context.store.location} yet: nothing to refresh`
            : result.channels.map((item) => `${dryRunNote(result.dryRun)}${item.channel}: ${describeRefresh(item)}`).join('\n'),
        );
      });
    });
}

/** "index version 8, expires …; switches version 4, expires …" */
const describeRefresh = (item: RefreshedChannel) =>
  [
    item.version !== undefined && `index version ${item.version}, expires ${item.expires}`,
    item.switches && `switches version ${item.switches.version}, expires ${item.switches.expires}`,
    item.appReleases && `app releases version ${item.appReleases.version}, expires ${item.appReleases.expires}`,
  ]
    .filter(Boolean)
    .join('; ');
