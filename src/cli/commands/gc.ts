import type { Command } from 'commander';
import { listChannels } from '../../channel/catalog.js';
import { readIndex } from '../../channel/index-store.js';
import { readArchivedReleases, withArchivedReleases } from '../../channel/archive.js';
import { parseAge, planGc } from '../../release/gc-plan.js';
import { packagesPrefix } from '../../protocol/layout.js';
import { confirmOrSkip } from '../confirm.js';
import { withContext, type GlobalOptions } from '../context.js';

/**
 * gc --json: { "dryRun", "olderThan", "deleted": [keys], "abortedUploads": [{ "key", "uploadId" }], "keptRecent": [version dirs] }
 * (in a dry run "deleted" lists what would be deleted).
 */
interface GcFlags extends GlobalOptions {
  olderThan: string;
}

export function registerGc(program: Command): void {
  program
    .command('gc')
    .description('remove package versions no channel references, and stale multipart uploads (dry run unless --yes)')
    .option('--older-than <age>', 'only what is older than this (e.g. 30d, 12h)', '30d')
    .option('--dry-run', 'list what would be removed (the default without --yes)')
    .option('-y, --yes', 'really delete')
    .addHelpText('after', '\nExamples:\n  $ update-publish gc                      # what would go\n  $ update-publish gc --older-than 7d --yes')
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<GcFlags>();
      const maxAgeMs = parseAge(flags.olderThan);
      // Deleting is the exception: without --yes, gc only reports.
      await withContext({ ...flags, dryRun: flags.dryRun || !flags.yes }, async (context) => {
        const { store, output } = context;
        const indexes = [];
        for (const channel of await listChannels(store)) {
          // Archived releases left the index, but `rollback --to` can bring them back: they are live too.
          let { index } = await readIndex(store, channel);
          for (const id of Object.keys(index.packages)) {
            index = withArchivedReleases(index, id, await readArchivedReleases(store, channel, id));
          }
          indexes.push(index);
        }
        const plan = planGc(indexes, await store.list(packagesPrefix), await store.listOpenUploads(), new Date(), maxAgeMs);
        if (plan.deleteKeys.length && !(await confirmOrSkip(context, `Delete ${plan.deleteKeys.length} objects?`))) return;
        await store.delete(plan.deleteKeys);
        for (const upload of plan.abortUploads) await store.abortUpload(upload);
        output.result(
          {
            dryRun: context.dryRun,
            olderThan: flags.olderThan,
            deleted: plan.deleteKeys,
            abortedUploads: plan.abortUploads.map(({ key, uploadId }) => ({ key, uploadId })),
            keptRecent: plan.keptRecent,
          },
          () =>
            `${context.dryRun ? 'would delete' : 'deleted'} ${plan.deleteKeys.length} objects, ${context.dryRun ? 'would abort' : 'aborted'} ${plan.abortUploads.length} uploads` +
            (plan.keptRecent.length ? `; kept ${plan.keptRecent.length} unreferenced versions newer than ${flags.olderThan}` : ''),
        );
      });
    });
}
