/**
 * `rollout tick [pkg…]`: advance, hold or halt each rolling-out release by
 * its receipts and the config's rolloutPolicy; run hourly from CI.
 *
 * JSON: { decisions: [ { package, version, channel, decision, from, to, reason,
 *   evidence: { launches, failures, failureRate, failureRateLower, failureRateUpper, stageStartedAt } } ] }
 * --exit-code: exit 1 when a release was halted.
 */
import type { Command } from 'commander';
import { assertKnownPackages } from '../../config/schema.js';
import { ExitCode } from '../../errors.js';
import { rolloutTick } from '../../workflows/rollout-tick.js';
import { withContext } from '../context.js';
import { percent } from '../health-render.js';
import { dryRunNote } from '../render.js';
import type { Session } from '../session.js';
import { addChannelOption, addWriteOptions, type WriteFlags } from '../write-options.js';
import { nowOf } from './health.js';

interface TickFlags extends WriteFlags {
  receipts?: string;
  now?: string;
  exitCode?: boolean;
}

export function registerRolloutTick(rollout: Command, session: Session): void {
  addWriteOptions(addChannelOption(rollout.command('tick [packages...]')))
    .description('advance, hold or halt each rolling-out release by its device receipts and the config rolloutPolicy (run it hourly)')
    .option('--receipts <source>', 'log folder or file, s3://bucket/prefix or athena://workgroup/database.table (default: config receipts.source)')
    .option('--now <iso>', 'decide as at this ISO-8601 time (default: now); recorded times use it too')
    .option('--exit-code', 'exit 1 when a release was halted')
    .addHelpText(
      'after',
      '\nDecisions: advanced (to the next stage), held (with the reason), halted, complete (advanced to 100 %).\nHeld and --dry-run write nothing; a rerun at the same moment changes nothing.\n\nExamples:\n  $ update-publish rollout tick --yes\n  $ update-publish rollout tick maps --channel production --json --exit-code',
    )
    .action(async (packages: string[], _flags, command: Command) => {
      const flags = command.optsWithGlobals<TickFlags>();
      const now = nowOf(flags.now);
      await withContext(session, flags, async (context) => {
        const packageIds = packages.length ? assertKnownPackages(context.config, packages) : [];
        const channel = await context.channel(flags.channel);
        const { decisions } = await rolloutTick(context, { channel, packageIds, source: flags.receipts, now, hooks: flags.hooks });
        if (flags.exitCode && decisions.some((decision) => decision.decision === 'halted')) session.exitCode = ExitCode.failure;
        context.output.result({ decisions }, () =>
          decisions.length === 0
            ? `nothing is rolling out on '${channel}' under a rolloutPolicy`
            : decisions
                .map(
                  (decision) =>
                    `${dryRunNote(context.dryRun)}${decision.package} ${decision.version} on ${channel}: ${decision.decision}${decision.from !== decision.to ? ` ${decision.from} % → ${decision.to} %` : ` at ${decision.from} %`} — ${decision.reason} (launches ${decision.evidence.launches}, failure rate ${percent(decision.evidence.failureRate)})`,
                )
                .join('\n'),
        );
      });
    });
}
