/**
 * `rollout <pkg> <percent>`: change the share of devices the package's
 * current release (the newest not rolled back) is served to. Raising it only
 * adds devices. A halted release keeps its state; resume serves the new share.
 *
 * JSON: { channel, package, version, previous: { state, rollout }, current: { state, rollout }, dryRun, hooks }
 */
import type { Command } from 'commander';
import { setRollout } from '../../release/operations.js';
import { parseRollout } from '../../release/rules.js';
import { runCurrentReleaseChange } from '../current-release-command.js';
import { registerRolloutTick } from './rollout-tick.js';
import type { Session } from '../session.js';
import { addChannelOption, addWriteOptions, type WriteFlags } from '../write-options.js';

export function registerRollout(program: Command, session: Session): void {
  const rollout = addWriteOptions(addChannelOption(program.command('rollout <package[@version]> <percent>')));
  registerRolloutTick(rollout, session);
  rollout
    .description("change the share of devices served the package's latest release (0–100, two decimals); pkg@version acts only while that release is the one served")
    .addHelpText('after', '\nAdvance or halt by device receipts: update-publish rollout tick --help\n\nExamples:\n  $ update-publish rollout maps 50\n  $ update-publish rollout maps@1.0.2 12.5 --channel staging --yes --json')
    .action(async (target: string, percent: string, _flags, command: Command) => {
      const rollout = parseRollout(percent);
      await runCurrentReleaseChange(session, command.optsWithGlobals<WriteFlags>(), target, 'rollout', (index, packageId, version) =>
        setRollout(index, packageId, rollout, version),
      );
    });
}
