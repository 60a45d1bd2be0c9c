/**
 * `promote <pkg>[@version] --from <channel> --to <channel> [rule flags]`: the
 * same stored bytes as a new release on the target channel (nothing is
 * uploaded). Without @version, the source's newest active release. Rules come
 * from the rule flags / preset (defaults: rollout 100), not from the source.
 *
 * JSON: { from, to, package, version, rules, message, commit, dryRun, hooks }
 */
import type { Command } from 'commander';
import { UserError } from '../../errors.js';
import { assertStillServable, buildRules, describeRulesWithRollout, parseMessage, type RuleFlags } from '../../release/rules.js';
import { provenanceOf } from '../../workflows/provenance.js';
import { promoteRelease } from '../../workflows/promote.js';
import { parsePackageTarget, withContext } from '../context.js';
import { dryRunNote, noteHookFailures } from '../render.js';
import { addMessageOption, addRuleOptions } from '../rule-options.js';
import type { Session } from '../session.js';
import { addWriteOptions, type WriteFlags } from '../write-options.js';

interface PromoteFlags extends WriteFlags, RuleFlags {
  message?: string;
  from: string;
  to?: string;
}

export function registerPromote(program: Command, session: Session): void {
  addMessageOption(addRuleOptions(addWriteOptions(program.command('promote <package[@version]>'))))
    .description("release a version from one channel on another: same bytes, new rules, nothing re-uploaded")
    .requiredOption('--from <channel>', 'channel the release is on')
    .option('--to <channel>', 'channel to release it on (default: config channel)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ update-publish promote maps --from staging --to production\n  $ update-publish promote maps@1.2.0 --from staging --to production --rollout 10 --yes --json',
    )
    .action(async (argument: string, _flags, command: Command) => {
      const flags = command.optsWithGlobals<PromoteFlags>();
      const { packageId, version } = parsePackageTarget(argument);
      const message = flags.message === undefined ? undefined : parseMessage(flags.message);
      await withContext(session, flags, async (context) => {
        const from = await context.knownChannel(flags.from);
        const to = await context.channel(flags.to);
        if (from === to) throw new UserError(`--from and --to are both '${from}'; promote copies a release to another channel`);
        const rules = buildRules(flags, context.config.rules, context.config.platforms);
        assertStillServable(rules);
        const provenance = await provenanceOf(message, context);
        const { release, ...result } = await promoteRelease(context, { packageId, version, from, to, rules, hooks: flags.hooks, provenance });
        noteHookFailures(session, result.hooks);
        context.output.result(
          result,
          () => `${dryRunNote(context.dryRun)}${packageId} ${result.version}: ${from} → ${to} (${describeRulesWithRollout(release.rules)})`,
        );
      });
    });
}
