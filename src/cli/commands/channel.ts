/**
 * `channel create <name>` / `channel ls` / `channel rm <name> [--force]`: the
 * channels a store has. A channel exists once created (its empty index), once
 * released to, or when the config names it (`channel`, `channels`); every
 * other name a command is given is refused as a typo.
 *
 * JSON: create → { channel, created: true, dryRun }; ls → { channels: [{ name, inStore, configured, releases, served }] };
 *       rm → { channel, removed: [keys], dryRun }
 */
import type { Command } from 'commander';
import { listKnownChannels } from '../../channel/channels.js';
import { formatTable, plural } from '../../format.js';
import { createChannelNamed, removeChannelNamed } from '../../workflows/channels.js';
import { requireChannelName, withContext, type GlobalOptions } from '../context.js';
import { dryRunNote } from '../render.js';
import type { Session } from '../session.js';

interface ChannelRmFlags extends GlobalOptions {
  force?: boolean;
}

export function registerChannel(program: Command, session: Session): void {
  const channel = program.command('channel').description('create, list and remove channels (a channel another command names must exist)');

  channel
    .command('create <name>')
    .description('create an empty channel, so publish and promote can name it')
    .option('--dry-run', 'show what would be written, write nothing')
    .option('-y, --yes', 'do not ask for confirmation')
    .addHelpText('after', '\nExamples:\n  $ update-publish channel create staging\n  $ update-publish channel create beta --json')
    .action(async (name: string, _flags, command: Command) => {
      const flags = command.optsWithGlobals<GlobalOptions>();
      await withContext(session, flags, async (context) => {
        const result = await createChannelNamed(context, requireChannelName(name));
        context.output.result(result, () => `${dryRunNote(context.dryRun)}created channel ${name} in ${context.store.location}`);
      }, { configOptional: true });
    });

  channel
    .command('ls')
    .description('list the channels: in the store, named by the config, and what each serves')
    .addHelpText('after', '\nExamples:\n  $ update-publish channel ls\n  $ update-publish channel ls --store s3://my-bucket/updates --json')
    .action(async (_flags, command: Command) => {
      await withContext(session, command.optsWithGlobals<GlobalOptions>(), async ({ store, output, configuredChannels }) => {
        const channels = await listKnownChannels(store, configuredChannels);
        output.result({ channels }, () =>
          channels.length
            ? formatTable(
                ['channel', 'releases', 'served', 'where'],
                channels.map((item) => [
                  item.name,
                  String(item.releases),
                  String(item.served),
                  [item.inStore && 'store', item.configured && 'config'].filter(Boolean).join(', '),
                ]),
              )
            : `no channels in ${store.location}; run 'update-publish channel create <name>'`,
        );
      }, { configOptional: true });
    });

  channel
    .command('rm <name>')
    .description('remove a channel with its archive and history (refused while it serves releases, unless --force)')
    .option('--force', 'remove it even though it serves releases (its devices then get nothing)')
    .option('--dry-run', 'show what would be removed, remove nothing')
    .option('-y, --yes', 'do not ask for confirmation')
    .addHelpText('after', '\nExamples:\n  $ update-publish channel rm prodution\n  $ update-publish channel rm old-beta --force --yes --json')
    .action(async (name: string, _flags, command: Command) => {
      const flags = command.optsWithGlobals<ChannelRmFlags>();
      await withContext(session, flags, async (context) => {
        const result = await removeChannelNamed(context, { channel: requireChannelName(name), force: Boolean(flags.force) });
        context.output.result(result, () => `${dryRunNote(context.dryRun)}removed channel ${name} (${plural(result.removed.length, 'object')})`);
      }, { configOptional: true });
    });
}
