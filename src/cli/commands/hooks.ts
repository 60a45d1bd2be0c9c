/**
 * `hooks run <pkg>[@version] --channel C [--only TYPE]`: runs the post-release
 * hooks again for a release already in the index (after fixing a hook that
 * failed). The event is `publish` for that release.
 *
 * JSON: { channel, package, version, dryRun, hooks: [HookResult] }
 */
import type { Command } from 'commander';
import { UserError } from '../../errors.js';
import { findRelease, latestRelease } from '../../protocol/channel-index.js';
import { readIndex } from '../../channel/index-store.js';
import { releaseEvent } from '../../workflows/release-event.js';
import { parsePackageTarget, requireChannel, withContext, type GlobalOptions } from '../context.js';
import { formatHookResult } from '../../hooks/run-hooks.js';
import { runReleaseHooks } from '../../workflows/release-hooks.js';

interface HooksRunFlags extends GlobalOptions {
  channel?: string;
  only?: string;
}

export function registerHooks(program: Command): void {
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
      await withContext(flags, async (context) => {
        const channel = requireChannel(flags.channel, context.config.channel);
        const snapshot = await readIndex(context.store, channel);
        const release = version ? findRelease(snapshot.index, packageId, version) : latestRelease(snapshot.index, packageId);
        if (!release) {
          throw new UserError(`no release ${target} on channel '${channel}'; run 'update-publish status --channel ${channel}' to see what is there`);
        }
        const event = releaseEvent('publish', {
          packageId,
          release,
          previousVersion: null,
          channel,
          changedKeys: [snapshot.key],
          store: context.store.location,
        });
        const hooks = await runReleaseHooks(context, [event], flags.only);
        context.output.result(
          { channel, package: packageId, version: release.version, dryRun: context.dryRun, hooks },
          () => hooks.map(formatHookResult).join('\n') || 'no hooks configured',
        );
      });
    });
}
