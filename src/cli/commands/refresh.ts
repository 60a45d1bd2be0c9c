/**
 * `refresh [--channel C]`: every channel index, switches and app releases (or
 * one channel's) written again with one more version and a fresh expiry
 * (`signing.indexLifetime`), nothing else changed. Devices refuse an expired
 * document: run it on a schedule.
 *
 * `--accept-index N --channel C`: a person checked the stored index (version N)
 * and builds on it although the channel's records say a newer one was written
 * or cannot be read (docs/keys-and-rotation.md).
 *
 * JSON: { channels: [{ channel, version, expires, accepted?: { version, floor, nextVersion, movedAside: [{ key, to, problem }] }, switches?: { version, expires }, appReleases?: { version, expires } }], dryRun }
 */
import type { Command } from 'commander';
import { UserError } from '../../errors.js';
import { refreshIndexes, type RefreshedChannel } from '../../workflows/refresh.js';
import { withContext, type GlobalOptions } from '../context.js';
import { dryRunNote } from '../render.js';
import type { Session } from '../session.js';

interface RefreshFlags extends GlobalOptions {
  channel?: string;
  acceptIndex?: string;
}

export function registerRefresh(program: Command, session: Session): void {
  program
    .command('refresh')
    .description('write each channel index, switches and app releases again with a new version and expiry (run on a schedule: devices refuse an expired one)')
    .option('--channel <name>', 'only this channel (default: every channel in the store)')
    .option('--accept-index <version>', "build on the channel's stored index (its version, as checked) although its records say a newer one was written or are damaged: moves damaged records aside, numbers the next index above every recorded version (with --channel)")
    .option('--dry-run', 'show what would be written, write nothing')
    .option('-y, --yes', 'do not ask for confirmation (only --accept-index asks)')
    .addHelpText('after', '\nExamples:\n  $ update-publish refresh\n  $ update-publish refresh --channel production --json\n  $ update-publish refresh --channel production --accept-index 12 --yes')
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<RefreshFlags>();
      await withContext(session, flags, async (context) => {
        const channel = flags.channel === undefined ? undefined : await context.knownChannel(flags.channel);
        const result = await refreshIndexes(context, channel, acceptedVersion(flags.acceptIndex));
        context.output.result(result, () =>
          result.channels.length === 0
            ? `no channels in ${context.store.location} yet: nothing to refresh`
            : result.channels.map((item) => `${dryRunNote(result.dryRun)}${item.channel}: ${describeRefresh(item)}`).join('\n'),
        );
      });
    });
}

/** A whole index version from --accept-index, or a usage error. */
function acceptedVersion(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) <= 0) throw new UserError(`--accept-index '${value}' is not an index version (a whole positive number)`);
  return Number(value);
}

/** "index version 8, expires …; switches version 4, expires …" */
const describeRefresh = (item: RefreshedChannel) =>
  [
    item.accepted &&
      `accepted index version ${item.accepted.version}${item.accepted.movedAside.map((moved) => `, moved ${moved.key} aside to ${moved.to}`).join('')}`,
    item.version !== undefined && (item.expires === undefined ? `index version ${item.version}` : `index version ${item.version}, expires ${item.expires}`),
    item.switches && `switches version ${item.switches.version}, expires ${item.switches.expires}`,
    item.appReleases && `app releases version ${item.appReleases.version}, expires ${item.appReleases.expires}`,
  ]
    .filter(Boolean)
    .join('; ');
