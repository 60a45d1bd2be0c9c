/**
 * `hooks run <pkg>[@version] --channel C [--only TYPE]`: runs the post-release
 * hooks again for a release already in the index (after fixing a hook that
 * failed). The event is `publish` for that release.
 *
 * JSON: { channel, package, version, dryRun, hooks: [HookResult] }
 */
import type { Command } from 'commander';
import { formatHookResult } from '../../hooks/run-hooks.js';
import { rerunReleaseHooks } from '../../workflows/release-hooks.js';
import { parsePackageTarget, requireChannel, withContext, type GlobalOptions } from '../context.js';
import { noteHookFailures } from '../render.js';
import type { Session } from '../session.js';

interface HooksRunFlags extends GlobalOptions {
  channel?: string;
  only?: string;
}

export function registerHooks(program: Command, session: Session): void {
  program
    .command('hooks')
    .description('post-release hooks')
    .command('run <package[@version]>')
    .description('run the hooks again for a release in the index (default: its newest release)')
    .option('--channel <name>', 'channel of the release (default: config channel)')
    .option('--only <type-or-name>', 'only hooks of this type or name')
    .option('--dry-run', 'describe every call, make none')
    .addHelpText('after', '\nExamples:\n  $ update-publish hooks run maps --only cloudfront\n  $ update-publish hooks run maps@1.2.0 --channel staging --dry-run')
    .action(async (target: string, _flags, command: Command) => {
      const flags = command.optsWithGlobals<HooksRunFlags>();
      const { packageId, version } = parsePackageTarget(target);
      await withContext(session, flags, async (context) => {
        const channel = requireChannel(flags.channel, context.config.channel);
        const { version: ran, hooks } = await rerunReleaseHooks(context, { channel, packageId, version, only: flags.only });
        noteHookFailures(session, hooks);
        context.output.result(
          { channel, package: packageId, version: ran, dryRun: context.dryRun, hooks },
          () => hooks.map(formatHookResult).join('\n') || 'no hooks configured',
        );
      });
    });
}
