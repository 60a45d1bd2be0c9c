/**
 * `edit <pkg>[@version] [--mandatory | --no-mandatory] [--platform …]
 * [--app-version …] [--starts-at …] [--ends-at …] [--attr …] [--whitelist …]
 * [--message …]`: change a live release's targeting and notes in place
 * (rollout has its own command). Without @version, the package's current
 * release; the one shown in the confirmation is the one changed.
 *
 * JSON: { channel, package, version, previous: { rules, message }, current: { rules, message }, changed, dryRun, hooks }
 */
import type { Command } from 'commander';
import { assertKnownPlatforms } from '../../release/platforms.js';
import { parseMessage, parseRulePatch, type RuleFlags } from '../../release/rules.js';
import { describeRulesChange } from '../../release/rules.js';
import { editReleaseRules } from '../../workflows/change-release.js';
import { provenanceOf } from '../../workflows/provenance.js';
import { UserError } from '../../errors.js';
import { parsePackageTarget, withContext } from '../context.js';
import { dryRunNote, noteHookFailures } from '../render.js';
import type { Session } from '../session.js';
import { addChannelOption, addWriteOptions, type WriteFlags } from '../write-options.js';

interface EditFlags extends WriteFlags, Omit<RuleFlags, 'rules' | 'rollout'> {
  message?: string;
}

export function registerEdit(program: Command, session: Session): void {
  addWriteOptions(addChannelOption(program.command('edit <package[@version]>')))
    .description("change a live release's targeting and notes in place (default: the package's current release)")
    .option('--mandatory', 'devices must install this release')
    .option('--no-mandatory', 'devices may skip this release')
    .option('--platform <list>', 'platforms served, e.g. ios,android')
    .option('--app-version <range>', "app versions served, a semver range, e.g. '>=2.0.0 <3'")
    .option('--starts-at <iso>', 'serve from this ISO-8601 time with offset')
    .option('--ends-at <iso>', 'stop serving at this ISO-8601 time with offset')
    .option('--attr <k=v,…>', 'device attributes that must match exactly, e.g. region=eu')
    .option('--whitelist <names>', 'whitelists whose devices get it even outside the rollout')
    .option('--message <text>', 'release notes (replace the release\'s)')
    .addHelpText(
      'after',
      `
Fields not given keep their value; the rollout changes with 'update-publish rollout'.

Examples:
  $ update-publish edit maps --mandatory
  $ update-publish edit maps@1.0.3 --no-mandatory --platform ios --message 'iOS only: Android build is broken'
  $ update-publish edit maps --ends-at 2026-12-31T23:00:00Z --channel staging --yes --json`,
    )
    .action(async (target: string, _flags, command: Command) => {
      const flags = command.optsWithGlobals<EditFlags>();
      const { packageId, version } = parsePackageTarget(target);
      const patch = parseRulePatch(flags);
      const message = flags.message === undefined ? undefined : parseMessage(flags.message);
      if (Object.keys(patch).length === 0 && message === undefined) {
        throw new UserError('edit needs something to change: --mandatory, --no-mandatory, --platform, --app-version, --starts-at, --ends-at, --attr, --whitelist or --message');
      }
      await withContext(session, flags, async (context) => {
        assertKnownPlatforms(patch.platforms, context.config.platforms);
        const channel = await context.channel(flags.channel);
        const provenance = await provenanceOf(message, context);
        const result = await editReleaseRules(context, { channel, packageId, version, patch, provenance, hooks: flags.hooks });
        noteHookFailures(session, result.hooks);
        context.output.result(result, () =>
          result.unchanged
            ? result.unchanged
            : `${dryRunNote(context.dryRun)}${packageId} ${result.version} on ${channel}: ${describeRulesChange(result.previous, result.current)}`,
        );
      });
    });
}
