/**
 * `hooks run <pkg>[@version] --channel C [--event E] [--only TYPE]`: runs the
 * post-release hooks again for a release already in the index (after fixing a
 * hook that failed), for the event given (default `publish`).
 * `hooks run --event switch|app-release --channel C`: again for the latest
 * change of the channel's switches or app releases.
 *
 * JSON: { channel, package, version, event, dryRun, hooks: [HookResult] };
 *       document events: { channel, document, documentVersion, event, dryRun, hooks }
 */
import { Option, type Command } from 'commander';
import { HOOK_EVENT_NAMES, RELEASE_EVENT_NAMES, type DocumentEventName, type HookEventName, type ReleaseEventName } from '../../protocol/release-event.js';
import { UserError } from '../../errors.js';
import type { HookResult } from '../../hooks/run-hooks.js';
import { plural } from '../../format.js';
import { rerunDocumentHooks, rerunReleaseHooks } from '../../workflows/release-hooks.js';
import { parsePackageTarget, withContext, type GlobalOptions } from '../context.js';
import { dryRunNote, noteHookFailures } from '../render.js';
import type { Session } from '../session.js';

interface HooksRunFlags extends GlobalOptions {
  channel?: string;
  event: HookEventName;
  only?: string;
}

export function registerHooks(program: Command, session: Session): void {
  program
    .command('hooks')
    .description('post-release hooks')
    .command('run [package[@version]]')
    .description('run the hooks again for a release in the index (default: its newest release), or for the latest switch or app-release change')
    .option('--channel <name>', 'channel of the release (default: config channel)')
    .addOption(new Option('--event <event>', 'the event to run them for: the one that failed').choices(HOOK_EVENT_NAMES).default('publish'))
    .option('--only <type-or-name>', 'only hooks of this type or name')
    .option('--dry-run', 'describe every call, make none')
    .option('-y, --yes', 'do not ask for confirmation (accepted for scripts: this command never asks)')
    .addHelpText('after', '\nExamples:\n  $ update-publish hooks run maps --only cloudfront\n  $ update-publish hooks run maps@1.2.0 --channel staging --event rollout --dry-run\n  $ update-publish hooks run --event switch --channel production --only webhook')
    .action(async (target: string | undefined, _flags, command: Command) => {
      const flags = command.optsWithGlobals<HooksRunFlags>();
      const isReleaseEvent = (RELEASE_EVENT_NAMES as string[]).includes(flags.event);
      if (isReleaseEvent && target === undefined) throw new UserError(`name the release: update-publish hooks run <package[@version]> --event ${flags.event}`);
      if (!isReleaseEvent && target !== undefined) {
        throw new UserError(`'${flags.event}' events are about the channel's ${flags.event === 'switch' ? 'switches' : 'app releases'}, not a package: drop '${target}'`);
      }
      if (!isReleaseEvent) {
        await withContext(session, flags, async (context) => {
          const channel = await context.channel(flags.channel);
          const { document, documentVersion, event, hooks } = await rerunDocumentHooks(context, { channel, event: flags.event as DocumentEventName, only: flags.only });
          noteHookFailures(session, hooks);
          context.output.result(
            { channel, document, documentVersion, event, dryRun: context.dryRun, hooks },
            () => (hooks.length ? `${dryRunNote(context.dryRun)}${plural(hooks.length, 'hook')} for ${document} v${documentVersion} (${event}): ${describeOutcomes(hooks)}` : 'no hooks configured'),
          );
        });
        return;
      }
      const { packageId, version } = parsePackageTarget(target!);
      await withContext(session, flags, async (context) => {
        const channel = await context.channel(flags.channel);
        const { version: ran, event, hooks } = await rerunReleaseHooks(context, { channel, packageId, version, event: flags.event as ReleaseEventName, only: flags.only });
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
