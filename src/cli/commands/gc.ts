import type { Command } from 'commander';
import { plural } from '../../format.js';
import { parseAge } from '../../release/gc-plan.js';
import { collectGarbage } from '../../workflows/gc.js';
import { withContext, type GlobalOptions } from '../context.js';
import type { Session } from '../session.js';

/**
 * gc --json: { "dryRun", "olderThan", "deleted": [keys], "abortedUploads": [{ "key", "uploadId" }], "keptRecent": [version dirs] }
 * (in a dry run "deleted" lists what would be deleted).
 */
interface GcFlags extends GlobalOptions {
  olderThan: string;
}

export function registerGc(program: Command, session: Session): void {
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
      await withContext(session, { ...flags, dryRun: flags.dryRun || !flags.yes }, async (context) => {
        const result = await collectGarbage(context, maxAgeMs);
        const { dryRun, deleted, abortedUploads, keptRecent } = result;
        context.output.result(
          { dryRun, olderThan: flags.olderThan, deleted, abortedUploads, keptRecent },
          () =>
            `${dryRun ? 'would delete' : 'deleted'} ${plural(deleted.length, 'object')}, ${dryRun ? 'would abort' : 'aborted'} ${plural(abortedUploads.length, 'upload')}` +
            (keptRecent.length ? `; kept ${plural(keptRecent.length, 'unreferenced version')} newer than ${flags.olderThan}` : ''),
        );
      });
    });
}
