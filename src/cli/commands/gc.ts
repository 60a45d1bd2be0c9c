import type { Command } from 'commander';
import { UserError } from '../../errors.js';
import { plural } from '../../format.js';
import { parseAge, type KeptVersion, type Retention } from '../../release/gc-plan.js';
import { collectGarbage } from '../../workflows/gc.js';
import { withContext, type GlobalOptions } from '../context.js';
import type { Session } from '../session.js';

/**
 * gc --json: { "dryRun", "olderThan", "deleted": [keys], "abortedUploads": [{ "key", "uploadId" }], "keptRecent": [version dirs],
 *   "kept": [{ "package", "version", "reasons" }], "prunedArchive": [{ "channel", "package", "versions" }] }
 * (in a dry run "deleted" and "prunedArchive" list what would go).
 */
interface GcFlags extends GlobalOptions {
  olderThan: string;
  keepArchived?: string;
}

export function registerGc(program: Command, session: Session): void {
  program
    .command('gc')
    .description('remove what no channel serves and no retention keeps: archived releases beyond the retention, unreferenced versions, stale uploads (dry run unless --yes)')
    .option('--older-than <age>', 'only objects written longer ago than this (e.g. 30d, 12h): a publish may be under way', '30d')
    .option('--keep-archived <n>', 'keep the newest N archived releases per package and channel (default: config retention.keepArchived, else all)')
    .option('--dry-run', 'list what would be removed (the default without --yes)')
    .option('-y, --yes', 'really delete')
    .addHelpText(
      'after',
      '\nExamples:\n  $ update-publish gc                      # what would go, and what stays and why\n  $ update-publish gc --keep-archived 3 --yes\n  $ update-publish gc --older-than 7d --yes',
    )
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<GcFlags>();
      const maxAgeMs = parseAge(flags.olderThan);
      const keepArchived = flags.keepArchived === undefined ? undefined : wholeNumber('--keep-archived', flags.keepArchived);
      // Deleting is the exception: without --yes, gc only reports.
      await withContext(session, { ...flags, dryRun: flags.dryRun || !flags.yes }, async (context) => {
        const configured = context.config.retention;
        const retention: Retention = {
          keepArchived: keepArchived ?? configured?.keepArchived,
          olderThanMs: configured?.olderThan === undefined ? undefined : parseAge(configured.olderThan, 'retention.olderThan'),
        };
        const result = await collectGarbage(context, maxAgeMs, retention);
        const { dryRun, deleted, abortedUploads, keptRecent, kept, prunedArchive } = result;
        for (const line of describeKept(kept)) context.output.info(line);
        const pruned = prunedArchive.reduce((sum, item) => sum + item.versions.length, 0);
        context.output.result(
          { dryRun, olderThan: flags.olderThan, deleted, abortedUploads, keptRecent, kept, prunedArchive },
          () =>
            [
              pruned > 0 && `${dryRun ? 'would drop' : 'dropped'} ${plural(pruned, 'archived release')} (${prunedArchive.map((item) => `${item.package} ${item.versions.join(', ')} on ${item.channel}`).join('; ')})`,
              `${dryRun ? 'would delete' : 'deleted'} ${plural(deleted.length, 'object')}, ${dryRun ? 'would abort' : 'aborted'} ${plural(abortedUploads.length, 'upload')}` +
                (keptRecent.length ? `; kept ${plural(keptRecent.length, 'unreferenced version')} newer than ${flags.olderThan}` : ''),
            ]
              .filter(Boolean)
              .join('\n'),
        );
      });
    });
}

function wholeNumber(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UserError(`${flag} '${text}' is not a whole number; give e.g. ${flag} 3`);
  return Number(text);
}

/** "kept maps 1.0.4: served on production" — one line per version, grouped by why. */
function describeKept(kept: KeptVersion[]): string[] {
  const byReasons = new Map<string, string[]>();
  for (const item of kept) {
    const why = item.reasons.join('; ');
    byReasons.set(why, [...(byReasons.get(why) ?? []), `${item.package} ${item.version}`]);
  }
  return [...byReasons].map(([why, versions]) => `kept ${versions.join(', ')}: ${why}`);
}
