/**
 * `promote <pkg>[@version] --from <channel> --to <channel> [rule flags]`: the
 * same stored bytes as a new release on the target channel (nothing is
 * uploaded). Without @version, the source's newest active release. Rules come
 * from the rule flags / preset (defaults: rollout 100), not from the source.
 *
 * JSON: { from, to, package, version, rules, dryRun, hooks }
 */
import type { Command } from 'commander';
import { readReleaseManifest } from '../../client/fetch/documents.js';
import { storeSource } from '../../client/fetch/source.js';
import { UserError } from '../../errors.js';
import { promote } from '../../release/operations.js';
import { buildRules, type RuleFlags } from '../../release/rules.js';
import { assertWhitelistsExist } from '../../channel/whitelists.js';
import { readArchivedReleases, withArchivedReleases } from '../../channel/archive.js';
import { parsePackageTarget as parseTarget, requireChannel, withContext } from '../context.js';
import { describeRules } from './status.js';
import { addRuleOptions } from '../rule-options.js';
import { addWriteOptions, requireExistingChannel, writeReleaseChange, type WriteFlags } from '../../workflows/change-release.js';

interface PromoteFlags extends WriteFlags, RuleFlags {
  from: string;
  to?: string;
}

export function registerPromote(program: Command): void {
  addRuleOptions(addWriteOptions(program.command('promote <package[@version]>')))
    .description("release a version from one channel on another: same bytes, new rules, nothing re-uploaded")
    .requiredOption('--from <channel>', 'channel the release is on')
    .option('--to <channel>', 'channel to release it on (default: config channel)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ update-publish promote maps --from staging --to production\n  $ update-publish promote maps@1.2.0 --from staging --to production --rollout 10 --yes --json',
    )
    .action(async (argument: string, _flags, command: Command) => {
      const flags = command.optsWithGlobals<PromoteFlags>();
      const { packageId, version } = parseTarget(argument);
      await withContext(flags, async (context) => {
        const from = requireChannel(flags.from, '');
        const to = requireChannel(flags.to, context.config.channel);
        if (from === to) throw new UserError(`--from and --to are both '${from}'; promote copies a release to another channel`);
        const rules = buildRules(flags, context.config.rules);
        await assertWhitelistsExist(context.store, rules.whitelist);
        const { index: fromIndex } = await requireExistingChannel(context.store, from);
        // An older version may have left the source's index for its archive: it is still that channel's release.
        const source = withArchivedReleases(fromIndex, packageId, await readArchivedReleases(context.store, from, packageId));
        const { change, hooks } = await writeReleaseChange(context, {
          channel: to,
          packageId,
          mayCreateChannel: true,
          apply: (target) => promote(source, target, packageId, version, rules),
          // Devices on the target channel will read this manifest: one that is not what the index lists stays where it is.
          check: async ({ release }) => void (await readReleaseManifest(storeSource(context.store), packageId, release, undefined)),
          hooks: flags.hooks,
          question: ({ release }) => `Promote ${packageId} ${release.version} from '${from}' to '${to}' (${describeRules(release.rules)}, rollout ${rules.rollout}%)?`,
          history: ({ release }) => ({ action: 'promote', version: release.version, from, to, details: { rules } }),
          event: ({ release, previousVersion }) => ({ name: 'promote', release, previousVersion }),
        });
        const promoted = change.release.version;
        context.output.result(
          { from, to, package: packageId, version: promoted, rules, dryRun: context.dryRun, hooks },
          () => `${context.dryRun ? '[dry-run] nothing written. ' : ''}${packageId} ${promoted}: ${from} → ${to} (rollout ${rules.rollout}%, ${describeRules(change.release.rules)})`,
        );
      });
    });
}
