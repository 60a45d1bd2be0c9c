/**
 * `whitelist upload <name> <file>` / `whitelist ls` / `whitelist rm <name>`:
 * lists of device or user ids that rules refer to by name (`--whitelist qa`).
 * A file is one id a line, or CSV with the id first (optional header). Stored
 * hash-partitioned (see src/protocol/whitelist.ts): a device reads one shard.
 *
 * JSON: upload → { name, count, shards, dryRun }; ls → { whitelists: [{ name, count, shards, uploadedAt }] };
 *       rm → { name, removed: true, dryRun }
 */
import type { Command } from 'commander';
import { listWhitelists, requireWhitelistName } from '../../channel/whitelists.js';
import { formatTable, plural } from '../../format.js';
import { removeWhitelistNamed, uploadWhitelistFile } from '../../workflows/whitelist.js';
import { withContext, type GlobalOptions } from '../context.js';
import { dryRunNote } from '../render.js';
import type { Session } from '../session.js';

export function registerWhitelist(program: Command, session: Session): void {
  const whitelist = program
    .command('whitelist')
    .description('manage whitelists: devices or users that get a release whatever its rollout');

  whitelist
    .command('upload <name> <file>')
    .description('store (or replace) a whitelist from a file: one id a line, or CSV with the id first')
    .option('--dry-run', 'read and check the file, write nothing')
    .option('-y, --yes', 'do not ask before replacing an existing list')
    .addHelpText('after', '\nExamples:\n  $ update-publish whitelist upload qa qa-devices.txt\n  $ update-publish whitelist upload beta users.csv --yes --json')
    .action(async (name: string, file: string, _flags, command: Command) => {
      const flags = command.optsWithGlobals<GlobalOptions>();
      requireWhitelistName(name);
      await withContext(session, flags, async (context) => {
        const result = await uploadWhitelistFile(context, name, file);
        const { count, shards, channels } = result;
        context.output.result(result, () =>
          `${dryRunNote(context.dryRun)}whitelist ${name}: ${plural(count, 'id')} in ${plural(shards, 'shard')}${channels.length ? `; the index of ${channels.join(', ')} now names this upload` : ''}`,
        );
      });
    });

  whitelist
    .command('ls')
    .description('list stored whitelists')
    .action(async (_flags, command: Command) => {
      await withContext(session, command.optsWithGlobals<GlobalOptions>(), async ({ store, output }) => {
        const whitelists = await listWhitelists(store);
        output.result({ whitelists }, () =>
          whitelists.length
            ? formatTable(
                ['name', 'ids', 'shards', 'uploaded'],
                whitelists.map((meta) => [meta.name, String(meta.count), String(meta.shards), meta.uploadedAt.slice(0, 19).replace('T', ' ')]),
              )
            : "no whitelists yet: run 'update-publish whitelist upload <name> <file>'",
        );
      });
    });

  whitelist
    .command('rm <name>')
    .description('remove a whitelist (rules naming it then match nobody through it)')
    .option('--dry-run', 'show what would be removed, remove nothing')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (name: string, _flags, command: Command) => {
      const flags = command.optsWithGlobals<GlobalOptions>();
      await withContext(session, flags, async (context) => {
        const result = await removeWhitelistNamed(context, name);
        context.output.result(result, () => `${dryRunNote(context.dryRun)}removed whitelist ${name}`);
      });
    });
}
