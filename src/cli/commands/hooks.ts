/**
 * `hooks run <pkg>[@version] --channel C [--event E] [--only TYPE]`: runs the
 * post-release hooks again for a release already in the index (after fixing a
 * hook that failed), for the event given (default `publish`).
 *
 * JSON: { channel, package, version, event, dryRun, hooks: [HookResult] }
 */
import { Option, type Command } from 'commander';
import { RELEASE_EVENT_NAMES, type ReleaseEventName } from '../../protocol/release-event.js';
import type { HookResult } from '../../hooks/run-hooks.js';
import { plural } from '../../format.js';
import { rerunReleaseHooks } from '../../workflows/release-hooks.js';
import { parsePackageTarget, withContext, type GlobalOptions } from '../context.js';
import { dryRunNote, noteHookFailures } from '../render.js';
import type { Session } from '../session.js';

interface HooksRunFlags extends GlobalOptions {
  channel?: string;
  event: ReleaseEventName;
  only?: string;
}

export function registerHooks(program: Command, session: Session): void {
  program
    .command('hooks')
    .description('post-release hooks')
    .command('run <package[@version]>')
    .description('run the hooks again for a release in the index (default: its newest release)')
    .option('--channel <name>', 'channel of the release (default: config channel)')
    .addOption(new Option('--event <event>', 'the event to run them for: the one that failed').choices(RELEASE_EVENT_NAMES).default('publish'))
    .option('--only <type-or-name>', 'only hooks of this type or name')
    .option('--dry-run', 'describe every call, make none')
    .option('-y, --yes', 'do not ask for confirmation (accepted for scripts: this command never asks)')
    .addHelpText('after', '\nExamples:\n  $ update-publish hooks run maps --only cloudfront\n  $ update-publish hooks run maps@1.2.0 --channel staging --event rollout --dry-run')
    .action(async (target: string, _flags, command: Command) => {
      const flags = command.optsWithGlobals<HooksRunFlags>();
      const { packageId, version } = parsePackageTarget(target);
      await withContext(session, flags, async (context) => {
        const channel = await context.channel(flags.channel);
        const { version: ran, event, hooks } = await rerunReleaseHooks(context, { channel, packageId, version, event: flags.event, only: flags.only });
        noteHookFailures(session, hooks);
        context.output.result(
          { channel, package: packageId, version: ran, event, dryRun: context.dryRun, hooks },
          // Each hook's line was logged as it ran: the result sums them up instead of repeating them.
          () => (hooks.length ? `${dryRunNote(context.dryRun)}${plural(hooks.length, 'hook')} for ${packageId}@${ran} on ${channel} (${event}): ${describeOutcomes(hooks)}` : 'no hooks configured'),
        );
      });
    });
}

/** "1 ok, 1 failed (required)" */
function describeOutcomes(hooks: HookResult[]): string {
  const count = (status: HookResult['status'], required?: boolean) =>
    hooks.filter((hook) => hook.status === status && (required === undefined || hook.required === required)).length;
  return [
    count('ok') && `${count('ok')} ok`,
    count('failed', true) && `${count('failed', true)} failed`,
    count('failed', false) && `${count('failed', false)} optional failed`,
    count('skipped') && `${count('skipped')} skipped`,
  ]
    .filter(Boolean)
    .join(', ');
}
