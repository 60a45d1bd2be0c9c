/**
 * `halt <pkg>`: stop serving the package's latest release at once. Devices
 * get the next older release their rules match; its rollout is kept, so
 * `resume` serves exactly the same devices again.
 *
 * JSON: { channel, package, version, previous: { state, rollout }, current: { state, rollout }, dryRun, hooks }
 */
import type { Command } from 'commander';
import { halt } from '../../release/operations.js';
import { runCurrentReleaseChange } from '../current-release-command.js';
import type { Session } from '../session.js';
import { addChannelOption, addWriteOptions, type WriteFlags } from '../write-options.js';

export function registerHalt(program: Command, session: Session): void {
  addWriteOptions(addChannelOption(program.command('halt <package[@version]>')))
    .description("stop serving the package's latest release at once (resume restores it); pkg@version acts only while that release is the one served")
    .addHelpText('after', '\nExamples:\n  $ update-publish halt maps\n  $ update-publish halt maps@1.0.2 --channel staging --yes --json')
    .action(async (target: string, _flags, command: Command) => {
      await runCurrentReleaseChange(session, command.optsWithGlobals<WriteFlags>(), target, 'halt', halt);
    });
}
